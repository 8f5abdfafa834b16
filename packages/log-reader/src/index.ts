// Entry of @platform/log-reader: read one pod's whole log (merged and raw files as one, then
// optionally its live log), and the S3 client to read it with. The bucket's layout is at
// '@platform/log-reader/layout', the storage helpers the compactor shares at '…/s3'.
export { LogReader } from './read/reader.js';
export type {
  FollowedRecord,
  FollowOptions,
  KubeAccess,
  LogReaderOptions,
  ReadOptions,
  ReadPlan,
  ReadStreamOptions,
  UnreadableObject,
} from './read/types.js';
export type { LogRecord, Stream } from './layout/records.js';
export {
  BodyCutShortError,
  CorruptObjectError,
  InvalidPodNameError,
  InvalidTimeError,
  LiveLogError,
  LiveLogTimeoutError,
  LogChangedError,
  LogExpiredError,
  LogReaderError,
  MetadataError,
  ObjectMissingError,
  ObjectVanishedError,
  PodNamespaceConflictError,
  PodNotFoundError,
  POD_NAME_FORMAT,
  ReadAbortedError,
  TruncatedListingError,
  UnreadableObjectError,
} from './errors.js';
export { createS3Client, socketsFor, type S3ClientSettings } from './s3/s3-client.js';

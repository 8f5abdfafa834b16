// Public API of @platform/log-reader: the reader, and the bucket layout the compactor writes.
export { LogReader, readMergedRecords, type FollowOptions, type FollowedRecord, type LogReaderOptions, type ReadOptions, type ReadStreamOptions, type ReadPlan } from './read/reader.js';
export * from './errors.js';
export * from './layout/keys.js';
export * from './layout/time.js';
export * from './layout/records.js';
export * from './layout/metadata.js';
export { objectLines, type ByteCounter } from './s3/object-lines.js';
export { readRawFiles, type RawEvent } from './s3/raw-records.js';
export { listRawFilesInOrder } from './s3/raw-listing.js';
export {
  isNotFound,
  isPreconditionFailure,
  listCommonPrefixes,
  listObjects,
  listRawFiles,
  loadMetadata,
  readMetadataText,
  openInOrder,
  type Bucket,
  type ListedObject,
  type LoadedMetadata,
  type RawFile,
} from './s3/store.js';
export {
  S3_CLIENT_DEFAULTS,
  createS3Client,
  describeFailedRequest,
  describeSetupProblem,
  resolveEndpoint,
  socketsFor,
  type S3ClientSettings,
  type S3Input,
  type SetupProblem,
} from './s3/s3-client.js';
export { DEFAULT_READ_AHEAD } from './s3/raw-records.js';
export { DURATION_UNITS, parseDurationMs } from './layout/durations.js';
export { sameContainer, stripScheme } from './layout/container-id.js';
export { statusReason } from './live/kube-status.js';

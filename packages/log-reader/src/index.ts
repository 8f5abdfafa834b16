// Public API of @platform/log-reader: the reader, and the bucket layout the compactor writes.
export { LogReader, readMergedRecords, type FollowOptions, type FollowedRecord, type LogReaderOptions, type ReadOptions, type ReadStreamOptions, type ReadPlan } from './reader.js';
export * from './errors.js';
export * from './keys.js';
export * from './time.js';
export * from './records.js';
export * from './metadata.js';
export { objectLines, type ByteCounter } from './object-lines.js';
export { readRawFiles, type RawEvent } from './raw-records.js';
export { listRawFilesInOrder } from './raw-listing.js';
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
} from './store.js';
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
} from './s3-client.js';
export { DEFAULT_READ_AHEAD } from './raw-records.js';
export { DURATION_UNITS, parseDurationMs } from './durations.js';
export { sameContainer, stripScheme } from './container-id.js';
export { statusReason } from './live/kube-status.js';

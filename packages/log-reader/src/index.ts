// Public API of @platform/log-reader: the reader, and the bucket layout the compactor writes.
export { LogReader, readMergedRecords, type LogReaderOptions, type ReadOptions, type ReadStreamOptions, type ReadPlan } from './reader.js';
export * from './errors.js';
export * from './keys.js';
export * from './time.js';
export * from './records.js';
export * from './metadata.js';
export { objectLines, type ByteCounter } from './object-lines.js';
export { readRawFiles, type RawEvent } from './raw-records.js';
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
export { createS3Client, describeSetupProblem, resolveEndpoint, type S3ClientSettings, type SetupProblem } from './s3-client.js';

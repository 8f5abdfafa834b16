// Entry of '@platform/log-reader/s3': the bucket read and written over S3, as the reader does
// it and the compactor shares it: listings, a pod's metadata and raw files, the records of
// raw and merged files, S3's answers told apart, and the client's endpoint and set-up errors.
// The client itself (createS3Client) is in the main entry.
export {
  isNotFound,
  isPreconditionFailure,
  listCommonPrefixes,
  listObjects,
  listRawFiles,
  loadMetadata,
  readMetadataText,
  type Bucket,
  type ListedObject,
  type LoadedMetadata,
  type RawFile,
} from './s3/store.js';
export { listRawFilesInOrder } from './s3/raw-listing.js';
export { DEFAULT_READ_AHEAD, readRawFiles, type RawEvent, type UnfinishedPieces } from './s3/raw-records.js';
export { readMergedRecords } from './s3/merged-records.js';
export type { ByteCounter } from './s3/object-lines.js';
export { resolveEndpoint, S3_CLIENT_DEFAULTS } from './s3/s3-client.js';
export {
  bucketNameProblem,
  describeSetupProblem,
  isSetupFailure,
  safeEndpoint,
  type SetupProblem,
} from './s3/setup-problem.js';
export { listPodContainers, onlyOtherContainers } from './s3/pod-containers.js';

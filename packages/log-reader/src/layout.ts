// Entry of '@platform/log-reader/layout': the bucket's contract, pure (no I/O). Where each
// object lives (keys), how times are written (time), the lines of raw and merged files
// (records), the commit point (metadata), container ids as both sides write them, and the
// duration syntax both CLIs take.
export {
  assertPodName,
  CLEANUP_PREFIX,
  cleanupKey,
  compareRawKeys,
  compareRawKeysAsPython,
  CONDITIONAL_DELETE_CHECK_KEY,
  CONDITIONAL_WRITE_CHECK_KEY,
  dailySurveyKey,
  isValidPodName,
  LEASE_PREFIX,
  leaseKey,
  MERGED_PREFIX,
  mergedKey,
  mergedPodPrefix,
  METADATA_PREFIX,
  metadataKey,
  parseCleanupKey,
  parseMergedKey,
  parseMetadataKey,
  SURVEYED_AT_FIELD,
  parseRawDir,
  parseRawKey,
  RAW_PREFIX,
  rawDir,
  rawKey,
  rawOrderSlice,
  rawPodPrefix,
  SEEDED_INDEX_FLOOR,
  type MergedKey,
  type RawKey,
} from './layout/keys.js';
export {
  formatIsoMicros,
  formatSlice,
  parseTime,
  parseTimeStrict,
  sliceToTime,
  toEpochNs,
  type EpochNs,
} from './layout/time.js';
export {
  decodeMergedLine,
  decodeRawLine,
  dropLineEnding,
  encodeMergedLine,
  LineJoiner,
  type DecodedRawLine,
  type LogRecord,
  type RawPiece,
  type Stream,
} from './layout/records.js';
export {
  decodeMetadata,
  EMPTY_METADATA,
  encodeMetadata,
  endsBefore,
  firstRecordNs,
  lastRecordNs,
  mergedRawPredicate,
  RANGE_MARGIN_NS,
  recordsIn,
  unfinishedRange,
  type LogFileEntry,
  type PendingDeletion,
  type PieceFile,
  type PodMetadata,
  type UnfinishedLine,
} from './layout/metadata.js';
export { withUnreadable, type UnreadableEntry } from './layout/unreadable.js';
export { sameContainer, stripScheme } from './layout/container-id.js';
export { DURATION_UNITS, parseDurationMs } from './layout/durations.js';
export { podContainersOf, type PodContainers } from './layout/pod-containers.js';

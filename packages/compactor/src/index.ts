// The compactor as a library: what tests, the bench and other tools import instead of deep paths.
export { runPass, findPods, type PassDeps, type PassResult } from './pass/pass.js';
export { defaultConfig, validate, configWarnings, parseDuration, parseSize, parseCount, type Config } from './config/config.js';
export { createLogger, silentLogger, type Logger } from './logger.js';
export * from './errors.js';
export { summarize, describeDryRun, type PassSummary, type PodReport, type PodStatus } from './pass/report.js';
export { kubeLiveness, loadKubeConfig, DEFAULT_SETTLE_MS, type ContainerLiveness, type KubeLivenessOptions } from './kube/kube.js';
export { parseShard, formatShard, shardOf, inShard, MAX_SHARDS, type Shard } from './config/shard.js';
export { parseRunArgs, runEnvNames } from './cli/run-flags.js';
export { passRegistry, groupingKey, pushUrl, pushMetrics, pushPassMetrics, displayUrl, MetricsPushError, PUSH_TIMEOUT_MS, type PassOutcome, type GroupingKey } from './cli/metrics.js';
export { createProgress, PROGRESS_INTERVAL_MS, type Progress, type ProgressStream } from './cli/progress.js';
export { inspectPod, formatInspection, type InspectOptions, type PodInspection, type NextPass, type LeaseInfo, type PendingDeletionInfo } from './inspect/collect.js';

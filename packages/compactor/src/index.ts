// The compactor as a library: what tests, the bench and other tools import instead of deep paths.
export { main } from './cli/main.js';
export { parseRunArgs, runEnvNames } from './cli/run-flags.js';
export { defaultConfig, type Config } from './config/config.js';
export { shardOf } from './config/shard.js';
export { KubeApiError, LeaseHeldError, LeaseLostError, SetupError } from './errors.js';
export { inspectPod } from './inspect/collect.js';
export type { PodInspection } from './inspect/inspection.js';
export { kubeLiveness, loadKubeConfig, DEFAULT_SETTLE_MS, type ContainerLiveness } from './kube/kube.js';
export { createLogger, silentLogger, type Logger } from './logger.js';
export { RETENTION_NEEDS_CONDITIONAL_DELETES, runPass, type PassResult } from './pass/pass.js';
export { conditionalDeletesHold } from './pass/store-checks.js';
export { type PassSummary, type PodReport } from './pass/report.js';
export { Lease } from './store/lease.js';
export { MergeWriter } from './store/merge-writer.js';

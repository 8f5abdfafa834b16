/**
 * `compactor run`'s pass, once its flags are a Config: the S3 client, the logger, progress
 * and metrics around runPass. Imported by main.ts only when a pass runs (start-up time).
 */
import { createS3Client, socketsFor, type S3ClientSettings } from '@platform/log-reader';
import { describeSetupProblem } from '@platform/log-reader/s3';
import { configWarnings, type Config } from '../config/config.js';
import { CompactorError, SetupError } from '../errors.js';
import type { ContainerLiveness } from '../kube/kube.js';
import { closeLogger, createLogger } from '../logger.js';
import { describeOtherContainer } from '../pass/other-containers.js';
import { runPass } from '../pass/pass.js';
import { describeDryRun } from '../pass/report.js';
import { inDryRunWords } from '../pass/dry-run-words.js';
import { EXIT_OK, EXIT_POD_FAILED, exitCodeFor } from './exit-codes.js';
import type { Io } from './io.js';
import { pushPassMetrics } from './metrics.js';
import { createProgress } from './progress.js';

/** What the S3 client gets from the config; undefined fields keep the client's defaults. */
export function s3Settings(config: Config): S3ClientSettings {
  return {
    endpoint: config.endpoint,
    region: config.region,
    maxAttempts: config.s3MaxAttempts,
    requestTimeoutMs: config.s3RequestTimeoutMs,
    connectionTimeoutMs: config.s3ConnectTimeoutMs,
    // Each pod merged at once holds its read-ahead bodies open: a pool sized for them keeps
    // requests from waiting for a socket (and timing out while they wait).
    maxSockets: socketsFor(config.concurrency),
  };
}

/** Loaded only for `--kube`: the Kubernetes client costs every other pass about half a CPU-second to load. */
async function kubeLivenessOf(source: string): Promise<ContainerLiveness> {
  const { kubeLiveness, loadKubeConfig } = await import('../kube/kube.js');
  return kubeLiveness(loadKubeConfig(source));
}

export async function run(config: Config, logLevel: string, io: Io): Promise<number> {
  const liveness = config.kube === undefined ? undefined : await kubeLivenessOf(config.kube);
  const client = createS3Client(s3Settings(config));
  // At a terminal, log lines and dry-run lines are written above the progress line.
  const progress = createProgress(io.stderr);
  const logger = createLogger({ level: logLevel, stream: progress.above(io.stderr) });
  const stdout = progress.above(io.stdout);
  for (const warning of configWarnings(config)) logger.warn(warning);
  const started = Date.now();
  try {
    const { summary } = await runPass({
      store: { client, bucket: config.bucket },
      config,
      logger,
      liveness,
      onPhase: (phase, pods) => progress.phase(phase, pods),
      onReport: (report) => {
        if (config.dryRun) stdout.write(`${describeDryRun(report)}\n`);
        progress.pod(report);
      },
      onOtherContainer: (report) => {
        if (config.dryRun) stdout.write(`${describeOtherContainer(report)}\n`);
      },
    });
    progress.finish();
    // A dry run's summary says what it would do (dry-run-words.ts); a real run's keeps its names.
    io.stdout.write(`${JSON.stringify(config.dryRun ? inDryRunWords(summary) : summary)}\n`);
    const exitCode = summary.pods.failed > 0 || summary.otherContainers.failed > 0 ? EXIT_POD_FAILED : EXIT_OK;
    await pushPassMetrics(
      config,
      { summary, exitCode, finishedAt: new Date(), durationMs: summary.durationMs },
      logger,
    );
    return exitCode;
  } catch (error) {
    const failure = passFailure(error, config);
    await pushPassMetrics(
      config,
      { summary: undefined, exitCode: exitCodeFor(failure), finishedAt: new Date(), durationMs: Date.now() - started },
      logger,
    );
    throw failure;
  } finally {
    progress.finish();
    client.destroy();
    // Every log line reaches io.stderr before main() returns (tests read it right after).
    await closeLogger(logger);
  }
}

/** A pass that stopped before its end, as the error main() reports. */
function passFailure(error: unknown, config: Config): CompactorError {
  if (error instanceof CompactorError) return error;
  // Credentials or a bucket that fail after the first check (the listing, the conditional
  // write check) are still the set-up's fault, not a pod's: exit 2 with the same one line.
  const problem = describeSetupProblem(error, { endpoint: config.endpoint, bucket: config.bucket });
  if (problem !== undefined) return new SetupError(problem.message, { cause: error });
  return new CompactorError('ERR_PASS', `pass failed: ${error instanceof Error ? error.message : String(error)}`, {
    cause: error,
  });
}

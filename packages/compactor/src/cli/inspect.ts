/**
 * `compactor inspect POD [--json]`: the command around inspect/. Its S3, namespace and
 * interval flags are the `run` command's own options (same parsers, defaults and COMPACTOR_*
 * environment twins), so an inspection judges due times with what the CronJob runs with.
 *
 * Exit: 0 the pod has objects in the bucket; 1 it has none ("no objects for pod X in bucket B";
 * with --json the empty inspection is still printed) or reading failed; 2 bad usage or set-up.
 */
import { Option, type Command } from 'commander';
import { createS3Client, LogReaderError, POD_NAME_FORMAT } from '@platform/log-reader';
import { describeSetupProblem, resolveEndpoint } from '@platform/log-reader/s3';
import { isValidPodName } from '@platform/log-reader/layout';
import { defaultConfig, validate, type Config } from '../config/config.js';
import { CompactorError, SetupError, UsageError } from '../errors.js';
import { inspectPod } from '../inspect/collect.js';
import { formatInspection } from '../inspect/format.js';
import type { PodInspection } from '../inspect/inspection.js';
import type { Io } from './io.js';

/** The `run` options `inspect` takes as they are. */
const SHARED_FLAGS = [
  '--bucket',
  '--endpoint',
  '--region',
  '--namespace',
  '--cleanup-interval',
  '--compact-interval',
  '--quiet-after',
  '--s3-max-attempts',
  '--s3-request-timeout',
  '--s3-connect-timeout',
] as const;

interface InspectFlags {
  bucket?: string;
  endpoint?: string;
  region?: string;
  namespace?: string;
  cleanupInterval: number;
  compactInterval: number;
  quietAfter: number;
  s3MaxAttempts?: number;
  s3RequestTimeout?: number;
  s3ConnectTimeout?: number;
  json?: boolean;
}

/** Adds `inspect` to `program`, whose `run` command must already be defined (its options are shared). */
export function addInspectCommand(program: Command, io: Io): Command {
  const run = program.commands.find((c) => c.name() === 'run');
  const command = program
    .command('inspect')
    .description(
      'what the bucket holds for one pod and what a pass would do with it: metadata, merged and unmerged files, unfinished lines, pending deletions and when they are due, cleanup queue, lease (read-only)',
    )
    .argument('<pod>', 'pod name (the job container is named like the pod)');
  for (const flag of SHARED_FLAGS) {
    const option = run?.options.find((o) => o.long === flag);
    if (option === undefined) throw new Error(`compactor inspect: the run command has no ${flag} option to share`);
    command.addOption(option);
  }
  return command
    .addOption(new Option('--json', 'print the inspection as one JSON object (field names are stable)'))
    .addHelpText(
      'after',
      '\nRead-only: GET, HEAD and LIST requests only. Due times and the next pass are judged with\n' +
        "--cleanup-interval, --compact-interval and --quiet-after (defaults and COMPACTOR_* as for run): give the CronJob's.\n" +
        'Exit: 0 the pod has objects in the bucket, 1 it has none (or reading failed), 2 bad usage or set-up.',
    )
    .action(async (pod: string, flags: InspectFlags) => {
      await inspect(pod, flags, io);
    });
}

async function inspect(pod: string, flags: InspectFlags, io: Io): Promise<void> {
  if (!isValidPodName(pod))
    throw new UsageError(`invalid pod name ${JSON.stringify(pod)}: expected ${POD_NAME_FORMAT}`);
  const config: Config = validate({
    ...defaultConfig(flags.bucket ?? ''),
    endpoint: resolveEndpoint(flags.endpoint),
    region: flags.region,
    namespace: flags.namespace,
    cleanupIntervalMs: flags.cleanupInterval,
    compactIntervalMs: flags.compactInterval,
    quietAfterMs: flags.quietAfter,
    s3MaxAttempts: flags.s3MaxAttempts,
    s3RequestTimeoutMs: flags.s3RequestTimeout,
    s3ConnectTimeoutMs: flags.s3ConnectTimeout,
  });
  const client = createS3Client({
    endpoint: config.endpoint,
    region: config.region,
    maxAttempts: config.s3MaxAttempts,
    requestTimeoutMs: config.s3RequestTimeoutMs,
    connectionTimeoutMs: config.s3ConnectTimeoutMs,
  });
  let inspection: PodInspection;
  try {
    inspection = await inspectPod({ client, bucket: config.bucket }, pod, {
      now: new Date(),
      cleanupIntervalMs: config.cleanupIntervalMs,
      compactIntervalMs: config.compactIntervalMs,
      quietAfterMs: config.quietAfterMs,
      namespace: config.namespace,
    });
  } catch (error) {
    const problem = describeSetupProblem(error, { endpoint: config.endpoint, bucket: config.bucket });
    if (problem !== undefined) throw new SetupError(problem.message, { cause: error });
    // Our own errors (a metadata document that is not one, a truncated listing) name the key already.
    const message =
      error instanceof LogReaderError
        ? error.message
        : `inspecting pod ${pod} failed: ${error instanceof Error ? error.message : String(error)}`;
    throw new CompactorError('ERR_INSPECT', message, { cause: error });
  } finally {
    client.destroy();
  }
  if (flags.json === true) io.stdout.write(`${JSON.stringify(inspection, null, 2)}\n`);
  else if (inspection.found) io.stdout.write(formatInspection(inspection));
  if (!inspection.found)
    throw new CompactorError('ERR_POD_NOT_FOUND', `no objects for pod ${pod} in bucket ${config.bucket}`);
}

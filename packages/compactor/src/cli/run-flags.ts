/**
 * The flags of `compactor run`, each also read from its COMPACTOR_* environment variable, and
 * the Config they make (the `inspect` command shares some of them, cli/inspect.ts).
 *
 * Adding a flag: an `Option` in the group of `addRunFlags` it belongs to (parsed by its `argParser`,
 * default from `defaultConfig`), a field in `RunFlags`, one line in `toConfig`, a check in `validate`.
 */
import { Command, CommanderError, Option } from 'commander';
import { BOOLEAN_WORDS, checkBooleanEnv, parseBoolean, resolveEndpoint } from '@platform/log-reader/cli';
import {
  defaultConfig,
  formatDuration,
  formatSize,
  parseCount,
  parseDuration,
  parseSize,
  validate,
  type Config,
} from '../config/config.js';
import { parseShard, type Shard } from '../config/shard.js';
import { UsageError } from '../errors.js';

/** The parsed flags of `run`: durations in ms, sizes in bytes (each flag's `argParser` converts). */
export interface RunFlags {
  bucket?: string;
  endpoint?: string;
  region?: string;
  namespace?: string;
  compactInterval: number;
  cleanupInterval: number;
  quietAfter: number;
  maxFileSize: number;
  concurrency: number;
  pod: string[];
  dryRun: boolean;
  leaseDuration: number;
  unsafeWithoutConditionalWrites: boolean;
  s3MaxAttempts?: number;
  s3RequestTimeout?: number;
  s3ConnectTimeout?: number;
  kube?: boolean | string;
  shard?: Shard;
  pushgateway?: string;
  retention?: number;
  survey: boolean;
  logLevel: string;
}

/**
 * The config `compactor run ARGS` would run with, without running it: for checks of
 * deployment files (the CronJob's args, the compose file's commands) against the real
 * parser. Flags not given come from COMPACTOR_* in process.env, as in a run.
 */
export async function parseRunArgs(args: readonly string[]): Promise<Config> {
  let config: Config | undefined;
  const program = new Command('compactor')
    .exitOverride()
    .configureOutput({ writeOut: () => undefined, writeErr: () => undefined });
  addRunFlags(program.command('run')).action((flags: RunFlags) => {
    config = toConfig(flags);
  });
  try {
    await program.parseAsync(['run', ...args], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) throw new UsageError(`run ${args.join(' ')}: ${error.message}`);
    throw error;
  }
  if (config === undefined) throw new UsageError(`run ${args.join(' ')}: no config (--help or --version?)`);
  return config;
}

/** Every environment variable `compactor run` reads a flag from (COMPACTOR_*): for deployment-file checks. */
export function runEnvNames(): string[] {
  return addRunFlags(new Command('run')).options.flatMap((o) => (o.envVar === undefined ? [] : [o.envVar]));
}

/** `run`'s description, flags (by group, in the order --help lists them) and help footer. */
export function addRunFlags(command: Command): Command {
  command.description('one pass: merge, then clean (see docs/compactor.md)');
  const options = [
    ...bucketOptions(),
    ...passOptions(),
    ...writerOptions(),
    ...s3ClientOptions(),
    ...kubernetesOptions(),
    ...reportingOptions(),
  ];
  for (const option of options) command.addOption(option);
  // COMPACTOR_DRY_RUN=false must mean false: commander alone reads any value of a boolean's twin as true.
  checkBooleanEnv(command, (message) => new UsageError(message));
  return command.addHelpText(
    'after',
    '\nDurations: seconds or 90s, 55m, 1h. Sizes: bytes or 512KiB, 10MiB.\n' +
      `Boolean variables (COMPACTOR_DRY_RUN, …): ${BOOLEAN_WORDS}; anything else is refused.\n` +
      'Credentials: the standard AWS environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION, AWS_ENDPOINT_URL_S3).\n' +
      'Exit: 0 every pod done, 1 some pod failed (the others were processed), 2 bad usage or set-up.',
  );
}

const duration = (flag: string) => (value: string) => parseDuration(value, flag);
const count = (flag: string) => (value: string) => parseCount(value, flag);

/** Where the logs are: the bucket, its S3 endpoint and region, and which namespace's raw files. */
function bucketOptions(): Option[] {
  return [
    new Option('--bucket <name>', 'S3 bucket (required)').env('COMPACTOR_BUCKET'),
    new Option('--endpoint <url>', 'custom S3 endpoint, implies path-style (else AWS_ENDPOINT_URL_S3)').env(
      'COMPACTOR_ENDPOINT',
    ),
    new Option('--region <region>', 'S3 region (else AWS_REGION)').env('COMPACTOR_REGION'),
    new Option('--namespace <ns>', 'only raw files of this Kubernetes namespace').env('COMPACTOR_NAMESPACE'),
  ];
}

/** What a pass does: how often it merges and cleans, file size, concurrency, which pods, dry run. */
function passOptions(): Option[] {
  const d = defaultConfig('');
  return [
    new Option('--compact-interval <duration>', 'merge a pod again only after this long (0: every pass)')
      .env('COMPACTOR_COMPACT_INTERVAL')
      .argParser(duration('--compact-interval'))
      .default(d.compactIntervalMs, formatDuration(d.compactIntervalMs)),
    new Option(
      '--cleanup-interval <duration>',
      'how long readers may still need what a commit replaced (0: delete once committed)',
    )
      .env('COMPACTOR_CLEANUP_INTERVAL')
      .argParser(duration('--cleanup-interval'))
      .default(d.cleanupIntervalMs, formatDuration(d.cleanupIntervalMs)),
    new Option(
      '--quiet-after <duration>',
      'merge an unfinished line as it is once the pod has uploaded nothing for this long (without --kube)',
    )
      .env('COMPACTOR_QUIET_AFTER')
      .argParser(duration('--quiet-after'))
      .default(d.quietAfterMs, formatDuration(d.quietAfterMs)),
    new Option('--max-file-size <size>', 'NDJSON bytes per merged file, before compression')
      .env('COMPACTOR_MAX_FILE_SIZE')
      .argParser((value) => parseSize(value, '--max-file-size'))
      .default(d.maxFileSize, formatSize(d.maxFileSize)),
    new Option('--concurrency <n>', 'pods processed at once')
      .env('COMPACTOR_CONCURRENCY')
      .argParser(count('--concurrency'))
      .default(d.concurrency),
    new Option('--pod <name>', 'only this pod; repeat for more (env: comma-separated)')
      .env('COMPACTOR_PODS')
      .argParser((value: string, previous: string[] = []) => [
        ...previous,
        ...value
          .split(',')
          .map((p) => p.trim())
          .filter(Boolean),
      ])
      .default([]),
    new Option('--dry-run', 'read everything, write and delete nothing, print what would be done')
      .env('COMPACTOR_DRY_RUN')
      .default(false),
    new Option(
      '--retention <duration>',
      "delete a pod's whole log once nothing of it is newer than this (default: keep forever)",
    )
      .env('COMPACTOR_RETENTION')
      .argParser(duration('--retention')),
    new Option('--survey', 'run the daily survey (orphan sweep, other containers) in this pass, not only once a day')
      .env('COMPACTOR_SURVEY')
      .default(false),
  ];
}

/** One writer per pod: the lease, and the escape hatch for a store without conditional writes. */
function writerOptions(): Option[] {
  const d = defaultConfig('');
  return [
    new Option('--lease-duration <duration>', "how long a pod's lease lasts without renewal")
      .env('COMPACTOR_LEASE_DURATION')
      .argParser(duration('--lease-duration'))
      .default(d.leaseDurationMs, formatDuration(d.leaseDurationMs)),
    new Option(
      '--unsafe-without-conditional-writes',
      'run on a store that ignores If-Match/If-None-Match (gives up one writer per pod)',
    )
      .env('COMPACTOR_UNSAFE_WITHOUT_CONDITIONAL_WRITES')
      .default(false),
  ];
}

/** The S3 client's retries and timeouts. No commander default: undefined leaves the client's own in force. */
function s3ClientOptions(): Option[] {
  return [
    new Option('--s3-max-attempts <n>', 'attempts per S3 request, the first included (default 5)')
      .env('COMPACTOR_S3_MAX_ATTEMPTS')
      .argParser(count('--s3-max-attempts')),
    new Option('--s3-request-timeout <duration>', 'how long one S3 attempt may wait for its answer (default 30s)')
      .env('COMPACTOR_S3_REQUEST_TIMEOUT')
      .argParser(duration('--s3-request-timeout')),
    new Option('--s3-connect-timeout <duration>', 'how long opening a connection to S3 may take (default 5s)')
      .env('COMPACTOR_S3_CONNECT_TIMEOUT')
      .argParser(duration('--s3-connect-timeout')),
  ];
}

/** In a cluster: containers' liveness from the Kubernetes API, and one shard of an Indexed Job. */
function kubernetesOptions(): Option[] {
  return [
    new Option(
      '--kube [kubeconfig]',
      'merge an unfinished line as it is only once the Kubernetes API says its container ended (kubeconfig: default KUBECONFIG, ~/.kube/config or in-cluster)',
    ).env('COMPACTOR_KUBE'),
    new Option(
      '--shard <i/n>',
      'only the pods of shard i of n (0 ≤ i < n), split by a stable hash of the pod name; for an Indexed Job',
    )
      .env('COMPACTOR_SHARD')
      .argParser((value) => parseShard(value, '--shard')),
  ];
}

/** What the pass reports: metrics to a Pushgateway, and how much it logs. */
function reportingOptions(): Option[] {
  return [
    new Option(
      '--pushgateway <url>',
      "push the pass's metrics to this Prometheus Pushgateway at its end (not in a dry run)",
    ).env('COMPACTOR_PUSHGATEWAY'),
    new Option('--log-level <level>', 'error, warn, info or debug')
      .env('COMPACTOR_LOG_LEVEL')
      .default('info')
      .choices(['error', 'warn', 'info', 'debug']),
  ];
}

export function toConfig(flags: RunFlags): Config {
  return validate({
    ...defaultConfig(flags.bucket ?? ''),
    endpoint: resolveEndpoint(flags.endpoint),
    region: flags.region,
    namespace: flags.namespace,
    compactIntervalMs: flags.compactInterval,
    cleanupIntervalMs: flags.cleanupInterval,
    quietAfterMs: flags.quietAfter,
    maxFileSize: flags.maxFileSize,
    concurrency: flags.concurrency,
    pods: flags.pod,
    dryRun: flags.dryRun,
    leaseDurationMs: flags.leaseDuration,
    unsafeWithoutConditionalWrites: flags.unsafeWithoutConditionalWrites,
    s3MaxAttempts: flags.s3MaxAttempts,
    s3RequestTimeoutMs: flags.s3RequestTimeout,
    s3ConnectTimeoutMs: flags.s3ConnectTimeout,
    kube: kubeSource(flags.kube),
    shard: flags.shard,
    // An empty COMPACTOR_PUSHGATEWAY (a chart value left blank) means none.
    pushgateway: flags.pushgateway || undefined,
    retentionMs: flags.retention,
    survey: flags.survey,
  });
}

/**
 * `--kube` alone, or a boolean word for true (COMPACTOR_KUBE=true, also `default`): the usual kubeconfig; one for
 * false: off; any other text: that kubeconfig file. Empty is refused, as for every boolean twin.
 */
function kubeSource(value: boolean | string | undefined): string | undefined {
  if (value === undefined || value === false) return undefined;
  if (value === true || value === 'default') return 'default';
  if (value.trim() === '')
    throw new UsageError(`--kube (COMPACTOR_KUBE): empty value: expected ${BOOLEAN_WORDS}, or a kubeconfig path`);
  const flag = parseBoolean(value);
  if (flag === undefined) return value;
  return flag ? 'default' : undefined;
}

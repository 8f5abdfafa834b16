/**
 * `compactor run`: commands and flags → Config → one pass. Thin: every flag also comes from
 * an environment variable, errors map to exit codes in one place (0 ok, 1 a pod failed,
 * 2 bad usage or set-up), and users never see a stack trace.
 */
import { Command, CommanderError, Option } from 'commander';
import { createS3Client, resolveEndpoint } from '@platform/log-reader';
import { DEFAULTS, parseCount, parseDuration, parseSize, validate, type Config } from './config.js';
import { CompactorError, SetupError, UsageError } from './errors.js';
import { createLogger } from './logger.js';
import { runPass } from './pass.js';
import { describeDryRun } from './report.js';

export interface Io {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
}

interface RunFlags {
  bucket?: string;
  endpoint?: string;
  region?: string;
  namespace?: string;
  compactInterval: string;
  cleanupInterval: string;
  maxFileSize: string;
  concurrency: string;
  pod: string[];
  dryRun: boolean | string;
  leaseDuration: string;
  unsafeWithoutConditionalWrites: boolean | string;
  logLevel: string;
}

export const EXIT_OK = 0;
export const EXIT_POD_FAILED = 1;
export const EXIT_USAGE = 2;

export async function main(argv: readonly string[], io: Io = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  let exitCode = EXIT_OK;
  const program = new Command('compactor')
    .description('Merge the tiny log objects Fluent Bit uploads into large gzip files, then delete them once no reader can need them')
    .exitOverride()
    .configureOutput({ writeOut: (s) => void io.stdout.write(s), writeErr: (s) => void io.stderr.write(s) });
  program
    .command('run')
    .description('one pass: merge, then clean (see README)')
    .addOption(new Option('--bucket <name>', 'S3 bucket (required)').env('COMPACTOR_BUCKET'))
    .addOption(new Option('--endpoint <url>', 'custom S3 endpoint, implies path-style (else AWS_ENDPOINT_URL_S3)').env('COMPACTOR_ENDPOINT'))
    .addOption(new Option('--region <region>', 'S3 region (else AWS_REGION)').env('COMPACTOR_REGION'))
    .addOption(new Option('--namespace <ns>', 'only raw files of this Kubernetes namespace').env('COMPACTOR_NAMESPACE'))
    .addOption(new Option('--compact-interval <duration>', 'merge a pod again only after this long').env('COMPACTOR_COMPACT_INTERVAL').default(DEFAULTS.compactInterval))
    .addOption(new Option('--cleanup-interval <duration>', 'how long readers may still need what a commit replaced').env('COMPACTOR_CLEANUP_INTERVAL').default(DEFAULTS.cleanupInterval))
    .addOption(new Option('--max-file-size <size>', 'NDJSON bytes per merged file, before compression').env('COMPACTOR_MAX_FILE_SIZE').default(DEFAULTS.maxFileSize))
    .addOption(new Option('--concurrency <n>', 'pods processed at once').env('COMPACTOR_CONCURRENCY').default(String(DEFAULTS.concurrency)))
    .addOption(
      new Option('--pod <name>', 'only this pod; repeat for more (env: comma-separated)')
        .env('COMPACTOR_PODS')
        .argParser((value: string, previous: string[] = []) => [...previous, ...value.split(',').map((p) => p.trim()).filter(Boolean)])
        .default([]),
    )
    .addOption(new Option('--dry-run', 'read everything, write and delete nothing, print what would be done').env('COMPACTOR_DRY_RUN').default(false))
    .addOption(new Option('--lease-duration <duration>', "how long a pod's lease lasts without renewal").env('COMPACTOR_LEASE_DURATION').default(DEFAULTS.leaseDuration))
    .addOption(
      new Option('--unsafe-without-conditional-writes', 'run on a store that ignores If-Match/If-None-Match (gives up one writer per pod)')
        .env('COMPACTOR_UNSAFE_WITHOUT_CONDITIONAL_WRITES')
        .default(false),
    )
    .addOption(new Option('--log-level <level>', 'error, warn, info or debug').env('COMPACTOR_LOG_LEVEL').default('info').choices(['error', 'warn', 'info', 'debug']))
    .addHelpText('after', '\nDurations: seconds or 90s, 55m, 1h. Sizes: bytes or 512KiB, 10MiB.\nCredentials: the standard AWS environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION, AWS_ENDPOINT_URL_S3).\nExit: 0 every pod done, 1 some pod failed (the others were processed), 2 bad usage or set-up.')
    .action(async (flags: RunFlags) => {
      exitCode = await run(toConfig(flags), flags.logLevel, io);
    });
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    if (error instanceof UsageError || error instanceof SetupError) {
      io.stderr.write(`compactor: ${error.message}\n`);
      return EXIT_USAGE;
    }
    io.stderr.write(`compactor: ${error instanceof Error ? error.message : String(error)}\n`);
    return EXIT_POD_FAILED;
  }
}

export function toConfig(flags: RunFlags): Config {
  return validate({
    bucket: flags.bucket ?? '',
    endpoint: resolveEndpoint(flags.endpoint),
    region: flags.region,
    namespace: flags.namespace,
    compactIntervalMs: parseDuration(flags.compactInterval, '--compact-interval'),
    cleanupIntervalMs: parseDuration(flags.cleanupInterval, '--cleanup-interval'),
    maxFileSize: parseSize(flags.maxFileSize, '--max-file-size'),
    concurrency: parseCount(flags.concurrency, '--concurrency'),
    pods: flags.pod,
    dryRun: isSet(flags.dryRun),
    leaseDurationMs: parseDuration(flags.leaseDuration, '--lease-duration'),
    unsafeWithoutConditionalWrites: isSet(flags.unsafeWithoutConditionalWrites),
  });
}

/** A boolean flag, or its environment variable as `true`/`1`. */
function isSet(value: boolean | string): boolean {
  return value === true || value === 'true' || value === '1';
}

async function run(config: Config, logLevel: string, io: Io): Promise<number> {
  const client = createS3Client({ endpoint: config.endpoint, region: config.region });
  const logger = createLogger({ level: logLevel });
  try {
    const { summary } = await runPass({
      store: { client, bucket: config.bucket },
      config,
      logger,
      onReport: config.dryRun ? (report) => void io.stdout.write(`${describeDryRun(report)}\n`) : undefined,
    });
    io.stdout.write(`${JSON.stringify(summary)}\n`);
    return summary.pods.failed > 0 ? EXIT_POD_FAILED : EXIT_OK;
  } catch (error) {
    if (error instanceof CompactorError) throw error;
    throw new CompactorError('ERR_PASS', `pass failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  } finally {
    client.destroy();
    logger.close();
  }
}

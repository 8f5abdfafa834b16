/**
 * `log-reader logs POD` (alias `cat`): a pod's log on stdout, with the flags of `kubectl
 * logs` (`-f`, `--since`, `--since-time`, `--tail`, `--timestamps`, `--limit-bytes`, `-n`,
 * `--kubeconfig`, `--context`). Thin: parse, read, map errors to exit codes (0 done, 1 the
 * log cannot be read, 2 bad usage or set-up, 130/143 interrupted by SIGINT/SIGTERM). Every S3
 * flag has an environment twin; bad values end the run with one line on stderr.
 */
import type { EventEmitter } from 'node:events';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Command, CommanderError, Option } from 'commander';
import { parseDurationMs } from '../layout/durations.js';
import { LogReaderError } from '../errors.js';
import type { KubeTarget, KubeTargetOptions } from '../live/kube-config.js';
import { LogReader } from '../read/reader.js';
import type { ReadStreamOptions } from '../read/types.js';
import {
  createS3Client,
  describeSetupProblem,
  resolveEndpoint,
  S3_CLIENT_DEFAULTS,
  type S3ClientSettings,
} from '../s3/s3-client.js';
import { toEpochNs, type EpochNs } from '../layout/time.js';

export interface Io {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
}

/** Where SIGINT and SIGTERM come from: `process` in bin.ts, an EventEmitter in tests. */
export type SignalSource = Pick<EventEmitter, 'on' | 'off'>;

export interface CliOptions {
  /** What `--version` prints (bin.ts reads it from package.json). */
  readonly version?: string;
  /** SIGINT and SIGTERM during a read abort it (exit 130 and 143). Without it they are not listened to. */
  readonly signals?: SignalSource;
  /** The clock `--since DURATION` counts back from. */
  readonly now?: () => Date;
}

/** `--since`: a duration back from the start of the read, or (as in earlier releases) a time. */
export type Since = { readonly ago: number } | { readonly time: string };

interface LogsOptions {
  bucket: string;
  endpoint?: string;
  region?: string;
  follow: boolean;
  since?: Since;
  sinceTime?: string;
  tail?: number;
  timestamps: boolean;
  limitBytes?: number;
  namespace?: string;
  kubeconfig?: string;
  context?: string;
  s3MaxAttempts?: number;
  s3RequestTimeout?: number;
  s3ConnectTimeout?: number;
}

export const EXIT_OK = 0;
export const EXIT_UNREADABLE = 1;
export const EXIT_USAGE = 2;
/** 128 + the signal's number, as a shell reports a process the signal ended. */
export const EXIT_SIGINT = 130;
export const EXIT_SIGTERM = 143;
/**
 * `--tail -1`: every record, as without `--tail` (a parser returning undefined would not do: commander
 * keeps the text).
 */
export const TAIL_ALL = -1;

/** A flag or environment value that cannot be used: one line on stderr, exit 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export async function main(
  argv: readonly string[],
  io: Io = { stdout: process.stdout, stderr: process.stderr },
  options: CliOptions = {},
): Promise<number> {
  const stopIgnoring = [io.stdout, io.stderr].map(ignoreClosedPipe);
  const program = new Command('log-reader')
    .description("Read one job's whole log from the bucket: merged and not-yet-merged files as one")
    .version(options.version ?? 'unknown', '--version', 'print the version and exit')
    .exitOverride()
    .configureOutput({ writeOut: (s) => void io.stdout.write(s), writeErr: (s) => void io.stderr.write(s) });
  let exitCode = EXIT_OK;
  program
    .command('logs')
    .alias('cat')
    .description("write the pod's log to stdout, one line per record, like `kubectl logs` (`cat` is the earlier name)")
    .argument('<pod>', 'pod name (the job container is named like the pod)')
    .addOption(new Option('--bucket <name>', 'S3 bucket').env('LOG_READER_BUCKET').makeOptionMandatory())
    .addOption(new Option('--endpoint <url>', 'custom S3 endpoint (implies path-style); also AWS_ENDPOINT_URL_S3'))
    .addOption(new Option('--region <region>', 'S3 region; also AWS_REGION'))
    .addOption(
      new Option(
        '-f, --follow',
        "after the archive, follow the pod's live log through the Kubernetes API (through container restarts) until the pod ends; Ctrl-C stops (kubectl logs -f)",
      ).default(false),
    )
    .addOption(
      new Option(
        '--since <duration>',
        'only records of the last DURATION, e.g. 1h, 30m, 90s (kubectl logs --since); an RFC 3339 time is also taken, as in earlier releases',
      ).argParser((text) => parseSince(text)),
    )
    .addOption(
      new Option(
        '--since-time <time>',
        'only records at or after this RFC 3339 time, nanoseconds kept (kubectl logs --since-time)',
      ).argParser((text) => parseSinceTime(text)),
    )
    .addOption(
      new Option('--tail <n>', 'only the last N records; -1 (the default) for all (kubectl logs --tail)').argParser(
        (text) => parseTail(text),
      ),
    )
    .addOption(new Option('--timestamps', 'prefix each line with its time (kubectl logs --timestamps)').default(false))
    .addOption(
      new Option('--limit-bytes <n>', 'stop after writing N bytes of log (kubectl logs --limit-bytes)').argParser(
        (text) => parseLimitBytes(text),
      ),
    )
    .addOption(
      new Option(
        '-n, --namespace <namespace>',
        "with -f: the pod's namespace; default the kubeconfig context's, else `default` (kubectl -n)",
      ),
    )
    .addOption(
      new Option(
        '--kubeconfig <path>',
        'with -f: the kubeconfig file; default KUBECONFIG, ~/.kube/config, else the service account in a pod (kubectl --kubeconfig)',
      ),
    )
    .addOption(
      new Option(
        '--context <name>',
        'with -f: the kubeconfig context to use instead of its current one (kubectl --context)',
      ),
    )
    .addOption(
      new Option(
        '--s3-max-attempts <n>',
        `attempts per S3 request, the first included (default ${S3_CLIENT_DEFAULTS.maxAttempts})`,
      )
        .env('LOG_READER_S3_MAX_ATTEMPTS')
        .argParser((text) => parseAttempts(text, '--s3-max-attempts (LOG_READER_S3_MAX_ATTEMPTS)')),
    )
    .addOption(
      new Option(
        '--s3-request-timeout <duration>',
        `time an S3 request attempt may take until its answer starts, e.g. 30s (default ${S3_CLIENT_DEFAULTS.requestTimeoutMs / 1000}s)`,
      )
        .env('LOG_READER_S3_REQUEST_TIMEOUT')
        .argParser((text) => parseDuration(text, '--s3-request-timeout (LOG_READER_S3_REQUEST_TIMEOUT)')),
    )
    .addOption(
      new Option(
        '--s3-connect-timeout <duration>',
        `time opening a connection may take, e.g. 500ms (default ${S3_CLIENT_DEFAULTS.connectionTimeoutMs / 1000}s)`,
      )
        .env('LOG_READER_S3_CONNECT_TIMEOUT')
        .argParser((text) => parseDuration(text, '--s3-connect-timeout (LOG_READER_S3_CONNECT_TIMEOUT)')),
    )
    .action(async (pod: string, flags: LogsOptions) => {
      exitCode = await logs(pod, flags, io, options);
    });
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (error) {
    // Commander has already written its own message (or the help) through configureOutput.
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    if (error instanceof UsageError) {
      io.stderr.write(`log-reader: ${error.message}\n`);
      return EXIT_USAGE;
    }
    throw error;
  } finally {
    // A failed write reports its error a tick later: let it arrive while the listener is on.
    await new Promise((done) => setImmediate(done));
    for (const stop of stopIgnoring) stop();
  }
}

/** `30` (seconds), `30s`, `500ms`, `2m` → milliseconds, more than 0. */
export function parseDuration(text: string, flag: string): number {
  const ms = parseDurationMs(text);
  if (ms === undefined)
    throw new UsageError(
      `${flag}: invalid duration ${JSON.stringify(text)}: expected seconds or a number with ms, s, m, h or d (e.g. 30s, 500ms)`,
    );
  if (ms <= 0 || ms === Infinity)
    throw new UsageError(`${flag}: duration ${JSON.stringify(text)} must be at least 1ms and finite`);
  return ms;
}

/** A whole number of attempts, at least 1. */
export function parseAttempts(text: string, flag: string): number {
  const n = /^\d+$/.test(text.trim()) ? Number(text.trim()) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 1)
    throw new UsageError(
      `${flag}: invalid number of attempts ${JSON.stringify(text)}: expected a whole number, at least 1`,
    );
  return n;
}

/** A value that starts with a date (`2026-11-25…`) is a time; anything else a duration. */
const LOOKS_LIKE_A_DATE = /^\s*\d{4}-\d{2}-\d{2}/;

/** `--since`: `1h`, `30m`, `90s` (kubectl's durations), or an RFC 3339 time as earlier releases took. */
export function parseSince(text: string): Since {
  if (LOOKS_LIKE_A_DATE.test(text)) return { time: parseSinceTime(text, '--since') };
  const ms = parseDurationMs(text);
  if (ms === undefined) {
    throw new UsageError(
      `--since: invalid value ${JSON.stringify(text)}: expected a duration like 1h, 30m or 90s, or an RFC 3339 time like 2026-11-25T10:00:00Z`,
    );
  }
  if (ms <= 0 || ms === Infinity)
    throw new UsageError(`--since: duration ${JSON.stringify(text)} must be at least 1ms and finite`);
  return { ago: ms };
}

/** An RFC 3339 time, passed on as the string itself so that its nanoseconds are kept. */
export function parseSinceTime(text: string, flag = '--since-time'): string {
  try {
    toEpochNs(text);
  } catch (error) {
    throw new UsageError(`${flag}: ${(error as Error).message}`);
  }
  return text;
}

/** `--tail`: a whole number of records, at least 0, or kubectl's -1 for all ({@link TAIL_ALL}). */
export function parseTail(text: string): number {
  const trimmed = text.trim();
  if (trimmed === '-1') return TAIL_ALL;
  const n = /^\d+$/.test(trimmed) ? Number(trimmed) : Number.NaN;
  if (!Number.isSafeInteger(n))
    throw new UsageError(
      `--tail: invalid number of records ${JSON.stringify(text)}: expected a whole number, at least 0 (or -1 for all)`,
    );
  return n;
}

/** `--limit-bytes`: a whole number of bytes, at least 1. */
export function parseLimitBytes(text: string): number {
  const trimmed = text.trim();
  const n = /^\d+$/.test(trimmed) ? Number(trimmed) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 1)
    throw new UsageError(
      `--limit-bytes: invalid number of bytes ${JSON.stringify(text)}: expected a whole number, at least 1`,
    );
  return n;
}

/** The `since` of a read: `--since-time`, `--since TIME`, or `--since DURATION` back from `now`. */
export function resolveSince(
  flags: { since?: Since | undefined; sinceTime?: string | undefined },
  now: Date,
): string | undefined {
  if (flags.since !== undefined && flags.sinceTime !== undefined)
    throw new UsageError('at most one of --since and --since-time may be given');
  if (flags.sinceTime !== undefined) return flags.sinceTime;
  if (flags.since === undefined) return undefined;
  if ('time' in flags.since) return flags.since.time;
  return formatEpochNs(BigInt(now.getTime()) * 1_000_000n - BigInt(flags.since.ago) * 1_000_000n);
}

/** `2026-11-25T10:00:00.123456789Z`: an instant as RFC 3339 with all nine fractional digits. */
export function formatEpochNs(ns: EpochNs): string {
  const NS_PER_S = 1_000_000_000n;
  let seconds = ns / NS_PER_S;
  let fraction = ns % NS_PER_S;
  if (fraction < 0n) {
    fraction += NS_PER_S;
    seconds -= 1n;
  }
  return `${new Date(Number(seconds) * 1000).toISOString().slice(0, 19)}.${String(fraction).padStart(9, '0')}Z`;
}

async function logs(pod: string, flags: LogsOptions, io: Io, options: CliOptions): Promise<number> {
  const now = options.now ?? (() => new Date());
  // Checked before anything is loaded or asked: a bad combination costs no request.
  resolveSince(flags, new Date(0));
  const follow = flags.follow
    ? await kubeTarget({ kubeconfig: flags.kubeconfig, context: flags.context, namespace: flags.namespace })
    : undefined;
  const endpoint = resolveEndpoint(flags.endpoint);
  const settings: S3ClientSettings = {
    endpoint,
    region: flags.region,
    maxAttempts: flags.s3MaxAttempts,
    requestTimeoutMs: flags.s3RequestTimeout,
    connectionTimeoutMs: flags.s3ConnectTimeout,
  };
  const client = createS3Client(settings);
  const reader = new LogReader({ client, bucket: flags.bucket });
  // Why the read was stopped, if it was: the reason decides the exit code, whatever error the
  // abort made the read end with.
  let stoppedBy: 'SIGINT' | 'SIGTERM' | 'limit' | undefined;
  const controller = new AbortController();
  const stopListening = (): void => {
    options.signals?.off('SIGINT', onSigint);
    options.signals?.off('SIGTERM', onSigterm);
  };
  const stop = (reason: NonNullable<typeof stoppedBy>): void => {
    stoppedBy ??= reason;
    controller.abort();
    // A second Ctrl-C gets the default: it ends the process, should the abort hang.
    stopListening();
  };
  const onSigint = (): void => stop('SIGINT');
  const onSigterm = (): void => stop('SIGTERM');
  options.signals?.on('SIGINT', onSigint);
  options.signals?.on('SIGTERM', onSigterm);
  try {
    const readOptions: ReadStreamOptions = {
      since: resolveSince(flags, now()),
      timestamps: flags.timestamps,
      signal: controller.signal,
      ...(flags.tail === undefined || flags.tail === TAIL_ALL ? {} : { tail: flags.tail }),
      ...(follow === undefined ? {} : { follow }),
    };
    // The pipeline's own signal ends the copy at once, even while the read waits on a request.
    await pipeline(
      reader.createReadStream(pod, readOptions),
      into(io.stdout, flags.limitBytes, () => stop('limit')),
      { signal: controller.signal },
    );
    return EXIT_OK;
  } catch (error) {
    if (stoppedBy !== undefined)
      return stoppedBy === 'SIGINT' ? EXIT_SIGINT : stoppedBy === 'SIGTERM' ? EXIT_SIGTERM : EXIT_OK;
    if ((error as { code?: unknown }).code === 'EPIPE') return EXIT_OK; // the consumer (e.g. `head`) had enough
    // The reader's own errors first: one from the live part (ERR_KUBE_API) may carry a refused
    // connection as its cause, which is the Kubernetes API's, not S3's.
    if (error instanceof LogReaderError) {
      io.stderr.write(`log-reader: ${error.message}\n`);
      return error.code === 'ERR_INVALID_POD_NAME' ? EXIT_USAGE : EXIT_UNREADABLE;
    }
    const setup = describeSetupProblem(error, { endpoint, bucket: flags.bucket });
    if (setup) {
      io.stderr.write(`log-reader: ${setup.message}\n`);
      return EXIT_USAGE;
    }
    io.stderr.write(`log-reader: reading pod ${pod} failed: ${(error as Error).message ?? String(error)}\n`);
    return EXIT_UNREADABLE;
  } finally {
    stopListening();
    client.destroy();
  }
}

/** Loaded only for `-f`: the Kubernetes client costs every other read about half a CPU-second to load. */
async function kubeTarget(options: KubeTargetOptions): Promise<KubeTarget> {
  const { KubeConfigError, loadKubeTarget } = await import('../live/kube-config.js');
  try {
    return loadKubeTarget(options);
  } catch (error) {
    if (error instanceof KubeConfigError) throw new UsageError(`-f: ${error.message}`);
    throw error;
  }
}

/**
 * A writable that passes everything on to `out`, each write done once `out` took it (so a
 * closed pipe fails the next write and stops the read). pipeline() destroys its streams on
 * an error, and a destroyed process.stdout would report the read's error once more, as its own.
 * With `limit`, at most that many bytes go out; `onLimit` is called once they have.
 */
function into(out: NodeJS.WritableStream, limit: number | undefined, onLimit: () => void): Writable {
  let left = limit ?? Infinity;
  const forward = (chunk: Buffer, done: (error?: Error | null) => void): void => {
    if (left <= 0) return done();
    const part = chunk.length > left ? chunk.subarray(0, left) : chunk;
    left -= part.length;
    out.write(part, (error) => {
      if (!error && left <= 0) onLimit();
      done(error ?? null);
    });
  };
  return new Writable({
    write: (chunk: Buffer, _encoding, done) => forward(chunk, done),
    // Lines that piled up while one write was in flight go out as one.
    writev: (chunks, done) => forward(Buffer.concat(chunks.map((c) => c.chunk as Buffer)), done),
  });
}

/**
 * A reader that closed its end of the pipe (`log-reader cat --help | head -1`) had enough:
 * writes to it fail with EPIPE, which must end nothing. Returns the function that removes
 * the listener. Any other stream error stays fatal.
 */
function ignoreClosedPipe(stream: NodeJS.WritableStream): () => void {
  const onError = (error: NodeJS.ErrnoException): void => {
    if (error.code !== 'EPIPE') throw error;
  };
  stream.on('error', onError);
  return () => void stream.off('error', onError);
}

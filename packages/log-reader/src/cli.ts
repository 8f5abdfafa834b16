/**
 * `log-reader cat POD`: a pod's whole log on stdout. Thin: parse, read, map errors to exit
 * codes (0 done, 1 the log cannot be read, 2 bad usage or set-up). Every S3 flag has an
 * environment twin; bad values end the run with one line on stderr.
 */
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Command, CommanderError, Option } from 'commander';
import { parseDurationMs } from './durations.js';
import { LogReaderError } from './errors.js';
import { LogReader } from './reader.js';
import { createS3Client, describeSetupProblem, resolveEndpoint, S3_CLIENT_DEFAULTS, type S3ClientSettings } from './s3-client.js';
import { toEpochNs } from './time.js';

export interface Io {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
}

export interface CliOptions {
  /** What `--version` prints (bin.ts reads it from package.json). */
  readonly version?: string;
}

interface CatOptions {
  bucket: string;
  endpoint?: string;
  region?: string;
  since?: string;
  timestamps: boolean;
  s3MaxAttempts?: number;
  s3RequestTimeout?: number;
  s3ConnectTimeout?: number;
}

export const EXIT_OK = 0;
export const EXIT_UNREADABLE = 1;
export const EXIT_USAGE = 2;

/** A flag or environment value that cannot be used: one line on stderr, exit 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export async function main(argv: readonly string[], io: Io = { stdout: process.stdout, stderr: process.stderr }, options: CliOptions = {}): Promise<number> {
  const stopIgnoring = [io.stdout, io.stderr].map(ignoreClosedPipe);
  const program = new Command('log-reader')
    .description("Read one job's whole log from the bucket: merged and not-yet-merged files as one")
    .version(options.version ?? 'unknown', '--version', 'print the version and exit')
    .exitOverride()
    .configureOutput({ writeOut: (s) => void io.stdout.write(s), writeErr: (s) => void io.stderr.write(s) });
  let exitCode = EXIT_OK;
  program
    .command('cat')
    .description("write the pod's log to stdout, one line per record")
    .argument('<pod>', 'pod name (the job container is named like the pod)')
    .addOption(new Option('--bucket <name>', 'S3 bucket').env('LOG_READER_BUCKET').makeOptionMandatory())
    .addOption(new Option('--endpoint <url>', 'custom S3 endpoint (implies path-style); also AWS_ENDPOINT_URL_S3'))
    .addOption(new Option('--region <region>', 'S3 region; also AWS_REGION'))
    .addOption(new Option('--since <time>', 'only records at or after this RFC 3339 time (nanosecond precision)'))
    .addOption(new Option('--timestamps', 'prefix each line with its time').default(false))
    .addOption(
      new Option('--s3-max-attempts <n>', `attempts per S3 request, the first included (default ${S3_CLIENT_DEFAULTS.maxAttempts})`)
        .env('LOG_READER_S3_MAX_ATTEMPTS')
        .argParser((text) => parseAttempts(text, '--s3-max-attempts (LOG_READER_S3_MAX_ATTEMPTS)')),
    )
    .addOption(
      new Option('--s3-request-timeout <duration>', `time an S3 request attempt may take until its answer starts, e.g. 30s (default ${S3_CLIENT_DEFAULTS.requestTimeoutMs / 1000}s)`)
        .env('LOG_READER_S3_REQUEST_TIMEOUT')
        .argParser((text) => parseDuration(text, '--s3-request-timeout (LOG_READER_S3_REQUEST_TIMEOUT)')),
    )
    .addOption(
      new Option('--s3-connect-timeout <duration>', `time opening a connection may take, e.g. 500ms (default ${S3_CLIENT_DEFAULTS.connectionTimeoutMs / 1000}s)`)
        .env('LOG_READER_S3_CONNECT_TIMEOUT')
        .argParser((text) => parseDuration(text, '--s3-connect-timeout (LOG_READER_S3_CONNECT_TIMEOUT)')),
    )
    .action(async (pod: string, flags: CatOptions) => {
      exitCode = await cat(pod, flags, io);
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
  if (ms === undefined) throw new UsageError(`${flag}: invalid duration ${JSON.stringify(text)}: expected seconds or a number with ms, s, m, h or d (e.g. 30s, 500ms)`);
  if (ms <= 0 || ms === Infinity) throw new UsageError(`${flag}: duration ${JSON.stringify(text)} must be at least 1ms and finite`);
  return ms;
}

/** A whole number of attempts, at least 1. */
export function parseAttempts(text: string, flag: string): number {
  const n = /^\d+$/.test(text.trim()) ? Number(text.trim()) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 1) throw new UsageError(`${flag}: invalid number of attempts ${JSON.stringify(text)}: expected a whole number, at least 1`);
  return n;
}

async function cat(pod: string, flags: CatOptions, io: Io): Promise<number> {
  try {
    if (flags.since !== undefined) toEpochNs(flags.since);
  } catch (error) {
    io.stderr.write(`log-reader: --since: ${(error as Error).message}\n`);
    return EXIT_USAGE;
  }
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
  try {
    await pipeline(reader.createReadStream(pod, { since: flags.since, timestamps: flags.timestamps }), into(io.stdout));
    return EXIT_OK;
  } catch (error) {
    if ((error as { code?: unknown }).code === 'EPIPE') return EXIT_OK; // the consumer (e.g. `head`) had enough
    const setup = describeSetupProblem(error, { endpoint, bucket: flags.bucket });
    if (setup) {
      io.stderr.write(`log-reader: ${setup.message}\n`);
      return EXIT_USAGE;
    }
    if (error instanceof LogReaderError) {
      io.stderr.write(`log-reader: ${error.message}\n`);
      return error.code === 'ERR_INVALID_POD_NAME' ? EXIT_USAGE : EXIT_UNREADABLE;
    }
    io.stderr.write(`log-reader: reading pod ${pod} failed: ${(error as Error).message ?? String(error)}\n`);
    return EXIT_UNREADABLE;
  } finally {
    client.destroy();
  }
}

/**
 * A writable that passes everything on to `out`, each write done once `out` took it (so a
 * closed pipe fails the next write and stops the read). pipeline() destroys its streams on
 * an error, and a destroyed process.stdout would report the read's error once more, as its own.
 */
function into(out: NodeJS.WritableStream): Writable {
  const forward = (chunk: string | Uint8Array, done: (error?: Error | null) => void): void => {
    out.write(chunk, (error) => done(error ?? null));
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

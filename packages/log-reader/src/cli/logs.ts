/**
 * Running `log-reader logs POD`: one read from the bucket (and with -f the live log) to stdout,
 * stopped by SIGINT, SIGTERM or --limit-bytes; its outcome as an exit code, with one line on
 * stderr for an error.
 */
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { LogExpiredError, LogReaderError } from '../errors.js';
import type { KubeTarget, KubeTargetOptions } from '../live/kube-config.js';
import { LogReader } from '../read/reader.js';
import type { ReadStreamOptions } from '../read/types.js';
import { createS3Client, resolveEndpoint, type S3ClientSettings } from '../s3/s3-client.js';
import { bucketNameProblem, describeSetupProblem } from '../s3/setup-problem.js';
import {
  EXIT_EXPIRED,
  EXIT_OK,
  EXIT_SIGINT,
  EXIT_SIGTERM,
  EXIT_UNREADABLE,
  EXIT_USAGE,
  UsageError,
} from './exit-codes.js';
import { resolveSince, TAIL_ALL } from './flag-values.js';
import type { CliOptions, Io } from './io.js';
import type { LogsOptions } from './logs-command.js';
import { otherContainersNote } from './other-containers.js';

export async function logs(pod: string, flags: LogsOptions, io: Io, options: CliOptions): Promise<number> {
  const now = options.now ?? (() => new Date());
  // Checked before anything is loaded or asked: a bad combination costs no request.
  resolveSince(flags, new Date(0));
  const badBucket = bucketNameProblem(flags.bucket);
  if (badBucket !== undefined) throw new UsageError(`--bucket (LOG_READER_BUCKET): ${badBucket}`);
  const follow = flags.follow
    ? await kubeTarget({ kubeconfig: flags.kubeconfig, context: flags.context, namespace: flags.namespace })
    : undefined;
  const endpoint = resolveEndpoint(flags.endpoint);
  const client = createS3Client(clientSettings(flags, endpoint));
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
      strict: flags.strict,
      // Once per object (the reader reports each once): the log goes on without its records.
      onUnreadable: (u) =>
        io.stderr.write(
          `log-reader: warning: pod ${u.pod}: object ${u.key} is unreadable (${u.reason}); printing the rest of the log without its records\n`,
        ),
    };
    // The pipeline's own signal ends the copy at once, even while the read waits on a request.
    const out = into(io.stdout, flags.limitBytes, () => stop('limit'));
    await pipeline(reader.createReadStream(pod, readOptions), out, { signal: controller.signal });
    const note = out.written > 0 ? undefined : await otherContainersNote(client, flags.bucket, pod, controller.signal);
    if (note !== undefined) io.stderr.write(`log-reader: ${note}\n`);
    return note === undefined ? EXIT_OK : EXIT_UNREADABLE;
  } catch (error) {
    if (stoppedBy !== undefined)
      return stoppedBy === 'SIGINT' ? EXIT_SIGINT : stoppedBy === 'SIGTERM' ? EXIT_SIGTERM : EXIT_OK;
    if ((error as { code?: unknown }).code === 'EPIPE') return EXIT_OK; // the consumer (e.g. `head`) had enough
    // The reader's own errors first: one from the live part (ERR_KUBE_API) may carry a refused
    // connection as its cause, which is the Kubernetes API's, not S3's.
    if (error instanceof LogExpiredError) {
      // A code of its own: whatever was printed before it is not the whole log.
      io.stderr.write(`log-reader: ${error.message}\n`);
      return EXIT_EXPIRED;
    }
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

function clientSettings(flags: LogsOptions, endpoint: string | undefined): S3ClientSettings {
  return {
    endpoint,
    region: flags.region,
    maxAttempts: flags.s3MaxAttempts,
    requestTimeoutMs: flags.s3RequestTimeout,
    connectionTimeoutMs: flags.s3ConnectTimeout,
  };
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
 * With `limit`, at most that many bytes go out; `onLimit` is called once they have. `written`
 * counts the bytes passed on.
 */
function into(
  out: NodeJS.WritableStream,
  limit: number | undefined,
  onLimit: () => void,
): Writable & { readonly written: number } {
  let left = limit ?? Infinity;
  let written = 0;
  const forward = (chunk: Buffer, done: (error?: Error | null) => void): void => {
    if (left <= 0) return done();
    const part = chunk.length > left ? chunk.subarray(0, left) : chunk;
    left -= part.length;
    written += part.length;
    out.write(part, (error) => {
      if (!error && left <= 0) onLimit();
      done(error ?? null);
    });
  };
  const writable = new Writable({
    write: (chunk: Buffer, _encoding, done) => forward(chunk, done),
    // Lines that piled up while one write was in flight go out as one.
    writev: (chunks, done) => forward(Buffer.concat(chunks.map((c) => c.chunk as Buffer)), done),
  });
  // Bytes taken for the output: none means the read found nothing (other-containers.ts).
  return Object.defineProperty(writable, 'written', { get: () => written }) as Writable & { readonly written: number };
}

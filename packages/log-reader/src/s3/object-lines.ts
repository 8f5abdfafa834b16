/**
 * An object body as lines of text, streamed: gzip is recognised by its magic bytes (the
 * `.gz` suffix and Content-Type say nothing), invalid UTF-8 becomes U+FFFD, and a line is
 * split only at `\n` (JSON strings cannot hold a raw newline).
 *
 * Lines are cut from the bytes and each is decoded alone: `\n` and `\r` are never part of a
 * multi-byte UTF-8 sequence, so this gives what decoding the whole body and splitting the text
 * gives (a property test holds it to that), while a line of ASCII becomes a one-byte string.
 * Decoding a whole chunk made every line a two-byte string as soon as the chunk held one
 * character beyond ASCII (most do): three times the decoding work, and twice the bytes for
 * everything after it (`JSON.parse`, the merged line).
 */
import { promisify } from 'node:util';
import { createGunzip, gunzip, type ZlibOptions } from 'node:zlib';
import { pipeline, Readable } from 'node:stream';
import { BodyCutShortError, UnreadableObjectError } from '../errors.js';
import { splitLineBytes } from './line-bytes.js';

const GZIP_MAGIC = [0x1f, 0x8b] as const;
// Every output chunk of zlib costs a thread-pool round trip and a stream event: the default
// 16 KiB made them most of a merged file's decoding time.
const GUNZIP_CHUNK = 256 * 1024;
/**
 * A gzip body checked whole first (`checkFirst`: raw files) is inflated once, into memory, when
 * it holds at most this many bytes: Fluent Bit's uploads hold 1 MiB (`total_file_size` in
 * k8s/), and one inflate costs a third of the check's inflate and a second streamed one. A
 * larger body is checked and then streamed, as before, so memory stays bounded.
 */
const WHOLE_INFLATE_LIMIT = 8 * 1024 * 1024;
const gunzipWhole = promisify(gunzip);

/** Counts of what was read, for the caller's statistics. */
export interface ByteCounter {
  bytes: number;
}

/** How to read a body: what its response announced, and whether to check a gzip whole first. */
export interface BodyOptions {
  /** The body's length as its response announced it (Content-Length): fewer bytes is a cut. */
  readonly length?: number | undefined;
  /**
   * Decompress a gzip body once, whole, before giving any line of it: an unreadable one then
   * gives no line at all. Without it, the lines before the damage come first, and how many
   * depends on how the bytes arrived (zlib drops what it had buffered at the error), so two
   * reads of one object could disagree. Costs the compressed body and, up to
   * {@link WHOLE_INFLATE_LIMIT}, the inflated one in memory (a larger one is inflated twice):
   * for raw files (a minute of logs), not merged files. Default false.
   */
  readonly checkFirst?: boolean;
}

/**
 * The lines of one object's body. A body that starts like gzip but cannot be decompressed
 * (corrupt, or stored cut short) throws {@link UnreadableObjectError} naming `key` (and
 * `pod`, when given), after the lines before the damage unless `checkFirst`: the caller
 * decides; it is never skipped here. A body that ends before the `length` its response
 * announced was cut in transit: {@link BodyCutShortError}, whatever the bytes that came
 * (docs/design.md §8).
 */
export async function* objectLines(
  key: string,
  body: AsyncIterable<Uint8Array>,
  counter?: ByteCounter,
  pod?: string,
  options: BodyOptions = {},
): AsyncGenerator<string> {
  for await (const lines of objectLineBatches(key, body, counter, pod, options)) for (const line of lines) yield line;
}

/**
 * {@link objectLines} a chunk at a time: the lines each decoded chunk completes, so that a
 * caller decodes them in a plain loop instead of awaiting every line.
 */
export async function* objectLineBatches(
  key: string,
  body: AsyncIterable<Uint8Array>,
  counter?: ByteCounter,
  pod?: string,
  options: BodyOptions = {},
): AsyncGenerator<string[]> {
  yield* splitLines(bodyBytes(key, body, counter, pod, options));
}

/**
 * The bytes of one object's body, gunzipped when it is gzip, with the errors
 * {@link objectLines} describes: what line-bytes.ts cuts into lines.
 */
export async function* bodyBytes(
  key: string,
  body: AsyncIterable<Uint8Array>,
  counter?: ByteCounter,
  pod?: string,
  options: BodyOptions = {},
): AsyncGenerator<Uint8Array> {
  const counted = countBytes(key, body, counter, options.length, pod);
  const { head, rest } = await peek(counted, GZIP_MAGIC.length);
  const isGzip = head.length >= 2 && head[0] === GZIP_MAGIC[0] && head[1] === GZIP_MAGIC[1];
  let raw: AsyncIterable<Uint8Array> = prepend(head, rest);
  let bytes: AsyncIterable<Uint8Array> = raw;
  if (isGzip && options.checkFirst === true) {
    const whole = await wholeBody(raw);
    const inflated = await inflateWhole(key, whole, pod);
    if (inflated !== undefined) {
      yield* slices(inflated, GUNZIP_CHUNK);
      return;
    }
    const error = await gunzipError(whole);
    if (error !== undefined) throw new UnreadableObjectError(key, `gzip: ${error.message}`, { cause: error, pod });
    raw = Readable.from([whole]);
  }
  if (isGzip) {
    // pipeline, not pipe: a body that fails mid-read fails the gunzip stream (with pipe it
    // waited forever, and the error went unhandled), and a caller that stops early destroys
    // the source too, which releases the body.
    // A few chunks of room: zlib inflates the next ones in the thread pool while the caller
    // decodes this one, instead of waiting for it to ask (a Transform's default room is 16 KiB).
    const options: ZlibOptions & { readableHighWaterMark: number } = {
      chunkSize: GUNZIP_CHUNK,
      readableHighWaterMark: 4 * GUNZIP_CHUNK,
    };
    const gunzip = createGunzip(options);
    pipeline(Readable.from(raw), gunzip, () => {});
    bytes = gunzip;
  }
  try {
    yield* bytes;
  } catch (error) {
    if (isZlibError(error))
      throw new UnreadableObjectError(key, `gzip: ${(error as Error).message}`, { cause: error, pod });
    throw error;
  }
}

async function wholeBody(chunks: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const chunk of chunks) parts.push(chunk);
  return Buffer.concat(parts);
}

/**
 * `gz` inflated, when it holds at most {@link WHOLE_INFLATE_LIMIT} bytes; `undefined` when it
 * holds more. Damage is {@link UnreadableObjectError}, found before any line is given.
 */
async function inflateWhole(key: string, gz: Buffer, pod: string | undefined): Promise<Buffer | undefined> {
  try {
    return await gunzipWhole(gz, { chunkSize: GUNZIP_CHUNK, maxOutputLength: WHOLE_INFLATE_LIMIT });
  } catch (error) {
    if ((error as { code?: unknown } | null)?.code === 'ERR_BUFFER_TOO_LARGE') return undefined;
    if (isZlibError(error))
      throw new UnreadableObjectError(key, `gzip: ${(error as Error).message}`, { cause: error, pod });
    throw error;
  }
}

/** `bytes` as views of at most `size` bytes each (no copy): lines handed on a batch per view. */
function* slices(bytes: Buffer, size: number): Generator<Buffer> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

/** The zlib error that decompressing `gz` whole ends with; `undefined` when it decompresses. */
async function gunzipError(gz: Buffer): Promise<Error | undefined> {
  const gunzip = createGunzip({ chunkSize: GUNZIP_CHUNK });
  pipeline(Readable.from([gz]), gunzip, () => {});
  try {
    for await (const _chunk of gunzip) void _chunk;
  } catch (error) {
    if (isZlibError(error)) return error as Error;
    throw error;
  }
  return undefined;
}

/** The lines each chunk completes, decoded one at a time ({@link splitLineBytes} cuts them). */
async function* splitLines(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<string[]> {
  for await (const parts of splitLineBytes(chunks)) {
    const lines: string[] = [];
    for (const { bytes, bounds } of parts)
      for (let i = 0; i < bounds.length; i += 2) lines.push(bytes.toString('utf8', bounds[i], bounds[i + 1]));
    yield lines;
  }
}

/**
 * `body`, counted. Its end before `length` bytes is a cut in transit: thrown before gunzip
 * sees the end, so that a cut gzip is never taken for one stored cut short.
 */
async function* countBytes(
  key: string,
  body: AsyncIterable<Uint8Array>,
  counter: ByteCounter | undefined,
  length: number | undefined,
  pod: string | undefined,
): AsyncGenerator<Uint8Array> {
  let received = 0;
  for await (const chunk of body) {
    received += chunk.byteLength;
    if (counter) counter.bytes += chunk.byteLength;
    yield chunk;
  }
  if (length !== undefined && received < length) throw new BodyCutShortError(key, received, length, { pod });
}

async function peek(
  source: AsyncGenerator<Uint8Array>,
  size: number,
): Promise<{ head: Uint8Array; rest: AsyncGenerator<Uint8Array> }> {
  const parts: Uint8Array[] = [];
  let length = 0;
  while (length < size) {
    const next = await source.next();
    if (next.done) break;
    parts.push(next.value);
    length += next.value.byteLength;
  }
  return { head: Buffer.concat(parts), rest: source };
}

async function* prepend(head: Uint8Array, rest: AsyncGenerator<Uint8Array>): AsyncGenerator<Uint8Array> {
  try {
    if (head.byteLength > 0) yield head;
    yield* rest;
  } finally {
    // A caller that stops while the head is out never reached `yield* rest`: release the body.
    await rest.return(undefined);
  }
}

function isZlibError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('Z_');
}

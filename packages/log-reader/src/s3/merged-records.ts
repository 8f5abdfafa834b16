/**
 * Reading merged files: a file's records in order, decoded as the compactor wrote them
 * (layout/merged-line.ts), a batch at a time: the reader's reads, and the file the compactor
 * continues.
 */
import { isUtf8 } from 'node:buffer';
import { ObjectMissingError, UnreadableObjectError } from '../errors.js';
import { parseMergedKey } from '../layout/keys.js';
import { decodeMergedLineFast, viewMergedLine } from '../layout/merged-line.js';
import type { LogRecord } from '../layout/records.js';
import { lineDecoder, splitLineBytes } from './line-bytes.js';
import { bodyBytes, objectLineBatches, type ByteCounter } from './object-lines.js';
import { openInOrder, type Bucket, type OpenedBody } from './store.js';

/**
 * The records of one merged file, a batch per chunk of its body. Throws
 * {@link UnreadableObjectError} on a line that is not one (or a gzip that cannot be
 * decompressed), and {@link ObjectMissingError} when the file is gone; both name `pod` (by
 * default the pod of a merged key of this layout) and the key.
 */
export async function* readMergedRecords(
  store: Bucket,
  key: string,
  counter?: ByteCounter,
  pod: string | undefined = parseMergedKey(key)?.pod,
): AsyncGenerator<LogRecord[]> {
  const bodies = openInOrder(store, [key], 0);
  try {
    const opened = await bodies.next().catch((error: unknown) => {
      if (error instanceof ObjectMissingError && error.pod === undefined)
        throw new ObjectMissingError(key, { cause: error.cause, pod });
      throw error;
    });
    if (opened.done) return;
    yield* mergedRecordBatches(key, opened.value, counter, pod);
  } finally {
    await bodies.return(undefined);
  }
}

/**
 * The records of one merged file, a batch per chunk of its body (`length`: as its response announced).
 * With `views`, the lines of the compactor's shape come as {@link MergedRecordView}s (for the
 * stream, which copies their bytes): the same records, decoded only if asked.
 */
export async function* mergedRecordBatches(
  key: string,
  { body, length }: OpenedBody,
  counter: ByteCounter | undefined,
  pod: string | undefined,
  views = false,
): AsyncGenerator<LogRecord[]> {
  const containerId = parseMergedKey(key)?.containerId ?? '';
  if (views) {
    yield* mergedRecordViewBatches(key, bodyBytes(key, body, counter, pod, { length }), containerId, pod);
    return;
  }
  let line = 0;
  for await (const lines of objectLineBatches(key, body, counter, pod, { length })) {
    const records: LogRecord[] = [];
    for (const text of lines) {
      line += 1;
      const record = decodeMergedLineFast(text, containerId);
      if (record === undefined) {
        // The records before the damage first, as a record-by-record read would give them.
        if (records.length > 0) yield records;
        throw new UnreadableObjectError(key, `line ${line} is not a merged log record`, { pod });
      }
      records.push(record);
    }
    if (records.length > 0) yield records;
  }
}

/**
 * {@link mergedRecordBatches} with `views`: lines cut from the bytes; those of another shape, or
 * not valid UTF-8, decoded as text and read as the records without `views` read them.
 */
async function* mergedRecordViewBatches(
  key: string,
  bytes: AsyncIterable<Uint8Array>,
  containerId: string,
  pod: string | undefined,
): AsyncGenerator<LogRecord[]> {
  let line = 0;
  for await (const parts of splitLineBytes(bytes)) {
    const records: LogRecord[] = [];
    for (const { bytes: buffer, bounds } of parts) {
      // Their bytes are those of their text, encoded again, only if valid UTF-8.
      const utf8 = isUtf8(buffer.subarray(bounds[0], bounds.at(-1)));
      for (let i = 0; i < bounds.length; i += 2) {
        line += 1;
        const start = bounds[i] as number;
        const end = bounds[i + 1] as number;
        const record =
          (utf8 ? viewMergedLine(buffer, start, end, containerId) : undefined) ??
          decodeMergedLineFast(lineDecoder.decode(buffer.subarray(start, end)), containerId);
        if (record === undefined) {
          if (records.length > 0) yield records;
          throw new UnreadableObjectError(key, `line ${line} is not a merged log record`, { pod });
        }
        records.push(record);
      }
    }
    if (records.length > 0) yield records;
  }
}

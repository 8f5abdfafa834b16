/**
 * Reading merged files: a file's records in order, decoded as the compactor wrote them
 * (layout/merged-line.ts), a batch at a time: the reader's reads, and the file the compactor
 * continues.
 */
import { ObjectMissingError, UnreadableObjectError } from '../errors.js';
import { parseMergedKey } from '../layout/keys.js';
import { decodeMergedLineFast } from '../layout/merged-line.js';
import type { LogRecord } from '../layout/records.js';
import { objectLineBatches, type ByteCounter } from './object-lines.js';
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

/** The records of one merged file, a batch per chunk of its body (`length`: as its response announced). */
export async function* mergedRecordBatches(
  key: string,
  { body, length }: OpenedBody,
  counter: ByteCounter | undefined,
  pod: string | undefined,
): AsyncGenerator<LogRecord[]> {
  const containerId = parseMergedKey(key)?.containerId ?? '';
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

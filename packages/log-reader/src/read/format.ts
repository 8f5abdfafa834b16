/**
 * The text `createReadStream()` writes for a batch of records: a line per record, optionally
 * `"{time} {message}"`. A batch of merged records read as bytes (MergedRecordView) is copied
 * into one Buffer from the bytes of the body; any other batch is built as a string, as before.
 * Both give the same bytes: a view's fields are valid UTF-8, the bytes of their text.
 */
import { MergedRecordView } from '../layout/merged-line.js';
import type { LogRecord } from '../layout/records.js';

const NEWLINE = 0x0a;

/** The lines of `batch` after `head` (the separator line, or empty). */
export function formatBatch(batch: readonly LogRecord[], timestamps: boolean, head: string): string | Buffer {
  if (!(batch[0] instanceof MergedRecordView)) return formatText(batch, timestamps, head);
  let length = Buffer.byteLength(head);
  for (const r of batch)
    length +=
      (r instanceof MergedRecordView
        ? r.byteLength(timestamps)
        : (timestamps ? Buffer.byteLength(r.time) + 1 : 0) + Buffer.byteLength(r.message)) + 1;
  const out = Buffer.allocUnsafe(length);
  let at = out.write(head, 0);
  for (const r of batch) {
    if (r instanceof MergedRecordView) at = r.copyTo(out, at, timestamps);
    else at += out.write(timestamps ? `${r.time} ${r.message}` : r.message, at);
    out[at++] = NEWLINE;
  }
  return out;
}

function formatText(batch: readonly LogRecord[], timestamps: boolean, head: string): string {
  let text = head;
  if (timestamps) for (const r of batch) text += `${r.time} ${r.message}\n`;
  else for (const r of batch) text += `${r.message}\n`;
  return text;
}

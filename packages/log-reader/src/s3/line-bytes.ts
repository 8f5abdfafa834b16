/**
 * An object body cut into lines of bytes: at `\n`, one `\r` before it dropped, empty lines
 * skipped, a byte order mark at the body's start dropped as `TextDecoder` drops it. Each line
 * decodes alone to the text of its line in the whole body decoded: `\n` is never part of a
 * UTF-8 sequence, so a decoder is at a character's start after each one. The one splitter of
 * both paths: {@link objectLineBatches} decodes each line (text), the stream's merged records
 * copy their bytes (no decoding and encoding again).
 */

const LF = 0x0a;
const CR = 0x0d;
const BOM = [0xef, 0xbb, 0xbf] as const;

/** Lines in `bytes`, each `[start, end)` in `bounds` (two numbers a line, its line ending left out). */
export interface LineBytes {
  readonly bytes: Buffer;
  readonly bounds: readonly number[];
}

/** A decoder for one line's bytes that keeps a byte order mark (only the body's first is dropped, here). */
export const lineDecoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

/** The lines each chunk of `chunks` completes (one entry more for a line that ran past a chunk), then the last. */
export async function* splitLineBytes(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<LineBytes[]> {
  // Pieces of the line that runs past the chunk: joined once, when its end comes.
  let open: Buffer[] = [];
  for await (const piece of withoutBom(chunks)) {
    const chunk = asBuffer(piece);
    const out: LineBytes[] = [];
    let from = 0;
    let nl = chunk.indexOf(LF);
    if (nl >= 0 && open.length > 0) {
      open.push(chunk.subarray(0, nl));
      const line = Buffer.concat(open);
      open = [];
      const end = endOfLine(line, 0, line.length);
      if (end > 0) out.push({ bytes: line, bounds: [0, end] });
      from = nl + 1;
      nl = chunk.indexOf(LF, from);
    }
    const bounds: number[] = [];
    for (; nl >= 0; nl = chunk.indexOf(LF, from)) {
      const end = endOfLine(chunk, from, nl);
      if (end > from) bounds.push(from, end);
      from = nl + 1;
    }
    if (bounds.length > 0) out.push({ bytes: chunk, bounds });
    if (from < chunk.length) open.push(chunk.subarray(from));
    if (out.length > 0) yield out;
  }
  const line = Buffer.concat(open);
  const end = endOfLine(line, 0, line.length);
  if (end > 0) yield [{ bytes: line, bounds: [0, end] }];
}

/** The end of the line `[from, nl)` without its `\r`, if it ends with one. */
function endOfLine(bytes: Buffer, from: number, nl: number): number {
  return nl > from && bytes[nl - 1] === CR ? nl - 1 : nl;
}

/** `chunks` without a byte order mark at their start (it may come split between chunks). */
async function* withoutBom(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  let head: Uint8Array[] | undefined = [];
  let length = 0;
  for await (const chunk of chunks) {
    if (head === undefined) {
      yield chunk;
      continue;
    }
    head.push(chunk);
    length += chunk.byteLength;
    if (length < BOM.length) continue;
    const start = Buffer.concat(head);
    head = undefined;
    yield isBom(start) ? start.subarray(BOM.length) : start;
  }
  if (head === undefined) return;
  // A body shorter than a byte order mark is not one (the start of one decodes to U+FFFD).
  if (length > 0) yield Buffer.concat(head);
}

function isBom(bytes: Uint8Array): boolean {
  return bytes[0] === BOM[0] && bytes[1] === BOM[1] && bytes[2] === BOM[2];
}

function asBuffer(chunk: Uint8Array): Buffer {
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

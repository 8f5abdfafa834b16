/**
 * Reading the merged lines the compactor writes (`encodeMergedLine`) without `JSON.parse`:
 * `{"time":"…","log":"…"}`, with `,"stream":"stderr"` last for stderr. Reads spend most of
 * their time decoding these lines, and one regular expression reads this exact shape in
 * half the time of `JSON.parse`. Any other line (the Python service's spacing, an escape,
 * other keys or order) goes to {@link decodeMergedLine}, so every line decodes as it does there.
 */
import { decodeMergedLine, type LogRecord } from './records.js';

// Strings without a quote, a backslash or a control character: JSON that means its own text,
// so `log` needs no unescaping and cannot end with the line ending decodeMergedLine drops.
// eslint-disable-next-line no-control-regex -- JSON escapes U+0000–U+001F in strings: such a line is not this shape.
const COMPACTOR_LINE = /^\{"time":"([^"\\\u0000-\u001f]*)","log":"([^"\\\u0000-\u001f]*)"(,"stream":"stderr")?\}$/;

/** {@link decodeMergedLine}, faster for the lines the compactor writes. */
export function decodeMergedLineFast(line: string, containerId: string): LogRecord | undefined {
  const m = COMPACTOR_LINE.exec(line);
  if (m === null) return decodeMergedLine(line, containerId);
  return {
    time: m[1] as string,
    message: m[2] as string,
    stream: m[3] === undefined ? 'stdout' : 'stderr',
    containerId,
  };
}

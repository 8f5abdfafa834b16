// What a terminal shows for the bytes written to it, for tests of the progress line.

/** The screen's lines for `text`: `\n` ends a line, `\r` goes back to its start, ESC[K erases to its end. */
export function screen(text: string): string[] {
  const lines: string[] = [''];
  let col = 0;
  // eslint-disable-next-line no-control-regex -- the escape that erases a line is what this reads
  for (const token of text.split(/(\r|\n|\x1b\[K)/)) {
    const row = lines.length - 1;
    if (token === '\n') {
      lines.push('');
      col = 0;
    } else if (token === '\r') {
      col = 0;
    } else if (token === '\x1b[K') {
      lines[row] = (lines[row] ?? '').slice(0, col);
    } else if (token !== '') {
      const line = lines[row] ?? '';
      lines[row] = line.slice(0, col) + token + line.slice(col + token.length);
      col += token.length;
    }
  }
  return lines;
}

/** What the CLI writes to: the process's streams in bin.ts, any stream in tests. */
import type { ProgressStream } from './progress.js';

export interface Io {
  readonly stdout: NodeJS.WritableStream;
  /** A terminal (`isTTY`) also gets a progress line (progress.ts); anything else only the JSON logs. */
  readonly stderr: ProgressStream;
}

/**
 * A reader that closed its end of the pipe (`compactor run --help | head -1`) had enough:
 * writes to it fail with EPIPE, which must end nothing. Returns the function that removes
 * the listener. Any other stream error stays fatal.
 */
export function ignoreClosedPipe(stream: NodeJS.WritableStream): () => void {
  const onError = (error: NodeJS.ErrnoException): void => {
    if (error.code !== 'EPIPE') throw error;
  };
  stream.on('error', onError);
  return () => void stream.off('error', onError);
}

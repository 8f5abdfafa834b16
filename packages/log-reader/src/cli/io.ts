/** What the CLI runs with: its output streams, signals, clock and version (the process's in bin.ts, any in tests). */
import type { EventEmitter } from 'node:events';

export interface Io {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
}

/** Where SIGINT and SIGTERM come from: `process` in bin.ts, an EventEmitter in tests. */
export type SignalSource = Pick<EventEmitter, 'on' | 'off'>;

export interface CliOptions {
  /** What `--version` prints (bin.ts reads it from package.json). */
  readonly version?: string;
  /** SIGINT and SIGTERM during a read abort it (exit 130 and 143). Without it they are not listened to. */
  readonly signals?: SignalSource;
  /** The clock `--since DURATION` counts back from. */
  readonly now?: () => Date;
}

/**
 * A reader that closed its end of the pipe (`log-reader cat --help | head -1`) had enough:
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

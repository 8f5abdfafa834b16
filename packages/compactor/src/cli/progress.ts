/**
 * `compactor run` at a terminal: one line at the bottom of stderr that says how far the pass
 * is (`merge 12/40 pods · 35.2 MiB read · 3 failed`), redrawn in place with `\r` at most every
 * {@link PROGRESS_INTERVAL_MS} and cleared at the end. When stderr is not a terminal (a
 * CronJob, a pipe, a file) nothing of it is written: the JSON log lines stay all there is.
 *
 * Other output that reaches the terminal (log lines, dry-run lines on stdout) goes through
 * {@link Progress.above}: the line is cleared first and drawn again after, so a log line is
 * never written into it.
 */
import { Writable } from 'node:stream';
import { formatBytes, type PodReport } from '../pass/report.js';

/** Redraws at most this often: many small pods finish faster than anyone can read. */
export const PROGRESS_INTERVAL_MS = 200;

/** A stream that may be a terminal (`process.stderr` is one when `isTTY`). */
export interface ProgressStream extends NodeJS.WritableStream {
  readonly isTTY?: boolean;
  /** The terminal's width: a longer line would wrap, and `\r` would then redraw only its end. */
  readonly columns?: number;
}

export interface Progress {
  /** A phase begins with this many pods to go through. */
  phase(phase: PodReport['phase'], pods: number): void;
  /** A pod is done (whatever its status). */
  pod(report: PodReport): void;
  /** `target`, with the progress line moved out of the way of each write. */
  above(target: NodeJS.WritableStream): NodeJS.WritableStream;
  /** Clears the line for good; later calls do nothing. */
  finish(): void;
}

const CLEAR_LINE = '\r\x1b[K';

const NO_PROGRESS: Progress = {
  phase: () => undefined,
  pod: () => undefined,
  above: (target) => target,
  finish: () => undefined,
};

/** A progress line on `stream` when it is a terminal; otherwise one that does nothing. */
export function createProgress(stream: ProgressStream, intervalMs = PROGRESS_INTERVAL_MS): Progress {
  return stream.isTTY === true ? new TerminalProgress(stream, intervalMs) : NO_PROGRESS;
}

class TerminalProgress implements Progress {
  private phaseName: PodReport['phase'] = 'merge';
  private total = 0;
  private done = 0;
  private bytesRead = 0;
  private failed = 0;
  private deleted = 0;
  private started = false;
  private finished = false;
  /** Whether the line is on the screen now (what a clear must remove). */
  private shown = false;
  private lastDraw = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly stream: ProgressStream,
    private readonly intervalMs: number,
  ) {}

  phase(phase: PodReport['phase'], pods: number): void {
    this.phaseName = phase;
    this.total = pods;
    this.done = 0;
    this.started = true;
    // A new phase is news: drawn at once, whatever the throttle says.
    this.draw();
  }

  pod(report: PodReport): void {
    this.done += 1;
    this.bytesRead += report.bytesRead;
    if (report.status === 'failed') this.failed += 1;
    this.deleted += report.deletedRaw + report.deletedMerged + report.deletedOrphans;
    this.update();
  }

  above(target: NodeJS.WritableStream): NodeJS.WritableStream {
    return new Writable({
      write: (chunk: Buffer | string, _encoding, callback) => {
        const wasShown = this.shown;
        this.clear();
        // The target's own errors (EPIPE) stay on the target, where the CLI handles them.
        target.write(chunk);
        if (wasShown) this.draw();
        callback();
      },
    });
  }

  finish(): void {
    if (this.finished) return;
    this.finished = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.clear();
  }

  /** `merge 12/40 pods · 35.2 MiB read · 3 failed`. */
  line(): string {
    const parts = [`${this.phaseName} ${this.done}/${this.total} pods`, `${formatBytes(this.bytesRead)} read`];
    if (this.deleted > 0) parts.push(`${this.deleted} deleted`);
    if (this.failed > 0) parts.push(`${this.failed} failed`);
    return parts.join(' · ');
  }

  private update(): void {
    if (this.finished || !this.started) return;
    const wait = this.lastDraw + this.intervalMs - Date.now();
    if (wait <= 0) return this.draw();
    // Within the interval: one redraw at its end shows whatever happened meanwhile.
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.draw();
    }, wait).unref();
  }

  private draw(): void {
    if (this.finished || !this.started) return;
    const width = this.stream.columns;
    const text = width !== undefined && width > 1 ? this.line().slice(0, width - 1) : this.line();
    this.stream.write(`${CLEAR_LINE}${text}`);
    this.shown = true;
    this.lastDraw = Date.now();
  }

  private clear(): void {
    if (!this.shown) return;
    this.stream.write(CLEAR_LINE);
    this.shown = false;
  }
}

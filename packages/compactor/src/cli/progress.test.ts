// The progress line as a terminal shows it: what it says, that log lines are written above it
// and never into it, that it is gone at the end, and that a non-terminal gets nothing of it.
import { Writable } from 'node:stream';
import { screen } from '../../../../test/support/terminal.js';
import { ZERO_COUNTS, type PodReport } from '../pass/report.js';
import { createProgress, PROGRESS_INTERVAL_MS, type ProgressStream } from './progress.js';

/** A stream that says it is a terminal and keeps what it was given. */
function fakeTty(options: { isTTY?: boolean; columns?: number } = {}): ProgressStream & { text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  return Object.assign(stream, { isTTY: options.isTTY ?? true, columns: options.columns, text: () => chunks.join('') });
}

function pod(name: string, counts: Partial<PodReport> = {}): PodReport {
  return { pod: name, phase: 'merge', status: 'merged', ...ZERO_COUNTS, durationMs: 1, ...counts };
}

afterEach(() => jest.useRealTimers());

describe('progress at a terminal', () => {
  it('shows the phase, pods done of total, bytes read and failures on one line', () => {
    jest.useFakeTimers();
    const tty = fakeTty();
    const progress = createProgress(tty);
    progress.phase('merge', 40);
    expect(screen(tty.text())).toEqual(['merge 0/40 pods · 0 B read']);
    progress.pod(pod('job-1', { bytesRead: 2048 }));
    jest.advanceTimersByTime(PROGRESS_INTERVAL_MS);
    progress.pod(pod('job-2', { status: 'failed', bytesRead: 1024 * 1024 }));
    jest.advanceTimersByTime(PROGRESS_INTERVAL_MS);
    expect(screen(tty.text())).toEqual(['merge 2/40 pods · 1.0 MiB read · 1 failed']);
    progress.phase('clean', 3);
    progress.pod({ ...pod('job-3', { deletedRaw: 5, deletedOrphans: 1 }), phase: 'clean', status: 'cleaned' });
    jest.advanceTimersByTime(PROGRESS_INTERVAL_MS);
    expect(screen(tty.text())).toEqual(['clean 1/3 pods · 1.0 MiB read · 6 deleted · 1 failed']);
    progress.finish();
  });

  it('redraws at most once per interval, showing the latest count at its end', () => {
    jest.useFakeTimers();
    const tty = fakeTty();
    const progress = createProgress(tty);
    progress.phase('merge', 100);
    const drawn = (): number => tty.text().split('\r\x1b[K').filter(Boolean).length;
    for (let i = 0; i < 50; i++) progress.pod(pod(`job-${i}`));
    expect(drawn()).toBe(1);
    jest.advanceTimersByTime(PROGRESS_INTERVAL_MS);
    expect(drawn()).toBe(2);
    expect(screen(tty.text())).toEqual(['merge 50/100 pods · 0 B read']);
    progress.finish();
  });

  it('writes log lines above the line, never into it', () => {
    jest.useFakeTimers();
    const tty = fakeTty();
    const progress = createProgress(tty);
    const logs = progress.above(tty);
    progress.phase('merge', 2);
    logs.write('{"level":"info","message":"pod merged","pod":"job-1"}\n');
    progress.pod(pod('job-1'));
    logs.write('{"level":"info","message":"pod merged","pod":"job-2"}\n');
    progress.pod(pod('job-2'));
    jest.advanceTimersByTime(PROGRESS_INTERVAL_MS);
    expect(screen(tty.text())).toEqual([
      '{"level":"info","message":"pod merged","pod":"job-1"}',
      '{"level":"info","message":"pod merged","pod":"job-2"}',
      'merge 2/2 pods · 0 B read',
    ]);
    progress.finish();
  });

  it('moves out of the way of another stream too (dry-run lines on stdout)', () => {
    const tty = fakeTty();
    const stdout = fakeTty({ isTTY: false });
    const progress = createProgress(tty);
    progress.phase('merge', 1);
    progress.above(stdout).write('merge job-1: nothing to do\n');
    // The line was cleared before the other stream's write and drawn again after it.
    expect(tty.text()).toBe('\r\x1b[Kmerge 0/1 pods · 0 B read\r\x1b[K\r\x1b[Kmerge 0/1 pods · 0 B read');
    expect(stdout.text()).toBe('merge job-1: nothing to do\n');
    progress.finish();
  });

  it('is gone at the end: finish clears it, and nothing draws it again', () => {
    jest.useFakeTimers();
    const tty = fakeTty();
    const progress = createProgress(tty);
    const logs = progress.above(tty);
    progress.phase('merge', 3);
    progress.pod(pod('job-1'));
    progress.finish();
    jest.advanceTimersByTime(10 * PROGRESS_INTERVAL_MS);
    progress.pod(pod('job-2'));
    logs.write('{"message":"pass finished"}\n');
    expect(screen(tty.text())).toEqual(['{"message":"pass finished"}', '']);
  });

  it('fits the terminal width, so that it never wraps', () => {
    const tty = fakeTty({ columns: 12 });
    const progress = createProgress(tty);
    progress.phase('merge', 40);
    expect(screen(tty.text())).toEqual(['merge 0/40 ']);
    progress.finish();
  });
});

describe('progress anywhere else (a CronJob, a pipe, a file)', () => {
  it('writes nothing and leaves other output as it is', () => {
    const stderr = fakeTty({ isTTY: false });
    const progress = createProgress(stderr);
    const logs = progress.above(stderr);
    progress.phase('merge', 2);
    progress.pod(pod('job-1', { bytesRead: 10 }));
    logs.write('{"message":"pod merged"}\n');
    progress.finish();
    expect(logs).toBe(stderr);
    expect(stderr.text()).toBe('{"message":"pod merged"}\n');
  });
});

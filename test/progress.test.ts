// `compactor run` at a terminal shows a progress line on stderr, and every log line (and
// dry-run line) lands whole above it; anywhere else stderr has the JSON log lines only.
import { Writable } from 'node:stream';
import { main } from 'compactor';
import { screen } from './support/terminal.js';
import { messages, newWorld, type World } from './support/world.js';

const T0 = new Date('2026-11-25T10:00:00Z');

/** A stream that keeps what it was given and says whether it is a terminal. */
function stream(isTTY: boolean): Writable & { isTTY: boolean; text: () => string } {
  const chunks: string[] = [];
  const s = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  return Object.assign(s, { isTTY, text: () => chunks.join('') });
}

async function seeded(name: string): Promise<World> {
  const w = await newWorld(name);
  await w.container('job-1', '0f3a').upload(messages('a', 2, T0));
  await w.container('job-2', '0f3b').upload(messages('b', 1, T0));
  return w;
}

function runArgs(w: World, ...more: string[]): string[] {
  return ['run', '--bucket', w.bucket, '--endpoint', process.env['S3_TEST_ENDPOINT']!, ...more];
}

describe('compactor run progress', () => {
  it('draws a progress line at a terminal and leaves only whole lines on the screen when done', async () => {
    const w = await seeded('progress-tty');
    // stdout and stderr on one terminal, as in a shell: dry-run lines, log lines and the summary.
    const terminal = stream(true);

    expect(await main(runArgs(w, '--dry-run'), { stdout: terminal, stderr: terminal })).toBe(0);

    // The merge phase's line is drawn as it starts (later redraws depend on the pass's pace).
    expect(terminal.text()).toContain('\r\x1b[Kmerge 0/2 pods · 0 B read');
    const lines = screen(terminal.text()).filter((l) => l !== '');
    const dryRun = lines.filter((l) => l.startsWith('merge job-'));
    expect(dryRun).toHaveLength(2);
    for (const line of dryRun)
      expect(line).toMatch(
        /^merge job-\d: would merge 1 raw file\(s\) \(\d+ B read\) into 1 merged file\(s\) of \d line\(s\)$/,
      );
    // Every other line is a whole JSON line: no progress text left in or after any of them.
    const json = lines.filter((l) => !l.startsWith('merge job-')).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(json.filter((l) => l['message'] === 'would merge pod')).toHaveLength(2);
    expect(json.at(-1)).toMatchObject({ dryRun: true, pods: { wouldMerge: 2 } });
  });

  it('writes nothing but the JSON log lines to a stderr that is not a terminal (a CronJob)', async () => {
    const w = await seeded('progress-pipe');
    const stdout = stream(false);
    const stderr = stream(false);

    expect(await main(runArgs(w), { stdout, stderr })).toBe(0);

    // eslint-disable-next-line no-control-regex -- a carriage return or an escape would redraw a terminal
    expect(stderr.text()).not.toMatch(/[\r\x1b]/);
    const logs = stderr
      .text()
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(logs.map((l) => l['message'])).toEqual(
      expect.arrayContaining(['pass started', 'pod merged', 'pass finished']),
    );
    expect(stdout.text().trimEnd().split('\n')).toHaveLength(1);
  });
});

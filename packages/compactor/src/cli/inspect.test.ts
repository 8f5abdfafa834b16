// The `inspect` command's flags: the `run` command's own, shared.
import { Writable } from 'node:stream';
import { main } from './main.js';

describe('compactor inspect --help', () => {
  it("shares run's flags, defaults and environment twins, and run keeps them", async () => {
    const help = async (command: string): Promise<string> => {
      const out: string[] = [];
      const sink = new Writable({
        write: (chunk: Buffer | string, _e, done) => void (out.push(String(chunk)), done()),
      });
      expect(await main([command, '--help'], { stdout: sink, stderr: sink })).toBe(0);
      return out.join('').replace(/\s+/g, ' '); // commander wraps lines at the terminal's width
    };
    const inspect = await help('inspect');
    expect(inspect).toMatch(/--cleanup-interval <duration> [^-]*\(default: 30m, env: COMPACTOR_CLEANUP_INTERVAL\)/);
    expect(inspect).toMatch(/--json/);
    expect(inspect).not.toMatch(/--dry-run|--max-file-size/);
    expect(await help('run')).toMatch(
      /--cleanup-interval <duration> [^-]*\(default: 30m, env: COMPACTOR_CLEANUP_INTERVAL\)/,
    );
  });
});

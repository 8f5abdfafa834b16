// Found in review 2 (issue 6), fixed since: with --kube, the container whose end decides an unfinished line is taken from the
// last raw file not merged yet (line-end.ts lineContainerEnded: state.unmerged.at(-1)), not
// from the open line itself (unfinished_lines[].key). A late raw file of the container that a
// restart replaced, keyed before the new container's open line, is read on its own and does not
// touch that line — but, being the only file not merged yet, it names the OLD container: the
// API says the old one has ended, and the running container's open line is merged as it is.
// Its last piece, written afterwards by the running container, becomes a record of its own
// (README "Unfinished lines and --kube": merged as it is only when THAT container has ended).
import { parsedLine, putRaw } from '@platform/testkit';
import { kubeLiveness, loadKubeConfig, runPass, silentLogger } from 'compactor';
import { startKubeApi, type KubeApiDouble } from './support/kube-api.js';
import { MINUTE, newWorld, testConfig, type World } from './support/world.js';

const OLD = 'c0ffee01'.repeat(8);
const NEW = 'c0ffee02'.repeat(8);

let api: KubeApiDouble;
beforeAll(async () => {
  api = await startKubeApi();
});
afterAll(() => api.close());

function kubePass(w: World) {
  return runPass({
    store: { client: w.client, bucket: w.bucket },
    config: testConfig(w.bucket, { compactIntervalMs: 0 }),
    logger: silentLogger(),
    now: w.now,
    liveness: kubeLiveness(loadKubeConfig(api.kubeconfigPath)),
  });
}

describe('--kube and a late raw file of the replaced container', () => {
  it('keeps the running container\'s open line open', async () => {
    const w = await newWorld('rv2-kube-late-old');
    const raw = (containerId: string, slice: string, index: number, line: string): Promise<string> =>
      putRaw(w.client, w.bucket, { pod: 'job-k', namespace: 'jobs', containerId, slice, index, lines: [line] });
    // OLD wrote _5 and was replaced (restart) long ago; its last upload _6 fails for now.
    await raw(OLD, '202611251000', 5, parsedLine({ time: '2026-11-25T10:00:00Z', log: 'old-1' }));
    // NEW runs and starts a long line.
    const open = await raw(NEW, '202611251000', 7, parsedLine({ time: '2026-11-25T10:00:30Z', log: 'first half ', logtag: 'P' }));
    api.set('jobs', 'job-k', { kind: 'restarted', oldId: OLD, newId: NEW, finishedAt: new Date(w.now().getTime() - 60 * MINUTE) });
    await kubePass(w);
    expect((await w.metadata('job-k')).unfinishedLines).toMatchObject([{ stream: 'stdout', key: open, line: 1 }]);

    // OLD's retried upload lands; NEW is still running, its line still open.
    await raw(OLD, '202611251000', 6, parsedLine({ time: '2026-11-25T10:00:10Z', log: 'old-2' }));
    w.advance(10 * MINUTE); // past the settle time
    await kubePass(w);
    // NEW runs: its line must still be held open.
    expect((await w.metadata('job-k')).unfinishedLines).toMatchObject([{ stream: 'stdout', key: open, line: 1 }]);

    await raw(NEW, '202611251001', 8, parsedLine({ time: '2026-11-25T10:01:00Z', log: 'second half' }));
    w.advance(10 * MINUTE);
    await kubePass(w);
    const messages = (await w.records('job-k')).map((r) => r.message);
    expect([...messages].sort()).toEqual(['first half second half', 'old-1', 'old-2']);
  });
});

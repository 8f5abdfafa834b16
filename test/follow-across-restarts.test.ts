// Follow cases of a second review (issue 9): the previous instance around the hand-off
// (since, no archived record, a rotated previous log), tail with a previous instance, the
// separator with restarts, instances that come and go, the API failing (400 while running,
// retries bounded and abortable).
import { criPieces, parsedLine } from '@platform/testkit';
import { formatSlice } from '@platform/log-reader';
import { text } from 'node:stream/consumers';
import { LiveLogError } from '@platform/log-reader';
import { startKubeApi, type KubeApiDouble } from './support/kube-api.js';
import { faultyApi } from './support/kube-proxy.js';
import { follow, followOptions, jobLines } from './support/follow.js';
import { newWorld } from './support/world.js';

const T0 = new Date('2026-11-25T10:00:00Z');
const ID = '0f3a'.repeat(16);
const ID2 = '7c21'.repeat(16);
const ID3 = '9d4e'.repeat(16);
const POD = 'job-1';
const at = (s: number): Date => new Date(T0.getTime() + s * 1000);

let kube: KubeApiDouble;
beforeEach(async () => {
  kube = await startKubeApi();
});
afterEach(async () => {
  await kube.close();
});

/** A restarted pod: p-0..p-9 written by the first instance (archived: `archived`), c-0..c-4 by the running one (archived: c-0..c-`curArchived - 1`). */
async function restarted(name: string, archived: number, curArchived: number, prevLines = 10): Promise<{ w: Awaited<ReturnType<typeof newWorld>>; pod: ReturnType<KubeApiDouble['pod']>; prev: ReturnType<typeof jobLines>; cur: ReturnType<typeof jobLines> }> {
  const w = await newWorld(name);
  const prev = jobLines('p', prevLines, at(0));
  const cur = jobLines('c', 5, at(60));
  const pod = kube.pod('jobs', POD, { restartPolicy: 'OnFailure' });
  pod.start(ID, at(0));
  pod.append(prev);
  pod.terminate(1, at(30));
  pod.start(ID2, at(60));
  pod.append(cur);
  if (archived > 0) await w.container(POD, ID).upload(prev.slice(0, archived));
  if (curArchived > 0) await w.container(POD, ID2, { firstIndex: 10 }).upload(cur.slice(0, curArchived));
  return { w, pod, prev, cur };
}

describe('follow: restarts with tail, since and the separator', () => {
  // 100: all; 7: p-8 on; 6: p-9 and the current instance; 5: the current instance only.
  it.each([100, 7, 6, 5])('tail %i of a restarted pod: the previous instance’s archived lines, its unarchived ones from its previous log, then the current one’s, each once', async (tail) => {
    const { w, pod, prev, cur } = await restarted(`r2-tail-${tail}`, 6, 2);
    const read = follow(w.reader, POD, { follow: followOptions(kube), tail });
    await read.waitFor(() => pod.openFollows() === 1);
    pod.terminate(0, at(100));
    await read.ended;
    expect(read.messages()).toEqual([...prev, ...cur].map((l) => l.message).slice(-tail));
  });

  it('tail with since: since cuts inside the previous instance, in the archive and in its previous log alike', async () => {
    const { w, pod, prev, cur } = await restarted('r2-tail-since', 6, 2);
    const read = follow(w.reader, POD, { follow: followOptions(kube), tail: 100, since: prev[7]?.time as string });
    await read.waitFor(() => pod.openFollows() === 1);
    pod.terminate(0, at(100));
    await read.ended;
    expect(read.messages()).toEqual([...prev.slice(7), ...cur].map((l) => l.message));
  });

  it('since later than the previous instance’s last archived record: its previous log is read from since', async () => {
    const { w, pod, prev, cur } = await restarted('r2-since-late', 4, 2);
    const read = follow(w.reader, POD, { follow: followOptions(kube), since: prev[7]?.time as string });
    await read.waitFor(() => pod.openFollows() === 1);
    pod.terminate(0, at(100));
    await read.ended;
    expect(read.messages()).toEqual([...prev.slice(7), ...cur].map((l) => l.message));
  });

  it('a previous instance with no archived record is read whole from its previous log, before the current one', async () => {
    const { w, pod, prev, cur } = await restarted('r2-prev-none', 0, 3);
    const read = follow(w.reader, POD, { follow: followOptions(kube) });
    await read.waitFor(() => pod.openFollows() === 1);
    pod.terminate(0, at(100));
    await read.ended;
    expect(read.messages()).toEqual([...prev, ...cur].map((l) => l.message));
  });

  it('tail across a previous instance with no archived record', async () => {
    const { w, pod, prev, cur } = await restarted('r2-prev-none-tail', 0, 3);
    const read = follow(w.reader, POD, { follow: followOptions(kube), tail: 12 });
    await read.waitFor(() => pod.openFollows() === 1);
    pod.terminate(0, at(100));
    await read.ended;
    expect(read.messages()).toEqual([...prev, ...cur].map((l) => l.message).slice(-12));
  });

  it('tail 0 with the current live log just rotated to empty: only the lines written after', async () => {
    const { w, pod } = await restarted('r2-tail0-empty', 10, 5);
    pod.rotate(0);
    const read = follow(w.reader, POD, { follow: followOptions(kube), tail: 0 });
    await read.waitFor(() => pod.openFollows() === 1);
    pod.append(jobLines('n', 2, at(90)));
    await read.until((r) => r.length === 2);
    pod.terminate(0, at(100));
    await read.ended;
    expect(read.messages()).toEqual(['n-0', 'n-1']);
  });

  it('tail with the current live log rotated to empty and nothing of it archived: the previous instance’s last lines, then new ones', async () => {
    const { w, pod, prev } = await restarted('r2-tail-empty-unarch', 10, 0);
    pod.rotate(0);
    const read = follow(w.reader, POD, { follow: followOptions(kube), tail: 4 });
    await read.waitFor(() => pod.openFollows() === 1);
    pod.append(jobLines('n', 2, at(90)));
    await read.until((r) => r.length >= 6);
    pod.terminate(0, at(100));
    await read.ended;
    // c-0..c-4 rotated out and never uploaded: lost for good.
    expect(read.messages()).toEqual([...prev.slice(6).map((l) => l.message), 'n-0', 'n-1']);
  });

  it('the separator with a restart: after the previous instance’s lines from its previous log, before the current live log', async () => {
    const { w, pod, prev, cur } = await restarted('r2-sep-restart', 6, 2);
    pod.terminate(0, at(100));
    const out = await text(w.reader.createReadStream(POD, { follow: followOptions(kube), separator: 'XX' }));
    expect(out).toBe([...prev.map((l) => l.message), 'XX', ...cur.map((l) => l.message), ''].join('\n'));
  });

  it('the separator with a restart and tail', async () => {
    const { w, pod, prev, cur } = await restarted('r2-sep-restart-tail', 6, 2);
    pod.terminate(0, at(100));
    const out = await text(w.reader.createReadStream(POD, { follow: followOptions(kube), separator: 'XX', tail: 8 }));
    expect(out).toBe([...prev.slice(7).map((l) => l.message), 'XX', ...cur.map((l) => l.message), ''].join('\n'));
  });

  it('the separator with an empty archive and a restart: between the previous log and the current live log', async () => {
    const { w, pod, prev, cur } = await restarted('r2-sep-empty-archive', 0, 0);
    pod.terminate(0, at(100));
    const out = await text(w.reader.createReadStream(POD, { follow: followOptions(kube), separator: 'XX' }));
    expect(out).toBe([...prev.map((l) => l.message), 'XX', ...cur.map((l) => l.message), ''].join('\n'));
  });

  it('while following: the container fails, restarts and ends for good before the reader looks again: the rest of both, once', async () => {
    const w = await newWorld('r2-done-later');
    const a = jobLines('a', 3, at(0));
    const b = jobLines('b', 3, at(60));
    const pod = kube.pod('jobs', POD, { restartPolicy: 'OnFailure' });
    pod.start(ID, at(0));
    pod.append(a);
    const read = follow(w.reader, POD, { follow: followOptions(kube) });
    await read.until((r) => r.length === 3);
    await read.waitFor(() => pod.openFollows() === 1);
    // All at once: the reader looks again only after it.
    pod.append(jobLines('a', 2, at(3), 3));
    pod.terminate(1, at(10));
    pod.start(ID2, at(60));
    pod.append(b);
    pod.terminate(0, at(70));
    await read.ended;
    expect(read.messages()).toEqual(['a-0', 'a-1', 'a-2', 'a-3', 'a-4', 'b-0', 'b-1', 'b-2']);
  });

  it('while following: an instance that came and went unseen is read from its previous log', async () => {
    const w = await newWorld('r2-unseen');
    const pod = kube.pod('jobs', POD, { restartPolicy: 'OnFailure' });
    pod.start(ID, at(0));
    pod.append(jobLines('a', 3, at(0)));
    const read = follow(w.reader, POD, { follow: followOptions(kube) });
    await read.until((r) => r.length === 3);
    pod.terminate(1, at(10));
    pod.start(ID2, at(60));
    pod.append(jobLines('b', 3, at(60)));
    pod.terminate(1, at(70));
    pod.start(ID3, at(120));
    pod.append(jobLines('c', 3, at(120)));
    pod.terminate(0, at(130));
    await read.ended;
    expect(read.messages()).toEqual(['a-0', 'a-1', 'a-2', 'b-0', 'b-1', 'b-2', 'c-0', 'c-1', 'c-2']);
  });

  it('a dropped stream, lines written, then an exit the pod will restart: the rest is read as previous after the restart, once', async () => {
    const w = await newWorld('r2-drop-exit-restart');
    const pod = kube.pod('jobs', POD, { restartPolicy: 'OnFailure' });
    pod.start(ID, at(0));
    pod.append(jobLines('a', 3, at(0)));
    const read = follow(w.reader, POD, { follow: followOptions(kube) });
    await read.until((r) => r.length === 3);
    await read.waitFor(() => pod.openFollows() === 1);
    pod.dropStreams('reset');
    pod.append(jobLines('a', 3, at(3), 3));
    pod.terminate(1, at(10));
    // The reader sees the exited instance still current: it waits for the restart.
    await read.waitFor(() => kube.requests.length > 0 && kube.requests.filter((r) => !r.path.endsWith('/log')).length > 6);
    pod.waitRestart();
    await read.until((r) => r.length === 6);
    pod.start(ID2, at(60));
    pod.append(jobLines('b', 2, at(60)));
    pod.terminate(0, at(70));
    await read.ended;
    expect(read.messages()).toEqual(['a-0', 'a-1', 'a-2', 'a-3', 'a-4', 'a-5', 'b-0', 'b-1']);
  });

  it('breaking out of a followed read closes its follow stream', async () => {
    const w = await newWorld('r2-break');
    const pod = kube.pod('jobs', POD, { restartPolicy: 'OnFailure' });
    pod.start(ID, at(0));
    pod.append(jobLines('a', 3, at(0)));
    const got: string[] = [];
    for await (const r of w.reader.records(POD, { follow: followOptions(kube) })) {
      got.push(r.message);
      if (got.length === 3) break;
    }
    await new Promise<void>((resolve) => {
      const check = (): void => (pod.openFollows() === 0 ? resolve() : void setTimeout(check, 5));
      check();
    });
    expect(got).toEqual(['a-0', 'a-1', 'a-2']);
  });
});

const isPodGet = (u: URL): boolean => !u.pathname.endsWith('/log');

describe('follow: the API failing', () => {
  it('a 400 "waiting to start" to a follow request while the pod says running: looks at the pod, pauses, asks again, loses nothing', async () => {
    const w = await newWorld('r2-400-running');
    const pod = kube.pod('jobs', POD, { restartPolicy: 'OnFailure' });
    pod.start(ID, at(0));
    pod.append(jobLines('a', 3, at(0)));
    let refused = 0;
    const api = await faultyApi(kube, (u) => {
      if (u.pathname.endsWith('/log') && u.searchParams.get('follow') === 'true' && refused < 3) {
        refused += 1;
        return { code: 400, reason: 'BadRequest', message: `container "${POD}" in pod "${POD}" is waiting to start: ContainerCreating` };
      }
      return undefined;
    });
    try {
      const read = follow(w.reader, POD, { follow: { kube: api.kube, namespace: 'jobs', pollInterval: 10 } });
      await read.waitFor(() => pod.openFollows() === 1);
      pod.append(jobLines('a', 2, at(3), 3));
      await read.until((r) => r.length === 5);
      pod.terminate(0, at(10));
      await read.ended;
      expect(read.messages()).toEqual(['a-0', 'a-1', 'a-2', 'a-3', 'a-4']);
      expect(refused).toBe(3);
      // Each refusal is followed by a look at the pod (then a pause) before the next request.
      const follows = api.seen.map((u, i) => ({ u, i })).filter(({ u }) => u.searchParams.get('follow') === 'true');
      for (let k = 1; k < follows.length; k++) expect(api.seen.slice((follows[k - 1] as { i: number }).i, (follows[k] as { i: number }).i).some(isPodGet)).toBe(true);
    } finally {
      await api.close();
    }
  });

  it('a 503, a dropped connection and a 429 on the pod are retried; the read goes on', async () => {
    const w = await newWorld('r2-retry-ok');
    const pod = kube.pod('jobs', POD, { restartPolicy: 'OnFailure' });
    pod.start(ID, at(0));
    pod.append(jobLines('a', 3, at(0)));
    pod.terminate(0, at(10));
    let n = 0;
    const api = await faultyApi(kube, (u) => {
      if (!isPodGet(u)) return undefined;
      n += 1;
      if (n === 1) return { code: 503, reason: 'ServiceUnavailable', message: 'the server is currently unable to handle the request' };
      if (n === 2) return 'reset';
      if (n === 3) return { code: 429, reason: 'TooManyRequests', message: 'too many requests' };
      return undefined;
    });
    try {
      const read = follow(w.reader, POD, { follow: { kube: api.kube, namespace: 'jobs', pollInterval: 10 } });
      await read.ended;
      expect(read.messages()).toEqual(['a-0', 'a-1', 'a-2']);
    } finally {
      await api.close();
    }
  });

  it('a 503 that does not pass fails the read after 4 tries with a LiveLogError naming the pod', async () => {
    const w = await newWorld('r2-retry-fail');
    kube.pod('jobs', POD, { restartPolicy: 'OnFailure' }).start(ID, at(0));
    const api = await faultyApi(kube, () => ({ code: 503, reason: 'ServiceUnavailable', message: 'the server is currently unable to handle the request' }));
    try {
      const read = follow(w.reader, POD, { follow: { kube: api.kube, namespace: 'jobs', pollInterval: 10 } });
      const error = await read.ended.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(LiveLogError);
      expect(error).toMatchObject({ status: 503, pod: POD });
      expect(api.seen.filter(isPodGet)).toHaveLength(4);
    } finally {
      await api.close();
    }
  });

  it('an abort while a failed request waits to be tried again ends the read with an AbortError, asking no more', async () => {
    const w = await newWorld('r2-retry-abort');
    kube.pod('jobs', POD, { restartPolicy: 'OnFailure' }).start(ID, at(0));
    const api = await faultyApi(kube, () => ({ code: 500, reason: 'InternalError', message: 'boom' }));
    try {
      const controller = new AbortController();
      const read = follow(w.reader, POD, { follow: { kube: api.kube, namespace: 'jobs', pollInterval: 10 }, signal: controller.signal });
      await read.waitFor(() => api.seen.length >= 1);
      controller.abort();
      await expect(read.ended).rejects.toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
      expect(api.seen.length).toBeLessThanOrEqual(2);
    } finally {
      await api.close();
    }
  });
});

describe('follow: an instance that exited at the start', () => {
  it('starting with the current instance exited and about to restart: all of it once, then the next one', async () => {
    const w = await newWorld('r2-start-exited');
    const x = jobLines('x', 5, at(0));
    const pod = kube.pod('jobs', POD, { restartPolicy: 'OnFailure' });
    pod.start(ID, at(0));
    pod.append(x);
    pod.terminate(1, at(10));
    await w.container(POD, ID).upload(x.slice(0, 3));
    const read = follow(w.reader, POD, { follow: followOptions(kube) });
    // The archive part, then looks at the pod while it waits for the restart.
    await read.waitFor(() => kube.requests.filter((r) => !r.path.endsWith('/log')).length > 4);
    pod.waitRestart();
    await read.until((r) => r.length === 5);
    pod.start(ID2, at(60));
    pod.append(jobLines('y', 2, at(60)));
    pod.terminate(0, at(70));
    await read.ended;
    expect(read.messages()).toEqual(['x-0', 'x-1', 'x-2', 'x-3', 'x-4', 'y-0', 'y-1']);
  });

});

describe('follow: the previous instance’s log', () => {
  it('rotated before it exited: the archive, then what the previous log holds after it', async () => {
    const w = await newWorld('r2-prev-rotated');
    const prev = jobLines('p', 10, at(0));
    const cur = jobLines('c', 3, at(60));
    const pod = kube.pod('jobs', POD, { restartPolicy: 'OnFailure' });
    pod.start(ID, at(0));
    pod.append(prev);
    pod.rotate(3);
    pod.terminate(1, at(30));
    pod.start(ID2, at(60));
    pod.append(cur);
    await w.container(POD, ID).upload(prev.slice(0, 8));
    const read = follow(w.reader, POD, { follow: followOptions(kube) });
    await read.waitFor(() => pod.openFollows() === 1);
    pod.terminate(0, at(100));
    await read.ended;
    expect(read.messages()).toEqual([...prev, ...cur].map((l) => l.message));
  });
});

// Defects the second review found (fixed in follow.ts: the previous instance's placement, its
// unfinished last line, a restart between the look at the pod and the probe).
describe('follow: the previous instance and the probe, defects found and fixed', () => {
  it('the current instance’s raw file sorts before the previous one’s last (same minute, lower index): each line once, in order', async () => {
    const w = await newWorld('r2-order');
    const prev = jobLines('p', 10, at(0));
    const cur = jobLines('c', 5, at(20));
    const pod = kube.pod('jobs', POD, { restartPolicy: 'OnFailure' });
    pod.start(ID, at(0));
    pod.append(prev);
    pod.terminate(1, at(10));
    pod.start(ID2, at(20));
    pod.append(cur);
    // Fluent Bit uploads p-0..4 (index 1), then the new instance's c-0..4 (index 2), then
    // the old instance's last chunk p-5..7 (index 3): all keyed 10:00.
    await w.container(POD, ID, { firstIndex: 1 }).upload(prev.slice(0, 5));
    await w.container(POD, ID2, { firstIndex: 2 }).upload(cur);
    await w.container(POD, ID, { firstIndex: 3 }).upload(prev.slice(5, 8));

    const read = follow(w.reader, POD, { follow: followOptions(kube) });
    await read.waitFor(() => pod.openFollows() === 1);
    pod.terminate(0, at(40));
    await read.ended;
    expect(read.messages()).toEqual([...prev, ...cur].map((l) => l.message));
  });

  it('the previous instance’s last archived line is unfinished (its F piece not uploaded): the whole line from its previous log', async () => {
    const w = await newWorld('r2-unfinished');
    const prev = jobLines('p', 4, at(0));
    const long = `long ${'y'.repeat(40_000)}`;
    (prev[3] as { message: string; log: string }).message = long;
    (prev[3] as { message: string; log: string }).log = long;
    const cur = jobLines('c', 3, at(20));
    const pod = kube.pod('jobs', POD, { restartPolicy: 'OnFailure' });
    pod.start(ID, at(0));
    pod.append(prev);
    pod.terminate(1, at(10));
    pod.start(ID2, at(20));
    pod.append(cur);
    // p-0..2 whole, then only the first two pieces of the long line.
    const pieces = criPieces({ time: prev[3]?.time as string, log: long });
    const fb = w.container(POD, ID);
    await fb.uploadLines([...prev.slice(0, 3).map((l) => parsedLine({ time: l.time, log: l.message })), ...pieces.slice(0, 2).map((p) => parsedLine(p))], formatSlice(at(0)));
    await w.container(POD, ID2, { firstIndex: 5 }).upload(cur);

    const read = follow(w.reader, POD, { follow: followOptions(kube) });
    await read.waitFor(() => pod.openFollows() === 1);
    pod.terminate(0, at(40));
    await read.ended;
    expect(read.messages().map((m) => `${m.slice(0, 6)}:${m.length}`)).toEqual([...prev, ...cur].map((l) => `${l.message.slice(0, 6)}:${l.message.length}`));
  });

  it('tail 100 with the current instance’s raw file before the previous one’s last: in order', async () => {
    const w = await newWorld('r2-order-tail');
    const prev = jobLines('p', 10, at(0));
    const cur = jobLines('c', 5, at(20));
    const pod = kube.pod('jobs', POD, { restartPolicy: 'OnFailure' });
    pod.start(ID, at(0));
    pod.append(prev);
    pod.terminate(1, at(10));
    pod.start(ID2, at(20));
    pod.append(cur);
    await w.container(POD, ID, { firstIndex: 1 }).upload(prev.slice(0, 5));
    await w.container(POD, ID2, { firstIndex: 2 }).upload(cur);
    await w.container(POD, ID, { firstIndex: 3 }).upload(prev.slice(5, 8));
    const read = follow(w.reader, POD, { follow: followOptions(kube), tail: 100 });
    await read.waitFor(() => pod.openFollows() === 1);
    pod.terminate(0, at(40));
    await read.ended;
    expect(read.messages()).toEqual([...prev, ...cur].map((l) => l.message));
  });

  it('the previous instance’s last raw file uploaded after a pass merged the current one’s: each line once', async () => {
    const w = await newWorld('r2-order-merged');
    const prev = jobLines('p', 10, at(0));
    const cur = jobLines('c', 5, at(100));
    const pod = kube.pod('jobs', POD, { restartPolicy: 'OnFailure' });
    pod.start(ID, at(0));
    pod.append(prev);
    pod.terminate(1, at(10));
    pod.start(ID2, at(100));
    pod.append(cur);
    await w.container(POD, ID, { firstIndex: 1 }).upload(prev.slice(0, 5));
    await w.container(POD, ID2, { firstIndex: 2 }).upload(cur);
    await w.pass();
    await w.container(POD, ID, { firstIndex: 3 }).upload(prev.slice(5, 8)); // late: keyed 10:00, read after the merged files
    const read = follow(w.reader, POD, { follow: followOptions(kube) });
    await read.waitFor(() => pod.openFollows() === 1);
    pod.terminate(0, at(140));
    await read.ended;
    expect(read.messages()).toEqual([...prev, ...cur].map((l) => l.message));
  });

  it.each([
    ['running', false],
    ['exited', true],
  ])('the %s current instance is restarted between the first look at the pod and the probe', async (_state, exitedFirst) => {
    const w = await newWorld(`r2-restart-at-probe-${exitedFirst ? 'e' : 'r'}`);
    const x = jobLines('x', 5, at(0));
    const y = jobLines('y', 2, at(60));
    const pod = kube.pod('jobs', POD, { restartPolicy: 'OnFailure' });
    pod.start(ID, at(0));
    pod.append(x);
    if (exitedFirst) pod.terminate(1, at(10));
    await w.container(POD, ID).upload(x.slice(0, 3));
    let done = false;
    const api = await faultyApi(kube, (u) => {
      if (!done && u.searchParams.has('limitBytes')) {
        // The kubelet restarts the container just before the probe reaches it.
        done = true;
        if (!exitedFirst) pod.terminate(1, at(10));
        pod.start(ID2, at(60));
        pod.append(y);
      }
      return undefined;
    });
    try {
      const read = follow(w.reader, POD, { follow: { kube: api.kube, namespace: 'jobs', pollInterval: 10 } });
      await read.waitFor(() => pod.openFollows() === 1);
      pod.terminate(0, at(70));
      await read.ended;
      expect(read.messages()).toEqual(['x-0', 'x-1', 'x-2', 'x-3', 'x-4', 'y-0', 'y-1']);
    } finally {
      await api.close();
    }
  });
});

// Follow cases of a third review (issue 9): the previous instance's live lines placed among
// archived records that are out of log order (late uploads), with tail, a rotated previous log
// and a third, older instance; restarts while the previous log or the probe is read.
import { criPieces, parsedLine } from '@platform/testkit';
import { formatSlice } from '@platform/log-reader';
import { startKubeApi, type KubeApiDouble } from './support/kube-api.js';
import { faultyApi } from './support/kube-proxy.js';
import { follow, followOptions, jobLines } from './support/follow.js';
import { newWorld } from './support/world.js';

const T0 = new Date('2026-11-25T10:00:00Z');
const ID0 = '3b5a'.repeat(16);
const ID = '0f3a'.repeat(16);
const ID2 = '7c21'.repeat(16);
const ID3 = '9d4e'.repeat(16);
const ID4 = 'a1b2'.repeat(16);
const POD = 'job-1';
const at = (s: number): Date => new Date(T0.getTime() + s * 1000);

let kube: KubeApiDouble;
beforeEach(async () => {
  kube = await startKubeApi();
});
afterEach(async () => {
  await kube.close();
});

/** An API server in front of the double; `before` runs before a request is passed on. */
function hookedApi(target: KubeApiDouble, before: (url: URL) => void): ReturnType<typeof faultyApi> {
  return faultyApi(target, (url) => {
    before(url);
    return undefined;
  });
}

/**
 * p-0..p-9 by the previous instance, c-0..c-4 by the running one; Fluent Bit uploaded p-0..4
 * (index 1), then c-0..4 (index 2), then p-5..7 late (index 3), all keyed 10:00.
 */
async function lateUpload(name: string, keepPrevious?: number): Promise<{ w: Awaited<ReturnType<typeof newWorld>>; pod: ReturnType<KubeApiDouble['pod']>; all: string[] }> {
  const w = await newWorld(name);
  const prev = jobLines('p', 10, at(0));
  const cur = jobLines('c', 5, at(20));
  const pod = kube.pod('jobs', POD, { restartPolicy: 'OnFailure' });
  pod.start(ID, at(0));
  pod.append(prev);
  if (keepPrevious !== undefined) pod.rotate(keepPrevious);
  pod.terminate(1, at(10));
  pod.start(ID2, at(20));
  pod.append(cur);
  await w.container(POD, ID, { firstIndex: 1 }).upload(prev.slice(0, 5));
  await w.container(POD, ID2, { firstIndex: 2 }).upload(cur);
  await w.container(POD, ID, { firstIndex: 3 }).upload(prev.slice(5, 8));
  return { w, pod, all: [...prev, ...cur].map((l) => l.message) };
}

describe('follow: the previous instance’s live lines among late-uploaded records', () => {
  it.each([1, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16])('tail %i with the previous instance’s last raw file uploaded after the current one’s: the last lines, each once, in order', async (tail) => {
    const { w, pod, all } = await lateUpload(`r3-late-tail-${tail}`);
    const read = follow(w.reader, POD, { follow: followOptions(kube), tail });
    await read.waitFor(() => pod.openFollows() === 1);
    pod.terminate(0, at(40));
    await read.ended;
    expect(read.messages()).toEqual(all.slice(-tail));
  });

  it('the previous log rotated before it exited (it holds p-7..p-9), its last raw file uploaded late: each line once', async () => {
    const { w, pod, all } = await lateUpload('r3-late-rotated', 3);
    const read = follow(w.reader, POD, { follow: followOptions(kube) });
    await read.waitFor(() => pod.openFollows() === 1);
    pod.terminate(0, at(40));
    await read.ended;
    // The late p-5, p-6 are in neither the rotated previous log nor the archive until the read
    // reaches them, after p-7..p-9 were placed: they come late (README, Limits), but once.
    expect([...read.messages()].sort()).toEqual([...all].sort());
    expect(read.messages().filter((m) => m.startsWith('c-'))).toEqual(all.filter((m) => m.startsWith('c-')));
  });
});

describe('follow: the clock stepped back in the previous instance', () => {
  it('a late-uploaded record timed before the first placed live line (within its second): once', async () => {
    const w = await newWorld('r3-late-stepped-back');
    const line = (message: string, time: string): { time: string; message: string; log: string; at: Date } => ({ time, message, log: message, at: new Date(time) });
    // p-6 is written after p-5 but stamped before p-4 (within p-4's second).
    const prev = [
      line('p-0', '2026-11-25T10:00:00.100000000Z'),
      line('p-1', '2026-11-25T10:00:01.100000000Z'),
      line('p-2', '2026-11-25T10:00:02.100000000Z'),
      line('p-3', '2026-11-25T10:00:03.100000000Z'),
      line('p-4', '2026-11-25T10:00:04.100000000Z'),
      line('p-5', '2026-11-25T10:00:05.500000000Z'),
      line('p-6', '2026-11-25T10:00:04.050000000Z'),
      line('p-7', '2026-11-25T10:00:07.100000000Z'),
    ];
    const cur = jobLines('c', 3, at(20));
    const pod = kube.pod('jobs', POD, { restartPolicy: 'OnFailure' });
    pod.start(ID, at(0));
    pod.append(prev);
    pod.terminate(1, at(10));
    pod.start(ID2, at(20));
    pod.append(cur);
    await w.container(POD, ID, { firstIndex: 1 }).upload(prev.slice(0, 5));
    await w.container(POD, ID2, { firstIndex: 2 }).upload(cur);
    await w.container(POD, ID, { firstIndex: 3 }).upload(prev.slice(5, 7));
    const read = follow(w.reader, POD, { follow: followOptions(kube) });
    await read.waitFor(() => pod.openFollows() === 1);
    pod.terminate(0, at(40));
    await read.ended;
    expect(read.messages()).toEqual([...prev, ...cur].map((l) => l.message));
  });
});

describe('follow: a third, older instance', () => {
  it('an older instance’s late raw file after the previous one’s unfinished last line: that line whole, once', async () => {
    const w = await newWorld('r3-third-unfinished');
    const old = jobLines('o', 4, at(0));
    const prev = jobLines('p', 4, at(20));
    const long = `long ${'y'.repeat(40_000)}`;
    (prev[3] as { message: string; log: string }).message = long;
    (prev[3] as { message: string; log: string }).log = long;
    const cur = jobLines('c', 3, at(40));
    const pod = kube.pod('jobs', POD, { restartPolicy: 'OnFailure' });
    pod.start(ID0, at(0));
    pod.append(old);
    pod.terminate(1, at(10));
    pod.start(ID, at(20));
    pod.append(prev);
    pod.terminate(1, at(30));
    pod.start(ID2, at(40));
    pod.append(cur);
    // o-0..1 (index 1); p-0..2 and the long line's first two pieces (index 2); o-2..3 late (index 3); c (index 4).
    await w.container(POD, ID0, { firstIndex: 1 }).upload(old.slice(0, 2));
    const pieces = criPieces({ time: prev[3]?.time as string, log: long });
    await w.container(POD, ID, { firstIndex: 2 }).uploadLines([...prev.slice(0, 3).map((l) => parsedLine({ time: l.time, log: l.message })), ...pieces.slice(0, 2).map((p) => parsedLine(p))], formatSlice(at(0)));
    await w.container(POD, ID0, { firstIndex: 3 }).upload(old.slice(2));
    await w.container(POD, ID2, { firstIndex: 4 }).upload(cur);
    const read = follow(w.reader, POD, { follow: followOptions(kube) });
    await read.waitFor(() => pod.openFollows() === 1);
    pod.terminate(0, at(60));
    await read.ended;
    const longs = read.messages().filter((m) => m.startsWith('long '));
    expect(longs.map((m) => m.length)).toEqual([long.length]);
  });
});

describe('follow: restarts while the live logs are looked at', () => {

  it('a restart at each of the three probes: the instance the pod last showed is read whole', async () => {
    const w = await newWorld('r3-probe-3-restarts');
    const x = jobLines('x', 3, at(0));
    const steps: [string, ReturnType<typeof jobLines>][] = [
      [ID2, jobLines('y', 2, at(20))],
      [ID3, jobLines('z', 2, at(40))],
      [ID4, jobLines('w', 2, at(60))],
    ];
    const pod = kube.pod('jobs', POD, { restartPolicy: 'OnFailure' });
    pod.start(ID, at(0));
    pod.append(x);
    let probes = 0;
    const api = await hookedApi(kube, (u) => {
      if (u.searchParams.has('limitBytes') && probes < steps.length) {
        const [id, lines] = steps[probes] as [string, ReturnType<typeof jobLines>];
        probes += 1;
        pod.terminate(1, at(probes * 20 - 5));
        pod.start(id, at(probes * 20));
        pod.append(lines);
      }
    });
    try {
      const read = follow(w.reader, POD, { follow: { kube: api.kube, namespace: 'jobs', pollInterval: 10 } });
      await read.waitFor(() => pod.openFollows() === 1);
      pod.terminate(0, at(80));
      await read.ended;
      expect(probes).toBe(3);
      // x and y are two restarts back by the time anything is read (never archived): out of reach.
      expect(read.messages()).toEqual(['z-0', 'z-1', 'w-0', 'w-1']);
    } finally {
      await api.close();
    }
  });
  it('a restart during the archive read moves the previous instance out of reach: its last archived line once, nothing of the next one as its', async () => {
    const w = await newWorld('r3-previous-gone');
    const prev = jobLines('p', 6, at(0));
    const cur = jobLines('c', 3, at(20));
    const next = jobLines('n', 2, at(40));
    const pod = kube.pod('jobs', POD, { restartPolicy: 'OnFailure' });
    pod.start(ID, at(0));
    pod.append(prev);
    pod.terminate(1, at(10));
    pod.start(ID2, at(20));
    pod.append(cur);
    await w.container(POD, ID).upload(prev.slice(0, 4));
    let gets = 0;
    const api = await hookedApi(kube, (u) => {
      if (u.pathname.endsWith('/log')) return;
      gets += 1;
      // The look, the look again after the probe, then the check before the previous log: restarted by then.
      if (gets === 3) {
        pod.terminate(1, at(30));
        pod.start(ID3, at(40));
        pod.append(next);
      }
    });
    try {
      const read = follow(w.reader, POD, { follow: { kube: api.kube, namespace: 'jobs', pollInterval: 10 } });
      await read.waitFor(() => pod.openFollows() === 1);
      pod.terminate(0, at(60));
      await read.ended;
      expect(read.messages()).toEqual(['p-0', 'p-1', 'p-2', 'p-3', 'c-0', 'c-1', 'c-2', 'n-0', 'n-1']);
    } finally {
      await api.close();
    }
  });

  it('the pod deleted between the look and the look again after the probe: the archive only, then the end', async () => {
    const w = await newWorld('r3-deleted-at-probe');
    const x = jobLines('x', 5, at(0));
    const pod = kube.pod('jobs', POD, { restartPolicy: 'OnFailure' });
    pod.start(ID, at(0));
    pod.append(x);
    await w.container(POD, ID).upload(x.slice(0, 3));
    const api = await hookedApi(kube, (u) => {
      if (u.searchParams.has('limitBytes')) pod.delete();
    });
    try {
      const read = follow(w.reader, POD, { follow: { kube: api.kube, namespace: 'jobs', pollInterval: 10 } });
      await read.ended;
      expect(read.messages()).toEqual(['x-0', 'x-1', 'x-2']);
      expect(read.records.every((r) => r.source === 'archive')).toBe(true);
    } finally {
      await api.close();
    }
  });
});

describe('follow: rotation after the archive part', () => {
  it('a rotation between the probe and the follow request: the lines it took come from the archive, the boundary line included', async () => {
    const w = await newWorld('follow-rotated-before-follow');
    const lines = jobLines('line', 10, at(0));
    const pod = kube.pod('jobs', POD, { restartPolicy: 'OnFailure' });
    pod.start(ID, at(0));
    pod.append(lines);
    await w.container(POD, ID).upload(lines.slice(0, 8)); // line-8, line-9 not uploaded
    let rotated = false;
    const api = await faultyApi(kube, (u) => {
      // The kubelet rotates the log right before the read's follow request arrives.
      if (!rotated && u.searchParams.get('follow') === 'true') {
        rotated = true;
        pod.rotate(2);
      }
      return undefined;
    });
    try {
      const read = follow(w.reader, POD, { follow: { kube: api.kube, namespace: 'jobs', pollInterval: 10 } });
      await read.until((r) => r.length >= 10);
      pod.append(jobLines('line', 1, at(0), 10));
      await read.until((r) => r.length >= 11);
      pod.terminate(0, at(40));
      await read.ended;
      expect(read.messages()).toEqual([...lines.map((l) => l.message), 'line-10']);
      // Recovered from the archive: what the rotation took and Fluent Bit had uploaded.
      expect(read.records.slice(0, 8).map((r) => r.source)).toEqual(Array(8).fill('archive'));
    } finally {
      await api.close();
    }
  });
});

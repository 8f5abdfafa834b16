// log-reader follow when the previous instance's raw files were uploaded late (after the
// current instance's, or after a pass merged those): the previous instance's live lines are
// placed among archived records that are out of log order, with tail, a rotated previous log,
// an unfinished last line, a clock stepped back and a third, older instance — each line once,
// in write order.
import { criPieces, parsedLine } from '@platform/testkit';
import { formatSlice } from '@platform/log-reader/layout';
import { startKubeApi, type KubeApiDouble } from './support/kube-api.js';
import { followOptions, jobLines } from './support/follow.js';
import {
  ID,
  ID0,
  ID2,
  POD,
  at,
  followToEnd,
  instances,
  previousUploadedLate,
  twoInstances,
} from './support/follow-scenarios.js';
import { newWorld } from './support/world.js';

let kube: KubeApiDouble;
beforeEach(async () => {
  kube = await startKubeApi();
});
afterEach(async () => {
  await kube.close();
});

describe('follow: the previous instance’s live lines among late-uploaded records', () => {
  it.each([1, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 100])(
    'tail %i with the previous instance’s last raw file uploaded after the current one’s: the last lines, each once, in order',
    async (tail) => {
      const { w, pod, all } = await previousUploadedLate(kube, `follow-late-tail-${tail}`);
      const read = await followToEnd(w, pod, { follow: followOptions(kube), tail }, at(40));
      expect(read.messages()).toEqual(all.slice(-tail));
    },
  );

  it('the previous log rotated before it exited (it holds p-7..p-9), its last raw file uploaded late: each line once', async () => {
    const { w, pod, all } = await previousUploadedLate(kube, 'follow-late-previous-rotated', 3);
    const read = await followToEnd(w, pod, { follow: followOptions(kube) }, at(40));
    // The late p-5, p-6 are in neither the rotated previous log nor the archive until the read
    // reaches them, after p-7..p-9 were placed: they come late (docs/log-reader.md, Limits), but once.
    expect([...read.messages()].sort()).toEqual([...all].sort());
    expect(read.messages().filter((m) => m.startsWith('c-'))).toEqual(all.filter((m) => m.startsWith('c-')));
  });
});

describe('follow: the clock stepped back in the previous instance', () => {
  it('a late-uploaded record timed before the first placed live line (within its second): once', async () => {
    const w = await newWorld('follow-late-clock-stepped-back');
    const line = (message: string, time: string): { time: string; message: string; log: string; at: Date } => ({
      time,
      message,
      log: message,
      at: new Date(time),
    });
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
    const pod = twoInstances(kube, { prev, exitedAt: at(10), cur, restartedAt: at(20) });
    await w.container(POD, ID, { firstIndex: 1 }).upload(prev.slice(0, 5));
    await w.container(POD, ID2, { firstIndex: 2 }).upload(cur);
    await w.container(POD, ID, { firstIndex: 3 }).upload(prev.slice(5, 7));
    const read = await followToEnd(w, pod, { follow: followOptions(kube) }, at(40));
    expect(read.messages()).toEqual([...prev, ...cur].map((l) => l.message));
  });
});

describe('follow: a third, older instance', () => {
  it('an older instance’s late raw file after the previous one’s unfinished last line: that line whole, once', async () => {
    const w = await newWorld('follow-late-third-instance');
    const old = jobLines('o', 4, at(0));
    const prev = jobLines('p', 4, at(20));
    const long = `long ${'y'.repeat(40_000)}`;
    (prev[3] as { message: string; log: string }).message = long;
    (prev[3] as { message: string; log: string }).log = long;
    const cur = jobLines('c', 3, at(40));
    const pod = instances(
      kube,
      { id: ID0, startedAt: at(0), lines: old, exitedAt: at(10) },
      { id: ID, startedAt: at(20), lines: prev, exitedAt: at(30) },
      { id: ID2, startedAt: at(40), lines: cur },
    );
    // o-0..1 (index 1); p-0..2 and the long line's first two pieces (index 2); o-2..3 late (index 3); c (index 4).
    await w.container(POD, ID0, { firstIndex: 1 }).upload(old.slice(0, 2));
    const pieces = criPieces({ time: prev[3]?.time as string, log: long });
    await w
      .container(POD, ID, { firstIndex: 2 })
      .uploadLines(
        [
          ...prev.slice(0, 3).map((l) => parsedLine({ time: l.time, log: l.message })),
          ...pieces.slice(0, 2).map((p) => parsedLine(p)),
        ],
        formatSlice(at(0)),
      );
    await w.container(POD, ID0, { firstIndex: 3 }).upload(old.slice(2));
    await w.container(POD, ID2, { firstIndex: 4 }).upload(cur);
    const read = await followToEnd(w, pod, { follow: followOptions(kube) }, at(60));
    const longs = read.messages().filter((m) => m.startsWith('long '));
    expect(longs.map((m) => m.length)).toEqual([long.length]);
  });
});

describe('follow: the previous instance’s last raw file uploaded after the current one’s', () => {
  it('the current instance’s raw file sorts before the previous one’s last (same minute, lower index): each line once, in order', async () => {
    // Fluent Bit uploads p-0..4 (index 1), then the new instance's c-0..4 (index 2), then
    // the old instance's last chunk p-5..7 (index 3): all keyed 10:00.
    const { w, pod, all } = await previousUploadedLate(kube, 'follow-late-previous-order');

    const read = await followToEnd(w, pod, { follow: followOptions(kube) }, at(40));
    expect(read.messages()).toEqual(all);
  });

  it('the previous instance’s last archived line is unfinished (its F piece not uploaded): the whole line from its previous log', async () => {
    const w = await newWorld('follow-previous-unfinished-line');
    const prev = jobLines('p', 4, at(0));
    const long = `long ${'y'.repeat(40_000)}`;
    (prev[3] as { message: string; log: string }).message = long;
    (prev[3] as { message: string; log: string }).log = long;
    const cur = jobLines('c', 3, at(20));
    const pod = twoInstances(kube, { prev, exitedAt: at(10), cur, restartedAt: at(20) });
    // p-0..2 whole, then only the first two pieces of the long line.
    const pieces = criPieces({ time: prev[3]?.time as string, log: long });
    const fb = w.container(POD, ID);
    await fb.uploadLines(
      [
        ...prev.slice(0, 3).map((l) => parsedLine({ time: l.time, log: l.message })),
        ...pieces.slice(0, 2).map((p) => parsedLine(p)),
      ],
      formatSlice(at(0)),
    );
    await w.container(POD, ID2, { firstIndex: 5 }).upload(cur);

    const read = await followToEnd(w, pod, { follow: followOptions(kube) }, at(40));
    expect(read.messages().map((m) => `${m.slice(0, 6)}:${m.length}`)).toEqual(
      [...prev, ...cur].map((l) => `${l.message.slice(0, 6)}:${l.message.length}`),
    );
  });

  it('the previous instance’s last raw file uploaded after a pass merged the current one’s: each line once', async () => {
    const w = await newWorld('follow-late-previous-after-pass');
    const prev = jobLines('p', 10, at(0));
    const cur = jobLines('c', 5, at(100));
    const pod = twoInstances(kube, { prev, exitedAt: at(10), cur, restartedAt: at(100) });
    await w.container(POD, ID, { firstIndex: 1 }).upload(prev.slice(0, 5));
    await w.container(POD, ID2, { firstIndex: 2 }).upload(cur);
    await w.pass();
    // Late: keyed 10:00, read after the merged files.
    await w.container(POD, ID, { firstIndex: 3 }).upload(prev.slice(5, 8));
    const read = await followToEnd(w, pod, { follow: followOptions(kube) }, at(140));
    expect(read.messages()).toEqual([...prev, ...cur].map((l) => l.message));
  });
});

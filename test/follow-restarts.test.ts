// Follow cases an adversarial review found (issue 9): a first live line longer than the
// probe, tail on a restarted pod with a rotated live log, a restart during the archive read.
import { startKubeApi, type KubeApiDouble } from './support/kube-api.js';
import { follow, followOptions, jobLines } from './support/follow.js';
import { newWorld } from './support/world.js';

const T0 = new Date('2026-11-25T10:00:00Z');
const ID = '0f3a'.repeat(16);
const ID2 = '7c21'.repeat(16);
const ID0 = 'a1b2'.repeat(16);
const ID3 = '9d4e'.repeat(16);
const POD = 'job-1';

let kube: KubeApiDouble;
beforeEach(async () => {
  kube = await startKubeApi();
});
afterEach(async () => {
  await kube.close();
});

describe('follow: restarts, rotation and long lines around the hand-off', () => {
  it('returns once a first live line longer than the 64 KiB probe that the archive also holds', async () => {
    const w = await newWorld('follow-long-first');
    const lines = jobLines('line', 4, T0);
    (lines[0] as { message: string; log: string }).message = `big ${'x'.repeat(70_000)}`;
    (lines[0] as { message: string; log: string }).log = lines[0]?.message as string;
    const pod = kube.pod('jobs', POD, { restartPolicy: 'OnFailure' });
    pod.start(ID, T0);
    pod.append(lines);
    await w.container(POD, ID).upload(lines.slice(0, 2));

    const read = follow(w.reader, POD, { follow: followOptions(kube) });
    await read.until((r) => r.length >= 4);
    pod.terminate(0, new Date(T0.getTime() + 20_000));
    await read.ended;
    expect(read.messages().map((m) => m.slice(0, 10))).toEqual(lines.map((l) => l.message.slice(0, 10)));
  });

  it('a tail of a restarted pod whose current live log was rotated to empty takes the current instance’s archived lines', async () => {
    const w = await newWorld('follow-tail-rotated-empty');
    const prev = jobLines('p', 10, T0);
    const cur = jobLines('c', 10, new Date(T0.getTime() + 60_000));
    const pod = kube.pod('jobs', POD, { restartPolicy: 'OnFailure' });
    pod.start(ID, T0);
    pod.append(prev);
    pod.terminate(1, new Date(T0.getTime() + 30_000));
    pod.start(ID2, new Date(T0.getTime() + 60_000));
    pod.append(cur);
    await w.container(POD, ID).upload(prev);
    await w.container(POD, ID2).upload(cur);
    pod.rotate(0); // the current instance's live log was just rotated: it holds no line

    const read = follow(w.reader, POD, { follow: followOptions(kube), tail: 3 });
    await read.waitFor(() => pod.openFollows() === 1); // the tail is out, the follow is on
    pod.terminate(0, new Date(T0.getTime() + 120_000));
    await read.ended;
    expect(read.messages()).toEqual(['c-7', 'c-8', 'c-9']);
  });

  it('a tail of a restarted pod whose current live log was rotated takes the current instance’s archived lines before its live ones', async () => {
    const w = await newWorld('follow-tail-rotated');
    const prev = jobLines('p', 10, T0);
    const cur = jobLines('c', 10, new Date(T0.getTime() + 60_000));
    const pod = kube.pod('jobs', POD, { restartPolicy: 'OnFailure' });
    pod.start(ID, T0);
    pod.append(prev);
    pod.terminate(1, new Date(T0.getTime() + 30_000));
    pod.start(ID2, new Date(T0.getTime() + 60_000));
    pod.append(cur);
    await w.container(POD, ID).upload(prev);
    await w.container(POD, ID2).upload(cur);
    pod.rotate(2); // the current instance's live log holds c-8, c-9

    const read = follow(w.reader, POD, { follow: followOptions(kube), tail: 3 });
    await read.waitFor(() => pod.openFollows() === 1); // the tail is out, the follow is on
    pod.terminate(0, new Date(T0.getTime() + 120_000));
    await read.ended;
    expect(read.messages()).toEqual(['c-7', 'c-8', 'c-9']);
  });

  it('a restart while the archive is read does not read the next instance’s log as the previous one’s', async () => {
    const w = await newWorld('follow-restart-during-archive');
    const at = (s: number): Date => new Date(T0.getTime() + s * 1000);
    const z = jobLines('z', 3, at(0));
    const a = jobLines('a', 3, at(100));
    const b = jobLines('b', 3, at(200));
    const c = jobLines('c', 3, at(300));
    const pod = kube.pod('jobs', POD, { restartPolicy: 'OnFailure' });
    pod.start(ID0, at(0));
    pod.append(z);
    pod.terminate(1, at(50));
    pod.start(ID, at(100));
    pod.append(a);
    pod.terminate(1, at(150));
    pod.start(ID2, at(200));
    pod.append(b);
    await w.container(POD, ID0).upload(z);
    await w.container(POD, ID).upload(a);
    await w.container(POD, ID2).upload(b);

    const got: string[] = [];
    const records = w.reader.records(POD, { follow: followOptions(kube) });
    const first = await records.next(); // the pod was looked at; the archive is being read
    if (!first.done) got.push(first.value.message);
    pod.terminate(1, at(250)); // b's instance crashes, the next one starts
    pod.start(ID3, at(300));
    pod.append(c);
    pod.terminate(0, at(350));
    for await (const r of records) got.push(r.message);
    expect(got).toEqual([...z, ...a, ...b, ...c].map((l) => l.message));
  });
});

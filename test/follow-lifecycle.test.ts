// log-reader follow through a pod's life: pending, running, restarted, dropped streams,
// deleted; the separator between the parts, `signal`, `tail`, and a refused token. The
// archive is on the real S3 test server, the live log on the Kubernetes API double.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import { KubeConfig } from '@kubernetes/client-node';
import { LiveLogError, LiveLogTimeoutError, type FollowedRecord } from '@platform/log-reader';
import { FAKE_TOKEN, kubeconfig, startKubeApi, type KubeApiDouble } from './support/kube-api.js';
import { follow, followOptions, jobLines } from './support/follow.js';
import { ID as ID1, ID2, POD, T0, at } from './support/follow-scenarios.js';
import { newWorld } from './support/world.js';

let kube: KubeApiDouble;
beforeEach(async () => {
  kube = await startKubeApi();
});
afterEach(async () => {
  await kube.close();
});

/** [message, source, container id] of each record: what a client tells apart. */
function described(records: readonly FollowedRecord[]): [string, string, string][] {
  return records.map((r) => [r.message, r.source, r.containerId]);
}

function expected(
  messages: readonly string[],
  source: 'archive' | 'live',
  containerId: string,
): [string, string, string][] {
  return messages.map((m) => [m, source, containerId]);
}

/** Resolves once `check` holds; polls, for 10 s at most (no poll left behind by a failed test). */
async function eventually(what: string, check: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`still not so after 10 s: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** GETs of the pod itself (not its log) the double answered. */
function podGets(): number {
  return kube.requests.filter((r) => r.path === `/api/v1/namespaces/jobs/pods/${POD}`).length;
}

describe('follow: a pending pod', () => {
  it('waits for the container to run, then follows its log to the end', async () => {
    const w = await newWorld('lifecycle-pending');
    const lines = jobLines('line', 3, T0);
    const pod = kube.pod('jobs', POD, { restartPolicy: 'OnFailure' });

    const read = follow(w.reader, POD, { follow: followOptions(kube) });
    const asked = podGets();
    await read.waitFor(() => podGets() >= asked + 3); // the reader is polling the pending pod
    expect(read.records).toEqual([]);
    pod.start(ID1, T0);
    pod.append(lines);
    await read.until((r) => r.length === 3);
    pod.terminate(0, at(10));
    await read.ended;

    expect(described(read.records)).toEqual(expected(['line-0', 'line-1', 'line-2'], 'live', ID1));
  });

  it('gives up after waitTimeout with a LiveLogTimeoutError naming the pod, after returning the archive', async () => {
    const w = await newWorld('lifecycle-pending-timeout');
    const lines = jobLines('line', 3, T0);
    await w.container(POD, ID1).upload(lines);
    kube.pod('jobs', POD, { restartPolicy: 'OnFailure' }); // never starts

    const read = follow(w.reader, POD, { follow: followOptions(kube, { waitTimeout: 200 }) });
    const error: unknown = await read.ended.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(LiveLogTimeoutError);
    expect(error).toMatchObject({ code: 'ERR_WAIT_TIMEOUT', namespace: 'jobs', pod: POD });
    expect((error as Error).message).toContain(`jobs/${POD}`);
    expect(described(read.records)).toEqual(expected(['line-0', 'line-1', 'line-2'], 'archive', ID1));
  });

  it('reads whole an instance that started and ended between two looks at the pending pod', async () => {
    const w = await newWorld('lifecycle-pending-short');
    const lines = jobLines('line', 3, T0);
    const pod = kube.pod('jobs', POD, { restartPolicy: 'Never' });

    const read = follow(w.reader, POD, { follow: followOptions(kube) });
    const asked = podGets();
    await read.waitFor(() => podGets() >= asked + 2);
    pod.start(ID1, T0);
    pod.append(lines);
    pod.terminate(0, at(10));
    await read.ended;

    expect(described(read.records)).toEqual(expected(['line-0', 'line-1', 'line-2'], 'live', ID1));
  });
});

describe('follow: container restarts', () => {
  it('gives up after waitTimeout when the failed container does not start again', async () => {
    const w = await newWorld('lifecycle-restart-timeout');
    const pod = kube.pod('jobs', POD, { restartPolicy: 'OnFailure' });
    pod.start(ID1, T0);
    pod.append(jobLines('a', 2, T0));

    const read = follow(w.reader, POD, { follow: followOptions(kube, { waitTimeout: 200 }) });
    await read.until((r) => r.length === 2);
    pod.terminate(1, at(30));
    // Not a back-off the kubelet ends by itself (a ConfigMap the container needs is gone).
    pod.waitRestart('CreateContainerConfigError');
    await expect(read.ended).rejects.toMatchObject({ name: 'LiveLogTimeoutError', code: 'ERR_WAIT_TIMEOUT', pod: POD });
    expect(described(read.records)).toEqual(expected(['a-0', 'a-1'], 'live', ID1));
  });

  it('waits through CrashLoopBackOff longer than waitTimeout: the kubelet restarts the container', async () => {
    const w = await newWorld('lifecycle-crashloop-long');
    const pod = kube.pod('jobs', POD, { restartPolicy: 'OnFailure' });
    pod.start(ID1, T0);
    pod.append(jobLines('a', 2, T0));

    const read = follow(w.reader, POD, { follow: followOptions(kube, { waitTimeout: 50 }) });
    await read.until((r) => r.length === 2);
    pod.terminate(1, at(30));
    pod.waitRestart();
    // Polled every 10 ms: 20 looks at the pod outlast the 50 ms waitTimeout.
    const asked = podGets();
    await read.waitFor(() => podGets() >= asked + 20);
    pod.start(ID2, at(300));
    pod.append(jobLines('b', 1, at(300)));
    pod.terminate(0, at(310));
    await read.ended;
    expect(described(read.records)).toEqual([
      ...expected(['a-0', 'a-1'], 'live', ID1),
      ...expected(['b-0'], 'live', ID2),
    ]);
  });

  it('ends when the pod is deleted while its container waits to restart', async () => {
    const w = await newWorld('lifecycle-deleted-crashloop');
    const pod = kube.pod('jobs', POD, { restartPolicy: 'Always' });
    pod.start(ID1, T0);
    pod.append(jobLines('a', 2, T0));

    const read = follow(w.reader, POD, { follow: followOptions(kube) });
    await read.until((r) => r.length === 2);
    pod.terminate(1, at(30));
    pod.waitRestart();
    const asked = podGets();
    await read.waitFor(() => podGets() >= asked + 2);
    pod.delete();
    await read.ended;

    expect(described(read.records)).toEqual(expected(['a-0', 'a-1'], 'live', ID1));
  });

  it('does not follow a new pod of the same name', async () => {
    const w = await newWorld('lifecycle-replaced-pod');
    const pod = kube.pod('jobs', POD, { restartPolicy: 'OnFailure' });
    pod.start(ID1, T0);
    pod.append(jobLines('a', 2, T0));

    const read = follow(w.reader, POD, { follow: followOptions(kube) });
    await read.until((r) => r.length === 2);
    const next = kube.pod('jobs', POD, { restartPolicy: 'OnFailure' }); // the old one is deleted
    next.start(ID2, at(60));
    next.append(jobLines('b', 2, at(60)));
    await read.ended;

    expect(described(read.records)).toEqual(expected(['a-0', 'a-1'], 'live', ID1));
  });

  it('follows the next instance after a failed one (OnFailure) and ends when it exits 0', async () => {
    const w = await newWorld('lifecycle-restart');
    const a = jobLines('a', 5, T0);
    const b = jobLines('b', 3, at(60));
    const pod = kube.pod('jobs', POD, { restartPolicy: 'OnFailure' });
    pod.start(ID1, T0);
    pod.append(a);
    await w.container(POD, ID1).upload(a.slice(0, 4));
    await w.pass();
    pod.rotate(2); // the live log holds a-3, a-4

    const read = follow(w.reader, POD, { follow: followOptions(kube) });
    await read.until((r) => r.length === 5);
    pod.terminate(1, at(30));
    pod.waitRestart();
    const asked = podGets();
    await read.waitFor(() => podGets() >= asked + 2); // the reader saw the crash loop
    pod.start(ID2, at(60));
    pod.append(b.slice(0, 2));
    await read.until((r) => r.length === 7);
    pod.append(b.slice(2));
    pod.terminate(0, at(90));
    await read.ended;

    expect(described(read.records)).toEqual([
      ...expected(['a-0', 'a-1', 'a-2'], 'archive', ID1),
      ...expected(['a-3', 'a-4'], 'live', ID1),
      ...expected(['b-0', 'b-1', 'b-2'], 'live', ID2),
    ]);
  });

  it('follows the next instance when the restart happened before the reader looked', async () => {
    const w = await newWorld('lifecycle-quick-restart');
    const pod = kube.pod('jobs', POD, { restartPolicy: 'OnFailure' });
    pod.start(ID1, T0);
    pod.append(jobLines('a', 2, T0));

    const read = follow(w.reader, POD, { follow: followOptions(kube) });
    await read.until((r) => r.length === 2);
    pod.append(jobLines('a', 1, T0, 2));
    pod.terminate(1, at(30));
    pod.start(ID2, at(60));
    pod.append(jobLines('b', 2, at(60)));
    await read.until((r) => r.length === 5);
    pod.terminate(0, at(90));
    await read.ended;

    expect(described(read.records)).toEqual([
      ...expected(['a-0', 'a-1', 'a-2'], 'live', ID1),
      ...expected(['b-0', 'b-1'], 'live', ID2),
    ]);
  });

  it('follows the next instance after one that exited 0 when the policy is Always', async () => {
    const w = await newWorld('lifecycle-always');
    const a = jobLines('a', 2, T0);
    const b = jobLines('b', 2, at(60));
    const pod = kube.pod('jobs', POD, { restartPolicy: 'Always' });
    pod.start(ID1, T0);
    pod.append(a);

    const read = follow(w.reader, POD, { follow: followOptions(kube) });
    await read.until((r) => r.length === 2);
    pod.terminate(0, at(30));
    pod.waitRestart();
    pod.start(ID2, at(60));
    pod.append(b);
    await read.until((r) => r.length === 4);
    pod.delete();
    await read.ended;

    expect(described(read.records)).toEqual([
      ...expected(['a-0', 'a-1'], 'live', ID1),
      ...expected(['b-0', 'b-1'], 'live', ID2),
    ]);
  });

  it('ends when the container fails and the policy is Never', async () => {
    const w = await newWorld('lifecycle-never');
    const a = jobLines('a', 2, T0);
    const pod = kube.pod('jobs', POD, { restartPolicy: 'Never' });
    pod.start(ID1, T0);
    pod.append(a);

    const read = follow(w.reader, POD, { follow: followOptions(kube) });
    await read.until((r) => r.length === 2);
    pod.terminate(1, at(30));
    await read.ended;

    expect(described(read.records)).toEqual(expected(['a-0', 'a-1'], 'live', ID1));
  });

  it('starting in CrashLoopBackOff, takes the crashed instance’s unuploaded tail from its previous log, then follows the next instance', async () => {
    const w = await newWorld('lifecycle-crashloop');
    const a = jobLines('a', 6, T0);
    const b = jobLines('b', 2, at(60));
    const pod = kube.pod('jobs', POD, { restartPolicy: 'OnFailure' });
    pod.start(ID1, T0);
    pod.append(a);
    await w.container(POD, ID1).upload(a.slice(0, 4)); // a-4, a-5 never uploaded
    pod.rotate(3); // the live log holds a-3 .. a-5
    pod.terminate(1, at(30));
    pod.waitRestart();

    const read = follow(w.reader, POD, { follow: followOptions(kube) });
    await read.until((r) => r.length === 6);
    pod.start(ID2, at(60));
    pod.append(b);
    await read.until((r) => r.length === 8);
    pod.terminate(0, at(90));
    await read.ended;

    expect(described(read.records)).toEqual([
      // All of the crashed instance's archive, then its previous log after the last archived line.
      ...expected(['a-0', 'a-1', 'a-2', 'a-3'], 'archive', ID1),
      ...expected(['a-4', 'a-5'], 'live', ID1),
      ...expected(['b-0', 'b-1'], 'live', ID2),
    ]);
    expect(kube.logRequests.some((q) => q.previous)).toBe(true);
  });

  it('starting after a restart, takes the previous instance’s unuploaded tail from its previous log, then the running one', async () => {
    const w = await newWorld('lifecycle-restarted');
    const a = jobLines('a', 4, T0);
    const b = jobLines('b', 3, at(60));
    const pod = kube.pod('jobs', POD, { restartPolicy: 'Always' });
    pod.start(ID1, T0);
    pod.append(a);
    const fb = w.container(POD, ID1);
    await fb.upload(a.slice(0, 2));
    await w.pass();
    await fb.upload(a.slice(2, 3)); // a-3 never uploaded
    pod.rotate(2); // the live log holds a-2, a-3
    pod.terminate(137, at(30));
    pod.start(ID2, at(60));
    pod.append(b.slice(0, 2));

    const read = follow(w.reader, POD, { follow: followOptions(kube) });
    await read.until((r) => r.length === 6);
    pod.append(b.slice(2));
    await read.until((r) => r.length === 7);
    pod.delete();
    await read.ended;

    expect(described(read.records)).toEqual([
      ...expected(['a-0', 'a-1', 'a-2'], 'archive', ID1),
      ...expected(['a-3'], 'live', ID1),
      ...expected(['b-0', 'b-1', 'b-2'], 'live', ID2),
    ]);
    expect(kube.logRequests.filter((q) => q.previous).length).toBeGreaterThan(0);
  });
});

describe('follow: when the read stops', () => {
  it('ends without an error when the pod is deleted mid-follow', async () => {
    const w = await newWorld('lifecycle-deleted');
    const lines = jobLines('line', 3, T0);
    const pod = kube.pod('jobs', POD, { restartPolicy: 'OnFailure' });
    pod.start(ID1, T0);
    pod.append(lines.slice(0, 2));

    const read = follow(w.reader, POD, { follow: followOptions(kube) });
    await read.until((r) => r.length === 2);
    pod.append(lines.slice(2));
    await read.until((r) => r.length === 3);
    pod.delete();
    await read.ended;

    expect(described(read.records)).toEqual(expected(['line-0', 'line-1', 'line-2'], 'live', ID1));
  });

  it('reads the archive only, asking for no log, when the pod is not in the cluster', async () => {
    const w = await newWorld('lifecycle-no-pod');
    const lines = jobLines('line', 4, T0);
    const fb = w.container(POD, ID1);
    await fb.upload(lines.slice(0, 2));
    await w.pass();
    await fb.upload(lines.slice(2));

    const read = follow(w.reader, POD, { follow: followOptions(kube) });
    await read.ended;

    expect(described(read.records)).toEqual(expected(['line-0', 'line-1', 'line-2', 'line-3'], 'archive', ID1));
    expect(kube.logRequests).toEqual([]);
  });

  it('reads the live log only, with no separator, when the archive is empty', async () => {
    const w = await newWorld('lifecycle-no-archive');
    const lines = jobLines('line', 3, T0);
    const pod = kube.pod('jobs', POD, { restartPolicy: 'OnFailure' });
    pod.start(ID1, T0);
    pod.append(lines);
    pod.terminate(0, at(10));

    const out = await text(w.reader.createReadStream(POD, { follow: followOptions(kube) }));
    expect(out).toBe('line-0\nline-1\nline-2\n');
  });
});

describe.each(['reset', 'end'] as const)('follow: the API drops the stream (%s)', (how) => {
  it('reconnects from the last line’s second and repeats nothing, lines sharing one timestamp included', async () => {
    const w = await newWorld(`lifecycle-drop-${how}`);
    const lines = jobLines('line', 5, T0);
    // line-1 .. line-3 share one timestamp; the drop falls after line-2.
    const shared = lines[1]?.time as string;
    for (const i of [2, 3]) (lines[i] as { time: string }).time = shared;
    const pod = kube.pod('jobs', POD, { restartPolicy: 'OnFailure' });
    pod.start(ID1, T0);
    pod.append(lines.slice(0, 3));

    const read = follow(w.reader, POD, { follow: followOptions(kube) });
    await read.until((r) => r.length === 3);
    const follows = (): number => kube.logRequests.filter((q) => q.follow).length;
    expect(follows()).toBe(1);
    pod.dropStreams(how);
    await read.waitFor(() => follows() === 2);
    pod.append(lines.slice(3));
    await read.until((r) => r.length === 5);
    pod.terminate(0, at(10));
    await read.ended;

    expect(described(read.records)).toEqual(expected(['line-0', 'line-1', 'line-2', 'line-3', 'line-4'], 'live', ID1));
    expect(read.records.map((r) => r.time)).toEqual(lines.map((l) => l.time));
    const reconnect = kube.logRequests.filter((q) => q.follow)[1];
    expect(reconnect?.sinceTime).toBe(`${shared.slice(0, 19)}Z`);
  });
});

describe('follow: the API drops the stream', () => {
  it('takes the lines written between a reset stream and the container’s exit from its log, once', async () => {
    const w = await newWorld('lifecycle-drop-then-exit');
    const lines = jobLines('line', 4, T0);
    const pod = kube.pod('jobs', POD, { restartPolicy: 'OnFailure' });
    pod.start(ID1, T0);
    pod.append(lines.slice(0, 2));

    const read = follow(w.reader, POD, { follow: followOptions(kube) });
    await read.until((r) => r.length === 2);
    pod.dropStreams('reset');
    pod.append(lines.slice(2));
    pod.terminate(0, at(10));
    await read.ended;

    expect(described(read.records)).toEqual(expected(['line-0', 'line-1', 'line-2', 'line-3'], 'live', ID1));
  });

  it('after the clock stepped back, returns the new lines timed before the last one returned', async () => {
    const w = await newWorld('lifecycle-drop-clock-back');
    // The node's clock stepped back after line-0; the drop falls after line-1, the new lines are timed before line-0.
    const times = ['10:00:01.5', '10:00:01.2', '10:00:01.3', '10:00:01.4'];
    const lines = times.map((t, i) => ({ time: `2026-11-25T${t}Z`, message: `line-${i}` }));
    const pod = kube.pod('jobs', POD, { restartPolicy: 'OnFailure' });
    pod.start(ID1, T0);
    pod.append(lines.slice(0, 2));

    const read = follow(w.reader, POD, { follow: followOptions(kube) });
    await read.until((r) => r.length === 2);
    pod.dropStreams('end');
    await read.waitFor(() => kube.logRequests.filter((q) => q.follow).length === 2);
    pod.append(lines.slice(2));
    await read.until((r) => r.length === 4);
    pod.terminate(0, at(10));
    await read.ended;
    expect(read.messages()).toEqual(['line-0', 'line-1', 'line-2', 'line-3']);
  });
});

describe('follow: the separator between the archive and the live log', () => {
  /** A terminated pod whose archive holds line-0 .. line-2 and whose live log holds line-3, line-4. */
  async function handedOver(name: string): Promise<{
    read: (options: { separator?: string | false; timestamps?: boolean }) => Promise<string>;
    lines: ReturnType<typeof jobLines>;
  }> {
    const w = await newWorld(name);
    const lines = jobLines('line', 5, T0);
    const pod = kube.pod('jobs', POD, { restartPolicy: 'OnFailure' });
    pod.start(ID1, T0);
    pod.append(lines);
    await w.container(POD, ID1).upload(lines.slice(0, 3));
    pod.rotate(2);
    pod.terminate(0, at(10));
    return {
      read: (options) => text(w.reader.createReadStream(POD, { ...options, follow: followOptions(kube) })),
      lines,
    };
  }

  it('writes by default a line that log output cannot be mistaken for, exactly between the parts', async () => {
    const { read } = await handedOver('lifecycle-sep-default');
    const out = (await read({})).split('\n');
    expect(out).toHaveLength(7);
    expect(out.slice(0, 3)).toEqual(['line-0', 'line-1', 'line-2']);
    expect(out[3]).toMatch(/^=== Live logs === [0-9a-f]{12}$/);
    expect(out.slice(4)).toEqual(['line-3', 'line-4', '']);
  });

  it('writes the separator asked for', async () => {
    const { read } = await handedOver('lifecycle-sep-custom');
    expect(await read({ separator: 'XX' })).toBe('line-0\nline-1\nline-2\nXX\nline-3\nline-4\n');
  });

  it('writes none with separator: false', async () => {
    const { read } = await handedOver('lifecycle-sep-none');
    expect(await read({ separator: false })).toBe('line-0\nline-1\nline-2\nline-3\nline-4\n');
  });

  it('prefixes the lines, not the separator, with their time when timestamps: true', async () => {
    const { read, lines } = await handedOver('lifecycle-sep-timestamps');
    const stamped = lines.map((l) => `${l.time} ${l.message}`);
    expect(await read({ separator: 'XX', timestamps: true })).toBe(
      [...stamped.slice(0, 3), 'XX', ...stamped.slice(3), ''].join('\n'),
    );
  });
});

describe('follow: signal', () => {
  it('ends a read waiting on live lines with an AbortError and closes its follow stream', async () => {
    const w = await newWorld('lifecycle-abort-follow');
    const lines = jobLines('line', 4, T0);
    const pod = kube.pod('jobs', POD, { restartPolicy: 'OnFailure' });
    pod.start(ID1, T0);
    pod.append(lines);
    await w.container(POD, ID1).upload(lines.slice(0, 3));
    pod.rotate(2);
    // No listener of ours: Jest 30 fails the test during which a rejection goes unhandled.
    const controller = new AbortController();
    const read = follow(w.reader, POD, { follow: followOptions(kube), signal: controller.signal });
    await read.until((r) => r.length === 4);
    await read.waitFor(() => pod.openFollows() === 1);
    controller.abort();
    await expect(read.ended).rejects.toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
    await eventually('no follow stream open', () => pod.openFollows() === 0);
    // A turn of the event loop, for a stray rejection to surface.
    await new Promise((resolve) => setImmediate(resolve));
    expect(described(read.records)).toEqual([
      ...expected(['line-0', 'line-1'], 'archive', ID1),
      ...expected(['line-2', 'line-3'], 'live', ID1),
    ]);
  });

  it('ends a followed read stream with an AbortError', async () => {
    const w = await newWorld('lifecycle-abort-stream');
    const pod = kube.pod('jobs', POD, { restartPolicy: 'OnFailure' });
    pod.start(ID1, T0);
    pod.append(jobLines('line', 2, T0));
    const controller = new AbortController();
    const stream = w.reader.createReadStream(POD, { follow: followOptions(kube), signal: controller.signal });
    let out = '';
    const ended = new Promise<unknown>((resolve) => {
      stream.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out === 'line-0\nline-1\n') controller.abort();
      });
      stream.on('error', resolve);
      stream.on('end', () => resolve(undefined));
    });
    expect(await ended).toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
    expect(out).toBe('line-0\nline-1\n');
    await eventually('no follow stream open', () => pod.openFollows() === 0);
  });

  it('ends a read waiting for a pending pod with an AbortError', async () => {
    const w = await newWorld('lifecycle-abort-pending');
    await w.container(POD, ID1).upload(jobLines('line', 2, T0));
    kube.pod('jobs', POD, { restartPolicy: 'OnFailure' });
    const controller = new AbortController();
    const read = follow(w.reader, POD, { follow: followOptions(kube), signal: controller.signal });
    await read.until((r) => r.length === 2);
    const asked = podGets();
    await read.waitFor(() => podGets() >= asked + 2);
    controller.abort();
    await expect(read.ended).rejects.toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
    expect(described(read.records)).toEqual(expected(['line-0', 'line-1'], 'archive', ID1));
  });

  it('ends an archive-only read (pod not in the cluster) aborted mid-way with an AbortError', async () => {
    const w = await newWorld('lifecycle-abort-archive');
    const fb = w.container(POD, ID1);
    for (let i = 0; i < 4; i++) await fb.upload(jobLines('line', 3, T0, 3 * i));
    const controller = new AbortController();
    const seen: string[] = [];
    const reading = (async () => {
      for await (const r of w.reader.records(POD, { follow: followOptions(kube), signal: controller.signal })) {
        seen.push(r.message);
        if (seen.length === 1) controller.abort();
      }
    })();
    await expect(reading).rejects.toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
    expect(seen.length).toBeLessThan(12);
    expect(seen).toEqual(jobLines('line', seen.length, T0).map((l) => l.message));
  });
});

describe('follow: tail', () => {
  /** A running pod: line-0 .. line-7 archived, the live log holds the last `live` of line-0 .. line-9. */
  async function running(
    name: string,
    live: number,
  ): Promise<{
    w: Awaited<ReturnType<typeof newWorld>>;
    pod: ReturnType<KubeApiDouble['pod']>;
    lines: ReturnType<typeof jobLines>;
  }> {
    const w = await newWorld(name);
    const lines = jobLines('line', 11, T0);
    const pod = kube.pod('jobs', POD, { restartPolicy: 'OnFailure' });
    pod.start(ID1, T0);
    pod.append(lines.slice(0, 10));
    const fb = w.container(POD, ID1);
    await fb.upload(lines.slice(0, 5));
    await w.pass();
    await fb.upload(lines.slice(5, 8));
    pod.rotate(live);
    return { w, pod, lines };
  }

  it('tail: 3 gives the last 3 lines, then follows new ones', async () => {
    const { w, pod, lines } = await running('lifecycle-tail-3', 4);
    const read = follow(w.reader, POD, { follow: followOptions(kube), tail: 3 });
    await read.until((r) => r.length === 3);
    pod.append(lines.slice(10));
    await read.until((r) => r.length === 4);
    pod.terminate(0, at(20));
    await read.ended;
    expect(described(read.records)).toEqual(expected(['line-7', 'line-8', 'line-9', 'line-10'], 'live', ID1));
  });

  it('a tail of a pod in CrashLoopBackOff takes the crashed instance’s last lines, then follows the next instance', async () => {
    const w = await newWorld('lifecycle-tail-crashloop');
    const pod = kube.pod('jobs', POD, { restartPolicy: 'OnFailure' });
    pod.start(ID1, T0);
    pod.append(jobLines('a', 5, T0));
    await w.container(POD, ID1).upload(jobLines('a', 3, T0));
    pod.terminate(1, at(30));
    pod.waitRestart();

    const read = follow(w.reader, POD, { follow: followOptions(kube), tail: 2 });
    await read.until((r) => r.length === 2);
    pod.start(ID2, at(60));
    pod.append(jobLines('b', 2, at(60)));
    await read.until((r) => r.length === 4);
    pod.terminate(0, at(90));
    await read.ended;

    expect(described(read.records)).toEqual([
      ...expected(['a-3', 'a-4'], 'live', ID1),
      ...expected(['b-0', 'b-1'], 'live', ID2),
    ]);
  });

  it('tail: 0 gives only lines written after the read began', async () => {
    const { w, pod, lines } = await running('lifecycle-tail-0', 2);
    const read = follow(w.reader, POD, { follow: followOptions(kube), tail: 0 });
    await read.waitFor(() => pod.openFollows() === 1);
    pod.append(lines.slice(10));
    await read.until((r) => r.length === 1);
    pod.terminate(0, at(20));
    await read.ended;
    expect(described(read.records)).toEqual(expected(['line-10'], 'live', ID1));
  });

  it('a tail across the hand-off takes the last archived lines and the live ones, none twice', async () => {
    const { w, pod, lines } = await running('lifecycle-tail-5', 2);
    const read = follow(w.reader, POD, { follow: followOptions(kube), tail: 5 });
    await read.until((r) => r.length === 5);
    pod.append(lines.slice(10));
    await read.until((r) => r.length === 6);
    pod.terminate(0, at(20));
    await read.ended;
    expect(described(read.records)).toEqual([
      ...expected(['line-5', 'line-6', 'line-7'], 'archive', ID1),
      ...expected(['line-8', 'line-9', 'line-10'], 'live', ID1),
    ]);
  });
});

describe('follow: the kubeconfig', () => {
  it('fails with a LiveLogError that does not show the token when the API refuses it', async () => {
    const w = await newWorld('lifecycle-bad-token');
    const pod = kube.pod('jobs', POD, { restartPolicy: 'OnFailure' });
    pod.start(ID1, T0);
    pod.append(jobLines('line', 2, T0));
    const token = 'eyJhbGciOiJSUzI1NiJ9.wrong-token-8d41aa07';
    const dir = await mkdtemp(join(tmpdir(), 'kubeconfig-'));
    try {
      const path = join(dir, 'kubeconfig');
      await writeFile(path, kubeconfig(kube.server, token));
      const kc = new KubeConfig();
      kc.loadFromFile(path);

      const read = follow(w.reader, POD, { follow: { kube: kc, namespace: 'jobs', pollInterval: 10 } });
      const error: unknown = await read.ended.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(LiveLogError);
      expect(error).toMatchObject({ code: 'ERR_KUBE_API', status: 401, pod: POD });
      expect((error as Error).message).toContain(`jobs/${POD}`);
      expect((error as Error).message).not.toContain(token);
      expect((error as Error).message).not.toContain(FAKE_TOKEN);
      expect(read.records).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

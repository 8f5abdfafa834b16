// log-reader follow across container restarts: the previous instance's lines (from the
// archive, then from the kubelet's previous log) before the current one's, each once, with
// tail, since and the separator; instances that come and go while the read follows or looks
// at the pod; rotation and long lines around the hand-off.
import { text } from 'node:stream/consumers';
import { startKubeApi, type KubeApiDouble } from './support/kube-api.js';
import { faultyApi } from './support/kube-proxy.js';
import { follow, followOptions, jobLines } from './support/follow.js';
import {
  ID,
  ID2,
  ID3,
  ID4,
  POD,
  T0,
  at,
  followToEnd,
  hookedApi,
  instances,
  restarted,
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

describe('follow: restarts with tail, since and the separator', () => {
  // 100: all; 7: p-8 on; 6: p-9 and the current instance; 5: the current instance only.
  it.each([100, 7, 6, 5])(
    'tail %i of a restarted pod: the previous instance’s archived lines, its unarchived ones from its previous log, then the current one’s, each once',
    async (tail) => {
      const { w, pod, prev, cur } = await restarted(kube, `follow-restarted-tail-${tail}`, 6, 2);
      const read = await followToEnd(w, pod, { follow: followOptions(kube), tail }, at(100));
      expect(read.messages()).toEqual([...prev, ...cur].map((l) => l.message).slice(-tail));
    },
  );

  it('tail with since: since cuts inside the previous instance, in the archive and in its previous log alike', async () => {
    const { w, pod, prev, cur } = await restarted(kube, 'follow-tail-since', 6, 2);
    const read = await followToEnd(
      w,
      pod,
      { follow: followOptions(kube), tail: 100, since: prev[7]?.time as string },
      at(100),
    );
    expect(read.messages()).toEqual([...prev.slice(7), ...cur].map((l) => l.message));
  });

  it('since later than the previous instance’s last archived record: its previous log is read from since', async () => {
    const { w, pod, prev, cur } = await restarted(kube, 'follow-since-late', 4, 2);
    const read = await followToEnd(w, pod, { follow: followOptions(kube), since: prev[7]?.time as string }, at(100));
    expect(read.messages()).toEqual([...prev.slice(7), ...cur].map((l) => l.message));
  });

  it('a previous instance with no archived record is read whole from its previous log, before the current one', async () => {
    const { w, pod, prev, cur } = await restarted(kube, 'follow-prev-none', 0, 3);
    const read = await followToEnd(w, pod, { follow: followOptions(kube) }, at(100));
    expect(read.messages()).toEqual([...prev, ...cur].map((l) => l.message));
  });

  it('tail across a previous instance with no archived record', async () => {
    const { w, pod, prev, cur } = await restarted(kube, 'follow-prev-none-tail', 0, 3);
    const read = await followToEnd(w, pod, { follow: followOptions(kube), tail: 12 }, at(100));
    expect(read.messages()).toEqual([...prev, ...cur].map((l) => l.message).slice(-12));
  });

  it('tail 0 with the current live log just rotated to empty: only the lines written after', async () => {
    const { w, pod } = await restarted(kube, 'follow-tail0-empty', 10, 5);
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
    const { w, pod, prev } = await restarted(kube, 'follow-tail-empty-unarch', 10, 0);
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
    const { w, pod, prev, cur } = await restarted(kube, 'follow-sep-restart', 6, 2);
    pod.terminate(0, at(100));
    const out = await text(w.reader.createReadStream(POD, { follow: followOptions(kube), separator: 'XX' }));
    expect(out).toBe([...prev.map((l) => l.message), 'XX', ...cur.map((l) => l.message), ''].join('\n'));
  });

  it('the separator with a restart and tail', async () => {
    const { w, pod, prev, cur } = await restarted(kube, 'follow-sep-restart-tail', 6, 2);
    pod.terminate(0, at(100));
    const out = await text(w.reader.createReadStream(POD, { follow: followOptions(kube), separator: 'XX', tail: 8 }));
    expect(out).toBe([...prev.slice(7).map((l) => l.message), 'XX', ...cur.map((l) => l.message), ''].join('\n'));
  });

  it('the separator with an empty archive and a restart: between the previous log and the current live log', async () => {
    const { w, pod, prev, cur } = await restarted(kube, 'follow-sep-empty-archive', 0, 0);
    pod.terminate(0, at(100));
    const out = await text(w.reader.createReadStream(POD, { follow: followOptions(kube), separator: 'XX' }));
    expect(out).toBe([...prev.map((l) => l.message), 'XX', ...cur.map((l) => l.message), ''].join('\n'));
  });

  it('while following: the container fails, restarts and ends for good before the reader looks again: the rest of both, once', async () => {
    const w = await newWorld('follow-done-later');
    const a = jobLines('a', 3, at(0));
    const b = jobLines('b', 3, at(60));
    const pod = instances(kube, { id: ID, startedAt: at(0), lines: a });
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
    const w = await newWorld('follow-unseen');
    const pod = instances(kube, { id: ID, startedAt: at(0), lines: jobLines('a', 3, at(0)) });
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
    const w = await newWorld('follow-drop-exit-restart');
    const pod = instances(kube, { id: ID, startedAt: at(0), lines: jobLines('a', 3, at(0)) });
    const read = follow(w.reader, POD, { follow: followOptions(kube) });
    await read.until((r) => r.length === 3);
    await read.waitFor(() => pod.openFollows() === 1);
    pod.dropStreams('reset');
    pod.append(jobLines('a', 3, at(3), 3));
    pod.terminate(1, at(10));
    // The reader sees the exited instance still current: it waits for the restart.
    await read.waitFor(
      () => kube.requests.length > 0 && kube.requests.filter((r) => !r.path.endsWith('/log')).length > 6,
    );
    pod.waitRestart();
    await read.until((r) => r.length === 6);
    pod.start(ID2, at(60));
    pod.append(jobLines('b', 2, at(60)));
    pod.terminate(0, at(70));
    await read.ended;
    expect(read.messages()).toEqual(['a-0', 'a-1', 'a-2', 'a-3', 'a-4', 'a-5', 'b-0', 'b-1']);
  });

  it('breaking out of a followed read closes its follow stream', async () => {
    const w = await newWorld('follow-break');
    const pod = instances(kube, { id: ID, startedAt: at(0), lines: jobLines('a', 3, at(0)) });
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

describe('follow: an instance that exited at the start', () => {
  it('starting with the current instance exited and about to restart: all of it once, then the next one', async () => {
    const w = await newWorld('follow-start-exited');
    const x = jobLines('x', 5, at(0));
    const pod = instances(kube, { id: ID, startedAt: at(0), lines: x, exitedAt: at(10) });
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
    const w = await newWorld('follow-prev-rotated');
    const prev = jobLines('p', 10, at(0));
    const cur = jobLines('c', 3, at(60));
    const pod = twoInstances(kube, { prev, keepPrevious: 3, exitedAt: at(30), cur, restartedAt: at(60) });
    await w.container(POD, ID).upload(prev.slice(0, 8));
    const read = await followToEnd(w, pod, { follow: followOptions(kube) }, at(100));
    expect(read.messages()).toEqual([...prev, ...cur].map((l) => l.message));
  });
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
    const cur = jobLines('c', 10, at(60));
    const pod = twoInstances(kube, { prev, exitedAt: at(30), cur, restartedAt: at(60) });
    await w.container(POD, ID).upload(prev);
    await w.container(POD, ID2).upload(cur);
    pod.rotate(0); // the current instance's live log was just rotated: it holds no line

    const read = await followToEnd(w, pod, { follow: followOptions(kube), tail: 3 }, at(120));
    expect(read.messages()).toEqual(['c-7', 'c-8', 'c-9']);
  });

  it('a tail of a restarted pod whose current live log was rotated takes the current instance’s archived lines before its live ones', async () => {
    const w = await newWorld('follow-tail-rotated');
    const prev = jobLines('p', 10, T0);
    const cur = jobLines('c', 10, at(60));
    const pod = twoInstances(kube, { prev, exitedAt: at(30), cur, restartedAt: at(60) });
    await w.container(POD, ID).upload(prev);
    await w.container(POD, ID2).upload(cur);
    pod.rotate(2); // the current instance's live log holds c-8, c-9

    const read = await followToEnd(w, pod, { follow: followOptions(kube), tail: 3 }, at(120));
    expect(read.messages()).toEqual(['c-7', 'c-8', 'c-9']);
  });

  it('a restart while the archive is read does not read the next instance’s log as the previous one’s', async () => {
    const w = await newWorld('follow-restart-during-archive');
    const at = (s: number): Date => new Date(T0.getTime() + s * 1000);
    const z = jobLines('z', 3, at(0));
    const a = jobLines('a', 3, at(100));
    const b = jobLines('b', 3, at(200));
    const c = jobLines('c', 3, at(300));
    const pod = instances(
      kube,
      { id: ID4, startedAt: at(0), lines: z, exitedAt: at(50) },
      { id: ID, startedAt: at(100), lines: a, exitedAt: at(150) },
      { id: ID2, startedAt: at(200), lines: b },
    );
    await w.container(POD, ID4).upload(z);
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

describe('follow: restarts while the live logs are looked at', () => {
  it('a restart at each of the three probes: the instance the pod last showed is read whole', async () => {
    const w = await newWorld('follow-probe-3-restarts');
    const x = jobLines('x', 3, at(0));
    const steps: [string, ReturnType<typeof jobLines>][] = [
      [ID2, jobLines('y', 2, at(20))],
      [ID3, jobLines('z', 2, at(40))],
      [ID4, jobLines('w', 2, at(60))],
    ];
    const pod = instances(kube, { id: ID, startedAt: at(0), lines: x });
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
      const read = await followToEnd(
        w,
        pod,
        { follow: { kube: api.kube, namespace: 'jobs', pollInterval: 10 } },
        at(80),
      );
      expect(probes).toBe(3);
      // x and y are two restarts back by the time anything is read (never archived): out of reach.
      expect(read.messages()).toEqual(['z-0', 'z-1', 'w-0', 'w-1']);
    } finally {
      await api.close();
    }
  });
  it('a restart during the archive read moves the previous instance out of reach: its last archived line once, nothing of the next one as its', async () => {
    const w = await newWorld('follow-previous-gone');
    const prev = jobLines('p', 6, at(0));
    const cur = jobLines('c', 3, at(20));
    const next = jobLines('n', 2, at(40));
    const pod = twoInstances(kube, { prev, exitedAt: at(10), cur, restartedAt: at(20) });
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
      const read = await followToEnd(
        w,
        pod,
        { follow: { kube: api.kube, namespace: 'jobs', pollInterval: 10 } },
        at(60),
      );
      expect(read.messages()).toEqual(['p-0', 'p-1', 'p-2', 'p-3', 'c-0', 'c-1', 'c-2', 'n-0', 'n-1']);
    } finally {
      await api.close();
    }
  });

  it('the pod deleted between the look and the look again after the probe: the archive only, then the end', async () => {
    const w = await newWorld('follow-deleted-at-probe');
    const x = jobLines('x', 5, at(0));
    const pod = instances(kube, { id: ID, startedAt: at(0), lines: x });
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

describe('follow: a restart between the first look at the pod and the probe', () => {
  it.each([
    ['running', false],
    ['exited', true],
  ])(
    'the %s current instance is restarted between the first look at the pod and the probe',
    async (_state, exitedFirst) => {
      const w = await newWorld(`follow-restart-at-probe-${exitedFirst ? 'e' : 'r'}`);
      const x = jobLines('x', 5, at(0));
      const y = jobLines('y', 2, at(60));
      const pod = instances(kube, { id: ID, startedAt: at(0), lines: x });
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
        const read = await followToEnd(
          w,
          pod,
          { follow: { kube: api.kube, namespace: 'jobs', pollInterval: 10 } },
          at(70),
        );
        expect(read.messages()).toEqual(['x-0', 'x-1', 'x-2', 'x-3', 'x-4', 'y-0', 'y-1']);
      } finally {
        await api.close();
      }
    },
  );
});

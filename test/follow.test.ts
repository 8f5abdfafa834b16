// log-reader follow: the archive (real S3 server) then the live log (the Kubernetes API
// double), handed over so that no line is lost or repeated.
import { startKubeApi, type KubeApiDouble } from './support/kube-api.js';
import { faultyApi } from './support/kube-proxy.js';
import { follow, followOptions, jobLines } from './support/follow.js';
import { ID, POD, T0, at } from './support/follow-scenarios.js';
import { newWorld } from './support/world.js';

let kube: KubeApiDouble;
beforeEach(async () => {
  kube = await startKubeApi();
});
afterEach(async () => {
  await kube.close();
});

describe('follow: the hand-off from the archive to the live log', () => {
  it('takes what rotation removed from the live log from the archive, the rest from the live log, once each', async () => {
    const w = await newWorld('follow-rotated');
    const lines = jobLines('line', 12, T0);
    const pod = kube.pod('jobs', POD, { restartPolicy: 'OnFailure' });
    pod.start(ID, T0);
    pod.append(lines.slice(0, 10));
    const fb = w.container(POD, ID);
    await fb.upload(lines.slice(0, 4));
    await w.pass();
    await fb.upload(lines.slice(4, 8)); // line-8 and line-9 are not uploaded yet
    pod.rotate(4); // the live log holds line-6 .. line-9

    const read = follow(w.reader, POD, { follow: followOptions(kube) });
    await read.until((r) => r.length === 10);
    pod.append(lines.slice(10));
    await read.until((r) => r.length === 12);
    pod.terminate(0, new Date(T0.getTime() + 20_000));
    await read.ended;

    expect(read.messages()).toEqual(lines.map((l) => l.message));
    expect(read.records.map((r) => r.source)).toEqual([...Array(6).fill('archive'), ...Array(6).fill('live')]);
    expect(read.records[11]).toEqual({
      time: lines[11]?.time,
      message: 'line-11',
      stream: 'stdout',
      containerId: ID,
      source: 'live',
    });
  });

  it('returns lines that share one timestamp across the boundary once', async () => {
    const w = await newWorld('follow-same-time');
    const lines = jobLines('line', 10, T0);
    const shared = lines[4]?.time as string;
    for (const i of [5, 6, 7]) (lines[i] as { time: string }).time = shared;
    const pod = kube.pod('jobs', POD, { restartPolicy: 'OnFailure' });
    pod.start(ID, T0);
    pod.append(lines);
    await w.container(POD, ID).upload(lines.slice(0, 8));
    pod.rotate(4); // the live log begins at line-6, inside the run line-4 .. line-7 of one time

    const read = follow(w.reader, POD, { follow: followOptions(kube) });
    await read.until((r) => r.length >= 10);
    pod.terminate(0, new Date(T0.getTime() + 20_000));
    await read.ended;
    expect(read.messages()).toEqual(lines.map((l) => l.message));
  });

  it('reads a container whose live log holds everything from the live log, with no separator', async () => {
    const w = await newWorld('follow-all-live');
    const lines = jobLines('line', 8, T0);
    const pod = kube.pod('jobs', POD, { restartPolicy: 'OnFailure' });
    pod.start(ID, T0);
    pod.append(lines);
    const fb = w.container(POD, ID);
    await fb.upload(lines.slice(0, 3));
    await w.pass();
    await fb.upload(lines.slice(3, 5));

    const stream = w.reader.createReadStream(POD, { follow: followOptions(kube) });
    const chunks: string[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c.toString()));
    while (chunks.join('').split('\n').length <= 8) await new Promise((r) => setTimeout(r, 5));
    pod.terminate(0, new Date(T0.getTime() + 20_000));
    await new Promise((resolve, reject) => stream.on('end', resolve).on('error', reject));
    expect(chunks.join('')).toBe(lines.map((l) => `${l.message}\n`).join(''));
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

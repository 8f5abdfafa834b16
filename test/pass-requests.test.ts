// What a pass costs in S3 requests, per pod: a pod with nothing to do is looked at with one
// or two reads and no lease; a pod with work reads each raw file once. At 10,000 pods an
// hourly pass is mostly pods with nothing to do.
import { enforcesConditionalDeletes } from './support/leases.js';
import { byPod, podOf, recordRequests } from './support/requests.js';
import { testS3Client } from './support/s3.js';
import { HOUR, MINUTE, messages, newWorld } from './support/world.js';

const T0 = new Date('2026-11-25T10:00:00Z');
const PODS = ['job-a', 'job-b', 'job-c', 'job-d'];
const CONFIG = { compactIntervalMs: 10 * MINUTE, cleanupIntervalMs: HOUR };

describe('S3 requests of a pass, per pod', () => {
  it('reads each raw file once, takes no lease for a pod with nothing to do, and at most two reads for it', async () => {
    const w = await newWorld('requests');
    w.advance(-HOUR); // the uploads are an hour old to the pass
    const raw = new Map<string, string[]>();
    for (const [i, pod] of PODS.entries()) {
      const fb = w.container(pod, `0c${i}`);
      raw.set(pod, [
        await fb.upload(messages(`${pod}-1`, 3, T0)),
        await fb.upload(messages(`${pod}-2`, 3, new Date(T0.getTime() + MINUTE))),
        await fb.upload(messages(`${pod}-3`, 3, new Date(T0.getTime() + 2 * MINUTE))),
      ]);
    }
    w.advance(HOUR);
    const client = testS3Client();
    const sent = recordRequests(client);
    const pass = async (): Promise<Map<string, Record<string, number>>> => {
      sent.length = 0;
      const { summary } = await w.passWith(client, CONFIG);
      expect(summary.pods.failed).toBe(0);
      return byPod(sent);
    };

    // The lease's release: a DELETE, or a PUT (rewritten as released) where DELETE ignores If-Match.
    const release = (await enforcesConditionalDeletes(w)) ? { PutObject: 5, DeleteObject: 1 } : { PutObject: 6 };

    // 1. Every pod has work: each raw file is read once, nothing per record.
    const first = await pass();
    for (const pod of PODS) {
      const gets = sent
        .filter((r) => r.command === 'GetObject' && raw.get(pod)!.includes(r.target))
        .map((r) => r.target);
      expect(gets.sort()).toEqual([...raw.get(pod)!].sort());
      expect(first.get(pod)).toMatchObject({ PutObject: expect.any(Number) });
      // The look: GET metadata, LIST raw files. The lease: PUT, renewed (PUT) right before the
      // commit, released. Under it: HEAD metadata (unchanged since the look: nothing read twice),
      // LIST data/, a GET per raw file, PUT cleanup entry, merged file and metadata.
      expect({ pod, requests: first.get(pod) }).toEqual({
        pod,
        requests: { GetObject: 4, ListObjectsV2: 2, HeadObject: 1, ...release },
      });
    }

    // 2. Right after: compacted a moment ago, nothing due. One read per pod, no lease.
    const second = await pass();
    for (const pod of PODS) expect({ pod, requests: second.get(pod) }).toEqual({ pod, requests: { GetObject: 1 } });

    // 3. Past the compact interval, nothing new, nothing due: the metadata and one listing.
    w.advance(20 * MINUTE);
    const third = await pass();
    for (const pod of PODS)
      expect({ pod, requests: third.get(pod) }).toEqual({ pod, requests: { GetObject: 1, ListObjectsV2: 1 } });
    // The pass's own reads: the pods' directories (listed before anything is written), the daily
    // survey's stamp (the orphan sweep and the containers never merged are listed by the day's
    // first pass only) and the queue.
    expect(
      sent
        .filter((r) => podOf(r.target) === undefined && ['HeadObject', 'ListObjectsV2'].includes(r.command))
        .map((r) => `${r.command} ${r.target}`),
    ).toEqual(['ListObjectsV2 kube.var.log.containers.', 'HeadObject leases/.daily-survey', 'ListObjectsV2 cleanup/']);
    expect(
      sent.filter(
        (r) => podOf(r.target) !== undefined && (r.command === 'PutObject' || r.command.startsWith('Delete')),
      ),
    ).toEqual([]);

    // 4. Past the cleanup interval: the merged raw files are due, and the look sees it.
    w.advance(HOUR);
    const fourth = await pass();
    // Its lease, its commit.
    for (const pod of PODS) expect(fourth.get(pod)).toMatchObject({ PutObject: expect.any(Number) });
    // One DeleteObjects (up to 1,000 keys) per pod, not a request per object.
    expect(sent.filter((r) => r.command === 'DeleteObjects')).toHaveLength(PODS.length);
    expect(await w.keys('kube.')).toEqual([]);
    for (const pod of PODS) expect(await w.records(pod)).toHaveLength(9);

    // 5. Nothing left of them but the merged log: no request for them at all.
    const fifth = await pass();
    for (const pod of PODS) expect({ pod, requests: fifth.get(pod) }).toEqual({ pod, requests: undefined });
  });
});

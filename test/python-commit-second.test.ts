// Found in review (issue 6), fixed since: a document written by the Python service says "merged" by last_merged_key, except for
// a raw file uploaded after its last_compaction_time (docs/design.md §3). metadata.ts
// mergedRawPredicate compares the listed LastModified with last_compaction_time at full
// precision — but S3 (AWS) lists LastModified in whole seconds, truncated. A late raw file
// keyed before last_merged_key and uploaded in the same second as the Python commit, after
// it, lists as "at or before" the commit: it is taken as merged, never read, never merged,
// and the compactor puts it in merged_raw_files and deletes it. Records lost.
// The test server (moto) lists LastModified in whole seconds, as AWS S3 does.
// Fixed: mergedRawPredicate takes a whole-second LastModified as the end of its second.
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { gzipSync } from 'node:zlib';
import { formatIsoMicros, mergedKey, metadataKey, toEpochNs } from '@platform/log-reader';
import { parsedLine, putRaw } from '@platform/testkit';
import { listAll } from './support/s3.js';
import { HOUR, newWorld } from './support/world.js';

const POD = 'job-py';
const DIR = { pod: POD, namespace: 'jobs', containerId: 'c0ffee' } as const;

describe('a late raw file uploaded in the second of a Python commit', () => {
  it('is read and merged, not taken as merged by that commit', async () => {
    const w = await newWorld('rv-py-second');
    const a = await putRaw(w.client, w.bucket, { ...DIR, slice: '202611250959', index: 1, lines: [parsedLine({ time: '2026-11-25T09:59:00Z', log: 'a' })] });
    const b = await putRaw(w.client, w.bucket, { ...DIR, slice: '202611250959', index: 3, lines: [parsedLine({ time: '2026-11-25T09:59:02Z', log: 'b' })] });
    const merged = mergedKey({ pod: POD, containerId: DIR.containerId, slice: '202611251000', index: 1 });
    const lines = [{ time: '2026-11-25T09:59:00Z', log: 'a' }, { time: '2026-11-25T09:59:02Z', log: 'b' }];
    await w.client.send(new PutObjectCommand({ Bucket: w.bucket, Key: merged, Body: gzipSync(lines.map((l) => `${JSON.stringify(l)}\n`).join('')) }));

    // The files the commit merged were uploaded before its second: listed in a second of
    // their own, they are unambiguously merged (in the commit's second they could be either).
    const uploaded = Math.floor(Date.now() / 1000);
    while (Math.floor(Date.now() / 1000) === uploaded) await new Promise((r) => setTimeout(r, 20));

    // The Python commit, then (in the same second, after it) node uploads _2 late.
    let late = '';
    for (let attempt = 0; attempt < 20 && late === ''; attempt++) {
      while (Date.now() % 1000 > 300) await new Promise((r) => setTimeout(r, 20));
      const committedAt = new Date();
      const doc = {
        log_files: [{ key: merged, records_count: 2, size: 100, first_record_time: '2026-11-25T09:59:00+00:00', last_record_time: '2026-11-25T09:59:02+00:00' }],
        last_compaction_time: formatIsoMicros(toEpochNs(committedAt), 'floor'),
        last_merged_key: b,
      };
      await w.client.send(new PutObjectCommand({ Bucket: w.bucket, Key: metadataKey(POD), Body: JSON.stringify(doc) }));
      await new Promise((r) => setTimeout(r, 5));
      const key = await putRaw(w.client, w.bucket, { ...DIR, slice: '202611250959', index: 2, lines: [parsedLine({ time: '2026-11-25T09:59:01Z', log: 'late' })] });
      const [listed] = await listAll(w.client, w.bucket, key);
      // Uploaded after the commit (in real time), listed with the commit's second.
      if (Math.floor(listed!.lastModified.getTime() / 1000) === Math.floor(committedAt.getTime() / 1000)) late = key;
    }
    expect(late).not.toBe('');
    expect(a).not.toBe(late);

    const read = async (): Promise<string[]> => (await w.records(POD)).map((r) => r.message);
    expect(await read()).toEqual(['a', 'b', 'late']);

    // And the next pass (a new upload, an hour later) merges it rather than deleting it.
    await putRaw(w.client, w.bucket, { ...DIR, slice: '202611251001', index: 4, lines: [parsedLine({ time: '2026-11-25T10:01:00Z', log: 'new' })] });
    w.advance(HOUR);
    await w.pass();
    expect(await w.keys('kube.')).toContain(late);
    expect(await read()).toEqual(['a', 'b', 'late', 'new']);
  });
});

// Found in review 2 (issue 6), fixed since: metadata.ts mergedRawPredicate (Python documents) takes a raw file listed with a
// whole-second LastModified in the second of last_compaction_time as "not merged" — even
// the file whose key IS last_merged_key, which that commit certainly merged (it names it).
// A small pod's Python pass lists, merges and commits well within a second, so its newest
// raw file (Fluent Bit uploads every minute) often shares the commit's second. That file is
// then read twice (from the merged file and as a raw file) and merged a second time by the
// next pass: a duplicate, committed for good (docs/design.md §6 "No duplicates").
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { gzipSync } from 'node:zlib';
import { formatIsoMicros, mergedKey, metadataKey, toEpochNs } from '@platform/log-reader';
import { parsedLine, putRaw } from '@platform/testkit';
import { listAll } from './support/s3.js';
import { HOUR, newWorld } from './support/world.js';

const POD = 'job-py2';
const DIR = { pod: POD, namespace: 'jobs', containerId: 'c0ffee' } as const;

describe('the raw file named by a Python commit\'s last_merged_key, uploaded in the commit\'s second', () => {
  it('is taken as merged: read once, never merged again', async () => {
    const w = await newWorld('rv2-py-lmk');
    const a = await putRaw(w.client, w.bucket, { ...DIR, slice: '202611250959', index: 1, lines: [parsedLine({ time: '2026-11-25T09:59:00Z', log: 'a' })] });
    const merged = mergedKey({ pod: POD, containerId: DIR.containerId, slice: '202611251000', index: 1 });
    const lines = [{ time: '2026-11-25T09:59:00Z', log: 'a' }, { time: '2026-11-25T09:59:02Z', log: 'b' }];
    await w.client.send(new PutObjectCommand({ Bucket: w.bucket, Key: merged, Body: gzipSync(lines.map((l) => `${JSON.stringify(l)}\n`).join('')) }));

    // _1 was uploaded in an earlier second than the commit below (whole-second listings).
    await new Promise((r) => setTimeout(r, 1100));
    // Fluent Bit uploads _2; the Python pass lists it, merges it and commits, in that second.
    let b = '';
    for (let attempt = 0; attempt < 20 && b === ''; attempt++) {
      while (Date.now() % 1000 > 200) await new Promise((r) => setTimeout(r, 10));
      const key = await putRaw(w.client, w.bucket, { ...DIR, slice: '202611250959', index: 2, lines: [parsedLine({ time: '2026-11-25T09:59:02Z', log: 'b' })] });
      await new Promise((r) => setTimeout(r, 100));
      const committedAt = new Date();
      const doc = {
        log_files: [{ key: merged, records_count: 2, size: 100, first_record_time: '2026-11-25T09:59:00+00:00', last_record_time: '2026-11-25T09:59:02+00:00' }],
        last_compaction_time: formatIsoMicros(toEpochNs(committedAt), 'floor'),
        last_merged_key: key,
      };
      await w.client.send(new PutObjectCommand({ Bucket: w.bucket, Key: metadataKey(POD), Body: JSON.stringify(doc) }));
      const [listed] = await listAll(w.client, w.bucket, key);
      // Uploaded before the commit (in real time), listed with the commit's second.
      if (Math.floor(listed!.lastModified.getTime() / 1000) === Math.floor(committedAt.getTime() / 1000)) b = key;
    }
    expect(b).not.toBe('');
    expect(a).not.toBe(b);

    const read = async (): Promise<string[]> => (await w.records(POD)).map((r) => r.message);
    expect(await read()).toEqual(['a', 'b']);

    await putRaw(w.client, w.bucket, { ...DIR, slice: '202611251001', index: 3, lines: [parsedLine({ time: '2026-11-25T10:01:00Z', log: 'new' })] });
    w.advance(HOUR);
    await w.pass();
    expect(await read()).toEqual(['a', 'b', 'new']);
  });
});

// Found in review 3 (issue 6), fixed since: README ("Metadata", unfinished_lines): "`last_merged_key` stays below those files
// [that hold an open line's pieces], so the Python service, reading such a bucket, ... never
// takes them for merged". commit.ts withMerge only keeps last_merged_key from moving *up*
// past the first file holding pieces (lastInRawOrder never moves it down). A raw file
// uploaded late, keyed below last_merged_key, that ends inside a line, holds the open line's
// only piece, yet last_merged_key stays above it: the Python service (which says "merged" by
// last_merged_key and LastModified <= last_compaction_time alone) takes it for merged, and its
// piece is in no merged file — the Python service's read loses it (and its cleanup may
// delete the file, docs/design.md §6 "No loss" across a move between the two services).
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { compareRawKeys, metadataKey, parseRawKey } from '@platform/log-reader';
import { parsedLine, putRaw } from '@platform/testkit';
import { newWorld } from './support/world.js';

describe('a late raw file keyed below last_merged_key that holds an open line\'s piece', () => {
  it('is not taken for merged by the Python service', async () => {
    const w = await newWorld('rv3-lmk-above');
    const put = (index: number, line: string): Promise<string> =>
      putRaw(w.client, w.bucket, { pod: 'job-1', namespace: 'jobs', containerId: '0f3a', slice: '202611251000', index, lines: [line] });
    await put(5, parsedLine({ time: '2026-11-25T10:00:00Z', log: 'a' }));
    await put(7, parsedLine({ time: '2026-11-25T10:00:02Z', log: 'c' }));
    await w.pass();
    // The retried _6 lands late; it ends inside a long line (the job is still writing it).
    const late = await put(6, parsedLine({ time: '2026-11-25T10:00:01Z', log: 'x ', logtag: 'P' }));
    w.advance(5_000); // the commit comes a few seconds after the upload
    await w.pass({ compactIntervalMs: 0 });
    const meta = await w.metadata('job-1');
    expect(meta.unfinishedLines).toMatchObject([{ key: late, files: [{ key: late, line: 1 }] }]);
    expect((await w.records('job-1')).map((r) => r.message)).toEqual(['a', 'c', 'x ']);

    // last_merged_key moved back below the file holding the piece (it was _7).
    const lmk = parseRawKey(meta.lastMergedKey ?? '');
    expect(compareRawKeys(parseRawKey(late)!, lmk!)).toBeGreaterThan(0);

    // What the Python service reads: the same document without the compactor's own fields.
    const { logFiles, lastCompactionTime, lastMergedKey } = meta;
    await w.client.send(new PutObjectCommand({
      Bucket: w.bucket,
      Key: metadataKey('job-1'),
      Body: JSON.stringify({
        log_files: logFiles.map((f) => ({ key: f.key, records_count: f.recordsCount, size: f.size, first_record_time: f.firstRecordTime, last_record_time: f.lastRecordTime })),
        last_compaction_time: lastCompactionTime,
        last_merged_key: lastMergedKey,
      }),
    }));
    const pythonView = (await w.records('job-1')).map((r) => r.message);
    // The piece is read (raw order joins it with what follows it; merged records may come twice).
    expect(pythonView.some((m) => m.startsWith('x '))).toBe(true);
  });
});

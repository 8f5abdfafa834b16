// What a commit writes: `last_merged_key`, which the Python service takes every raw key up to as merged;
// the time range of each merged file, marked exact only when it bounds every record.
import {
  EMPTY_METADATA,
  parseRawKey,
  type LogFileEntry,
  type PodMetadata,
  type UnfinishedLine,
} from '@platform/log-reader/layout';
import { type RawFile } from '@platform/log-reader/s3';
import { MergeWriter } from '../store/merge-writer.js';
import { withMerge, type MergedWork } from './commit.js';

const KEY = (n: number): string => `kube.var.log.containers.job-1_jobs_job-1-0f3a.log/202611251000_${n}.gz`;
const RAW = (n: number): RawFile => {
  const key = parseRawKey(KEY(n));
  if (key === undefined) throw new Error(`not a raw key: ${KEY(n)}`);
  return { ...key, size: 1, lastModified: new Date(0) };
};
const STAMP = '2026-11-25T11:00:00.000000Z';

/** A line left open whose pieces are in the raw files numbered `files`, the first holding its start. */
const openLine = (...files: number[]): UnfinishedLine => ({
  stream: 'stdout',
  key: KEY(files[0] as number),
  line: 1,
  files: files.map((n) => ({ key: KEY(n), line: 1 })),
});

const lastMergedKey = (metadata: PodMetadata, work: Partial<MergedWork>): string | null =>
  withMerge(metadata, { merged: [], files: [], continued: undefined, unfinished: [], unreadable: [], ...work }, STAMP)
    .lastMergedKey;

describe('last_merged_key after a merge', () => {
  it('moves forward to the last raw file merged, by index as a number', () => {
    const metadata = { ...EMPTY_METADATA, lastMergedKey: KEY(3) };
    expect(lastMergedKey(metadata, { merged: [RAW(9), RAW(10), RAW(4)] })).toBe(KEY(10));
  });

  it('moves over a raw file found unreadable (counted as merged), which is recorded and not to be deleted', () => {
    const metadata = { ...EMPTY_METADATA, mergedRawFiles: [], lastMergedKey: KEY(3) };
    const work = { merged: [RAW(4)], unreadable: [{ key: KEY(5), reason: 'gzip: incorrect header check' }] };
    const after = withMerge(metadata, { files: [], continued: undefined, unfinished: [], ...work }, STAMP);
    expect(after.lastMergedKey).toBe(KEY(5));
    expect(after.mergedRawFiles?.map((p) => p.key)).toEqual([KEY(4)]);
    expect(after.unreadableObjects).toEqual([{ key: KEY(5), reason: 'gzip: incorrect header check', foundAt: STAMP }]);
  });

  it('stays where it was when the merge merged nothing new', () => {
    expect(lastMergedKey({ ...EMPTY_METADATA, mergedRawFiles: [], lastMergedKey: KEY(3) }, {})).toBe(KEY(3));
  });

  it('stays below the first raw file that holds pieces of a line still open', () => {
    const key = lastMergedKey(
      { ...EMPTY_METADATA, mergedRawFiles: [], lastMergedKey: KEY(1) },
      {
        merged: [RAW(2), RAW(3), RAW(4), RAW(5)],
        unfinished: [openLine(4, 5)],
      },
    );
    expect(key).toBe(KEY(3));
  });

  it('moves back below a raw file merged earlier that now holds pieces (a late file joined the line)', () => {
    const metadata: PodMetadata = {
      ...EMPTY_METADATA,
      lastMergedKey: KEY(6),
      mergedRawFiles: [1, 2, 3, 4, 5, 6].map((n) => ({ key: KEY(n), since: '2026-11-25T10:00:00Z' })),
    };
    expect(lastMergedKey(metadata, { merged: [RAW(7)], unfinished: [openLine(3, 7)] })).toBe(KEY(2));
  });

  it('is null when the first raw file ever merged holds pieces: the Python service takes none for merged', () => {
    const work = { merged: [RAW(1), RAW(2)], unfinished: [openLine(1, 2)] };
    expect(lastMergedKey({ ...EMPTY_METADATA, mergedRawFiles: [] }, work)).toBeNull();
  });
});

describe('the time range a commit lists for a merged file', () => {
  async function committed(times: readonly string[]): Promise<LogFileEntry | undefined> {
    const writer = new MergeWriter({
      store: undefined as never, // a dry run writes nothing
      maxFileSize: 1 << 20,
      nextKey: () => 'data/job-1/0f3a/202611251100_1.gz',
      clock: () => new Date('2026-11-25T11:00:00Z'),
      dryRun: true,
    });
    for (const time of times) await writer.write({ time, message: 'm', stream: 'stdout', containerId: '0f3a' });
    const files = await writer.close();
    const work: MergedWork = { merged: [], files, continued: undefined, unfinished: [], unreadable: [] };
    return withMerge(EMPTY_METADATA, work, STAMP).logFiles[0];
  }

  it('is marked exact, earliest and latest, when every record time was read, whatever their order', async () => {
    expect(await committed(['2026-11-25T10:00:05Z', '2026-11-25T09:00:00.0000001Z', '2026-11-25T10:00:00Z'])).toEqual({
      key: 'data/job-1/0f3a/202611251100_1.gz',
      recordsCount: 3,
      size: expect.any(Number),
      firstRecordTime: '2026-11-25T09:00:00.000000+00:00',
      lastRecordTime: '2026-11-25T10:00:05.000000+00:00',
      exactRange: true,
    });
  });

  it('is not marked exact when a record time cannot be read (a continued Python file may hold one)', async () => {
    // The Python service's parser took a time without seconds; ours does not, and a read keeps such a record.
    const entry = await committed(['2026-11-25T10:00:00Z', '2026-11-25T10:00Z']);
    expect(entry?.recordsCount).toBe(2);
    expect(entry).not.toHaveProperty('exactRange');
  });
});

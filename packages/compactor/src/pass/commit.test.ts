// What a commit writes for the Python service: `last_merged_key`; it takes every raw key up to it as merged.
import { EMPTY_METADATA, parseRawKey, type PodMetadata, type UnfinishedLine } from '@platform/log-reader/layout';
import { type RawFile } from '@platform/log-reader/s3';
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
  withMerge(metadata, { merged: [], files: [], continued: undefined, unfinished: [], ...work }, STAMP).lastMergedKey;

describe('last_merged_key after a merge', () => {
  it('moves forward to the last raw file merged, by index as a number', () => {
    const metadata = { ...EMPTY_METADATA, lastMergedKey: KEY(3) };
    expect(lastMergedKey(metadata, { merged: [RAW(9), RAW(10), RAW(4)] })).toBe(KEY(10));
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

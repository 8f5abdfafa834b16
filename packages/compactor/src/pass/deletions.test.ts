// What is due, and the refusal to delete anything of a pod whose metadata lists a merged file that is gone.
import { EMPTY_METADATA, type PodMetadata } from '@platform/log-reader/layout';
import { type ListedObject } from '@platform/log-reader/s3';
import { MergedFileMissingError } from '../errors.js';
import { assertListedFilesPresent, planDeletions } from './deletions.js';

const NOW = Date.UTC(2026, 10, 25, 12, 0, 0);
const HOUR = 3_600_000;
const RAW = 'kube.var.log.containers.job-1_jobs_job-1-0f3a.log/202611251000_1.gz';
const M1 = 'data/job-1/0f3a/202611251100_1.gz';
const M2 = 'data/job-1/0f3a/202611251100_2.gz';

function entry(key: string): PodMetadata['logFiles'][number] {
  return {
    key,
    recordsCount: 1,
    size: 10,
    firstRecordTime: '2026-11-25T10:00:00+00:00',
    lastRecordTime: '2026-11-25T10:00:01+00:00',
  };
}

function listed(key: string, ageMs = 2 * HOUR): ListedObject {
  return { key, size: 10, lastModified: new Date(NOW - ageMs), etag: '"x"' };
}

const META: PodMetadata = {
  ...EMPTY_METADATA,
  logFiles: [entry(M1), entry(M2)],
  mergedRawFiles: [{ key: RAW, since: '2026-11-25T10:00:00+00:00' }],
};

describe('planDeletions', () => {
  it('keeps the raw files that hold pieces of an unfinished line, however old their commit', () => {
    const RAW2 = RAW.replace('_1.gz', '_2.gz');
    const RAW3 = RAW.replace('_1.gz', '_3.gz');
    const since = '2026-11-25T10:00:00+00:00';
    const meta: PodMetadata = {
      ...META,
      mergedRawFiles: [RAW, RAW2, RAW3].map((key) => ({ key, since })),
      unfinishedLines: [
        {
          stream: 'stderr',
          key: RAW2,
          line: 4,
          files: [
            { key: RAW2, line: 4 },
            { key: RAW3, line: 1 },
          ],
        },
      ],
    };
    expect(planDeletions(meta, [listed(M1), listed(M2)], NOW, 30 * 60_000)).toEqual({
      raw: [RAW],
      retired: [],
      orphans: [],
      later: 2,
    });
  });

  it('makes a merged raw file due once the cleanup interval has passed since its commit', () => {
    expect(planDeletions(META, [listed(M1), listed(M2)], NOW, 30 * 60_000)).toEqual({
      raw: [RAW],
      retired: [],
      orphans: [],
      later: 0,
    });
  });

  it.each([
    ['the last listed file', M2, [listed(M1)]],
    ['an earlier listed file', M1, [listed(M2)]],
    ['every listed file', M1, []],
  ])('refuses to plan anything when %s is missing from data/{pod}/', (_what, missing, objects) => {
    let caught: unknown;
    try {
      planDeletions(META, objects, NOW, 30 * 60_000);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(MergedFileMissingError);
    expect(caught).toMatchObject({ code: 'ERR_MERGED_FILE_MISSING', pod: 'job-1', key: missing });
    expect((caught as Error).message).toMatch(
      new RegExp(
        `^pod job-1: metadata/job-1\\.json lists ${missing.replace(/\./g, '\\.')}, which is not in the bucket`,
      ),
    );
  });

  it('does not check files of another layout (the Python service lists its own prefix)', () => {
    const meta = { ...META, logFiles: [entry('logs/job-1/202611251000.gz'), entry(M1)] };
    expect(() => assertListedFilesPresent(meta, [listed(M1)])).not.toThrow();
  });

  it('does not check retired files (deleted first, then dropped from the metadata)', () => {
    const meta = { ...META, logFiles: [entry(M2)], retiredFiles: [{ key: M1, since: '2026-11-25T10:00:00+00:00' }] };
    expect(planDeletions(meta, [listed(M2)], NOW, 30 * 60_000).retired).toEqual([M1]);
  });
});

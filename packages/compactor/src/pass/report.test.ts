import { describeDryRun, formatBytes, summarize, ZERO_COUNTS, type PodReport } from './report.js';

function report(pod: string, fields: Partial<PodReport> = {}): PodReport {
  return { pod, phase: 'merge', status: 'merged', ...ZERO_COUNTS, durationMs: 5, ...fields };
}

describe('summarize', () => {
  it('counts pods by status and sums what they read, wrote and deleted', () => {
    const summary = summarize(
      [
        report('job-1', {
          rawFilesRead: 3,
          rawFilesMerged: 3,
          bytesRead: 300,
          mergedFilesWritten: 1,
          bytesWritten: 120,
          deletedRaw: 2,
        }),
        report('job-2', {
          rawFilesRead: 1,
          rawFilesMerged: 1,
          bytesRead: 50,
          mergedFilesWritten: 2,
          bytesWritten: 80,
          deletedMerged: 1,
          unreadableObjects: 1,
          unreadable: [{ key: 'K2', reason: 'gzip: incorrect header check' }],
        }),
        report('job-3', { phase: 'clean', status: 'cleaned', deletedRaw: 4, deletedOrphans: 1 }),
        report('job-4', { status: 'skipped', reason: 'compacted 3 min ago' }),
        report('job-5', { status: 'busy', reason: 'pod job-5 is being processed by host/1' }),
        report('job-6', { status: 'failed', reason: 'pod job-6: object K is corrupt' }),
        report('job-7', { phase: 'expire', status: 'expired', expiredObjects: 5, expiredBytes: 900 }),
        // A mark deletes nothing yet: its counts are not the pass's.
        report('job-8', { phase: 'expire', status: 'expiring', expiredObjects: 3, expiredBytes: 40 }),
      ],
      false,
      1234,
    );
    expect(summary).toEqual({
      dryRun: false,
      bucketHasLogs: true,
      pods: { merged: 2, cleaned: 1, skipped: 1, busy: 1, failed: 1, expiring: 1, expired: 1 },
      rawFilesRead: 4,
      rawFilesMerged: 4,
      mergedFilesWritten: 3,
      objectsDeleted: 8,
      bytesRead: 350,
      bytesWritten: 200,
      expiredObjects: 5,
      expiredBytes: 900,
      failures: [{ pod: 'job-6', error: 'pod job-6: object K is corrupt' }],
      busy: [{ pod: 'job-5', reason: 'pod job-5 is being processed by host/1' }],
      otherContainers: {
        surveyed: false,
        containers: 0,
        objects: 0,
        bytes: 0,
        expiredObjects: 0,
        expiredBytes: 0,
        failed: 0,
      },
      orphanPodsQueued: 0,
      unreadableObjects: 1,
      unreadable: [{ pod: 'job-2', key: 'K2', reason: 'gzip: incorrect header check' }],
      durationMs: 1234,
    });
  });

  it.each([
    ['failed', 'failures', { pod: 'job-1', error: 'unknown error' }],
    ['busy', 'busy', { pod: 'job-1', reason: 'another compactor holds its lease' }],
  ] as const)('names a %s pod without a reason, never leaves it out', (status, list, entry) => {
    expect(summarize([report('job-1', { status })], true, 0)[list]).toEqual([entry]);
  });

  it('is all zeros for a pass with no pods', () => {
    expect(summarize([], true, 7)).toMatchObject({
      dryRun: true,
      pods: { merged: 0, cleaned: 0, skipped: 0, busy: 0, failed: 0 },
      objectsDeleted: 0,
      failures: [],
      busy: [],
    });
  });
});

describe('describeDryRun', () => {
  it.each<[string, PodReport, string]>([
    [
      'a merge',
      report('job-1', {
        rawFilesMerged: 90,
        bytesRead: 2.4 * 1024 * 1024,
        mergedFilesWritten: 1,
        recordsWritten: 7388,
      }),
      'merge job-1: would merge 90 raw file(s) (2.4 MiB read) into 1 merged file(s) of 7388 line(s)',
    ],
    [
      'a merge that holds files back and deletes',
      report('job-1', {
        rawFilesMerged: 2,
        bytesRead: 100,
        mergedFilesWritten: 1,
        recordsWritten: 4,
        rawFilesHeldBack: 3,
        deletedRaw: 5,
        deletedMerged: 1,
        deletedOrphans: 2,
      }),
      'merge job-1: would merge 2 raw file(s) (100 B read) into 1 merged file(s) of 4 line(s); would keep 3 raw file(s) for the pieces of a line not finished yet; ' +
        'would delete 8 object(s): 5 merged raw, 1 replaced merged, 2 orphaned',
    ],
    [
      'a clean',
      report('job-2', { phase: 'clean', status: 'cleaned', deletedRaw: 7 }),
      'clean job-2: would delete 7 object(s): 7 merged raw, 0 replaced merged, 0 orphaned',
    ],
    [
      'a skipped pod',
      report('job-3', { status: 'skipped', reason: 'compacted 3 min ago' }),
      'merge job-3: nothing to do (compacted 3 min ago)',
    ],
    ['a pod with nothing to do', report('job-3', { phase: 'clean', status: 'cleaned' }), 'clean job-3: nothing to do'],
    [
      'a failed pod',
      report('job-4', { status: 'failed', reason: 'pod job-4: object K is corrupt' }),
      'merge job-4: FAILED: pod job-4: object K is corrupt',
    ],
    [
      'a busy pod',
      report('job-5', { status: 'busy', reason: 'held by host/1' }),
      'merge job-5: left alone: held by host/1',
    ],
  ])('says what it would do for %s, in one line', (_name, r, line) => {
    expect(describeDryRun(r)).toBe(line);
  });
});

describe('formatBytes', () => {
  it.each([
    [0, '0 B'],
    [1023, '1023 B'],
    [1024, '1.0 KiB'],
    [1536, '1.5 KiB'],
    [10 * 1024 * 1024, '10.0 MiB'],
    [3 * 1024 ** 4, '3.0 TiB'],
    [5 * 1024 ** 5, '5120.0 TiB'],
  ])('writes %d bytes as %s', (bytes, text) => {
    expect(formatBytes(bytes)).toBe(text);
  });
});

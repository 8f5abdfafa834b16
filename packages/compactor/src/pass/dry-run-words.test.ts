import { inDryRunWords, reportMessage } from './dry-run-words.js';
import { summarize, ZERO_COUNTS, type PodReport } from './report.js';

const report = (status: PodReport['status']): PodReport => ({
  pod: 'job-1',
  phase: 'clean',
  status,
  ...ZERO_COUNTS,
  deletedRaw: 3,
  durationMs: 1,
});

describe('inDryRunWords', () => {
  it('names what a pass does by what it would do, at every depth, and keeps what it read', () => {
    const words = inDryRunWords(summarize([report('cleaned')], true, 5));
    expect(words).toMatchObject({
      dryRun: true,
      pods: { wouldClean: 1, wouldMerge: 0, skipped: 0, busy: 0, failed: 0, wouldMarkExpiring: 0, wouldExpire: 0 },
      objectsToDelete: 3,
      rawFilesToMerge: 0,
      mergedFilesToWrite: 0,
      bytesToWrite: 0,
      objectsToExpire: 0,
      bytesToExpire: 0,
      orphanPodsToQueue: 0,
      otherContainers: { objectsToExpire: 0, bytesToExpire: 0, objects: 0 },
      rawFilesRead: 0,
      bytesRead: 0,
    });
    expect(JSON.stringify(words)).not.toMatch(/"(objectsDeleted|merged|cleaned|expired|expiredObjects)"/);
  });

  it.each([
    ['merged', 'wouldMerge', 'would merge pod'],
    ['cleaned', 'wouldClean', 'would clean pod'],
    ['expiring', 'wouldMarkExpiring', 'would mark pod expiring'],
    ['expired', 'wouldExpire', 'would expire pod'],
    ['skipped', 'skipped', 'pod skipped'],
    ['busy', 'busy', 'pod busy'],
  ] as const)('a pod %s: status %s, message %j (a real run: "pod %s")', (status, dryStatus, message) => {
    expect(inDryRunWords(report(status))).toMatchObject({ status: dryStatus, rawToDelete: 3 });
    expect(reportMessage(report(status), true)).toBe(message);
    expect(reportMessage(report(status), false)).toBe(`pod ${status}`);
  });
});

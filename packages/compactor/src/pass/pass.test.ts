import { combinePhases } from './pass.js';
import { ZERO_COUNTS, summarize, type PodReport } from './report.js';

const report = (fields: Partial<PodReport> & Pick<PodReport, 'pod' | 'phase' | 'status'>): PodReport => ({
  ...ZERO_COUNTS,
  durationMs: 1,
  ...fields,
});

describe('combinePhases', () => {
  it('sums what a pod did in both phases and keeps the status of the last one', () => {
    const merge = report({
      pod: 'job-1',
      phase: 'merge',
      status: 'skipped',
      reason: 'held back',
      deletedRaw: 3,
      rawFilesRead: 4,
      bytesRead: 400,
    });
    const clean = report({ pod: 'job-1', phase: 'clean', status: 'cleaned', deletedMerged: 1, deletedOrphans: 2 });
    const other = report({ pod: 'job-2', phase: 'merge', status: 'merged', rawFilesMerged: 5 });

    const combined = combinePhases([merge, other, clean]);

    expect(combined).toHaveLength(2);
    expect(combined[0]).toMatchObject({
      pod: 'job-1',
      status: 'cleaned',
      deletedRaw: 3,
      deletedMerged: 1,
      deletedOrphans: 2,
      rawFilesRead: 4,
      bytesRead: 400,
      durationMs: 2,
    });
    const summary = summarize(combined, false, 10);
    expect(summary).toMatchObject({ objectsDeleted: 6, rawFilesRead: 4, bytesRead: 400, rawFilesMerged: 5 });
    expect(summary.pods).toMatchObject({ merged: 1, cleaned: 1, skipped: 0 });
  });

  it("keeps the first phase's reason when the last one gives none", () => {
    const [only] = combinePhases([
      report({ pod: 'job-1', phase: 'merge', status: 'skipped', reason: 'compacted recently' }),
      report({ pod: 'job-1', phase: 'clean', status: 'cleaned' }),
    ]);
    expect(only?.reason).toBe('compacted recently');
  });
});

// Found in review (issue 6), fixed since: clean.ts cleanPod deletes `cleanup/{pod}` unconditionally after lease.confirm().
// A holder that stalls between that confirm and the DeleteObject (past its lease) can delete
// the marker after another compactor took the pod over, merged new raw files and put the
// marker again. From then on nothing deletes those raw files: the merge phase skips a pod
// with no new raw files before deleting what is due (merge.ts skipReason), and the clean
// phase only visits pods in the queue. The raw files merged by the takeover stay forever
// (docs/design.md §4/§5: a merged raw file is deleted once the cleanup interval has passed).
import { cleanupKey } from '@platform/log-reader';
import { stallingAt } from './support/hooks.js';
import { HOUR, MINUTE, messages, newWorld } from './support/world.js';

const T0 = new Date('2026-11-25T10:00:00Z');

describe('a stalled holder deleting cleanup/{pod} after a takeover', () => {
  it('does not leave merged raw files that are never deleted', async () => {
    const w = await newWorld('rv-stall-cleanup');
    const fb = w.container('job-1', '0f3a');
    await fb.upload(messages('a', 2, T0));
    await w.pass();
    expect(await w.keys('cleanup/')).toEqual([cleanupKey('job-1')]);

    // 31 minutes on: the merge phase skips the pod (compacted less than the compact interval
    // ago), the clean phase deletes its raw file, has nothing left and deletes the marker —
    // and stalls right before that DeleteObject, for longer than its lease.
    w.advance(31 * MINUTE);
    let late = '';
    const stalled = stallingAt(1, async () => {
      w.advance(10 * MINUTE);
      late = await fb.upload(messages('b', 2, new Date(T0.getTime() + 40 * MINUTE)));
      const takeover = await w.pass({ compactIntervalMs: 0 });
      expect(takeover.reports.find((r) => r.pod === 'job-1')).toMatchObject({ phase: 'merge', status: 'merged' });
    }, { skip: (command, key) => !(command === 'DeleteObjectCommand' && key === cleanupKey('job-1')) });
    await w.passWith(stalled);
    expect(late).not.toBe('');
    expect((await w.metadata('job-1')).mergedRawFiles?.map((p) => p.key)).toEqual([late]);

    // Hours later, pass after pass: the raw file the takeover merged must go.
    for (let i = 0; i < 3; i++) {
      w.advance(HOUR);
      await w.pass();
    }
    expect(await w.keys('kube.')).toEqual([]);
  });
});

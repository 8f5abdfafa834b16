// Found in review 2 (issue 6), fixed since: clean.ts leaveQueue deletes cleanup/{pod} and only then re-loads the pod to put
// the entry back if a takeover gave it new work. A holder that stalled (past its lease) right
// before that DeleteObject, and is killed right after it (a stalled process is what a
// CronJob's activeDeadlineSeconds or an OOM/eviction kills), removes the entry that the
// takeover put for the raw files it merged, and never puts it back. The pod then never
// reaches the clean phase again (the merge phase skips a pod with no new raw files): the
// takeover's merged raw files are never deleted (docs/design.md §5: due once the cleanup interval
// has passed; §6: a crash or kill at any point of a pass).
import { cleanupKey } from '@platform/log-reader';
import { InjectedCrash, stallingAt } from './support/hooks.js';
import { testS3Client } from './support/s3.js';
import { HOUR, MINUTE, messages, newWorld } from './support/world.js';

const T0 = new Date('2026-11-25T10:00:00Z');

describe('a stalled holder killed right after deleting cleanup/{pod}', () => {
  it('does not leave the takeover\'s merged raw files undeleted for good', async () => {
    const w = await newWorld('rv2-leave-crash');
    const fb = w.container('job-1', '0f3a');
    await fb.upload(messages('a', 2, T0));
    await w.pass();
    expect(await w.keys('cleanup/')).toEqual([cleanupKey('job-1')]);

    w.advance(31 * MINUTE);
    // The process dies once its DeleteObject of cleanup/job-1 has gone through.
    const dying = testS3Client();
    let dead = false;
    dying.middlewareStack.add(
      (next, context) => async (args) => {
        if (dead) throw new InjectedCrash(0, context.commandName ?? 'unknown');
        const result = await next(args);
        if (context.commandName === 'DeleteObjectCommand' && (args.input as { Key?: string }).Key === cleanupKey('job-1')) dead = true;
        return result;
      },
      { step: 'initialize', name: 'dieAfterLeavingQueue' },
    );
    let late = '';
    const stalled = stallingAt(1, async () => {
      w.advance(10 * MINUTE);
      late = await fb.upload(messages('b', 2, new Date(T0.getTime() + 40 * MINUTE)));
      const takeover = await w.pass({ compactIntervalMs: 0 });
      expect(takeover.reports.find((r) => r.pod === 'job-1')).toMatchObject({ phase: 'merge', status: 'merged' });
    }, { client: dying, skip: (command, key) => !(command === 'DeleteObjectCommand' && key === cleanupKey('job-1')) });
    await w.passWith(stalled).catch(() => undefined);
    expect(dead).toBe(true);
    expect(late).not.toBe('');
    expect((await w.metadata('job-1')).mergedRawFiles?.map((p) => p.key)).toEqual([late]);

    for (let i = 0; i < 3; i++) {
      w.advance(HOUR);
      await w.pass();
    }
    expect(await w.keys('kube.')).toEqual([]);
  });
});

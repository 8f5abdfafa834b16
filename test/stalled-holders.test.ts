// A compactor that stalls past its lease (a paused process, a slow node) and resumes after
// another took its pods over must not undo the takeover's work (docs/design.md §6: one writer per pod;
// no loss; a crash or kill at any point of a pass): the raw files the takeover merged are still
// deleted once the cleanup interval has passed (docs/design.md §4/§5), and the metadata never lists a
// merged file that was deleted.
import { cleanupKey } from '@platform/log-reader/layout';
import { metadataKey } from '@platform/log-reader/layout';
import { InjectedCrash, stallingAt } from './support/hooks.js';
import { testS3Client } from './support/s3.js';
import { isCleanupDelete, passHoursLater, takeOver, uploadedPod } from './support/stalled-holders.js';
import { HOUR, MINUTE } from './support/world.js';

describe('a stalled holder deleting cleanup/{pod} after a takeover', () => {
  // 31 minutes after the first pass: the merge phase skips the pod (compacted less than the
  // compact interval ago), the clean phase deletes its raw file, has nothing left and deletes
  // the marker — and stalls right before that DeleteObject, for longer than its lease. The
  // takeover merges a new raw file and puts the marker again meanwhile.
  it('does not leave merged raw files that are never deleted', async () => {
    const { w, fb } = await uploadedPod('stalled-cleanup-delete', 2);
    await w.pass();
    expect(await w.keys('cleanup/')).toEqual([cleanupKey('job-1')]);

    w.advance(31 * MINUTE);
    let late = '';
    const stalled = stallingAt(
      1,
      async () => {
        const result = await takeOver(w, fb);
        late = result.late;
        expect(result.takeover.reports.find((r) => r.pod === 'job-1')).toMatchObject({
          phase: 'merge',
          status: 'merged',
        });
      },
      { skip: (command, key) => !isCleanupDelete(command, key) },
    );
    await w.passWith(stalled);
    expect(late).not.toBe('');
    expect((await w.metadata('job-1')).mergedRawFiles?.map((p) => p.key)).toEqual([late]);

    // Hours later, pass after pass: the raw file the takeover merged must go.
    await passHoursLater(w);
    expect(await w.keys('kube.')).toEqual([]);
  });
});

describe('a stalled holder killed right after deleting cleanup/{pod}', () => {
  // The holder stalls (past its lease) right before it takes the pod off the cleanup queue and
  // is killed right after (a stalled process is what a CronJob's activeDeadlineSeconds or an
  // OOM/eviction kills): the entry the takeover put for the raw files it merged must not be lost.
  it("does not leave the takeover's merged raw files undeleted for good", async () => {
    const { w, fb } = await uploadedPod('stalled-killed-after-cleanup-delete', 2);
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
        if (
          context.commandName === 'DeleteObjectCommand' &&
          (args.input as { Key?: string }).Key === cleanupKey('job-1')
        )
          dead = true;
        return result;
      },
      { step: 'initialize', name: 'dieAfterLeavingQueue' },
    );
    let late = '';
    const stalled = stallingAt(
      1,
      async () => {
        const result = await takeOver(w, fb);
        late = result.late;
        expect(result.takeover.reports.find((r) => r.pod === 'job-1')).toMatchObject({
          phase: 'merge',
          status: 'merged',
        });
      },
      { client: dying, skip: (command, key) => !isCleanupDelete(command, key) },
    );
    await w.passWith(stalled).catch(() => undefined);
    expect(dead).toBe(true);
    expect(late).not.toBe('');
    expect((await w.metadata('job-1')).mergedRawFiles?.map((p) => p.key)).toEqual([late]);

    await passHoursLater(w);
    expect(await w.keys('kube.')).toEqual([]);
  });
});

const isCommit = (command: string, key: string): boolean =>
  command === 'PutObjectCommand' && key === metadataKey('job-1');

describe('a stalled commit landing after a takeover deleted its files', () => {
  // The holder merged (its file is written), confirmed its lease and stalls before its metadata
  // PUT; the takeover, working from the same metadata, takes the holder's merged file for a
  // crashed pass's leftover and deletes it, and is about to commit when the stalled PUT lands.
  it('never leaves metadata that lists deleted merged files', async () => {
    const { w } = await uploadedPod('stalled-commit', 3);
    const expected = (await w.records('job-1')).map((r) => r.message);

    let takeover: Promise<unknown> | undefined;
    let stalledDone: Promise<unknown> | undefined; // eslint-disable-line prefer-const -- the hook above reads it
    let takeoverAtCommit!: () => void;
    const atCommit = new Promise<void>((resolve) => (takeoverAtCommit = resolve));
    // The first holder merged (its file is written) and confirmed its lease; its commit stalls
    // for 40 minutes — past its lease and past the cleanup interval.
    const stalled = stallingAt(
      1,
      async () => {
        w.advance(40 * MINUTE);
        // A second compactor takes the pod over, deletes what it takes for leftovers, merges
        // again, and is about to commit when the stalled PUT finally reaches the store.
        const second = stallingAt(
          1,
          async () => {
            takeoverAtCommit();
            await stalledDone;
          },
          { skip: (command, key) => !isCommit(command, key) },
        );
        takeover = w.passWith(second);
        await atCommit;
      },
      { skip: (command, key) => !isCommit(command, key) },
    );
    stalledDone = w.passWith(stalled);
    await stalledDone;
    await takeover;

    const listed = (await w.metadata('job-1')).logFiles.map((f) => f.key);
    const present = await w.keys('data/');
    expect(listed.filter((k) => !present.includes(k))).toEqual([]);
    expect((await w.records('job-1')).map((r) => r.message)).toEqual(expected);
    w.advance(HOUR);
    await w.pass();
    expect((await w.records('job-1')).map((r) => r.message)).toEqual(expected);
  });
});

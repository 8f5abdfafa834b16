// Found in review (issue 6), fixed since: a holder that stalls after lease.confirm() and before its metadata PUT reaches the
// store (commit.ts commit) can still commit after a takeover, as long as the takeover has not
// committed yet: the PUT is conditional on the metadata's ETag only, and nothing changed it.
// Meanwhile the takeover, working from the same metadata, took the stalled holder's merged
// files for a crashed pass's leftovers (deletions.ts planDeletions: unlisted under data/{pod}/
// and older than the cleanup interval) and deleted them. The stalled commit then lists
// deleted files: every read fails (ObjectVanishedError), and every later pass fails the pod
// (MergedFileMissingError) — the records are in raw files the metadata calls merged.
// docs/design.md §6: one writer per pod (a stalled holder must not write after a takeover); no loss.
import { metadataKey } from '@platform/log-reader';
import { stallingAt } from './support/hooks.js';
import { HOUR, MINUTE, messages, newWorld } from './support/world.js';

const T0 = new Date('2026-11-25T10:00:00Z');
const isCommit = (command: string, key: string): boolean => command === 'PutObjectCommand' && key === metadataKey('job-1');

describe('a stalled commit landing after a takeover deleted its files', () => {
  it('never leaves metadata that lists deleted merged files', async () => {
    const w = await newWorld('rv-stall-commit');
    const fb = w.container('job-1', '0f3a');
    await fb.upload(messages('a', 3, T0));
    const expected = (await w.records('job-1')).map((r) => r.message);

    let takeover: Promise<unknown> | undefined;
    let stalledDone: Promise<unknown> | undefined;
    let takeoverAtCommit!: () => void;
    const atCommit = new Promise<void>((resolve) => (takeoverAtCommit = resolve));
    // The first holder merged (its file is written) and confirmed its lease; its commit stalls
    // for 40 minutes — past its lease and past the cleanup interval.
    const stalled = stallingAt(1, async () => {
      w.advance(40 * MINUTE);
      // A second compactor takes the pod over, deletes what it takes for leftovers, merges
      // again, and is about to commit when the stalled PUT finally reaches the store.
      const second = stallingAt(1, async () => {
        takeoverAtCommit();
        await stalledDone;
      }, { skip: (command, key) => !isCommit(command, key) });
      takeover = w.passWith(second);
      await atCommit;
    }, { skip: (command, key) => !isCommit(command, key) });
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

// `compactor inspect` against a real S3 server: what it shows of a pod after a pass (merged
// files, raw files not merged yet, an open line, due times), the lease and the cleanup queue,
// through the library and the built CLI, and that it never writes.
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { cleanupKey, metadataKey, parseTime } from '@platform/log-reader/layout';
import type { Bucket } from '@platform/log-reader/s3';
import { parsedLine, putRaw } from '@platform/testkit';
import { inspectPod, type PodInspection, Lease } from 'compactor';
import { COMPACTOR_BIN, runCli, s3Env } from './support/cli.js';
import { testS3Client } from './support/s3.js';
import { MINUTE, newWorld, type World } from './support/world.js';

const CLEANUP = 30 * MINUTE;

/**
 * job-1 after one pass: `done` merged, `open` merged but holding a line's first piece, `late` uploaded after the pass.
 */
async function podAfterPass(w: World): Promise<{ done: string; open: string; late: string }> {
  const fb = w.container('job-1', '0f3a');
  const done = await fb.uploadLines([parsedLine({ time: '2026-11-25T10:00:00Z', log: 'whole' })], '202611251000');
  const open = await fb.uploadLines(
    [parsedLine({ time: '2026-11-25T10:00:01Z', log: 'first half ', logtag: 'P' })],
    '202611251000',
  );
  await w.pass({ cleanupIntervalMs: CLEANUP });
  const late = await fb.uploadLines(
    [parsedLine({ time: '2026-11-25T10:02:00Z', log: 'on stderr', stream: 'stderr' })],
    '202611251002',
  );
  return { done, open, late };
}

function inspect(w: World, pod: string, options: { namespace?: string } = {}): Promise<PodInspection> {
  return inspectPod({ client: w.client, bucket: w.bucket }, pod, {
    now: w.now(),
    cleanupIntervalMs: CLEANUP,
    ...options,
  });
}

const ms = (iso: string | null): number => Number((parseTime(iso ?? '') ?? -1n) / 1_000_000n);

describe('compactor inspect', () => {
  it('shows merged files, raw files not merged yet, the open line and when each pending deletion is due', async () => {
    const w = await newWorld('inspect');
    const { done, open, late } = await podAfterPass(w);
    const meta = await w.metadata('job-1');
    const committedAt = meta.mergedRawFiles?.find((p) => p.key === done)?.since ?? '';

    const i = await inspect(w, 'job-1');

    expect(i).toMatchObject({
      pod: 'job-1',
      bucket: w.bucket,
      found: true,
      namespaces: ['jobs'],
      containerIds: ['0f3a'],
      problems: [],
    });
    expect(i.metadata).toMatchObject({
      key: metadataKey('job-1'),
      exists: true,
      writtenBy: 'compactor',
      commitId: meta.commitId,
      lastMergedKey: done,
    });
    const stored = new Map((await w.listing()).map((o) => [o.key, o.size]));
    expect(i.mergedFiles).toEqual(
      meta.logFiles.map((f) => ({
        key: f.key,
        records: f.recordsCount,
        size: f.size,
        storedSize: stored.get(f.key),
        firstRecordTime: f.firstRecordTime,
        lastRecordTime: f.lastRecordTime,
      })),
    );
    expect(i.mergedTotals).toMatchObject({ files: 1, records: 1 });
    expect(i.unmergedRawFiles.map((f) => f.key)).toEqual([late]);
    expect(i.unfinishedLines).toEqual([
      { stream: 'stdout', key: open, line: 1, files: [{ key: open, line: 1, present: true }] },
    ]);
    // Due one cleanup interval after the commit that merged it; the open line's file is kept.
    expect(i.pendingDeletions).toEqual([
      {
        key: done,
        kind: 'merged-raw',
        since: committedAt,
        dueAt: expect.any(String),
        due: false,
        heldForUnfinishedLine: false,
      },
      { key: open, kind: 'merged-raw', since: committedAt, dueAt: null, due: false, heldForUnfinishedLine: true },
    ]);
    expect(ms(i.pendingDeletions[0]!.dueAt)).toBe(ms(committedAt) + CLEANUP);
    expect(i.cleanupQueue).toMatchObject({ key: cleanupKey('job-1'), present: true });
    // Released by the pass: gone, or kept as released where DELETE ignores If-Match (lease.ts).
    expect(i.lease.live).toBe(false);
    expect(i.lease.present ? i.lease.releasedAt : 'absent').toEqual(expect.any(String));
    // Compacted a moment ago: no merge before the compact interval has passed.
    expect(i.nextPass).toMatchObject({ fails: null, busy: false, merge: false, deleteObjects: 0, deleteLater: 2 });
    expect(i.nextPass.mergeSkipReason).toMatch(/less than the compact interval ago/);
  });

  it('says due exactly what the next pass deletes', async () => {
    const w = await newWorld('inspect-due');
    const { done, open } = await podAfterPass(w);
    w.advance(CLEANUP + MINUTE);

    const i = await inspect(w, 'job-1');
    expect(i.pendingDeletions.filter((p) => p.due).map((p) => p.key)).toEqual([done]);
    expect(i.nextPass).toMatchObject({ deleteObjects: 1, deleteLater: 1 });

    const { summary } = await w.pass({ cleanupIntervalMs: CLEANUP });
    expect(summary.objectsDeleted).toBe(1);
    expect(await w.keys('kube.')).not.toContain(done);
    expect(await w.keys('kube.')).toContain(open);
  });

  it('shows who holds the lease until when, and a lease that has expired', async () => {
    const w = await newWorld('inspect-lease');
    await podAfterPass(w);
    const lease = await Lease.acquire({
      store: { client: w.client, bucket: w.bucket },
      pod: 'job-1',
      holder: 'node-7/42/cafe',
      durationMs: 5 * MINUTE,
      clock: w.now,
    });
    try {
      const held = await inspect(w, 'job-1');
      expect(held.lease).toMatchObject({ present: true, holder: 'node-7/42/cafe', live: true });
      expect(Date.parse(held.lease.expiresAt ?? '')).toBeGreaterThan(w.now().getTime());
      expect(held.nextPass.busy).toBe(true);

      w.advance(6 * MINUTE);
      const expired = await inspect(w, 'job-1');
      expect(expired.lease).toMatchObject({
        present: true,
        holder: 'node-7/42/cafe',
        expiresAt: held.lease.expiresAt,
        live: false,
      });
      expect(expired.nextPass.busy).toBe(false);
    } finally {
      await lease.release();
    }
  });

  it('shows a lease its holder released, where the store keeps it so, as not held: the next pass is not busy', async () => {
    const w = await newWorld('inspect-lease-released');
    await podAfterPass(w);
    const store = { client: w.client, bucket: w.bucket };
    const options = { store, pod: 'job-1', holder: 'node-7/42/cafe', durationMs: 5 * MINUTE, clock: w.now };
    // As on a store that does not enforce If-Match on DELETE (LocalStack): rewritten as released.
    const lease = await Lease.acquire({ ...options, conditionalDeletes: false });
    await lease.release();

    const released = await inspect(w, 'job-1');

    expect(released.lease).toMatchObject({ present: true, holder: 'node-7/42/cafe', live: false });
    expect(Date.parse(released.lease.releasedAt ?? '')).toBeLessThanOrEqual(w.now().getTime());
    expect(released.nextPass.busy).toBe(false);
  });

  it('reads and never writes: only GET, HEAD and LIST requests, the bucket unchanged', async () => {
    const w = await newWorld('inspect-readonly');
    await podAfterPass(w);
    const before = await w.listing();
    const client = testS3Client();
    const commands: string[] = [];
    // Counts what the real client sends to the real server; nothing is answered in its place.
    client.middlewareStack.add(
      (next, context) => async (args) => {
        commands.push(context.commandName ?? 'unknown');
        return next(args);
      },
      { step: 'initialize', name: 'countCommands' },
    );
    const store: Bucket = { client, bucket: w.bucket };

    await inspectPod(store, 'job-1', { now: w.now(), cleanupIntervalMs: CLEANUP });
    await inspectPod(store, 'job-nothing', { now: w.now(), cleanupIntervalMs: CLEANUP });

    expect(new Set(commands)).toEqual(new Set(['GetObjectCommand', 'ListObjectsV2Command', 'HeadObjectCommand']));
    expect(await w.listing()).toEqual(before);
  });

  it('names the namespaces of a pod seen in two and the other containers it leaves alone', async () => {
    const w = await newWorld('inspect-namespaces');
    for (const namespace of ['team-a', 'team-b']) {
      await putRaw(w.client, w.bucket, {
        pod: 'job-2',
        namespace,
        containerId: 'ab12',
        slice: '202611251000',
        index: 1,
        lines: [parsedLine({ time: '2026-11-25T10:00:00Z', log: 'x' })],
      });
    }
    await putRaw(w.client, w.bucket, {
      pod: 'job-2',
      namespace: 'team-a',
      container: 'istio-proxy',
      containerId: 'ff00',
      slice: '202611251000',
      index: 2,
      lines: ['{}'],
    });

    const both = await inspect(w, 'job-2');
    expect(both.namespaces).toEqual(['team-a', 'team-b']);
    expect(both.problems.map((p) => p.code)).toEqual(['ERR_POD_NAMESPACE_CONFLICT']);
    expect(both.nextPass).toMatchObject({ merge: false, deleteObjects: 0 });
    expect(both.nextPass.fails).toMatch(/several namespaces \(team-a, team-b\)/);
    expect(both.otherContainers).toEqual([{ namespace: 'team-a', container: 'istio-proxy', rawFiles: 1 }]);

    const one = await inspect(w, 'job-2', { namespace: 'team-b' });
    expect(one.unmergedRawFiles.map((f) => f.key)).toEqual([expect.stringContaining('job-2_team-b_job-2-ab12')]);
  });

  it("takes a Python service document's raw files up to last_merged_key as merged, due from its last compaction", async () => {
    const w = await newWorld('inspect-python');
    const fb = w.container('job-3', '0f3a');
    const first = await fb.uploadLines([parsedLine({ time: '2026-11-25T10:00:00Z', log: 'a' })], '202611251000');
    const second = await fb.uploadLines([parsedLine({ time: '2026-11-25T10:01:00Z', log: 'b' })], '202611251001');
    const compacted = new Date(w.now().getTime() + MINUTE).toISOString().replace('Z', '+00:00');
    const doc = { log_files: [], last_compaction_time: compacted, last_merged_key: first };
    await w.client.send(
      new PutObjectCommand({ Bucket: w.bucket, Key: metadataKey('job-3'), Body: JSON.stringify(doc) }),
    );

    const i = await inspect(w, 'job-3');
    expect(i.metadata).toMatchObject({ writtenBy: 'python-service', commitId: null, lastMergedKey: first });
    expect(i.unmergedRawFiles.map((f) => f.key)).toEqual([second]);
    expect(i.pendingDeletions).toMatchObject([{ key: first, kind: 'merged-raw', since: compacted, due: false }]);
    expect(ms(i.pendingDeletions[0]!.dueAt)).toBe(ms(compacted) + CLEANUP);
  });

  describe('the CLI', () => {
    it('prints the inspection as JSON with --json, and read-only: listing and ETags unchanged', async () => {
      const w = await newWorld('inspect-cli');
      const { done, late } = await podAfterPass(w);
      const before = await w.listing();

      const result = await runCli(
        COMPACTOR_BIN,
        ['inspect', 'job-1', '--bucket', w.bucket, '--cleanup-interval', '30m', '--json'],
        s3Env(),
      );

      expect(result).toMatchObject({ exitCode: 0, stderr: '' });
      const i = JSON.parse(result.stdout) as PodInspection;
      expect(i).toMatchObject({
        pod: 'job-1',
        bucket: w.bucket,
        found: true,
        cleanupIntervalMs: CLEANUP,
        cleanupQueue: { present: true },
      });
      expect(i.unmergedRawFiles.map((f) => f.key)).toEqual([late]);
      const pending = i.pendingDeletions.find((p) => p.key === done);
      expect(ms(pending?.dueAt ?? null)).toBe(ms(pending?.since ?? null) + CLEANUP);
      expect(await w.listing()).toEqual(before);
    });

    it('prints the sections as text', async () => {
      const w = await newWorld('inspect-cli-text');
      const { late } = await podAfterPass(w);

      const result = await runCli(COMPACTOR_BIN, ['inspect', 'job-1', '--bucket', w.bucket], {
        ...s3Env(),
        COMPACTOR_CLEANUP_INTERVAL: '30m',
      });

      expect(result).toMatchObject({ exitCode: 0, stderr: '' });
      expect(result.stdout).toMatch(/^pod job-1: bucket \S+, namespace jobs, container 0f3a\n/);
      expect(result.stdout).toContain('cleanup interval 30m');
      for (const label of [
        'metadata',
        'merged files',
        'not merged yet',
        'unfinished lines',
        'pending deletions',
        'cleanup queue',
        'lease',
        'next pass',
      ]) {
        expect(result.stdout).toMatch(new RegExp(`^${label} +\\S`, 'm'));
      }
      expect(result.stdout).toContain(late);
      expect(result.stdout).toMatch(/merged raw +\S+ +due at \S+ \(in \d+m\)/);
    });

    it('exits 1 with one line for a pod that has no objects, and still prints the empty inspection with --json', async () => {
      const w = await newWorld('inspect-cli-none');

      const text = await runCli(COMPACTOR_BIN, ['inspect', 'job-none', '--bucket', w.bucket], s3Env());
      expect(text).toEqual({
        exitCode: 1,
        stdout: '',
        stderr: `compactor: no objects for pod job-none in bucket ${w.bucket}\n`,
      });

      const json = await runCli(COMPACTOR_BIN, ['inspect', 'job-none', '--bucket', w.bucket, '--json'], s3Env());
      expect(json.exitCode).toBe(1);
      expect(JSON.parse(json.stdout)).toMatchObject({
        pod: 'job-none',
        found: false,
        metadata: { exists: false },
        mergedFiles: [],
        unmergedRawFiles: [],
      });
      expect(json.stderr).toBe(`compactor: no objects for pod job-none in bucket ${w.bucket}\n`);
    });

    it.each([
      [['inspect', 'Job_1', '--bucket', 'b'], /invalid pod name "Job_1"/],
      [['inspect', 'job-1'], /--bucket is required/],
      [
        ['inspect', 'job-1', '--bucket', 'b', '--cleanup-interval', 'soon'],
        /--cleanup-interval: invalid duration "soon"/,
      ],
      [['inspect'], /missing required argument 'pod'/],
      [
        ['inspect', 'job-1', '--bucket', 'no-such-bucket-here'],
        /^compactor: bucket no-such-bucket-here does not exist/,
      ],
    ])('exits 2 with one line for bad usage or set-up: %j', async (args, message) => {
      const result = await runCli(COMPACTOR_BIN, args, s3Env());
      expect(result.exitCode).toBe(2);
      expect(result.stderr).toMatch(message);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      expect(result.stdout).toBe('');
    });
  });
});

// Passes that take a while, and a compactor that stalls past its lease: what every test that
// runs within one minute misses. The clock moves inside a pass
// through SDK middleware on a real client talking to the real server.
import { Writable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import { main } from 'compactor';
import { parseTime, rawPodPrefix, toEpochNs } from '@platform/log-reader/layout';
import { parsedLine } from '@platform/testkit';
import { testS3Client } from './support/s3.js';
import { MINUTE, messages, newWorld } from './support/world.js';

const T0 = new Date('2026-11-25T10:00:00Z');

/** The key (or prefix) a request is about. */
function keyOf(input: unknown): string {
  const i = input as { Key?: unknown; Prefix?: unknown };
  return typeof i.Key === 'string' ? i.Key : typeof i.Prefix === 'string' ? i.Prefix : '';
}

/**
 * Runs `interleave` once, just before the first request of `client` that `when` picks (by
 * command name and key), then lets that request go: a compactor that spends a long time on
 * one pod, or stalls there.
 */
function beforeFirst(
  when: (command: string, key: string) => boolean,
  interleave: () => Promise<void> | void,
  client: S3Client = testS3Client(),
): S3Client {
  let done = false;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (!done && when(context.commandName ?? '', keyOf(args.input))) {
        done = true;
        await interleave();
      }
      return next(args);
    },
    { step: 'initialize', name: 'beforeFirst' },
  );
  return client;
}

describe('a pass that runs for a while', () => {
  it("stamps each pod's commit with the clock at its metadata write, not the pass's start", async () => {
    const w = await newWorld('clock-commit');
    await w.container('job-a', '0a').upload(messages('a', 2, T0));
    await w.container('job-b', '0b').upload(messages('b', 2, T0));
    const start = w.now();
    // job-a (first, with --concurrency 1) takes 40 minutes: a huge pod, or a slow store.
    const slow = beforeFirst(
      (command, key) => command === 'GetObjectCommand' && key.startsWith(rawPodPrefix('job-a')),
      () => w.advance(40 * MINUTE),
    );

    const { summary } = await w.passWith(slow, { concurrency: 1 });

    expect(summary.pods.merged).toBe(2);
    const after = toEpochNs(new Date(start.getTime() + 40 * MINUTE));
    const meta = await w.metadata('job-b');
    expect(parseTime(meta.lastCompactionTime ?? '')).toBeGreaterThanOrEqual(after);
    for (const p of meta.mergedRawFiles ?? []) expect(parseTime(p.since)).toBeGreaterThanOrEqual(after);
    const rawB = await w.keys(rawPodPrefix('job-b'));

    // 25 minutes after job-b's commit (65 after the pass started): a reader that listed
    // job-b's raw files just before that commit may still be reading them.
    w.advance(25 * MINUTE);
    await w.pass();
    expect(await w.keys(rawPodPrefix('job-b'))).toEqual(rawB);

    w.advance(6 * MINUTE);
    await w.pass();
    expect(await w.keys(rawPodPrefix('job-b'))).toEqual([]);
    expect(await w.read('job-b')).toBe('b-0\nb-1\n');
  });

  it('decides what is due with the clock of the moment it deletes', async () => {
    const w = await newWorld('clock-due');
    const fa = w.container('job-a', '0a');
    await fa.upload(messages('a', 2, T0));
    await w.container('job-b', '0b').upload(messages('b', 2, T0));
    await w.pass();
    const rawB = await w.keys(rawPodPrefix('job-b'));
    w.advance(25 * MINUTE);
    await fa.upload(messages('c', 1, T0));
    // The next pass starts 25 minutes after the commits; job-a's merge then takes 10 more.
    const slow = beforeFirst(
      (command, key) => command === 'GetObjectCommand' && key.startsWith(rawPodPrefix('job-a')),
      () => w.advance(10 * MINUTE),
    );

    const { summary } = await w.passWith(slow, { concurrency: 1, compactIntervalMs: 0 });

    // job-b is cleaned 35 minutes after its commit: its merged raw files are due by then.
    expect(summary.pods.merged).toBe(1);
    expect(rawB).toHaveLength(1);
    expect(await w.keys(rawPodPrefix('job-b'))).toEqual([]);
    expect(await w.read('job-b')).toBe('b-0\nb-1\n');
  });
});

describe('a compactor that stalls past its lease', () => {
  it('cannot overwrite the merged file that the compactor which took over committed in the same minute', async () => {
    const w = await newWorld('stalled-merged');
    // Start 5 s into a minute, so that both compactors pick their keys within it.
    const now = w.now().getTime();
    w.advance(MINUTE - (now % MINUTE) + 5_000);
    const fb = w.container('job-1', '0f3a');
    await fb.upload(messages('a', 2, T0));
    const lease = { leaseDurationMs: 30_000 };
    let taker: Awaited<ReturnType<typeof w.pass>> | undefined;
    // A stalls right before it uploads its merged file. Its lease expires, more records
    // arrive, and B takes the pod over, merges everything and commits, in the same minute.
    const stalling = beforeFirst(
      (command, key) =>
        (command === 'PutObjectCommand' || command === 'CreateMultipartUploadCommand') && key.startsWith('data/'),
      async () => {
        w.advance(31_000);
        await fb.upload(messages('b', 2, new Date(T0.getTime() + MINUTE)));
        taker = await w.pass(lease);
      },
    );

    const stalled = await w.passWith(stalling, lease);

    expect(taker?.summary.pods.merged).toBe(1);
    const committed = (await w.metadata('job-1')).logFiles;
    expect(committed).toHaveLength(1);
    expect(stalled.reports.find((r) => r.pod === 'job-1')?.status).toBe('failed');
    // B's commit stands as written: every record once, in order.
    expect(await w.read('job-1')).toBe('a-0\na-1\nb-0\nb-1\n');
    // Even once the raw files are deleted.
    w.advance(31 * MINUTE);
    await w.pass();
    expect(await w.keys(rawPodPrefix('job-1'))).toEqual([]);
    expect(await w.read('job-1')).toBe('a-0\na-1\nb-0\nb-1\n');
  });
});

describe('--namespace', () => {
  it('scopes the clean phase too: pods of other namespaces are neither deleted from nor committed', async () => {
    const w = await newWorld('ns-clean');
    await w.container('job-a', '0a', { namespace: 'team-a' }).upload(messages('a', 2, T0));
    await w.container('job-b', '0b', { namespace: 'team-b' }).upload(messages('b', 2, T0));
    await w.pass();
    const rawB = await w.keys(rawPodPrefix('job-b'));
    const metaB = await w.metadata('job-b');
    w.advance(31 * MINUTE);

    const { reports } = await w.pass({ namespace: 'team-a' });

    expect(new Set(reports.map((r) => r.pod))).toEqual(new Set(['job-a']));
    expect(await w.keys(rawPodPrefix('job-a'))).toEqual([]);
    expect(await w.keys(rawPodPrefix('job-b'))).toEqual(rawB);
    expect(await w.metadata('job-b')).toEqual(metaB);
    // Its own run cleans it.
    await w.pass({ namespace: 'team-b' });
    expect(await w.keys(rawPodPrefix('job-b'))).toEqual([]);
    expect(await w.read('job-b')).toBe('b-0\nb-1\n');
  });
});

describe('a line that stays unfinished for hours', () => {
  it('merges every other record around it and keeps only its pieces back', async () => {
    const w = await newWorld('open-line');
    // The clock an hour behind the store's: the uploads below are recent, the job still writes.
    w.advance(-60 * MINUTE);
    const fb = w.container('job-1', '0f3a');
    const FILES = 300;
    const at = (i: number): string => new Date(T0.getTime() + i * 1000).toISOString();
    // A progress bar on stderr (`\r`, never a newline: 16 KiB `P` pieces) while stdout logs on.
    const keys: string[] = [];
    for (let i = 0; i < FILES; i += 1) {
      keys.push(
        await fb.uploadLines(
          [
            parsedLine({ time: at(i), log: `out-${i}` }),
            parsedLine({ time: at(i), log: `bar-${i}\r`, stream: 'stderr', logtag: 'P' }),
          ],
          '202611251000',
        ),
      );
    }
    const before = await w.read('job-1');

    const { reports } = await w.pass({ maxFileSize: 2048 });

    const merge = reports.find((r) => r.phase === 'merge');
    expect(merge).toMatchObject({
      status: 'merged',
      rawFilesMerged: FILES,
      recordsWritten: FILES,
      rawFilesHeldBack: FILES,
    });
    const meta = await w.metadata('job-1');
    expect(meta.logFiles.reduce((n, f) => n + f.recordsCount, 0)).toBe(FILES);
    expect(meta.unfinishedLines).toEqual([
      { stream: 'stderr', key: keys[0], line: 2, files: keys.map((key) => ({ key, line: 2 })) },
    ]);
    expect(await w.read('job-1')).toBe(before);
    const stdout = Array.from({ length: FILES }, (_, i) => `out-${i}\n`).join('');
    const bar = Array.from({ length: FILES }, (_, i) => `bar-${i}\r`).join('');
    expect(before).toBe(`${stdout}${bar}\n`);

    // The bar ends: its line comes whole, at the place of its last piece.
    await fb.uploadLines(
      [parsedLine({ time: at(FILES), log: 'after' }), parsedLine({ time: at(FILES), log: 'done', stream: 'stderr' })],
      '202611251005',
    );
    const again = await w.pass({ compactIntervalMs: 0 });
    expect(again.reports.find((r) => r.phase === 'merge')).toMatchObject({ rawFilesMerged: 1, rawFilesHeldBack: 0 });
    const done = await w.metadata('job-1');
    expect(done.unfinishedLines).toEqual([]);
    expect(done.logFiles.reduce((n, f) => n + f.recordsCount, 0)).toBe(FILES + 2);
    expect(await w.read('job-1')).toBe(`${stdout}after\n${bar}done\n`);
    const records = await w.records('job-1');
    expect(records.at(-1)).toMatchObject({ stream: 'stderr', time: at(0) });
  });
});

describe('a pass with many pods at once', () => {
  it("merges every pod at --concurrency 32, each reading ahead, through the CLI's own S3 client", async () => {
    const w = await newWorld('concurrency-32');
    const PODS = 48;
    const FILES = 8;
    const pods = Array.from({ length: PODS }, (_, i) => `job-${String(i).padStart(2, '0')}`);
    await Promise.all(
      pods.map(async (pod) => {
        const fb = w.container(pod, '0a');
        for (let f = 0; f < FILES; f += 1)
          await fb.upload(messages(`${pod}-${f}`, 3, new Date(T0.getTime() + f * MINUTE)));
      }),
    );
    const out: string[] = [];
    const sink = (into: string[]): Writable =>
      new Writable({ write: (chunk: Buffer, _e, done) => void (into.push(String(chunk)), done()) });
    const args = ['run', '--bucket', w.bucket, '--endpoint', process.env['S3_TEST_ENDPOINT']!, '--concurrency', '32'];

    expect(await main(args, { stdout: sink(out), stderr: sink([]) })).toBe(0);

    expect(JSON.parse(out.join(''))).toMatchObject({ pods: { merged: PODS, failed: 0 }, rawFilesMerged: PODS * FILES });
    for (const pod of pods.slice(0, 3)) expect((await w.records(pod)).length).toBe(FILES * 3);
  });
});

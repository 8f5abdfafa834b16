// No loss, no duplicates, whatever point a pass dies at (docs/design.md §6): a pass is cut off at
// its k-th S3 request, for every k, then passes run to completion; and the real CLI is
// killed with SIGKILL at seeded random moments. After each, every record uploaded reads
// back exactly once, in order.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { CONDITIONAL_WRITE_CHECK_KEY, dailySurveyKey } from '@platform/log-reader/layout';
import { parsedLine } from '@platform/testkit';
import { COMPACTOR_BIN, s3Env } from './support/cli.js';
import { crashingAt, recording } from './support/hooks.js';
import { unreleasedLeaseKeys } from './support/leases.js';
import { testS3Client } from './support/s3.js';
import { HOUR, MINUTE, messages, newWorld, type World } from './support/world.js';

const T0 = new Date('2026-11-25T10:00:00Z');
const PODS = ['job-1', 'job-2'] as const;

/**
 * A bucket where one pass does every kind of work: job-1 was merged an hour ago (its raw
 * files and an orphan are due for deletion, its last merged file is continued), job-2 is new.
 */
async function richBucket(w: World): Promise<void> {
  const one = w.container('job-1', '0f3a');
  await one.upload(messages('a', 3, T0));
  await w.pass();
  await one.upload(messages('b', 2, new Date(T0.getTime() + HOUR)));
  await w.container('job-2', '0f3b').upload(messages('c', 2, T0));
  await w.client.send(
    new PutObjectCommand({
      Bucket: w.bucket,
      Key: 'data/job-1/0f3a/202611250000_77.gz',
      Body: 'a crashed pass left this',
    }),
  );
  w.advance(2 * HOUR);
}

async function logs(w: World): Promise<Record<string, string>> {
  return Object.fromEntries(await Promise.all(PODS.map(async (pod) => [pod, await w.read(pod, { timestamps: true })])));
}

/** Passes until everything due is done: past any lease a dead pass left, and past the cleanup interval. */
async function recover(w: World): Promise<void> {
  for (let i = 0; i < 3; i++) {
    w.advance(HOUR);
    const { summary } = await w.pass();
    expect(summary.failures).toEqual([]);
  }
}

async function expectTidy(w: World): Promise<void> {
  expect(await w.keys('kube.')).toEqual([]);
  expect(await unreleasedLeaseKeys(w)).toEqual([CONDITIONAL_WRITE_CHECK_KEY, dailySurveyKey({})]);
  expect(await w.keys('cleanup/')).toEqual([]);
  const listed = (
    await Promise.all(PODS.map(async (pod) => (await w.metadata(pod)).logFiles.map((f) => f.key)))
  ).flat();
  expect((await w.keys('data/')).sort()).toEqual(listed.sort());
}

describe('a pass that dies at any point', () => {
  it('loses and duplicates nothing, whichever request it dies at', async () => {
    const probe = await newWorld('crash-probe');
    await richBucket(probe);
    const { client, log } = recording(testS3Client());
    await probe.passWith(client);
    const kinds = new Set(log.commands);
    for (const kind of [
      'ListObjectsV2Command',
      'GetObjectCommand',
      'PutObjectCommand',
      'DeleteObjectsCommand',
      'DeleteObjectCommand',
    ]) {
      expect(kinds).toContain(kind);
    }

    for (let k = 1; k <= log.commands.length; k++) {
      const w = await newWorld(`crash-${k}`);
      await richBucket(w);
      const expected = await logs(w);

      await w.passWith(crashingAt(k)).catch(() => undefined);

      expect({ k, command: log.commands[k - 1], logs: await logs(w) }).toEqual({
        k,
        command: log.commands[k - 1],
        logs: expected,
      });
      await recover(w);
      expect({ k, logs: await logs(w) }).toEqual({ k, logs: expected });
      await expectTidy(w);
    }
  }, 600_000);

  it('loses nothing when it dies inside a multipart upload', async () => {
    // Incompressible lines: the merged gzip passes lib-storage's 5 MiB part size.
    const big = Array.from({ length: 7500 }, (_, i) =>
      parsedLine({
        time: `2026-11-25T10:00:00.${String(i).padStart(9, '0')}Z`,
        log: randomBytes(768).toString('base64'),
      }),
    );
    const setup = async (w: World): Promise<void> => {
      await w.container('job-1', '0f3a').uploadLines(big, '202611251000');
    };
    const probe = await newWorld('multipart-probe');
    await setup(probe);
    const { client, log } = recording(testS3Client());
    await probe.passWith(client);
    const multipart = log.commands.flatMap((c, i) => (/Multipart|UploadPart/.test(c) ? [i + 1] : []));
    expect(log.commands).toContain('UploadPartCommand');

    for (const k of multipart) {
      const w = await newWorld(`multipart-${k}`);
      await setup(w);
      const expected = await w.read('job-1');
      await w.passWith(crashingAt(k)).catch(() => undefined);
      expect(await w.read('job-1')).toBe(expected);
      for (let i = 0; i < 3; i++) {
        w.advance(HOUR);
        await w.pass();
      }
      expect({ k, same: (await w.read('job-1')) === expected }).toEqual({ k, same: true });
      expect(await w.keys('kube.')).toEqual([]);
    }
  }, 300_000);
});

describe('the CLI killed with SIGKILL', () => {
  it('loses and duplicates nothing, at seeded random moments', async () => {
    const w = await newWorld('sigkill');
    for (const pod of ['job-1', 'job-2', 'job-3']) {
      const fb = w.container(pod, 'c0ffee');
      for (let m = 0; m < 8; m++) await fb.upload(messages(`${pod}-${m}`, 20, new Date(T0.getTime() + m * MINUTE)));
    }
    const expected = await Promise.all(['job-1', 'job-2', 'job-3'].map((pod) => w.read(pod)));
    // Short intervals so that later runs also merge again and delete: every phase can be hit.
    const args = [
      'run',
      '--bucket',
      w.bucket,
      '--compact-interval',
      '1s',
      '--cleanup-interval',
      '1s',
      '--lease-duration',
      '1s',
      '--concurrency',
      '2',
    ];
    let seed = 20261129;
    const nextRandom = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;

    for (let attempt = 0; attempt < 6; attempt++) {
      const delay = 150 + Math.floor(nextRandom() * 900);
      const exit = await killAfter(args, delay);
      expect(await Promise.all(['job-1', 'job-2', 'job-3'].map((pod) => w.read(pod)))).toEqual(expected);
      if (exit === 'finished')
        await sleep(1100); // make the next run find due work again
      else await sleep(1100); // a killed run's lease expires after 1s
    }
    for (let i = 0; i < 2; i++) {
      const done = await killAfter(args, 60_000);
      expect(done).toBe('finished');
      await sleep(1100);
    }
    expect(await Promise.all(['job-1', 'job-2', 'job-3'].map((pod) => w.read(pod)))).toEqual(expected);
    expect(await w.keys('kube.')).toEqual([]);
  }, 120_000);
});

function sleep(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}

/** Runs the CLI and SIGKILLs it after `ms` unless it finished first. */
function killAfter(args: readonly string[], ms: number): Promise<'killed' | 'finished'> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [COMPACTOR_BIN, ...args], {
      env: { ...process.env, ...s3Env() },
      stdio: 'ignore',
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), ms);
    child.on('error', fail);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      done(signal === 'SIGKILL' ? 'killed' : 'finished');
      void code;
    });
  });
}

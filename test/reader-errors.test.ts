// What a failed S3 request reads like to a person, through the client both CLIs use and the
// real server: the operation, the key, the HTTP status, and nothing secret.
import { text } from 'node:stream/consumers';
import { GetObjectCommand, HeadBucketCommand } from '@aws-sdk/client-s3';
import { LogReader, PodNotFoundError, createS3Client } from '@platform/log-reader';
import { metadataKey, rawPodPrefix } from '@platform/log-reader/layout';
import { describeSetupProblem, isNotFound } from '@platform/log-reader/s3';
import { COMPACTOR_BIN, LOG_READER_BIN, runCli } from './support/cli.js';
import { PASS, startFaultProxy } from './support/fault-proxy.js';
import { follow, followOptions, jobLines } from './support/follow.js';
import { ID, POD, at } from './support/follow-scenarios.js';
import { startKubeApi } from './support/kube-api.js';
import { serverKind } from './support/s3.js';
import { messages, newWorld } from './support/world.js';

const T0 = new Date('2026-11-25T10:00:00Z');
const KEY_ID = process.env['AWS_ACCESS_KEY_ID'] ?? 'AKIA_TEST_ACCESS';
const WRONG_SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYWRONGSECRET';
const SESSION_TOKEN = 'FwoGZXIvYXdzEXAMPLESESSIONTOKENdGhpcyBpcyBub3QgYSByZWFsIHRva2Vu';

async function failureOf(work: () => Promise<unknown>): Promise<Error> {
  try {
    await work();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a failure');
}

describe('S3 errors', () => {
  it('a GET of a missing key names the operation, the key and the status, and stays a "not found"', async () => {
    const w = await newWorld('error-missing');
    const client = createS3Client({ endpoint: process.env['S3_TEST_ENDPOINT'], maxAttempts: 1 });
    const key = 'data/job-1/0f3a/202611251000_1.gz';
    const error = await failureOf(() => client.send(new GetObjectCommand({ Bucket: w.bucket, Key: key })));
    expect(error.message).toMatch(new RegExp(`^GET ${key.replace(/\./g, '\\.')}: HTTP 404: \\S`));
    expect(isNotFound(error)).toBe(true);
    client.destroy();
  });

  // moto takes any credentials; versitygw checks the signature (and the session token).
  (serverKind() === 'versitygw' ? it.each : it.skip.each)([
    [
      'a wrong secret',
      { accessKeyId: KEY_ID, secretAccessKey: WRONG_SECRET },
      'HTTP 403: access denied or bad credentials',
    ],
    [
      'a wrong secret and a session token',
      { accessKeyId: KEY_ID, secretAccessKey: WRONG_SECRET, sessionToken: SESSION_TOKEN },
      'HTTP 400: bad request',
    ],
  ])(
    'a read signed with %s names what it read and is a set-up problem, with no secret in it',
    async (_what, credentials, headAnswer) => {
      const w = await newWorld('error-wrong-secret');
      await w.container('job-1', '0f3a').upload(messages('a', 1, T0));
      const endpoint = process.env['S3_TEST_ENDPOINT'];
      const client = createS3Client({ endpoint, maxAttempts: 1, credentials });
      const reader = new LogReader({ client, bucket: w.bucket });
      const read = await failureOf(async () => {
        for await (const _ of reader.records('job-1')) void _;
      });
      // A HEAD answer has no body, hence no error code: the SDK calls it Unknown.
      const head = await failureOf(() => client.send(new HeadBucketCommand({ Bucket: w.bucket })));
      client.destroy();

      expect(read.message).toMatch(new RegExp(`^GET ${metadataKey('job-1').replace(/\./g, '\\.')}: HTTP 40\\d: \\S`));
      expect(head.message).toContain(`HEAD bucket ${w.bucket}: ${headAnswer}`);
      const texts = [read.message, head.message];
      for (const error of [read, head]) {
        const setup = describeSetupProblem(error, { endpoint, bucket: w.bucket });
        expect(setup?.message).toMatch(/credentials/);
        texts.push(setup?.message ?? '');
      }
      for (const text of texts) {
        expect(text).not.toContain(WRONG_SECRET);
        expect(text).not.toContain(SESSION_TOKEN);
        expect(text).not.toMatch(/X-Amz-Signature|Credential=|\?/i);
      }
    },
  );
});

describe('a pod the bucket holds nothing of', () => {
  it('fails a read with PodNotFoundError naming the pod and the bucket, with or without tail and since', async () => {
    const w = await newWorld('error-pod-not-found');
    // Another pod whose name starts like it, and a sidecar of a third: neither is the pod's.
    await w.container('job-10', '0f3a').upload(messages('a', 1, T0));
    for (const options of [{}, { tail: 5 }, { since: T0 }]) {
      const error = await failureOf(async () => {
        for await (const _ of w.reader.records('job-1', options)) void _;
      });
      expect(error).toBeInstanceOf(PodNotFoundError);
      expect(error).toMatchObject({ code: 'ERR_POD_NOT_FOUND', pod: 'job-1', bucket: w.bucket });
      expect(error.message).toBe(
        `pod job-1 not found in bucket ${w.bucket}: no metadata and no raw file of any of its containers`,
      );
    }
    await expect(text(w.reader.createReadStream('job-1'))).rejects.toBeInstanceOf(PodNotFoundError);
  });

  it('asks S3 nothing more than the read does: one metadata GET and one listing', async () => {
    const w = await newWorld('error-pod-not-found-cost');
    const proxy = await startFaultProxy(() => PASS);
    const client = createS3Client({ endpoint: proxy.url, maxAttempts: 1 });
    try {
      const reader = new LogReader({ client, bucket: w.bucket });
      await expect(text(reader.createReadStream('job-1'))).rejects.toBeInstanceOf(PodNotFoundError);
      expect(proxy.log.map((e) => e.operation)).toEqual(['GetObject', 'ListObjectsV2']);
    } finally {
      client.destroy();
      await proxy.close();
    }
  });

  it('is no error for a pod with a log, its metadata only, or only other containers (the CLI says which)', async () => {
    const w = await newWorld('error-pod-found');
    await w.container('job-1', '0f3a').upload(messages('a', 1, T0));
    await w.container('job-2', '0f3b', { container: 'sidecar' }).upload(messages('s', 1, T0));
    await w.pass();
    // job-1's raw files merged and deleted: its metadata and merged file are all that is left.
    w.advance(24 * 60 * 60_000);
    await w.pass();
    expect(await w.keys(rawPodPrefix('job-1'))).toEqual([]);
    expect(await w.read('job-1')).toBe('a-0\n');
    expect(await w.read('job-2')).toBe('');
  });

  it('with follow, reads the live log of a pod that is only in the cluster, and fails one in neither', async () => {
    const w = await newWorld('error-pod-only-live');
    const kube = await startKubeApi();
    try {
      const pod = kube.pod('jobs', POD, { restartPolicy: 'OnFailure' });
      pod.start(ID, at(0));
      pod.append(jobLines('live', 2, at(0)));
      pod.terminate(0, at(5));
      const read = follow(w.reader, POD, { follow: followOptions(kube) });
      await read.ended;
      expect(read.messages()).toEqual(['live-0', 'live-1']);
      const missing = follow(w.reader, 'job-other', { follow: followOptions(kube) });
      await expect(missing.ended).rejects.toMatchObject({ code: 'ERR_POD_NOT_FOUND', pod: 'job-other' });
    } finally {
      await kube.close();
    }
  });
});

describe('an access key the store does not know', () => {
  // versitygw answers 404 (XAdminUserNotFound; a HEAD's 404 has no body at all), which read
  // as a missing bucket. moto takes any key.
  (serverKind() === 'versitygw' ? it : it.skip)(
    'both CLIs say the store does not know the key, exit 2, never the secret, not "bucket does not exist"',
    async () => {
      const w = await newWorld('error-unknown-key');
      await w.container('job-1', '0f3a').upload(messages('a', 1, T0));
      const endpoint = process.env['S3_TEST_ENDPOINT'] ?? '';
      const env = { AWS_ACCESS_KEY_ID: 'AKIAUNKNOWNKEY000000', AWS_SECRET_ACCESS_KEY: WRONG_SECRET };
      for (const [bin, args, name] of [
        [COMPACTOR_BIN, ['run', '--bucket', w.bucket, '--endpoint', endpoint], 'compactor'],
        [COMPACTOR_BIN, ['inspect', 'job-1', '--bucket', w.bucket, '--endpoint', endpoint], 'compactor'],
        [LOG_READER_BIN, ['logs', 'job-1', '--bucket', w.bucket, '--endpoint', endpoint], 'log-reader'],
      ] as const) {
        const result = await runCli(bin, args, env);
        expect(result).toEqual({
          exitCode: 2,
          stdout: '',
          stderr: `${name}: S3 at ${endpoint} does not know the access key ID (XAdminUserNotFound): check AWS_ACCESS_KEY_ID\n`,
        });
      }
    },
  );
});

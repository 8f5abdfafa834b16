// What a failed S3 request reads like to a person, through the client both CLIs use and the
// real server: the operation, the key, the HTTP status, and nothing secret.
import { GetObjectCommand, HeadBucketCommand } from '@aws-sdk/client-s3';
import { LogReader, createS3Client } from '@platform/log-reader';
import { metadataKey } from '@platform/log-reader/layout';
import { describeSetupProblem, isNotFound } from '@platform/log-reader/s3';
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

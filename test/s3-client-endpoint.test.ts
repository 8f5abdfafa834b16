// The client factory a consumer is told to use (README, docs/log-reader.md) with a custom
// endpoint whose host is a name, as LocalStack's `http://localhost:4566` or a MinIO service
// are: the SDK's default, virtual-hosted addressing, would ask for `{bucket}.localhost`, which
// does not resolve; the factory's client addresses the bucket in the path.
import { LogReader, createS3Client } from '@platform/log-reader';
import { text } from 'node:stream/consumers';
import { messages, newWorld } from './support/world.js';

const T0 = new Date('2026-11-25T10:00:00Z');

/** The test server's endpoint, named `localhost` rather than 127.0.0.1. */
function localhostEndpoint(): string {
  const url = new URL(process.env['S3_TEST_ENDPOINT'] ?? '');
  if (url.hostname === '127.0.0.1') url.hostname = 'localhost';
  return url.toString().replace(/\/$/, '');
}

const credentials = {
  accessKeyId: process.env['AWS_ACCESS_KEY_ID'] ?? '',
  secretAccessKey: process.env['AWS_SECRET_ACCESS_KEY'] ?? '',
};

describe('createS3Client with an endpoint named localhost', () => {
  it.each([
    ['given as the endpoint setting', () => createS3Client({ endpoint: localhostEndpoint(), credentials }, {})],
    [
      'taken from AWS_ENDPOINT_URL_S3',
      () => createS3Client({ credentials }, { AWS_ENDPOINT_URL_S3: localhostEndpoint(), AWS_REGION: 'us-east-1' }),
    ],
  ])("reads a pod's merged and raw files, the endpoint %s", async (_how, client) => {
    const w = await newWorld('localhost-endpoint');
    const fb = w.container('job-1', '0f3a');
    await fb.upload(messages('merged', 2, T0));
    await w.pass();
    await fb.upload(messages('raw', 2, new Date(T0.getTime() + 5 * 60_000)));

    const s3 = client();
    try {
      const reader = new LogReader({ client: s3, bucket: w.bucket });
      expect(await text(reader.createReadStream('job-1'))).toBe('merged-0\nmerged-1\nraw-0\nraw-1\n');
    } finally {
      s3.destroy();
    }
  });
});

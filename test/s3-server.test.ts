// Proves the test tooling: a real S3 server is up, and the helpers in support/s3.ts work
// against it (whichever server S3_TEST_SERVER picked).

import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { createTestBucket, getObjectBytes, listAll, putObject, serverKind, testS3Client } from './support/s3.js';

describe(`S3 test server (${process.env.S3_TEST_SERVER ?? 'none'})`, () => {
  let client: S3Client;
  let bucket: string;
  const objects: Record<string, Buffer> = {
    'logs/pod-a/0001.log': Buffer.from('first line\n'),
    'logs/pod-b/0001.log': Buffer.from('second\nthird\n'),
    'logs/pod-b/0002.log': Buffer.from([0x1f, 0x8b, 0x00, 0xff, 0x0a]), // not UTF-8
  };
  const keys = Object.keys(objects).sort();

  beforeAll(async () => {
    client = testS3Client();
    bucket = await createTestBucket('s3-server');
    for (const [key, body] of Object.entries(objects)) await putObject(client, bucket, key, body);
  });

  afterAll(() => {
    client?.destroy();
  });

  it('reports which server it runs against', () => {
    expect(['moto', 'versitygw', 'localstack', 'external']).toContain(serverKind());
  });

  it('lists one level with Delimiter "/" as CommonPrefixes', async () => {
    const res = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'logs/', Delimiter: '/' }));
    expect((res.CommonPrefixes ?? []).map((p) => p.Prefix)).toEqual(['logs/pod-a/', 'logs/pod-b/']);
    expect(res.Contents ?? []).toEqual([]);
  });

  it('returns every key when paging one key at a time', async () => {
    const listed = await listAll(client, bucket, undefined, { pageSize: 1 });
    expect(listed.map((o) => o.key)).toEqual(keys);
    for (const o of listed) {
      expect(o.size).toBe(objects[o.key]?.length);
      expect(o.etag).toMatch(/^"[^"]+"$/);
      expect(o.lastModified).toBeInstanceOf(Date);
    }
  });

  it('lists under a prefix', async () => {
    const listed = await listAll(client, bucket, 'logs/pod-b/');
    expect(listed.map((o) => o.key)).toEqual(['logs/pod-b/0001.log', 'logs/pod-b/0002.log']);
  });

  it('returns the bytes that were put', async () => {
    for (const key of keys) {
      expect(await getObjectBytes(client, bucket, key)).toEqual(objects[key]);
    }
  });
});

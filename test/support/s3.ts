// Helpers for integration tests against the real S3 server that test/support/global-setup.cjs
// starts (or the one S3_TEST_ENDPOINT names). Each test should make its own bucket with
// createTestBucket(), so tests never see each other's objects.

import { randomBytes } from 'node:crypto';
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type ListObjectsV2CommandInput,
  type PutObjectCommandOutput,
} from '@aws-sdk/client-s3';

/** Which server the tests run against; 'external' when S3_TEST_ENDPOINT was given. */
export type S3ServerKind = 'moto' | 'versitygw' | 'localstack' | 'external';

/** One object of a listing. */
export interface ListedObject {
  key: string;
  /** As the server returns it, with the surrounding double quotes. */
  etag: string;
  /** Bytes. */
  size: number;
  lastModified: Date;
}

function requireEnv(name: string): string {
  const value = process.env[name];
  if (!value) {
    throw new Error(
      `${name} is not set: integration tests get their S3 server from test/support/global-setup.cjs ` +
        '(run them with jest from the repo root, e.g. `npx jest ./test/`), or set S3_TEST_ENDPOINT yourself',
    );
  }
  return value;
}

/** The kind of server under test, from S3_TEST_SERVER. */
export function serverKind(): S3ServerKind {
  const kind = requireEnv('S3_TEST_SERVER');
  if (kind === 'moto' || kind === 'versitygw' || kind === 'localstack' || kind === 'external') return kind;
  throw new Error(`S3_TEST_SERVER=${JSON.stringify(kind)}: expected moto, versitygw, localstack or external`);
}

/** A client for the test server (or a proxy in front of it): path-style addressing, the test credentials and region. */
export function testS3Client(endpoint: string = requireEnv('S3_TEST_ENDPOINT')): S3Client {
  return new S3Client({
    endpoint,
    forcePathStyle: true,
    region: process.env.AWS_REGION || 'us-east-1',
    credentials: {
      accessKeyId: process.env.AWS_ACCESS_KEY_ID || 'AKIA_TEST_ACCESS',
      secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY || 'test-secret',
    },
  });
}

/** A test client whose listings come at most `maxKeys` keys a page (paging tests). */
export function pagedS3Client(maxKeys: number): S3Client {
  const client = testS3Client();
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as ListObjectsV2CommandInput;
      if (context.commandName === 'ListObjectsV2Command') input.MaxKeys = Math.min(input.MaxKeys ?? 1000, maxKeys);
      return next(args);
    },
    { step: 'initialize', name: 'smallPages' },
  );
  return client;
}

/** Bucket names: 3-63 characters of a-z, 0-9 and '-', starting and ending with a letter or digit. */
const MAX_BUCKET_NAME = 63;

/**
 * Create a bucket with a fresh name `<prefix>-<time>-<random>` and return the name.
 * The prefix is lowercased and stripped of characters S3 does not allow.
 */
export async function createTestBucket(prefix = 'test', client: S3Client = testS3Client()): Promise<string> {
  const suffix = `${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
  const cleanPrefix =
    prefix
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, '-')
      .slice(0, MAX_BUCKET_NAME - suffix.length - 1)
      .replace(/^-+|-+$/g, '') || 'test';
  const bucket = `${cleanPrefix}-${suffix}`;
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  return bucket;
}

/**
 * Every object under `prefix`, in key order, following ListObjectsV2 continuation tokens.
 * `pageSize` sets MaxKeys per request (server default: 1000).
 */
export async function listAll(
  client: S3Client,
  bucket: string,
  prefix?: string,
  options: { pageSize?: number } = {},
): Promise<ListedObject[]> {
  const objects: ListedObject[] = [];
  let continuationToken: string | undefined;
  do {
    const page = await client.send(
      new ListObjectsV2Command({
        Bucket: bucket,
        Prefix: prefix,
        MaxKeys: options.pageSize,
        ContinuationToken: continuationToken,
      }),
    );
    for (const o of page.Contents ?? []) {
      if (o.Key === undefined) throw new Error(`listing of ${bucket} returned an object without a key`);
      objects.push({
        key: o.Key,
        etag: o.ETag ?? '',
        size: o.Size ?? 0,
        lastModified: o.LastModified ?? new Date(0),
      });
    }
    continuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    if (page.IsTruncated && !continuationToken) {
      throw new Error(`listing of ${bucket} is truncated but has no NextContinuationToken`);
    }
  } while (continuationToken);
  return objects;
}

export async function putObject(
  client: S3Client,
  bucket: string,
  key: string,
  body: string | Buffer,
): Promise<PutObjectCommandOutput> {
  return client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
}

export async function getObjectBytes(client: S3Client, bucket: string, key: string): Promise<Buffer> {
  const res = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  if (!res.Body) throw new Error(`GetObject ${bucket}/${key} returned no body`);
  return Buffer.from(await res.Body.transformToByteArray());
}

// Listings against the real server, through a client whose middleware alters real answers:
// a store that says "truncated" without a continuation token must not end a listing early.
import { type ListObjectsV2CommandInput, type ListObjectsV2CommandOutput } from '@aws-sdk/client-s3';
import { LogReader, TruncatedListingError } from '@platform/log-reader';
import { rawPodPrefix } from '@platform/log-reader/layout';
import { listCommonPrefixes, listObjects } from '@platform/log-reader/s3';
import { testS3Client } from './support/s3.js';
import { MINUTE, messages, newWorld, type World } from './support/world.js';

const T0 = new Date('2026-11-25T10:00:00Z');

/** A real client whose listings come one key a page, with the continuation token dropped. */
function tokenlessPages(): ReturnType<typeof testS3Client> {
  const client = testS3Client();
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName !== 'ListObjectsV2Command') return next(args);
      (args.input as ListObjectsV2CommandInput).MaxKeys = 1;
      const result = await next(args);
      const output = result.output as ListObjectsV2CommandOutput;
      expect(output.IsTruncated).toBe(true); // the real server said "more to come"
      delete output.NextContinuationToken;
      return result;
    },
    { step: 'initialize', name: 'dropContinuationToken' },
  );
  return client;
}

async function twoPods(w: World): Promise<void> {
  await w.container('job-1', '0f3a').upload(messages('a', 1, T0));
  await w.container('job-1', '0f3a').upload(messages('b', 1, new Date(T0.getTime() + MINUTE)));
  await w.container('job-2', '0f3b').upload(messages('c', 1, T0));
}

async function drain<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

describe('a listing page truncated without a continuation token', () => {
  it('fails the read loudly, naming the prefix, instead of returning part of the log', async () => {
    const w = await newWorld('tokenless');
    await twoPods(w);
    const reader = new LogReader({ client: tokenlessPages(), bucket: w.bucket });
    const failure = drain(reader.records('job-1'));
    await expect(failure).rejects.toBeInstanceOf(TruncatedListingError);
    await expect(failure).rejects.toThrow(rawPodPrefix('job-1'));
  });

  it('fails listObjects and listCommonPrefixes (the compactor finds pods with it)', async () => {
    const w = await newWorld('tokenless-prefixes');
    await twoPods(w);
    const store = { client: tokenlessPages(), bucket: w.bucket };
    await expect(drain(listObjects(store, 'kube.'))).rejects.toMatchObject({
      code: 'ERR_TRUNCATED_LISTING',
      prefix: 'kube.',
    });
    await expect(drain(listCommonPrefixes(store, 'kube.'))).rejects.toMatchObject({
      code: 'ERR_TRUNCATED_LISTING',
      prefix: 'kube.',
    });
  });
});

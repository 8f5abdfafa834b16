// readMergedRecords over an in-memory bucket: what the compactor sees when it continues a file.
import type { S3Client } from '@aws-sdk/client-s3';
import { gzipSync } from 'node:zlib';
import { ObjectMissingError, UnreadableObjectError } from '../errors.js';
import { readMergedRecords } from './merged-records.js';
import type { Bucket } from './store.js';

function bucketOf(objects: Record<string, Buffer>): Bucket {
  const client = {
    async send(command: { input: { Key?: string } }) {
      const bytes = objects[command.input.Key ?? ''];
      if (bytes === undefined) throw Object.assign(new Error('NoSuchKey'), { name: 'NoSuchKey' });
      return {
        Body: (async function* () {
          yield bytes;
        })(),
      };
    },
  };
  return { client: client as unknown as S3Client, bucket: 'test' };
}

async function failure(records: AsyncIterable<unknown>): Promise<unknown> {
  try {
    for await (const _ of records) void _;
  } catch (error) {
    return error;
  }
  throw new Error('expected the read to fail');
}

const KEY = 'data/job-1/0f3a/202611251000_1.gz';

describe('readMergedRecords', () => {
  it('reads the records of a merged file with the container id of its key', async () => {
    const store = bucketOf({
      [KEY]: gzipSync(
        '{"time":"2026-11-25T10:00:00Z","log":"a"}\n{"time":"2026-11-25T10:00:01Z","log":"b","stream":"stderr"}\n',
      ),
    });
    const out = [];
    for await (const batch of readMergedRecords(store, KEY)) out.push(...batch);
    expect(out).toEqual([
      { time: '2026-11-25T10:00:00Z', message: 'a', stream: 'stdout', containerId: '0f3a' },
      { time: '2026-11-25T10:00:01Z', message: 'b', stream: 'stderr', containerId: '0f3a' },
    ]);
  });

  it('names the pod and the key when the file is gone', async () => {
    const error = await failure(readMergedRecords(bucketOf({}), KEY));
    expect(error).toBeInstanceOf(ObjectMissingError);
    expect(error).toMatchObject({ code: 'ERR_OBJECT_MISSING', key: KEY, pod: 'job-1' });
    expect((error as Error).message).toBe(`pod job-1: object ${KEY} does not exist`);
  });

  it('names the pod it is given for a key of another layout', async () => {
    const key = 'logs/job-1/202611251000.gz';
    expect(await failure(readMergedRecords(bucketOf({}), key, undefined, 'job-1'))).toMatchObject({
      key,
      pod: 'job-1',
      message: `pod job-1: object ${key} does not exist`,
    });
    expect(await failure(readMergedRecords(bucketOf({}), key))).toMatchObject({
      key,
      pod: undefined,
      message: `object ${key} does not exist`,
    });
  });

  it.each([
    [
      'a truncated gzip',
      gzipSync('{"time":"2026-11-25T10:00:00Z","log":"a"}\n'.repeat(50)).subarray(0, 30),
      /^pod job-1: object data\/job-1\/0f3a\/202611251000_1\.gz is unreadable: gzip: /,
    ],
    [
      'a line that is not a merged record',
      gzipSync('{"time":"2026-11-25T10:00:00Z","log":"a"}\nnot a record\n'),
      /^pod job-1: object data\/job-1\/0f3a\/202611251000_1\.gz is unreadable: line 2 is not a merged log record$/,
    ],
  ])('throws UnreadableObjectError naming the pod and the key for %s', async (_what, bytes, message) => {
    const error = await failure(readMergedRecords(bucketOf({ [KEY]: bytes }), KEY));
    expect(error).toBeInstanceOf(UnreadableObjectError);
    expect(error).toMatchObject({ key: KEY, pod: 'job-1' });
    expect((error as Error).message).toMatch(message);
  });
});

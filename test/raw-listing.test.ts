// listRawFilesInOrder against the real server: a read starts on a pod's first raw files while
// the listing goes on, so the batches it gives must hold exactly listRawFiles' files, in its
// order, whatever the page sizes, and fail on a pod in two namespaces before any file.
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { PodNamespaceConflictError } from '@platform/log-reader';
import { rawDir, rawKey } from '@platform/log-reader/layout';
import { listRawFiles, listRawFilesInOrder, type RawFile } from '@platform/log-reader/s3';
import { createTestBucket, pagedS3Client, serverKind, testS3Client } from './support/s3.js';
import { MINUTE, messages, newWorld } from './support/world.js';
import { parsedLine } from '@platform/testkit';

const POD = 'job-1';
const T0 = new Date('2026-11-25T10:00:00Z');

async function put(client: S3Client, bucket: string, key: string): Promise<void> {
  await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: '{"log":"x"}\n' }));
}

function raw(
  parts: { namespace?: string; container?: string; containerId: string; slice: string; index: number },
  separator?: '_' | '__',
): string {
  return rawKey(
    {
      pod: POD,
      namespace: parts.namespace ?? 'jobs',
      container: parts.container ?? POD,
      containerId: parts.containerId,
      slice: parts.slice,
      index: parts.index,
    },
    separator,
  );
}

async function batchesOf(client: S3Client, bucket: string, firstPageKeys: number): Promise<RawFile[][]> {
  const out: RawFile[][] = [];
  for await (const batch of listRawFilesInOrder({ client, bucket }, POD, firstPageKeys)) out.push(batch);
  return out;
}

describe('listRawFilesInOrder', () => {
  it("gives listRawFiles' files in its order, each batch before the next, whatever the page sizes", async () => {
    const client = testS3Client();
    const bucket = await createTestBucket('raw-listing-order', client);
    const keys = [
      // The first container: slices in order, and a slice whose index 11 lists before its index 2.
      ...['202611251000', '202611251001', '202611251002', '202611251003'].map((slice, i) =>
        raw({ containerId: 'aaaa', slice, index: i + 1 }),
      ),
      raw({ containerId: 'aaaa', slice: '202611251004', index: 2 }),
      raw({ containerId: 'aaaa', slice: '202611251004', index: 11 }),
      raw({ containerId: 'aaaa', slice: '202611251005', index: 12 }, '__'),
      // Restarted: its directory lists before the first one's, its files come after them.
      ...['202611251004', '202611251006', '202611251007', '202611251008'].map((slice, i) =>
        raw({ containerId: '0000', slice, index: i + 1 }),
      ),
      // Another restart, listed last, with files among the others'.
      raw({ containerId: 'ffff', slice: '202611251001', index: 1 }),
      raw({ containerId: 'ffff', slice: '202611251009', index: 2 }),
      // Not ours: a sidecar container (listed between the pod's own directories), stray keys.
      ...Array.from({ length: 6 }, (_, i) =>
        raw({ container: 'metrics', containerId: 'bbbb', slice: `20261125100${i}`, index: i + 1 }),
      ),
      `${rawDir({ pod: POD, namespace: 'jobs', container: POD, containerId: 'aaaa' })}notes.txt`,
      `${rawDir({ pod: POD, namespace: 'jobs', container: POD, containerId: 'aaaa' })}sub/202611251000_1.gz`,
      // A key named like the directory (versitygw's posix backend cannot hold both: a file there is a directory).
      ...(serverKind() === 'versitygw'
        ? []
        : [`${rawDir({ pod: POD, namespace: 'jobs', container: POD, containerId: 'aaaa' }).slice(0, -1)}`]),
      // Another pod whose name starts with this one's.
      rawKey({
        pod: `${POD}0`,
        namespace: 'jobs',
        container: `${POD}0`,
        containerId: 'cccc',
        slice: '202611251000',
        index: 1,
      }),
    ];
    for (const key of keys) await put(client, bucket, key);
    const expected = (await listRawFiles({ client, bucket }, POD)).map((f) => f.key);
    expect(expected).toHaveLength(13);

    for (const maxKeys of [1000, 2, 1]) {
      for (const firstPageKeys of [1, 2, 3, 7, 100]) {
        const batches = await batchesOf(pagedS3Client(maxKeys), bucket, firstPageKeys);
        expect({ maxKeys, firstPageKeys, keys: batches.flat().map((f) => f.key) }).toEqual({
          maxKeys,
          firstPageKeys,
          keys: expected,
        });
        // Each batch is sorted, and ends before the next one starts: a reader may read it at once.
        for (const batch of batches)
          expect(batch).toEqual([...batch].sort((a, b) => expected.indexOf(a.key) - expected.indexOf(b.key)));
      }
    }
    // Small pages give the first files before the listing ends.
    expect((await batchesOf(pagedS3Client(2), bucket, 2)).length).toBeGreaterThan(2);
  });

  it('fails on a pod in two namespaces before giving a file, and ignores a namespace with no raw file', async () => {
    const client = testS3Client();
    const bucket = await createTestBucket('raw-listing-namespaces', client);
    for (let i = 1; i <= 5; i++)
      await put(client, bucket, raw({ containerId: 'aaaa', slice: `20261125100${i}`, index: i }));
    await put(
      client,
      bucket,
      `${rawDir({ pod: POD, namespace: 'other', container: POD, containerId: 'dddd' })}notes.txt`,
    );
    for (const firstPageKeys of [1, 2, 100])
      expect((await batchesOf(pagedS3Client(2), bucket, firstPageKeys)).flat()).toHaveLength(5);

    await put(client, bucket, raw({ namespace: 'other', containerId: 'eeee', slice: '202611251009', index: 9 }));
    for (const firstPageKeys of [1, 2, 100]) {
      const given: RawFile[] = [];
      const read = (async () => {
        for await (const batch of listRawFilesInOrder({ client: pagedS3Client(2), bucket }, POD, firstPageKeys))
          given.push(...batch);
      })();
      await expect(read).rejects.toBeInstanceOf(PodNamespaceConflictError);
      await expect(read).rejects.toMatchObject({ pod: POD, namespaces: ['jobs', 'other'] });
      expect(given).toEqual([]);
    }
    await expect(listRawFiles({ client, bucket }, POD)).rejects.toBeInstanceOf(PodNamespaceConflictError);
  });
});

describe('a read of a pod in two namespaces', () => {
  it('fails before returning a record, merged files included', async () => {
    const w = await newWorld('raw-listing-two-namespaces');
    await w.container(POD, 'aaaa').upload(messages('merged', 3, T0));
    await w.pass();
    expect((await w.metadata(POD)).logFiles).toHaveLength(1);
    await w
      .container(POD, 'bbbb', { namespace: 'other' })
      .upload(messages('other', 1, new Date(T0.getTime() + MINUTE)));
    const given: string[] = [];
    const read = (async () => {
      for await (const r of w.reader.records(POD)) given.push(r.message);
    })();
    await expect(read).rejects.toBeInstanceOf(PodNamespaceConflictError);
    expect(given).toEqual([]);
  });
});

describe('a read of a pod with more raw files than the first listing page', () => {
  it('returns every record in raw-file order across container restarts', async () => {
    const w = await newWorld('raw-listing-read');
    // 130 files: more than the reader's first page, across two container ids listed in the
    // opposite order of their files, with a line cut across files at a restart.
    const old = w.container(POD, 'ffff');
    const restarted = w.container(POD, '0000');
    const expected: string[] = [];
    for (let i = 0; i < 70; i++) {
      const batch = messages(`old-${i}`, 2, new Date(T0.getTime() + i * MINUTE));
      await old.upload(batch);
      expected.push(...batch.map((m) => m.log));
    }
    const at = (i: number): Date => new Date(T0.getTime() + (70 + i) * MINUTE);
    const time = `${at(0).toISOString().slice(0, 19)}.000000001Z`;
    await restarted.uploadLines([parsedLine({ time, log: 'cut ', logtag: 'P' })], '202611251110');
    await restarted.uploadLines([parsedLine({ time, log: 'line', logtag: 'F' })], '202611251110');
    expected.push('cut line');
    for (let i = 1; i < 59; i++) {
      const batch = messages(`new-${i}`, 1, at(i));
      await restarted.upload(batch);
      expected.push(...batch.map((m) => m.log));
    }
    expect((await w.plan(POD)).raw).toHaveLength(130);
    expect((await w.records(POD)).map((r) => r.message)).toEqual(expected);
    expect(await w.read(POD)).toBe(expected.map((m) => `${m}\n`).join(''));
  });
});

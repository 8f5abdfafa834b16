// Review of issue 15: the orphan sweep after retention deleted a pod. A stalled writer's merged
// file lands under data/{pod}/ once the pod's metadata is gone; the sweep queues the pod and the
// clean phase deletes the file when due, but first "fences" (pass/clean.ts deleteDue ->
// commit.ts fence), and a fence on a pod without metadata is a conditional create
// (If-None-Match): it writes a new metadata/{pod}.json for a log that was deleted. The pod is
// back in the bucket (an empty log, in every pass's listing of metadata/); without --retention
// the object stays for good, with it the pod is marked and deleted once more a retention later.
import { gzipSync } from 'node:zlib';
import { DeleteObjectsCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { metadataKey } from '@platform/log-reader/layout';
import { uploadedPod } from './support/stalled-holders.js';
import { HOUR, MINUTE } from './support/world.js';

describe("review: a merged file landing after the pod's metadata was deleted", () => {
  it('is deleted without bringing the deleted pod back', async () => {
    const { w } = await uploadedPod('review-orphan-fence', 2);
    await w.pass();
    w.advance(HOUR);
    await w.pass();
    // Retention deleted everything of the pod; then a stalled writer's file lands.
    const all = [...(await w.keys('data/job-1/')), metadataKey('job-1'), ...(await w.keys('cleanup/'))];
    await w.client.send(
      new DeleteObjectsCommand({ Bucket: w.bucket, Delete: { Objects: all.map((Key) => ({ Key })) } }),
    );
    expect(await w.keys('kube.')).toEqual([]);
    const key = 'data/job-1/0f3a/202611251000_7.gz';
    await w.client.send(new PutObjectCommand({ Bucket: w.bucket, Key: key, Body: gzipSync('{"log":"x"}\n') }));

    w.advance(-HOUR);
    await w.pass();
    w.advance(31 * MINUTE);
    await w.pass();
    expect(await w.keys('data/')).toEqual([]);
    // Nothing of the pod is left: in particular no metadata of a log that no longer exists.
    expect(await w.keys('metadata/')).toEqual([]);
  });
});

/**
 * When each pod last committed, from one listing of `metadata/` (a request per 1000 pods):
 * how a pass sees the pods it would otherwise never look at again (a job that ended and was
 * cleaned has no raw file left for the pass to find), without reading a document per pod.
 */
import { METADATA_PREFIX, parseMetadataKey } from '@platform/log-reader/layout';
import { listObjects, type Bucket } from '@platform/log-reader/s3';

/** A pod's metadata object as listed: its LastModified is the time of its last commit. */
export interface CommitStamp {
  readonly lastModified: Date;
  readonly etag: string | undefined;
}

/** Every pod's metadata object, by pod name (keys that are not a pod's metadata are ignored). */
export async function listCommits(store: Bucket): Promise<Map<string, CommitStamp>> {
  const commits = new Map<string, CommitStamp>();
  for await (const o of listObjects(store, METADATA_PREFIX)) {
    const pod = parseMetadataKey(o.key);
    if (pod !== undefined) commits.set(pod, { lastModified: o.lastModified, etag: o.etag });
  }
  return commits;
}

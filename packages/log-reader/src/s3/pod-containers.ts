/**
 * Which containers of a pod the bucket holds logs of, asked only after a read found nothing
 * (the CLI says why): one `/` delimiter listing of the pod's raw directories, and a HEAD of
 * its metadata when no raw directory is its own container's.
 */
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { metadataKey, rawPodPrefix } from '../layout/keys.js';
import { podContainersOf, type PodContainers } from '../layout/pod-containers.js';
import { isNotFound, listCommonPrefixes, sendOptions, type Bucket } from './store.js';

/** The pod's containers with raw files ({@link podContainersOf}). */
export async function listPodContainers(store: Bucket, pod: string): Promise<PodContainers> {
  const dirs: string[] = [];
  for await (const prefix of listCommonPrefixes(store, rawPodPrefix(pod))) dirs.push(prefix);
  return podContainersOf(pod, dirs);
}

/**
 * The pod's other containers, when the bucket holds files of them and no log of the pod's own
 * container: no raw file of it and no metadata (its merged log's commit point). `undefined`
 * otherwise, also for a pod the bucket holds nothing of.
 */
export async function onlyOtherContainers(store: Bucket, pod: string): Promise<PodContainers | undefined> {
  const containers = await listPodContainers(store, pod);
  if (containers.hasOwn || containers.others.length === 0) return undefined;
  try {
    await store.client.send(new HeadObjectCommand({ Bucket: store.bucket, Key: metadataKey(pod) }), sendOptions(store));
    return undefined;
  } catch (error) {
    if (isNotFound(error)) return containers;
    throw error;
  }
}

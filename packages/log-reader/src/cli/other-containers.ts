/**
 * After a read that wrote nothing: whether the pod's only logs in the bucket are other
 * containers' (a Deployment pod, a job's sidecar), which the reader never reads. Asked only
 * then, so a pod with a log of its own costs nothing more.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { onlyOtherContainers } from '../s3/pod-containers.js';

/** The line saying so, or `undefined` when the pod has a log of its own or nothing at all. */
export async function otherContainersNote(
  client: S3Client,
  bucket: string,
  pod: string,
  signal: AbortSignal,
): Promise<string | undefined> {
  const found = await onlyOtherContainers({ client, bucket, signal }, pod);
  if (found === undefined) return undefined;
  const where =
    found.namespaces.length === 1 ? `namespace ${found.namespaces[0]}` : `namespaces ${found.namespaces.join(', ')}`;
  return (
    `pod ${pod} has no log of its own container (${pod}); the bucket holds raw files of its ` +
    `${found.others.length === 1 ? 'container' : 'containers'} ${found.others.join(', ')} (${where}), ` +
    `which ${found.others.length === 1 ? 'is' : 'are'} not merged or read`
  );
}

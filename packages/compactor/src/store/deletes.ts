/** Idempotent batched deletes: a key that is already gone counts as deleted. */
import { DeleteObjectsCommand } from '@aws-sdk/client-s3';
import type { Bucket } from '@platform/log-reader/s3';

/** S3 deletes at most this many keys per DeleteObjects request. */
const MAX_KEYS_PER_DELETE = 1000;

export interface DeleteResult {
  readonly deleted: readonly string[];
  readonly failed: readonly { readonly key: string; readonly message: string }[];
}

/** Deletes `keys` in batches; a key that is already gone counts as deleted. */
export async function deleteObjects(store: Bucket, keys: readonly string[]): Promise<DeleteResult> {
  const deleted: string[] = [];
  const failed: { key: string; message: string }[] = [];
  for (let i = 0; i < keys.length; i += MAX_KEYS_PER_DELETE) {
    const batch = keys.slice(i, i + MAX_KEYS_PER_DELETE);
    const response = await store.client.send(
      new DeleteObjectsCommand({
        Bucket: store.bucket,
        Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: false },
      }),
    );
    const errors = new Map<string, string>();
    for (const e of response.Errors ?? []) {
      if (e.Key !== undefined && e.Code !== 'NoSuchKey')
        errors.set(e.Key, `${e.Code ?? 'Error'}: ${e.Message ?? ''}`.trim());
    }
    for (const key of batch) {
      const message = errors.get(key);
      if (message === undefined) deleted.push(key);
      else failed.push({ key, message });
    }
  }
  return { deleted, failed };
}

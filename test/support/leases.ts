// Leases as a test sees them: a store that does not enforce If-Match on DELETE keeps a released
// lease as a document that binds no one (the compactor's lease.ts), so "no lease left" means no
// lease that still binds.
import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { CONDITIONAL_DELETE_CHECK_KEY, LEASE_PREFIX } from '@platform/log-reader/layout';
import type { World } from './world.js';
import { getObjectBytes } from './s3.js';

/**
 * Whether the store refuses a DELETE whose If-Match does not hold, as the pass checks it
 * (store-checks.ts): there a release is a DELETE, elsewhere a PUT (LocalStack answers 501).
 */
export async function enforcesConditionalDeletes(w: World): Promise<boolean> {
  const probe = { Bucket: w.bucket, Key: 'conditional-delete-probe' };
  await w.client.send(new PutObjectCommand({ ...probe, Body: 'probe' }));
  try {
    await w.client.send(new DeleteObjectCommand({ ...probe, IfMatch: '"00000000000000000000000000000000"' }));
    return false;
  } catch (error) {
    return (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 412;
  } finally {
    await w.client.send(new DeleteObjectCommand(probe));
  }
}

/**
 * The keys under leases/ but the released leases (`released_at` set) and the conditional-delete
 * probe (there or not, as the store answers a DELETE on a missing key): the conditional-write
 * check, the survey's stamps and every lease that binds.
 */
export async function unreleasedLeaseKeys(w: World): Promise<string[]> {
  const keys: string[] = [];
  for (const key of await w.keys(LEASE_PREFIX)) {
    if (key === CONDITIONAL_DELETE_CHECK_KEY) continue;
    if (key.endsWith('.json') && (await isReleased(w, key))) continue;
    keys.push(key);
  }
  return keys;
}

async function isReleased(w: World, key: string): Promise<boolean> {
  const text = (await getObjectBytes(w.client, w.bucket, key)).toString('utf8');
  try {
    return typeof (JSON.parse(text) as { released_at?: unknown }).released_at === 'string';
  } catch {
    return false;
  }
}

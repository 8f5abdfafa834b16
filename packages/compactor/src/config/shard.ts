/**
 * `--shard I/N`: N compactors (an Indexed Job's completions) split the pods between them.
 * Each pod falls in exactly one shard, by a hash of its name alone, so the split is the same
 * in every pass, on every machine and whatever else is in the bucket. The lease still keeps
 * one writer per pod should two shards ever overlap (a changed N mid-rollout).
 */
import { UsageError } from '../errors.js';

export interface Shard {
  /** 0-based: Kubernetes' JOB_COMPLETION_INDEX. */
  readonly index: number;
  readonly count: number;
}

/** More shards than this is a typo: the pods of a cluster would hardly fill them. */
export const MAX_SHARDS = 1024;

/** `2/8` → `{ index: 2, count: 8 }`. */
export function parseShard(text: string, flag = '--shard'): Shard {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  if (!m)
    throw new UsageError(
      `${flag}: invalid shard ${JSON.stringify(text)}: expected INDEX/COUNT with INDEX from 0 to COUNT-1 (e.g. 0/4)`,
    );
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1 || count > MAX_SHARDS)
    throw new UsageError(`${flag}: shard count must be between 1 and ${MAX_SHARDS}, got ${count}`);
  if (index >= count)
    throw new UsageError(
      `${flag}: shard index ${index} is out of range for ${count} shard(s): expected 0 to ${count - 1}`,
    );
  return { index, count };
}

export function formatShard(shard: Shard): string {
  return `${shard.index}/${shard.count}`;
}

/** The shard a pod belongs to among `count`: FNV-1a (32 bit) of the pod name's UTF-8 bytes, mod count. */
export function shardOf(pod: string, count: number): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(pod, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % count;
}

/** Whether `pod` is this compactor's to handle; every pod is without `--shard`. */
export function inShard(pod: string, shard: Shard | undefined): boolean {
  return shard === undefined || shardOf(pod, shard.count) === shard.index;
}

import { UsageError } from '../errors.js';
import { inShard, parseShard, shardOf } from './shard.js';

const pods = Array.from({ length: 5000 }, (_, i) => `job-${i.toString(36)}-${(i * 7919) % 1000}`);

describe('--shard I/N', () => {
  it('puts every pod in exactly one of the N shards', () => {
    for (const count of [1, 2, 3, 7, 16]) {
      for (const pod of pods) {
        const owners = Array.from({ length: count }, (_, index) => index).filter((index) =>
          inShard(pod, { index, count }),
        );
        expect(owners).toEqual([shardOf(pod, count)]);
      }
    }
  });

  it('spreads pods evenly enough that no shard gets twice its share', () => {
    const count = 8;
    const sizes = new Array<number>(count).fill(0);
    for (const pod of pods) sizes[shardOf(pod, count)]! += 1;
    for (const size of sizes) {
      expect(size).toBeGreaterThan(pods.length / count / 2);
      expect(size).toBeLessThan((pods.length / count) * 2);
    }
  });

  it('depends on the pod name alone, the same in every pass and every release', () => {
    // Pinned values: a changed hash would move pods between shards on upgrade. Harmless for
    // safety (the lease keeps one writer per pod) but it must be a decision, not an accident.
    expect([shardOf('job-1', 4), shardOf('train-7f9c2', 4), shardOf('a', 1000)]).toEqual([
      fnv1a('job-1') % 4,
      fnv1a('train-7f9c2') % 4,
      fnv1a('a') % 1000,
    ]);
    expect(fnv1a('a')).toBe(0xe40c292c); // FNV-1a's published test vector for "a"
  });

  it('takes every pod without --shard', () => {
    expect(pods.every((pod) => inShard(pod, undefined))).toBe(true);
  });

  it('reads I/N and rejects what cannot be a shard with a message naming the flag', () => {
    expect(parseShard('0/1')).toEqual({ index: 0, count: 1 });
    expect(parseShard(' 3 / 4 ')).toEqual({ index: 3, count: 4 });
    for (const [text, message] of [
      ['4/4', 'shard index 4 is out of range for 4 shard(s): expected 0 to 3'],
      ['0/0', 'shard count must be between 1 and 1024'],
      ['-1/4', 'expected INDEX/COUNT'],
      ['1', 'expected INDEX/COUNT'],
      ['$(JOB_COMPLETION_INDEX)/4', 'expected INDEX/COUNT'],
    ] as const) {
      expect(() => parseShard(text)).toThrow(UsageError);
      expect(() => parseShard(text)).toThrow(message);
    }
  });
});

/** FNV-1a, 32 bit, written out independently of shard.ts from its definition. */
function fnv1a(text: string): number {
  let h = 2166136261;
  for (const b of new TextEncoder().encode(text)) h = Number((BigInt((h ^ b) >>> 0) * 16777619n) % 4294967296n);
  return h;
}

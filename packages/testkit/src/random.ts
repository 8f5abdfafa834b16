// Its own module, apart from seed.ts: that one is also a CLI (top-level await), which jest,
// loading the testkit as CommonJS, cannot import.
/** mulberry32: a small deterministic PRNG, so seeded data (the demo's, the bench's) is the same every run. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

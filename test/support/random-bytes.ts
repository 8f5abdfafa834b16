// Deterministic pseudo-random bytes (xorshift32), for bodies that are not what they claim to
// be (garbage after gzip magic bytes): the same seed gives the same bytes, so a failure replays.
export function pseudoRandomBytes(length: number, seed: number): Buffer {
  const out = Buffer.alloc(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

import { overlap } from './probe.js';

describe('overlap (the archive and the live log at the boundary time)', () => {
  it('is the longest run that ends the archived lines and begins the live ones', () => {
    // The live log holds the whole run; the archive its first two.
    expect(overlap(['a', 'b'], ['a', 'b', 'c'])).toBe(2);
    // Rotation removed "a" and "b" from the live log; the archive has all four.
    expect(overlap(['a', 'b', 'c', 'd'], ['c', 'd', 'e'])).toBe(2);
    // Identical lines: the most that can be the same ones.
    expect(overlap(['x', 'x'], ['x', 'x', 'x'])).toBe(2);
    expect(overlap(['a'], ['b'])).toBe(0);
    expect(overlap([], ['a'])).toBe(0);
    expect(overlap(['a'], [])).toBe(0);
  });
});

import { roomFor } from './merge-writer.js';

describe('the buffer room a merged line reserves', () => {
  it('is its worst case for a short line: three bytes per UTF-16 unit', () => {
    expect(roomFor('{"log":"é"}')).toBe(33);
  });

  it('is its exact UTF-8 size for a long line, not three times its length', () => {
    const ascii = 'a'.repeat(50_000_000);
    expect(roomFor(ascii)).toBe(50_000_000);
    expect(roomFor('é'.repeat(1_000_000))).toBe(2_000_000);
  });
});

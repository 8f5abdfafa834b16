// The interleavings model's raw-file order (support/interleavings-model.ts, written from
// docs/design.md §1 by another technique than the reader's) agrees with the reader's compareRawKeys on
// every pair of keys, and would catch a comparator that breaks the contract.
import fc from 'fast-check';
import { compareRawKeys, parseRawKey, rawKey, type RawKey } from '@platform/log-reader/layout';
import { rawOrder } from './support/interleavings-model.js';

const sign = (n: number): number => (n < 0 ? -1 : n > 0 ? 1 : 0);

/** The index seed-index.sh puts back for a start at `time`. */
function seeded(time: string): number {
  return Date.parse(time);
}

const keyArb = fc
  .record({
    pod: fc.constantFrom('job-a', 'job-b'),
    containerId: fc.constantFrom('c0ffee', '0f3a', 'ab12'),
    slice: fc.constantFrom('202611250959', '202611251000', '202611251001', '202612010000'),
    index: fc.oneof(
      fc.integer({ min: 0, max: 12 }),
      fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
      // Seeded by seed-index.sh (the clock x 1000) around the slices above: a restart's minute.
      fc.integer({ min: seeded('2026-11-25T09:57:00Z'), max: seeded('2026-11-25T10:02:00Z') }),
    ),
    separator: fc.constantFrom('_', '__'),
  })
  .map(({ separator, ...parts }) =>
    rawKey({ ...parts, namespace: 'jobs', container: parts.pod }, separator as '_' | '__'),
  );

function parsed(key: string): RawKey {
  const found = parseRawKey(key);
  if (found === undefined) throw new Error(`not a raw key: ${key}`);
  return found;
}

/** The Python service's order, (slice, index, key): not the contract's for seeded indexes. */
function pythonOrder(a: RawKey, b: RawKey): number {
  if (a.slice !== b.slice) return a.slice < b.slice ? -1 : 1;
  if (a.index !== b.index) return a.index - b.index;
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

/** A comparator that breaks the contract: the index compared as text ("10" before "9"). */
function indexAsText(a: RawKey, b: RawKey): number {
  if (a.slice !== b.slice) return a.slice < b.slice ? -1 : 1;
  const x = String(a.index);
  const y = String(b.index);
  if (x !== y) return x < y ? -1 : 1;
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

describe('the raw-file order of the interleavings model', () => {
  it("agrees with the reader's compareRawKeys on every pair of raw keys", () => {
    fc.assert(
      fc.property(keyArb, keyArb, (a, b) => {
        expect(sign(rawOrder({ key: a }, { key: b }))).toBe(sign(compareRawKeys(parsed(a), parsed(b))));
      }),
      { numRuns: 2000, seed: 42 },
    );
  });

  it('sorts _10 after _9, a later slice after any index, and two separators by key', () => {
    const key = (slice: string, index: number, separator: '_' | '__' = '_'): string =>
      rawKey({ pod: 'job-a', namespace: 'jobs', container: 'job-a', containerId: 'c0ffee', slice, index }, separator);
    const keys = [
      key('202611251001', 1),
      key('202611251000', 10),
      key('202611251000', 9, '__'),
      key('202611251000', 9),
      key('202611251000', 2),
    ];
    const sorted = [...keys].sort((a, b) => rawOrder({ key: a }, { key: b }));
    expect(sorted).toEqual([
      key('202611251000', 2),
      key('202611251000', 9),
      key('202611251000', 9, '__'),
      key('202611251000', 10),
      key('202611251001', 1),
    ]);
    expect([...keys].sort((a, b) => compareRawKeys(parsed(a), parsed(b)))).toEqual(sorted);
  });

  it('disagrees with a comparator that compares the index as text', () => {
    const a = rawKey(
      { pod: 'job-a', namespace: 'jobs', container: 'job-a', containerId: 'c0ffee', slice: '202611251000', index: 9 },
      '_',
    );
    const b = rawKey(
      { pod: 'job-a', namespace: 'jobs', container: 'job-a', containerId: 'c0ffee', slice: '202611251000', index: 10 },
      '_',
    );
    expect(sign(rawOrder({ key: a }, { key: b }))).toBe(-1);
    expect(sign(indexAsText(parsed(a), parsed(b)))).toBe(1);
    // And a search finds such pairs: the model is not blind to the broken comparator.
    const details = fc.check(
      fc.property(
        keyArb,
        keyArb,
        (x, y) => sign(rawOrder({ key: x }, { key: y })) === sign(indexAsText(parsed(x), parsed(y))),
      ),
      { numRuns: 2000, seed: 42 },
    );
    expect(details.failed).toBe(true);
  });

  it("puts a restarted Fluent Bit's reloaded files before its first new file (seeded index), as the reader does", () => {
    // Started again at 10:00:10: the reloaded files are keyed 10:00 and uploaded first; the
    // first new file is keyed by its first record, 09:59 (lines read again after the kill).
    const start = seeded('2026-11-25T10:00:10Z');
    const key = (slice: string, index: number): string =>
      rawKey({ pod: 'job-a', namespace: 'jobs', container: 'job-a', containerId: 'c0ffee', slice, index }, '__');
    const uploads = [
      key('202611250959', seeded('2026-11-25T09:30:00Z') + 30),
      key('202611251000', start),
      key('202611251000', start + 1),
      key('202611250959', start + 2),
      key('202611251002', start + 3),
    ];
    const shuffled = [uploads[3], uploads[4], uploads[1], uploads[0], uploads[2]] as string[];
    expect([...shuffled].sort((a, b) => rawOrder({ key: a }, { key: b }))).toEqual(uploads);
    expect([...shuffled].sort((a, b) => compareRawKeys(parsed(a), parsed(b)))).toEqual(uploads);
    // The Python service's order puts the first new file before the reloaded ones.
    expect([...shuffled].sort((a, b) => pythonOrder(parsed(a), parsed(b)))).not.toEqual(uploads);
  });

  it('disagrees with the Python order (slice, index) on some pairs of seeded keys', () => {
    const details = fc.check(
      fc.property(
        keyArb,
        keyArb,
        (x, y) => sign(rawOrder({ key: x }, { key: y })) === sign(pythonOrder(parsed(x), parsed(y))),
      ),
      { numRuns: 2000, seed: 42 },
    );
    expect(details.failed).toBe(true);
  });
});

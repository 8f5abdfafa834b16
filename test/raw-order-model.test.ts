// The interleavings model's raw-file order (support/interleavings-model.ts, written from
// docs/design.md §1 by another technique than the reader's) agrees with the reader's compareRawKeys on
// every pair of keys, and would catch a comparator that breaks the contract.
import fc from 'fast-check';
import { compareRawKeys, parseRawKey, rawKey, type RawKey } from '@platform/log-reader/layout';
import { rawOrder } from './support/interleavings-model.js';

const sign = (n: number): number => (n < 0 ? -1 : n > 0 ? 1 : 0);

const keyArb = fc
  .record({
    pod: fc.constantFrom('job-a', 'job-b'),
    containerId: fc.constantFrom('c0ffee', '0f3a', 'ab12'),
    slice: fc.constantFrom('202611250959', '202611251000', '202611251001', '202612010000'),
    index: fc.oneof(fc.integer({ min: 0, max: 12 }), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER })),
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
});

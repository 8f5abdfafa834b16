// Raw file order (docs/design.md §1) for keys of a Fluent Bit whose $INDEX was seeded from the
// clock (seed-index.sh) and for keys of a stock one, whose order stays the Python service's.
import {
  compareRawKeys,
  compareRawKeysAsPython,
  parseRawKey,
  rawOrderSlice,
  SEEDED_INDEX_FLOOR,
  type RawKey,
} from './keys.js';
import { EMPTY_METADATA, mergedRawPredicate } from './metadata.js';

const DIR = 'kube.var.log.containers.job-1_jobs_job-1-0f3a.log/';
const OTHER_DIR = 'kube.var.log.containers.job-1_jobs_job-1-ffff.log/';

function raw(file: string, dir = DIR): RawKey {
  const parsed = parseRawKey(dir + file);
  if (!parsed) throw new Error(`test key does not parse: ${dir + file}`);
  return parsed;
}

/** The index seed-index.sh seeds for a start at `time` (UTC). */
function seed(time: string): number {
  return (Date.parse(time) / 1000) * 1000;
}

describe('raw file order of a Fluent Bit killed and started again (seeded $INDEX)', () => {
  // Started at 12:30:05; killed at 12:53:50; started again at 12:54:10. The reloaded
  // store_dir files are keyed by the restart's minute and uploaded first; the first new file
  // is keyed by its first record's minute (12:53, lines read again after the kill).
  const run1 = seed('2026-12-07T12:30:05Z');
  const run2 = seed('2026-12-07T12:54:10Z');
  const beforeKill = [raw(`202612071252__${run1 + 40}.gz`), raw(`202612071253__${run1 + 41}.gz`)];
  const reloaded = [raw(`202612071254__${run2}.gz`), raw(`202612071254__${run2 + 1}.gz`)];
  const firstNew = raw(`202612071253__${run2 + 2}.gz`);
  const later = [raw(`202612071255__${run2 + 3}.gz`), raw(`202612071256__${run2 + 4}.gz`)];

  it('puts the reloaded files before the first new file, in upload order', () => {
    const expected = [...beforeKill, ...reloaded, firstNew, ...later];
    const shuffled = [later[1], firstNew, reloaded[1], beforeKill[1], later[0], reloaded[0], beforeKill[0]] as RawKey[];
    expect(shuffled.sort(compareRawKeys).map((k) => k.key)).toEqual(expected.map((k) => k.key));
  });

  it('orders them as the Python service does when the indexes are a stock Fluent Bit’s', () => {
    // The same upload with a counter that kept counting from 1 (a kill leaves the file).
    const stock = [raw('202612071253__42.gz'), raw('202612071254__43.gz'), raw('202612071254__44.gz')];
    const firstNewStock = raw('202612071253__45.gz');
    const sorted = [...stock, firstNewStock].sort(compareRawKeys).map((k) => k.key);
    expect(sorted).toEqual([stock[0], firstNewStock, stock[1], stock[2]].map((k) => k?.key));
  });

  it('orders a file no earlier than its slice (a listing past a slice has every file ordered before it)', () => {
    for (const k of [...beforeKill, ...reloaded, firstNew, ...later]) {
      expect(rawOrderSlice(k) >= k.slice).toBe(true);
    }
    expect(rawOrderSlice(firstNew)).toBe('202612071255');
    expect(rawOrderSlice(later[1] as RawKey)).toBe('202612071256');
  });

  it('orders by the slice a file of a Fluent Bit running for longer than a minute', () => {
    expect(rawOrderSlice(raw(`202612071331__${run1 + 500}.gz`))).toBe('202612071331');
    expect(rawOrderSlice(raw(`202612071331__${run1 + 500}.gz`, OTHER_DIR))).toBe('202612071331');
  });

  it('reads an index beyond the year 9999 as that year', () => {
    expect(rawOrderSlice(raw('202612071331__999999999999999.gz'))).toBe('999912312359');
  });
});

describe('raw file order is a total order', () => {
  // Stock and seeded indexes, two containers, slices around a restart.
  const slices = ['202612071252', '202612071253', '202612071254', '202612071255'];
  const indexes = [
    1,
    2,
    10,
    seed('2026-12-07T12:52:30Z'),
    seed('2026-12-07T12:54:10Z'),
    seed('2026-12-07T12:54:10Z') + 1,
  ];
  const keys = slices.flatMap((s) => indexes.flatMap((i) => [raw(`${s}__${i}.gz`), raw(`${s}_${i}.gz`, OTHER_DIR)]));

  it('is antisymmetric and transitive over stock and seeded keys', () => {
    const sorted = [...keys].sort(compareRawKeys);
    for (let i = 0; i < sorted.length; i++) {
      for (let j = i + 1; j < sorted.length; j++) {
        const [a, b] = [sorted[i] as RawKey, sorted[j] as RawKey];
        expect(compareRawKeys(a, b)).toBeLessThan(0);
        expect(compareRawKeys(b, a)).toBeGreaterThan(0);
      }
    }
  });

  it('is the Python service’s order for every pair of stock keys', () => {
    const stock = keys.filter((k) => k.index < SEEDED_INDEX_FLOOR);
    for (const a of stock)
      for (const b of stock) expect(Math.sign(compareRawKeys(a, b))).toBe(Math.sign(compareRawKeysAsPython(a, b)));
  });
});

describe('a document of the Python service on a bucket with seeded indexes', () => {
  // Its last_merged_key means every raw key up to it in its own order (slice, index, key):
  // the first new file after a restart, keyed a minute before the reloaded ones, is merged.
  const restart = seed('2026-12-07T12:54:10Z');
  const lastMerged = raw(`202612071254__${restart + 1}.gz`);
  const merged = mergedRawPredicate({
    ...EMPTY_METADATA,
    lastMergedKey: lastMerged.key,
    lastCompactionTime: '2026-12-07T13:00:02.000000+00:00',
  });
  const uploaded = new Date('2026-12-07T12:56:01Z');

  it('takes the keys up to last_merged_key in its order as merged, whatever ours', () => {
    const firstNew = raw(`202612071253__${restart + 2}.gz`);
    expect(compareRawKeys(firstNew, lastMerged)).toBeGreaterThan(0);
    expect(merged({ ...firstNew, lastModified: uploaded })).toBe(true);
    expect(merged({ ...raw(`202612071255__${restart + 3}.gz`), lastModified: uploaded })).toBe(false);
  });
});

import type { ArchiveFilter } from './types.js';
import type { LogFileEntry } from '../layout/metadata.js';
import { Ring, tailStart } from './tail.js';
import { parseTime } from '../layout/time.js';

const A = '0f3a'.repeat(16);
const B = '1b2c'.repeat(16);

/** A merged file of `count` records of container `id`, from minute `from` to minute `to` (10:mm). */
function file(id: string, count: number, from: number, to: number): LogFileEntry {
  const at = (m: number): string => `2026-11-25T10:${String(m).padStart(2, '0')}:00.000000+00:00`;
  return {
    key: `data/job-1/${id}/202611251100_${from}.gz`,
    recordsCount: count,
    size: count * 50,
    firstRecordTime: at(from),
    lastRecordTime: at(to),
    exactRange: true,
  };
}
const ns = (m: number): bigint => parseTime(`2026-11-25T10:${String(m).padStart(2, '0')}:00Z`) as bigint;

describe('tailStart', () => {
  const files = [file(A, 10, 0, 9), file(A, 10, 10, 19), file(B, 10, 20, 29)];

  it('walks back from the end until the files hold what is needed', () => {
    expect(tailStart(files, 0, {})).toBe(30);
    expect(tailStart(files, 1, {})).toBe(20);
    expect(tailStart(files, 10, {})).toBe(20);
    expect(tailStart(files, 11, {})).toBe(10);
    expect(tailStart(files, 30, {})).toBe(0);
    expect(tailStart(files, 99, {})).toBe(0);
    expect(tailStart([], 5, {})).toBe(0);
  });

  it('counts a file partly before `since` as nothing, so the walk goes one file further', () => {
    const filter: ArchiveFilter = { since: ns(25) };
    expect(tailStart(files, 5, filter)).toBe(0);
    expect(tailStart(files, 5, { since: ns(20) })).toBe(20);
  });

  it('counts a file partly in a live log as nothing, and one wholly before its boundary in full', () => {
    // Container B's records after 10:25 come from its live log.
    const filter: ArchiveFilter = { exclude: [{ containerId: B, fromNs: ns(25) }] };
    expect(tailStart(files, 5, filter)).toBe(10);
    // A boundary after the file's last record: all of it is read from the archive.
    expect(tailStart(files, 5, { exclude: [{ containerId: B, fromNs: ns(30) }] })).toBe(20);
    // Another container's boundary leaves these files alone.
    expect(tailStart(files, 5, { exclude: [{ containerId: '9'.repeat(64), fromNs: ns(0) }] })).toBe(20);
  });
});

describe('Ring', () => {
  it('keeps the last items pushed, in order', () => {
    const ring = new Ring<number>(3);
    ring.push([1, 2]);
    expect(ring.toArray()).toEqual([1, 2]);
    ring.push([3, 4, 5, 6, 7]);
    expect(ring.toArray()).toEqual([5, 6, 7]);
    expect(ring.size).toBe(3);
  });

  it('keeps nothing with no capacity', () => {
    const ring = new Ring<number>(0);
    ring.push([1]);
    expect(ring.toArray()).toEqual([]);
  });
});

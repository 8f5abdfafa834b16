import { dropsWholeFile, keeps, surelyKept } from './archive-filter.js';
import type { ArchiveFilter } from './types.js';
import type { LogFileEntry } from '../layout/metadata.js';
import type { LogRecord } from '../layout/records.js';
import { parseTime } from '../layout/time.js';

const A = '0f3a'.repeat(16);
const B = '1b2c'.repeat(16);
const at = (s: string): bigint => parseTime(s) as bigint;
const record = (time: string, containerId = A): LogRecord => ({ time, message: 'm', stream: 'stdout', containerId });
const entry = (first: string, last: string, id = A): LogFileEntry => ({
  key: `data/job-1/${id}/202611251100_1.gz`,
  recordsCount: 7,
  size: 1,
  firstRecordTime: first,
  lastRecordTime: last,
  exactRange: true,
});

describe('keeps', () => {
  const boundary: ArchiveFilter = { exclude: [{ containerId: A.slice(0, 12), fromNs: at('2026-11-25T10:00:00.5Z') }] };

  it('keeps records at or after `since`, at nanosecond precision', () => {
    const filter = { since: at('2026-11-25T10:00:00.000000002Z') };
    expect(keeps(filter, record('2026-11-25T10:00:00.000000001Z'))).toBe(false);
    expect(keeps(filter, record('2026-11-25T10:00:00.000000002Z'))).toBe(true);
    expect(keeps(filter, record('not a time'))).toBe(true);
  });

  it("leaves out a live container's records after its boundary, keeps those at it and before it", () => {
    expect(keeps(boundary, record('2026-11-25T10:00:00.499999999Z'))).toBe(true);
    expect(keeps(boundary, record('2026-11-25T10:00:00.5Z'))).toBe(true);
    expect(keeps(boundary, record('2026-11-25T10:00:00.500000001Z'))).toBe(false);
    // Another container of the pod is not in that live log.
    expect(keeps(boundary, record('2026-11-25T11:00:00Z', B))).toBe(true);
  });
});

describe('dropsWholeFile and surelyKept', () => {
  it('skips a file that ends before `since` (a microsecond to spare) and counts one that begins at it', () => {
    const since = at('2026-11-25T10:00:00.000002Z');
    expect(
      dropsWholeFile({ since }, entry('2026-11-25T09:00:00.000000+00:00', '2026-11-25T10:00:00.000000+00:00')),
    ).toBe(true);
    expect(
      dropsWholeFile({ since }, entry('2026-11-25T09:00:00.000000+00:00', '2026-11-25T10:00:00.000001+00:00')),
    ).toBe(false);
    expect(surelyKept({ since }, entry('2026-11-25T10:00:00.000002+00:00', '2026-11-25T11:00:00.000000+00:00'))).toBe(
      7,
    );
    expect(surelyKept({ since }, entry('2026-11-25T10:00:00.000001+00:00', '2026-11-25T11:00:00.000000+00:00'))).toBe(
      0,
    );
  });

  it("skips a live container's file that begins after its boundary; counts one that ends before it", () => {
    const filter: ArchiveFilter = { exclude: [{ containerId: A, fromNs: at('2026-11-25T10:00:00Z') }] };
    expect(dropsWholeFile(filter, entry('2026-11-25T10:00:00.000001+00:00', '2026-11-25T11:00:00.000000+00:00'))).toBe(
      true,
    );
    // Its first record may be at the boundary itself: kept, so fetched.
    expect(dropsWholeFile(filter, entry('2026-11-25T10:00:00.000000+00:00', '2026-11-25T11:00:00.000000+00:00'))).toBe(
      false,
    );
    expect(
      dropsWholeFile(filter, entry('2026-11-25T10:00:00.000001+00:00', '2026-11-25T11:00:00.000000+00:00', B)),
    ).toBe(false);
    // Up to the boundary (with the microsecond the Python service may have truncated): all kept.
    expect(surelyKept(filter, entry('2026-11-25T09:00:00.000000+00:00', '2026-11-25T09:59:59.999999+00:00'))).toBe(7);
    expect(surelyKept(filter, entry('2026-11-25T09:00:00.000000+00:00', '2026-11-25T10:00:00.000000+00:00'))).toBe(0);
    expect(surelyKept(filter, entry('2026-11-25T09:00:00.000000+00:00', '2026-11-25T11:00:00.000000+00:00', B))).toBe(
      7,
    );
  });
});

describe('within (lines a live log lost to rotation)', () => {
  const filter: ArchiveFilter = {
    within: { containerId: A, afterNs: at('2026-11-25T10:00:01Z'), beforeNs: at('2026-11-25T10:00:05Z') },
  };

  it('keeps only the container’s records strictly between the two instants', () => {
    expect(keeps(filter, record('2026-11-25T10:00:01Z'))).toBe(false);
    expect(keeps(filter, record('2026-11-25T10:00:01.000000001Z'))).toBe(true);
    expect(keeps(filter, record('2026-11-25T10:00:04.999999999Z'))).toBe(true);
    expect(keeps(filter, record('2026-11-25T10:00:05Z'))).toBe(false);
    expect(keeps(filter, record('2026-11-25T10:00:03Z', B))).toBe(false);
    expect(keeps(filter, record('not a time'))).toBe(false);
  });

  it('fetches no merged file of another container or outside the window', () => {
    expect(
      dropsWholeFile(filter, entry('2026-11-25T10:00:00.000000+00:00', '2026-11-25T10:00:09.000000+00:00', B)),
    ).toBe(true);
    expect(dropsWholeFile(filter, entry('2026-11-25T09:00:00.000000+00:00', '2026-11-25T10:00:00.999000+00:00'))).toBe(
      true,
    );
    expect(dropsWholeFile(filter, entry('2026-11-25T10:00:05.000000+00:00', '2026-11-25T10:09:00.000000+00:00'))).toBe(
      true,
    );
    expect(dropsWholeFile(filter, entry('2026-11-25T10:00:00.000000+00:00', '2026-11-25T10:00:09.000000+00:00'))).toBe(
      false,
    );
  });
});

describe('a merged file written by the Python service (first and last written, not earliest and latest)', () => {
  // Its writer took last_record_time from the last record it wrote: a backlog upload merged last
  // put older records at the end, so records after that time can sit before it in the file.
  const python = (first: string, last: string): LogFileEntry => {
    const { exactRange: _exact, ...rest } = entry(first, last);
    return rest;
  };

  it('is fetched whatever `since` says of its range, and not counted as surely kept', () => {
    const file = python('2026-11-25T10:00:00Z', '2026-11-25T10:00:09Z');
    const filter: ArchiveFilter = { since: at('2026-11-25T11:00:00Z') };
    expect(dropsWholeFile(filter, file)).toBe(false);
    expect(surelyKept({ since: at('2026-11-25T09:00:00Z') }, file)).toBe(0);
  });

  it('is fetched for a window or a live boundary whatever its range, when its container is the one asked for', () => {
    const file = python('2026-11-25T10:00:00Z', '2026-11-25T10:00:09Z');
    const within: ArchiveFilter = {
      within: { containerId: A, afterNs: at('2026-11-25T11:00:00Z'), beforeNs: at('2026-11-25T12:00:00Z') },
    };
    expect(dropsWholeFile(within, file)).toBe(false);
    const exclude: ArchiveFilter = { exclude: [{ containerId: A, fromNs: at('2026-11-25T09:00:00Z') }] };
    expect(dropsWholeFile(exclude, file)).toBe(false);
    expect(surelyKept({ exclude: [{ containerId: A, fromNs: at('2026-11-25T11:00:00Z') }] }, file)).toBe(0);
    // The container still says which files a window of another container can skip.
    const other: ArchiveFilter = { within: { ...within.within!, containerId: B } };
    expect(dropsWholeFile(other, python('2026-11-25T10:00:00Z', '2026-11-25T10:00:09Z'))).toBe(true);
  });
});

import fc from 'fast-check';
import { InvalidTimeError } from '../errors.js';
import {
  formatIsoMicros,
  formatSlice,
  parseTime,
  parseTimeGeneral,
  parseTimeStrict,
  sliceToTime,
  toEpochNs,
} from './time.js';

/** Nanoseconds since the epoch of a UTC wall-clock time: the oracle for the expectations. */
function utcNs(y: number, mo: number, d: number, h: number, mi: number, s: number, ns = 0n): bigint {
  return BigInt(Date.UTC(y, mo - 1, d, h, mi, s)) * 1_000_000n + ns;
}

const TEN_UTC = utcNs(2026, 11, 25, 10, 0, 0);

describe('parseTime', () => {
  it.each([
    ['', 0n],
    ['.1', 100_000_000n],
    ['.12', 120_000_000n],
    ['.123', 123_000_000n],
    ['.1234', 123_400_000n],
    ['.12345', 123_450_000n],
    ['.123456', 123_456_000n],
    ['.1234567', 123_456_700n],
    ['.12345678', 123_456_780n],
    ['.123456789', 123_456_789n],
    ['.000000001', 1n],
    ['.999999999', 999_999_999n],
  ])('reads the fraction %p to the nanosecond', (fraction, ns) => {
    expect(parseTime(`2026-11-25T10:00:00${fraction}Z`)).toBe(TEN_UTC + ns);
  });

  it.each([
    ['Z', '2026-11-25T10:00:00.5Z'],
    ['lowercase z', '2026-11-25T10:00:00.5z'],
    ['+00:00', '2026-11-25T10:00:00.5+00:00'],
    ['+02:00', '2026-11-25T12:00:00.5+02:00'],
    ['-05:30', '2026-11-25T04:30:00.5-05:30'],
    ['+17:45 across midnight', '2026-11-26T03:45:00.5+17:45'],
    ['-08:00 on the previous day', '2026-11-25T02:00:00.5-08:00'],
    ['no zone (UTC)', '2026-11-25T10:00:00.5'],
  ])('compares a time with %s in UTC', (_zone, text) => {
    expect(parseTime(text)).toBe(TEN_UTC + 500_000_000n);
  });

  it('keeps the nanoseconds that a JavaScript Date loses', () => {
    const later = '2026-11-25T10:00:00.123456789Z';
    const earlier = '2026-11-25T10:00:00.123456788Z';
    expect(new Date(later).getTime()).toBe(new Date(earlier).getTime());
    expect(parseTime(later)!).toBeGreaterThan(parseTime(earlier)!);
    expect(parseTime(later)! - parseTime(earlier)!).toBe(1n);
  });

  it('orders times with different offsets by their instant, not their text', () => {
    // Textually "11:00" > "10:59", but 11:00:00+01:00 is 10:00:00Z, before 10:59Z.
    expect(parseTime('2026-11-25T11:00:00+01:00')!).toBeLessThan(parseTime('2026-11-25T10:59:00Z')!);
    expect(parseTime('2026-11-25T11:00:00.000000001+01:00')!).toBeGreaterThan(parseTime('2026-11-25T10:00:00Z')!);
  });

  it('accepts 29 February in a leap year', () => {
    expect(parseTime('2028-02-29T00:00:00Z')).toBe(utcNs(2028, 2, 29, 0, 0, 0));
  });

  it('reads times before 1970', () => {
    expect(parseTime('1969-12-31T23:59:59.999999999Z')).toBe(-1n);
  });

  it('does not move years below 100 into the 1900s', () => {
    // 0050-01-01 is 1920 years (701,265 days, 465 of them leap days) before 1970-01-01.
    const days = BigInt(1920 * 365 + 465);
    expect(parseTime('0050-01-01T00:00:00Z')).toBe(-days * 86_400n * 1_000_000_000n);
    expect(parseTime('0000-02-29T00:00:00Z')).toBeDefined(); // year 0 is a leap year
  });

  it.each([
    ['month 13', '2026-13-01T00:00:00Z'],
    ['month 0', '2026-00-01T00:00:00Z'],
    ['day 32', '2026-01-32T00:00:00Z'],
    ['31 November', '2026-11-31T00:00:00Z'],
    ['29 February in a common year', '2026-02-29T00:00:00Z'],
    ['hour 24', '2026-11-25T24:00:00Z'],
    ['minute 60', '2026-11-25T10:60:00Z'],
    ['an offset hour of 24', '2026-11-25T10:00:00+24:00'],
    ['an offset minute of 60', '2026-11-25T10:00:00+01:60'],
    ['ten fractional digits', '2026-11-25T10:00:00.1234567890Z'],
    ['a dot without digits', '2026-11-25T10:00:00.Z'],
    ['no seconds', '2026-11-25T10:00Z'],
    ['a date only', '2026-11-25'],
    ['trailing text', '2026-11-25T10:00:00Zjunk'],
    ['leading space', ' 2026-11-25T10:00:00Z'],
    ['garbage', 'yesterday'],
    ['an empty string', ''],
    ['a slice', '202611251000'],
  ])('rejects %s', (_what, text) => {
    expect(parseTime(text)).toBeUndefined();
    expect(() => parseTimeStrict(text)).toThrow(InvalidTimeError);
  });
});

describe('parseTime fast path', () => {
  const pad = (n: number, width: number): string => String(n).padStart(width, '0');
  // Fields around and beyond their ranges (day 29-31 in February, 60 seconds, year 0 and the
  // 100/400-year leap rules), every separator and zone RFC 3339 or its neighbours allow.
  const shaped = fc
    .record({
      year: fc.oneof(fc.integer({ min: 0, max: 9999 }), fc.constantFrom(0, 1, 100, 1900, 1969, 1970, 2000, 2024, 2100)),
      month: fc.integer({ min: 0, max: 13 }),
      day: fc.oneof(fc.integer({ min: 0, max: 32 }), fc.integer({ min: 28, max: 31 })),
      hour: fc.integer({ min: 0, max: 25 }),
      minute: fc.integer({ min: 0, max: 61 }),
      second: fc.oneof(fc.integer({ min: 0, max: 61 }), fc.constant(60)),
      fraction: fc.oneof(fc.constant(''), fc.stringMatching(/^[.,][0-9]{0,10}$/)),
      t: fc.constantFrom('T', 'T', 't', ' ', '_'),
      zone: fc.constantFrom('Z', 'Z', 'z', '', '+00:00', '-05:30', '+0100', '+24:00', '+01:60', ' Z', 'ZZ'),
    })
    .map(
      (f) =>
        `${pad(f.year, 4)}-${pad(f.month, 2)}-${pad(f.day, 2)}${f.t}${pad(f.hour, 2)}:${pad(f.minute, 2)}:` +
        `${pad(f.second, 2)}${f.fraction}${f.zone}`,
    );
  // One character of a shaped string replaced, dropped or doubled: digits where separators
  // belong, a comma or a space where a digit does, non-ASCII digits.
  const mutated = fc
    .tuple(
      shaped,
      fc.nat(),
      fc.constantFrom('0', '9', ':', '-', '.', ',', ' ', 'Z', 'T', '+', '\u0661', 'x'),
      fc.nat(2),
    )
    .map(([text, at, char, how]) => {
      const i = at % text.length;
      if (how === 0) return text.slice(0, i) + char + text.slice(i + 1);
      if (how === 1) return text.slice(0, i) + text.slice(i + 1);
      return text.slice(0, i) + char + text.slice(i);
    });
  const anyText = fc.string({ unit: fc.constantFrom(...'0123456789-:.,TtZz+ '.split('')), maxLength: 32 });

  it('gives what the general parser gives, for valid and invalid times', () => {
    fc.assert(
      fc.property(fc.oneof(shaped, mutated, anyText), (text) => {
        expect(parseTime(text)).toBe(parseTimeGeneral(text));
      }),
      { numRuns: 20_000 },
    );
  });

  it.each([
    ['the first instant of year 0', '0000-01-01T00:00:00Z'],
    ['29 February of year 0', '0000-02-29T23:59:59.999999999Z'],
    ['29 February 2000', '2000-02-29T12:00:00.5Z'],
    ['the last instant of year 9999', '9999-12-31T23:59:60.999999999Z'],
    ['a leap second rolling into the next year', '2026-12-31T23:59:60Z'],
    ['a Fluent Bit time', '2026-11-25T00:00:00.000111253Z'],
  ])('agrees with the general parser on %s', (_what, text) => {
    expect(parseTime(text)).toBeDefined();
    expect(parseTime(text)).toBe(parseTimeGeneral(text));
  });

  it.each([
    ['29 February 1900', '1900-02-29T00:00:00Z'],
    ['29 February 2100', '2100-02-29T00:00:00.1Z'],
    ['31 April', '2026-04-31T00:00:00.123Z'],
    ['second 61', '2026-11-25T10:00:61Z'],
    ['an Arabic-Indic digit', '2026-11-25T10:00:0\u0661Z'],
  ])('rejects %s as the general parser does', (_what, text) => {
    expect(parseTime(text)).toBeUndefined();
    expect(parseTimeGeneral(text)).toBeUndefined();
  });
});

describe('formatIsoMicros', () => {
  it.each([
    ['rounds a sub-microsecond rest down', 123_456_001n, 'floor', '2026-11-25T10:00:00.123456+00:00'],
    ['rounds a sub-microsecond rest up', 123_456_001n, 'ceil', '2026-11-25T10:00:00.123457+00:00'],
    ['rounds 999ns down', 123_456_999n, 'floor', '2026-11-25T10:00:00.123456+00:00'],
    ['keeps an exact microsecond (floor)', 123_456_000n, 'floor', '2026-11-25T10:00:00.123456+00:00'],
    ['keeps an exact microsecond (ceil)', 123_456_000n, 'ceil', '2026-11-25T10:00:00.123456+00:00'],
    ['writes six zeros on a whole second (floor)', 0n, 'floor', '2026-11-25T10:00:00.000000+00:00'],
    ['writes six zeros on a whole second (ceil)', 0n, 'ceil', '2026-11-25T10:00:00.000000+00:00'],
    ['pads small microseconds', 7_000n, 'floor', '2026-11-25T10:00:00.000007+00:00'],
    ['carries a ceil into the next second', 999_999_001n, 'ceil', '2026-11-25T10:00:01.000000+00:00'],
  ] as const)('%s', (_what, ns, rounding, expected) => {
    expect(formatIsoMicros(TEN_UTC + ns, rounding)).toBe(expected);
  });

  it('carries a ceil into the next day', () => {
    expect(formatIsoMicros(utcNs(2026, 12, 31, 23, 59, 59, 999_999_999n), 'ceil')).toBe(
      '2027-01-01T00:00:00.000000+00:00',
    );
  });

  it('rounds instants before 1970 toward the right side', () => {
    expect(formatIsoMicros(-1n, 'floor')).toBe('1969-12-31T23:59:59.999999+00:00');
    expect(formatIsoMicros(-1n, 'ceil')).toBe('1970-01-01T00:00:00.000000+00:00');
    expect(formatIsoMicros(-1_000n, 'ceil')).toBe('1969-12-31T23:59:59.999999+00:00');
  });

  it('gives a range that always contains the instant, within a microsecond, in the Python isoformat shape', () => {
    const shape = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}\+00:00$/;
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 18n), max: 4n * 10n ** 18n }), (ns) => {
        const low = formatIsoMicros(ns, 'floor');
        const high = formatIsoMicros(ns, 'ceil');
        expect(low).toMatch(shape);
        expect(high).toMatch(shape);
        const lowNs = parseTime(low)!;
        const highNs = parseTime(high)!;
        expect(lowNs <= ns && ns <= highNs).toBe(true);
        expect(ns - lowNs < 1_000n && highNs - ns < 1_000n).toBe(true);
        expect(lowNs % 1_000n).toBe(0n);
      }),
    );
  });
});

describe('slices', () => {
  it.each([
    ['2026-11-25T09:59:58.999Z', '202611250959'],
    ['2026-01-02T03:04:00.000Z', '202601020304'],
    ['2026-11-25T01:30:00-08:00', '202611250930'], // the UTC minute, not the local one
  ])('formatSlice(%s) is %s', (iso, slice) => {
    expect(formatSlice(new Date(iso))).toBe(slice);
  });

  it.each([
    ['202611250959', '2026-11-25T09:59:00Z'],
    ['202601020304', '2026-01-02T03:04:00Z'],
  ])('sliceToTime(%s) is the minute %s', (slice, time) => {
    expect(sliceToTime(slice)).toBe(time);
    expect(parseTime(sliceToTime(slice))).toBeDefined();
  });

  it('sliceToTime(formatSlice(d)) is d truncated to the minute', () => {
    const d = new Date('2026-11-25T09:59:58.123Z');
    expect(parseTime(sliceToTime(formatSlice(d)))).toBe(utcNs(2026, 11, 25, 9, 59, 0));
  });
});

describe('toEpochNs', () => {
  it('takes a Date at millisecond precision', () => {
    expect(toEpochNs(new Date('2026-11-25T10:00:00.123Z'))).toBe(TEN_UTC + 123_000_000n);
  });

  it('takes a string at nanosecond precision, offsets in UTC', () => {
    expect(toEpochNs('2026-11-25T12:00:00.123456789+02:00')).toBe(TEN_UTC + 123_456_789n);
  });

  it.each([['not a time'], ['2026-13-01T00:00:00Z']])('throws InvalidTimeError for the string %p', (text) => {
    expect(() => toEpochNs(text)).toThrow(InvalidTimeError);
    expect(() => toEpochNs(text)).toThrow(JSON.stringify(text));
  });

  it('throws InvalidTimeError for an invalid Date', () => {
    expect(() => toEpochNs(new Date('nope'))).toThrow(InvalidTimeError);
  });
});

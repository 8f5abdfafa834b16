/**
 * Times as the log records carry them: RFC 3339 with up to nine fractional digits,
 * `Z`, an offset, or no zone at all (then UTC). A JavaScript `Date` keeps milliseconds
 * only, so instants are bigint nanoseconds since the Unix epoch.
 */
import { InvalidTimeError } from '../errors.js';

/** Nanoseconds since 1970-01-01T00:00:00Z. */
export type EpochNs = bigint;

const NS_PER_MS = 1_000_000n;
const NS_PER_US = 1_000n;
// Date.UTC reads years 0-99 as 1900-1999: compute 400 years (one Gregorian cycle, the same
// calendar) later and take the cycle's length off again.
const YEARS_PER_CYCLE = 400;
const MS_PER_CYCLE = 146_097 * 86_400_000;

const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?(?:([Zz])|([+-])(\d{2}):?(\d{2}))?$/;

/** Parses an RFC 3339 time; `undefined` when it is not one. */
export function parseTime(text: string): EpochNs | undefined {
  const m = RFC3339.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac, , sign, oh, om] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  if (hour > 23 || minute > 59 || second > 60) return undefined;
  let ms = Date.UTC(year + YEARS_PER_CYCLE, month - 1, day, hour, minute, second) - MS_PER_CYCLE;
  if (sign !== undefined) {
    const offsetMinutes = Number(oh) * 60 + Number(om);
    if (Number(oh) > 23 || Number(om) > 59) return undefined;
    ms -= (sign === '+' ? 1 : -1) * offsetMinutes * 60_000;
  }
  const fractionNs = frac === undefined ? 0n : BigInt(frac.padEnd(9, '0'));
  return BigInt(ms) * NS_PER_MS + fractionNs;
}

/** Like {@link parseTime}, but throws {@link InvalidTimeError}. */
export function parseTimeStrict(text: string): EpochNs {
  const ns = parseTime(text);
  if (ns === undefined) throw new InvalidTimeError(text);
  return ns;
}

/** A `since` option: a `Date` (millisecond precision) or an RFC 3339 string (nanoseconds). */
export function toEpochNs(value: Date | string): EpochNs {
  if (typeof value === 'string') return parseTimeStrict(value);
  const ms = value.getTime();
  if (Number.isNaN(ms)) throw new InvalidTimeError(String(value));
  return BigInt(ms) * NS_PER_MS;
}

/**
 * Formats an instant the way Python's `datetime.isoformat()` does for an aware UTC time
 * with microseconds (`2026-11-25T09:00:01.123456+00:00`), rounding the nanoseconds down
 * or up so that a range built from these strings still contains the instant.
 */
export function formatIsoMicros(ns: EpochNs, rounding: 'floor' | 'ceil'): string {
  let us = floorDiv(ns, NS_PER_US);
  if (rounding === 'ceil' && us * NS_PER_US !== ns) us += 1n;
  const seconds = floorDiv(us, 1_000_000n);
  const micros = String(us - seconds * 1_000_000n).padStart(6, '0');
  const date = new Date(Number(seconds) * 1000);
  return `${date.toISOString().slice(0, 19)}.${micros}+00:00`;
}

/** The `YYYYMMDDHHmm` UTC minute used in object keys. */
export function formatSlice(date: Date): string {
  return date.toISOString().slice(0, 16).replace(/[-T:]/g, '');
}

/** A key's `YYYYMMDDHHmm` slice as an RFC 3339 time: the fallback for records without one. */
export function sliceToTime(slice: string): string {
  return `${slice.slice(0, 4)}-${slice.slice(4, 6)}-${slice.slice(6, 8)}T${slice.slice(8, 10)}:${slice.slice(10, 12)}:00Z`;
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year + YEARS_PER_CYCLE, month, 0)).getUTCDate();
}

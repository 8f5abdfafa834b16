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
  return parseFluentBitTime(text) ?? parseTimeGeneral(text);
}

// Fluent Bit writes `YYYY-MM-DDTHH:MM:SS.fffffffffZ` (0-9 fractional digits). This shape is
// read from char codes with plain number arithmetic (every record's time is parsed, and the
// regular expression, Date.UTC and a BigInt per field cost several times more); any other
// text, or a field out of range, is left to the general parser, so the results are its own.
const DIGIT_0 = 48;
const FRACTION_SCALE = [1e9, 1e8, 1e7, 1e6, 1e5, 1e4, 1e3, 100, 10, 1];
const DAYS_0000_TO_1970 = 719_468; // days from 0000-03-01 to 1970-01-01

function parseFluentBitTime(text: string): EpochNs | undefined {
  const length = text.length;
  if (length < 20 || length > 30 || length === 21 || text.charCodeAt(length - 1) !== 90 /* Z */) return undefined;
  if (text.charCodeAt(4) !== 45 || text.charCodeAt(7) !== 45 || text.charCodeAt(10) !== 84) return undefined; // - - T
  if (text.charCodeAt(13) !== 58 || text.charCodeAt(16) !== 58) return undefined; // : :
  if (length > 20 && text.charCodeAt(19) !== 46) return undefined; // .
  const year = digits(text, 0, 4);
  const month = digits(text, 5, 7);
  const day = digits(text, 8, 10);
  const hour = digits(text, 11, 13);
  const minute = digits(text, 14, 16);
  const second = digits(text, 17, 19);
  const fraction = length > 20 ? digits(text, 20, length - 1) : 0;
  if (year < 0 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 || minute > 59) {
    return undefined;
  }
  if (second < 0 || second > 60 || fraction < 0 || day > daysInMonthFast(year, month)) return undefined;
  const ms = (daysSinceEpoch(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second) * 1000;
  const fractionNs = length > 20 ? fraction * (FRACTION_SCALE[length - 21] as number) : 0;
  return BigInt(ms) * NS_PER_MS + BigInt(fractionNs);
}

/** The ASCII digits of `text[start, end)` as a number; -1 when one is not a digit. */
function digits(text: string, start: number, end: number): number {
  let value = 0;
  for (let i = start; i < end; i++) {
    const d = text.charCodeAt(i) - DIGIT_0;
    if (d < 0 || d > 9) return -1;
    value = value * 10 + d;
  }
  return value;
}

/** Days from 1970-01-01 to a proleptic Gregorian date (years 0-9999), as Date.UTC counts them. */
function daysSinceEpoch(year: number, month: number, day: number): number {
  // Count from March, so the leap day is the last of its year.
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - DAYS_0000_TO_1970;
}

function daysInMonthFast(year: number, month: number): number {
  if (month !== 2) return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
  return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
}

/**
 * The general parser: every shape {@link parseTime} accepts. Exported for the property test
 * that holds the fast path to it.
 */
export function parseTimeGeneral(text: string): EpochNs | undefined {
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

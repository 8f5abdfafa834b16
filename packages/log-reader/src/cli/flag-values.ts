/**
 * The values of the `logs` flags: parsers that turn a flag's text into its value or throw a
 * UsageError that names the flag and echoes the text, and the read's `since` from them.
 */
import { parseDurationMs } from '../layout/durations.js';
import { toEpochNs, type EpochNs } from '../layout/time.js';
import { UsageError } from './exit-codes.js';

/** `--since`: a duration back from the start of the read, or (as in earlier releases) a time. */
export type Since = { readonly ago: number } | { readonly time: string };

/**
 * `--tail -1`: every record, as without `--tail` (a parser returning undefined would not do: commander
 * keeps the text).
 */
export const TAIL_ALL = -1;

/** `30` (seconds), `30s`, `500ms`, `2m` → milliseconds, more than 0. */
export function parseDuration(text: string, flag: string): number {
  const ms = parseDurationMs(text);
  if (ms === undefined)
    throw new UsageError(
      `${flag}: invalid duration ${JSON.stringify(text)}: expected seconds or a number with ms, s, m, h or d (e.g. 30s, 500ms)`,
    );
  if (ms <= 0 || ms === Infinity)
    throw new UsageError(`${flag}: duration ${JSON.stringify(text)} must be at least 1ms and finite`);
  return ms;
}

/** A whole number of attempts, at least 1. */
export function parseAttempts(text: string, flag: string): number {
  const n = /^\d+$/.test(text.trim()) ? Number(text.trim()) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 1)
    throw new UsageError(
      `${flag}: invalid number of attempts ${JSON.stringify(text)}: expected a whole number, at least 1`,
    );
  return n;
}

/** A value that starts with a date (`2026-11-25…`) is a time; anything else a duration. */
const LOOKS_LIKE_A_DATE = /^\s*\d{4}-\d{2}-\d{2}/;

/** `--since`: `1h`, `30m`, `90s` (kubectl's durations), or an RFC 3339 time as earlier releases took. */
export function parseSince(text: string): Since {
  if (LOOKS_LIKE_A_DATE.test(text)) return { time: parseSinceTime(text, '--since') };
  const ms = parseDurationMs(text);
  if (ms === undefined) {
    throw new UsageError(
      `--since: invalid value ${JSON.stringify(text)}: expected a duration like 1h, 30m or 90s, or an RFC 3339 time like 2026-11-25T10:00:00Z`,
    );
  }
  if (ms <= 0 || ms === Infinity)
    throw new UsageError(`--since: duration ${JSON.stringify(text)} must be at least 1ms and finite`);
  return { ago: ms };
}

/** An RFC 3339 time, passed on as the string itself so that its nanoseconds are kept. */
export function parseSinceTime(text: string, flag = '--since-time'): string {
  try {
    toEpochNs(text);
  } catch (error) {
    throw new UsageError(`${flag}: ${(error as Error).message}`);
  }
  return text;
}

/** `--tail`: a whole number of records, at least 0, or kubectl's -1 for all ({@link TAIL_ALL}). */
export function parseTail(text: string): number {
  const trimmed = text.trim();
  if (trimmed === '-1') return TAIL_ALL;
  const n = /^\d+$/.test(trimmed) ? Number(trimmed) : Number.NaN;
  if (!Number.isSafeInteger(n))
    throw new UsageError(
      `--tail: invalid number of records ${JSON.stringify(text)}: expected a whole number, at least 0 (or -1 for all)`,
    );
  return n;
}

/** `--limit-bytes`: a whole number of bytes, at least 1. */
export function parseLimitBytes(text: string): number {
  const trimmed = text.trim();
  const n = /^\d+$/.test(trimmed) ? Number(trimmed) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 1)
    throw new UsageError(
      `--limit-bytes: invalid number of bytes ${JSON.stringify(text)}: expected a whole number, at least 1`,
    );
  return n;
}

/** The `since` of a read: `--since-time`, `--since TIME`, or `--since DURATION` back from `now`. */
export function resolveSince(
  flags: { since?: Since | undefined; sinceTime?: string | undefined },
  now: Date,
): string | undefined {
  if (flags.since !== undefined && flags.sinceTime !== undefined)
    throw new UsageError('at most one of --since and --since-time may be given');
  if (flags.sinceTime !== undefined) return flags.sinceTime;
  if (flags.since === undefined) return undefined;
  if ('time' in flags.since) return flags.since.time;
  return formatEpochNs(BigInt(now.getTime()) * 1_000_000n - BigInt(flags.since.ago) * 1_000_000n);
}

/** `2026-11-25T10:00:00.123456789Z`: an instant as RFC 3339 with all nine fractional digits. */
export function formatEpochNs(ns: EpochNs): string {
  const NS_PER_S = 1_000_000_000n;
  let seconds = ns / NS_PER_S;
  let fraction = ns % NS_PER_S;
  if (fraction < 0n) {
    fraction += NS_PER_S;
    seconds -= 1n;
  }
  return `${new Date(Number(seconds) * 1000).toISOString().slice(0, 19)}.${String(fraction).padStart(9, '0')}Z`;
}

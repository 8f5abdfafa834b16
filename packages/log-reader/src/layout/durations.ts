/**
 * Durations as both CLIs take them: seconds, or numbers with `ms`, `s`, `m`, `h` or `d`, one
 * or several as Go (and so kubectl) writes them (`90`, `90s`, `55m`, `1h`, `1h30m`, `500ms`,
 * `1.5s`). One syntax for every flag of either CLI.
 */
export const DURATION_UNITS: Readonly<Record<'ms' | 's' | 'm' | 'h' | 'd', number>> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

const SECONDS = /^\d+(?:\.\d+)?$/;
const PARTS = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+$/;
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/g;

/**
 * Milliseconds, rounded; `undefined` when `text` is not a duration, `Infinity` when it is
 * too large to count exactly.
 */
export function parseDurationMs(text: string): number | undefined {
  const t = text.trim();
  let ms: number;
  if (SECONDS.test(t)) ms = Number(t) * 1000;
  else if (PARTS.test(t))
    ms = [...t.matchAll(PART)].reduce(
      (sum, m) => sum + Number(m[1]) * DURATION_UNITS[m[2] as keyof typeof DURATION_UNITS],
      0,
    );
  else return undefined;
  ms = Math.round(ms);
  return Number.isSafeInteger(ms) ? ms : Infinity;
}

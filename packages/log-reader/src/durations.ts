/**
 * Durations as both CLIs take them: seconds, or a number with `ms`, `s`, `m`, `h` or `d`
 * (`90`, `90s`, `55m`, `1h`, `500ms`, `1.5s`). One syntax for every flag of either CLI.
 */
export const DURATION_UNITS: Readonly<Record<'ms' | 's' | 'm' | 'h' | 'd', number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/;

/**
 * Milliseconds, rounded; `undefined` when `text` is not a duration, `Infinity` when it is
 * too large to count exactly.
 */
export function parseDurationMs(text: string): number | undefined {
  const m = DURATION.exec(text.trim());
  if (!m) return undefined;
  const ms = Math.round(Number(m[1]) * DURATION_UNITS[(m[2] ?? 's') as keyof typeof DURATION_UNITS]);
  return Number.isSafeInteger(ms) ? ms : Infinity;
}

// The interleavings properties' settings (runs, replay variables, timeouts) and how one is
// checked with fast-check: each run talks to a real S3 server, and a failure says how to
// replay it. See test/interleavings.test.ts for the environment variables.
import fc from 'fast-check';
import type { Totals } from './interleavings-report.js';
import { runSteps } from './interleavings-step-runners.js';
import type { Step } from './interleavings-steps.js';

export const ENV = process.env;
const SEED = Number(ENV['FC_SEED'] ?? ENV['INTERLEAVINGS_SEED'] ?? 42);
const SHRINK = (ENV['FC_SHRINK'] ?? ENV['INTERLEAVINGS_SHRINK']) !== undefined;
const TOTAL_RUNS = ENV['FC_RUNS'] === undefined ? undefined : Number(ENV['FC_RUNS']);
/** Each run talks to a real S3 server: about this long at most, on a slow machine. */
const MS_PER_RUN = 20_000;

export interface PropertySettings {
  /** The test's name, for `jest -t`. */
  readonly name: string;
  readonly runsVariable: string;
  readonly pathVariable: string;
  /** Runs in `make test`. */
  readonly defaultRuns: number;
  /** Its share of FC_RUNS. */
  readonly share: number;
}

export const MAIN: PropertySettings = {
  name: 'every read returns each record once, in one order that only grows at its end, whatever runs under it',
  runsVariable: 'INTERLEAVINGS_RUNS',
  pathVariable: 'INTERLEAVINGS_PATH',
  defaultRuns: 20,
  share: 0.3,
};
export const LATE: PropertySettings = {
  name: 'a slow reader inside the raw files not merged yet keeps its place when late files insert records before it',
  runsVariable: 'INTERLEAVINGS_LATE_RUNS',
  pathVariable: 'INTERLEAVINGS_LATE_PATH',
  defaultRuns: 10,
  share: 0.1,
};
export const LONG: PropertySettings = {
  name: 'the same when passes take long, stall past their lease, or start in the same minute',
  runsVariable: 'INTERLEAVINGS_LONG_RUNS',
  pathVariable: 'INTERLEAVINGS_LONG_PATH',
  defaultRuns: 2,
  share: 0.45,
};
export const READS: PropertySettings = {
  name: 'a read that outlasts many cleanup intervals re-plans as often as it must and returns each record once',
  runsVariable: 'INTERLEAVINGS_READS_RUNS',
  pathVariable: 'INTERLEAVINGS_READS_PATH',
  defaultRuns: 1,
  share: 0.15,
};

export function runsOf(p: PropertySettings): number {
  const own = ENV[p.runsVariable];
  if (own !== undefined) return Number(own);
  return TOTAL_RUNS === undefined ? p.defaultRuns : Math.max(1, Math.round(TOTAL_RUNS * p.share));
}

export function timeoutOf(p: PropertySettings): number {
  return Math.max(300_000, runsOf(p) * MS_PER_RUN * (SHRINK ? 3 : 1));
}

/** Runs one property; a failure says how to replay it. */
export async function checkProperty(
  p: PropertySettings,
  arb: fc.Arbitrary<readonly Step[]>,
  totals: Totals,
): Promise<void> {
  const path = ENV[p.pathVariable];
  const started = Date.now();
  const details = await fc.check(
    fc.asyncProperty(arb, async (steps) => {
      totals.runs += 1;
      if (ENV['INTERLEAVINGS_VERBOSE'] && totals.runs % 50 === 0) {
        process.stderr.write(
          `interleavings (${p.pathVariable}): run ${totals.runs} of ${runsOf(p)} after ${((Date.now() - started) / 1000).toFixed(0)} s\n`,
        );
      }
      await runSteps(totals.runs, steps, totals);
    }),
    {
      seed: SEED,
      numRuns: runsOf(p),
      ...(path !== undefined ? { path } : {}),
      endOnFailure: !SHRINK,
      ...(ENV['FC_TIME_LIMIT'] !== undefined ? { interruptAfterTimeLimit: Number(ENV['FC_TIME_LIMIT']) * 1000 } : {}),
    },
  );
  const took = `${((Date.now() - started) / 1000).toFixed(0)} s`;
  if (details.interrupted)
    process.stderr.write(
      `interleavings (${p.pathVariable}): stopped by FC_TIME_LIMIT after ${details.numRuns} run(s), ${details.numShrinks} shrink(s)\n`,
    );
  if (ENV['INTERLEAVINGS_VERBOSE'])
    process.stderr.write(`interleavings (${p.pathVariable}): ${took}, ${JSON.stringify(totals)}\n`);
  if (details.failed) {
    const error =
      details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
    throw new Error(
      `property failed at run ${totals.runs} of ${runsOf(p)} (${took}; seed ${details.seed}, path "${details.counterexamplePath}"` +
        `${SHRINK ? `, shrunk ${details.numShrinks} time(s)` : ', not shrunk'}); replay with\n` +
        `  FC_SEED=${details.seed} ${p.pathVariable}='${details.counterexamplePath}' S3_TEST_SERVER=moto npx jest test/interleavings.test.ts -t '${p.name}'\n` +
        `(FC_SHRINK=1 to shrink it)\n${error}`,
    );
  }
}

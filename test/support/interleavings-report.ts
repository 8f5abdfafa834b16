// What the interleavings runs count and how they describe passes in a run's trace.
import type { PassSummary } from 'compactor';
import type { SlowRequest } from './hooks.js';
import type { PassShape } from './interleavings-steps.js';

export interface Totals {
  runs: number;
  steps: number;
  passes: number;
  crashedPasses: number;
  slowReads: number;
  /** Slow reads that re-read the metadata after meeting a deleted object. */
  replans: number;
  /** Of those, reads under which a late raw file inserted records in the middle of the log. */
  replansAcrossLateFiles: number;
  passesInsideReads: number;
  readsStartedInsidePasses: number;
  uploadsInsidePasses: number;
  /** Objects slow readers found deleted. */
  missing: number;
  lateMidLog: number;
  /** Passes during which the clock moved (some of their requests took minutes). */
  longPasses: number;
  /**
   * Passes that stalled while another pass ran, and of those, the ones whose pods the other took over (it merged or
   * cleaned them).
   */
  stalledPasses: number;
  takeovers: number;
  /** Takeovers in the minute the stalled pass started. */
  takeoversInTheSameMinute: number;
  /**
   * Stalled passes that landed a merged file no commit lists after the pass that took over
   * had cleaned the pod and taken it out of the queue: only the orphan sweep finds it.
   */
  orphansAfterCleaning: number;
  /** Pairs of passes started in the same minute that took turns. */
  overlappingPasses: number;
  /** Pods reported failed by a stalled or overlapping pass (allowed: the log is checked instead). */
  failuresAllowed: number;
  /**
   * Slow reads that re-planned more often than the reader's `maxReplans` (5), each time after returning more records.
   */
  readsPastMaxReplans: number;
  /** The most re-plans with progress in between that one read made. */
  mostReplans: number;
  /** Retention: `expire` steps; logs marked expired, marks removed (a merge), logs deleted whole. */
  expireSteps: number;
  marks: number;
  unmarks: number;
  logsDeleted: number;
  /** Merged files the expiry deleted; reads and slow reads that ended with LogExpiredError. */
  expiryDeletes: number;
  readsExpired: number;
  slowReadsExpired: number;
}

export const ZERO_TOTALS: Totals = {
  runs: 0,
  steps: 0,
  passes: 0,
  crashedPasses: 0,
  slowReads: 0,
  replans: 0,
  replansAcrossLateFiles: 0,
  passesInsideReads: 0,
  readsStartedInsidePasses: 0,
  uploadsInsidePasses: 0,
  missing: 0,
  lateMidLog: 0,
  longPasses: 0,
  stalledPasses: 0,
  takeovers: 0,
  takeoversInTheSameMinute: 0,
  orphansAfterCleaning: 0,
  overlappingPasses: 0,
  failuresAllowed: 0,
  readsPastMaxReplans: 0,
  mostReplans: 0,
  expireSteps: 0,
  marks: 0,
  unmarks: 0,
  logsDeleted: 0,
  expiryDeletes: 0,
  readsExpired: 0,
  slowReadsExpired: 0,
};

/** A run broke a property: the message holds the steps so far. */
export class Failure extends Error {}

export function outcome(summary: PassSummary): string {
  const failed =
    summary.failures.length > 0 ? `, failed ${summary.failures.map((f) => `${f.pod}: ${f.error}`).join('; ')}` : '';
  return `merged ${summary.pods.merged}, cleaned ${summary.pods.cleaned}, busy ${summary.pods.busy}, deleted ${summary.objectsDeleted}${failed}`;
}

export function showJumps(jumps: readonly SlowRequest[]): string {
  return jumps.map((j) => `#${j.at} +${j.ms / 1000} s`).join(', ');
}

export function showShape(shape: PassShape): string {
  return `max file ${shape.maxFileSize}, lease ${shape.leaseMs / 1000} s${shape.jumps.length > 0 ? `, slow requests ${showJumps(shape.jumps)}` : ''}`;
}

/**
 * The rules that decide whether a pod is merged now, with no write and nothing read but the
 * clock (and, with `--kube`, the Kubernetes API): the merge (merge.ts), the look before the
 * lease (triage.ts) and `compactor inspect` ask the same questions of the same functions.
 */
import { parseTime, toEpochNs, type PodMetadata, type UnfinishedLine } from '@platform/log-reader/layout';
import { lineContainerEnded } from '../kube/line-end.js';
import { newestUpload, type PodState } from '../store/pod-state.js';
import type { MergeDecision } from './context.js';

/** Why there is no merge now: compacted `recent`ly, or nothing to merge. */
export async function skipReason(
  ctx: MergeDecision,
  state: PodState,
): Promise<{ readonly reason: string; readonly recent: boolean } | undefined> {
  const recent = recentlyCompacted(ctx, state.metadata);
  if (recent !== undefined) return { reason: recent, recent: true };
  if (state.unmerged.length > 0) return undefined;
  if (state.metadata.unfinishedLines.length === 0) return { reason: 'no new raw files', recent: false };
  // Nothing new, but a line is open: it is merged as it is once it cannot be finished any more.
  return (await lineCanEnd(ctx, state, state.metadata.unfinishedLines))
    ? undefined
    : { reason: 'an unfinished line waits for its last piece', recent: false };
}

/** Why the pod is not merged again yet: its last compaction is less than the compact interval ago. */
export function recentlyCompacted(
  ctx: Pick<MergeDecision, 'clock' | 'config'>,
  metadata: PodMetadata,
): string | undefined {
  const last = metadata.lastCompactionTime === null ? undefined : parseTime(metadata.lastCompactionTime);
  if (last === undefined || toEpochNs(new Date(ctx.clock().getTime() - ctx.config.compactIntervalMs)) >= last)
    return undefined;
  return `compacted at ${metadata.lastCompactionTime}, less than the compact interval ago`;
}

/**
 * An unfinished line can be merged as it is once its rest can no longer arrive: with
 * `--kube`, its container has ended (line-end.ts); without, no raw upload for longer than
 * `--quiet-after` (the job has most likely ended).
 */
export async function lineCanEnd(
  ctx: MergeDecision,
  state: PodState,
  lines: readonly UnfinishedLine[],
): Promise<boolean> {
  return ctx.liveness === undefined ? isQuiet(ctx, state) : lineContainerEnded(ctx.liveness, state, lines, ctx.clock());
}

/** No raw upload for longer than `--quiet-after` (not the cleanup interval: `0` there must not cut lines). */
function isQuiet(ctx: MergeDecision, state: PodState): boolean {
  return ctx.clock().getTime() - newestUpload(state) > ctx.config.quietAfterMs;
}

/**
 * The probe of a followed read: where the current instance's live log starts (the boundary)
 * and its first lines at that time, the ones that may repeat the archive's last.
 */
import { LiveLogError } from '../errors.js';
import { parseTime, type EpochNs } from '../layout/time.js';
import type { FollowedRecord } from '../read/types.js';
import { type PodApi, readText } from './kube-http.js';
import { parseLiveLine } from './live-lines.js';
import type { ContainerRun, PodStatus } from './pod-status.js';

/** Tries to look at the pod and probe its instance's log with no restart in between. */
const PROBE_ATTEMPTS = 3;
/** Enough of a live log's start for its first lines (those at the boundary time). */
const PROBE_BYTES = 64 * 1024;
/** Lines sharing the boundary's exact nanosecond are few; more than this are not matched. */
export const MAX_AT_BOUNDARY = 1000;

/** The live log's start, as the probe found it. */
export interface Probe {
  readonly boundary: EpochNs;
  /** The live log's first lines at the boundary time, in order; the last one maybe cut short. */
  leading: string[];
  leadingCut: boolean;
  /** It held no line: where it goes on is after the instance's last archived record. */
  readonly empty: boolean;
}

/**
 * The pod and its current instance's probe, seen together: a restart between the look and
 * the probe would probe the next instance's log as this one's, so the pod is looked at again
 * after the probe, and both are taken again if its instance changed. Undefined when the pod
 * is not in the cluster.
 */
export async function lookAndProbe(api: PodApi): Promise<{ status: PodStatus; probed: Probe | undefined } | undefined> {
  for (let attempt = 1; ; attempt++) {
    const status = await api.getPod();
    if (status === undefined) return undefined;
    if (!status.hasContainer)
      throw new LiveLogError(
        api.namespace,
        api.pod,
        `the pod has no container named ${api.pod}: a job's log is its container named like the pod`,
      );
    if (status.current === undefined) return { status, probed: undefined };
    const probed = await probe(api, status.current);
    const again = await api.getPod();
    if (again === undefined) return undefined;
    if (again.uid === status.uid && again.current?.id === status.current.id) return { status, probed };
    if (attempt >= PROBE_ATTEMPTS)
      return {
        status,
        probed: { boundary: status.current.startedAt ?? 0n, leading: [], leadingCut: false, empty: true },
      };
  }
}

/**
 * The instance's boundary: the time of the first line its live log holds (or, while it holds
 * none, the instance's start), and the live log's first lines at that time.
 */
async function probe(api: PodApi, run: ContainerRun): Promise<Probe> {
  const answer = await api.openLog({ limitBytes: PROBE_BYTES });
  // The API cuts it at the limit; never hold more than that either way.
  const text = answer.kind === 'stream' ? await readText(answer.body, PROBE_BYTES) : '';
  if (answer.kind === 'stream') answer.body.destroy();
  const parts = text.split('\n');
  // The last part is cut by the byte limit (or empty): a prefix of its line.
  const rest = parts.pop() ?? '';
  const lines = parts.map(parseLiveLine);
  const cut = rest === '' ? undefined : parseLiveLine(rest);
  const first = lines[0]?.ns ?? cut?.ns;
  if (first === undefined) return { boundary: run.startedAt ?? 0n, leading: [], leadingCut: false, empty: true };
  if (run.startedAt !== undefined && run.startedAt > first)
    return { boundary: run.startedAt, leading: [], leadingCut: false, empty: false };
  const leading: string[] = [];
  for (const line of lines) {
    if (line.ns !== first || leading.length >= MAX_AT_BOUNDARY)
      return { boundary: first, leading, leadingCut: false, empty: false };
    leading.push(line.message);
  }
  // Every whole line is at the boundary time: the cut one may be too.
  const leadingCut = cut?.ns === first;
  if (cut !== undefined && leadingCut) leading.push(cut.message);
  return { boundary: first, leading, leadingCut, empty: false };
}

/** Messages of the first lines at `boundary`. */
export function leadingAt(lines: readonly FollowedRecord[], boundary: EpochNs): string[] {
  const out: string[] = [];
  for (const line of lines) {
    if (parseTime(line.time) !== boundary || out.length >= MAX_AT_BOUNDARY) break;
    out.push(line.message);
  }
  return out;
}

/**
 * The longest run that ends `archived` and begins `leading`: the lines both hold. With
 * `leadingCut`, the last of `leading` is the start of its line (the probe's byte limit cut it).
 */
export function overlap(archived: readonly string[], leading: readonly string[], leadingCut = false): number {
  const same = (a: string, i: number): boolean =>
    leadingCut && i === leading.length - 1 ? a.startsWith(leading[i] as string) : a === leading[i];
  for (let n = Math.min(archived.length, leading.length); n > 0; n--) {
    let all = true;
    for (let i = 0; i < n && all; i++) all = same(archived[archived.length - n + i] as string, i);
    if (all) return n;
  }
  return 0;
}

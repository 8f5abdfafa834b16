/**
 * A followed read: the archive up to where the live log takes over, then the live log to the
 * pod's end.
 *
 * The hand-off, per container instance whose log the API still serves (the current one, and
 * the one before it, whose tail may not be uploaded yet): the live log holds that instance's
 * lines from its start, or, after the kubelet rotated it, from its first line still there.
 * From that instant on the instance's lines are taken from the live log only, and the
 * archive's copies of them are left out (archive-filter.ts); before it they come from the
 * archive only. So a line written in the last minutes and not uploaded yet is in the live
 * part, and a line uploaded and also in the live log appears once, even when lines share one
 * timestamp across the boundary. A pod not in the cluster: the archive only.
 *
 * With `tail`, the parts are counted from the end: the live logs' last lines first
 * (`tailLines`), then the archive's last records for what is still missing.
 */
import type { ArchiveFilter, Exclusion } from '../archive-filter.js';
import type { FollowedRecord, FollowOptions } from '../reader.js';
import type { LogRecord } from '../records.js';
import type { EpochNs } from '../time.js';
import { PodApi } from './kube-http.js';
import { liveLines, Resume } from './live-lines.js';
import { LiveLog } from './live-log.js';
import type { ContainerRun } from './pod-status.js';

export const DEFAULT_WAIT_TIMEOUT_MS = 5 * 60_000;
export const DEFAULT_POLL_INTERVAL_MS = 1000;
/** Enough of a log's first line for its timestamp. */
const FIRST_LINE_BYTES = 256;

export interface FollowRead {
  readonly pod: string;
  readonly since: EpochNs | undefined;
  readonly tail: number | undefined;
  readonly follow: FollowOptions;
  readonly signal: AbortSignal | undefined;
  /** The archived records `filter` keeps, or the last `tail` of them. */
  readonly archive: (filter: ArchiveFilter, tail: number | undefined) => AsyncGenerator<LogRecord[]>;
}

/** A container instance whose log the API serves, and the instant from which its lines are taken from there. */
interface LiveSource {
  readonly run: ContainerRun;
  readonly previous: boolean;
  readonly resume: Resume;
  /** With `tail`: its last lines, read before the archive to count them. */
  lines?: FollowedRecord[];
}

export async function* followBatches(read: FollowRead): AsyncGenerator<FollowedRecord[]> {
  const { namespace, kube } = read.follow;
  const api = new PodApi(kube, namespace, read.pod, read.signal);
  const live = new LiveLog(
    api,
    { waitTimeoutMs: read.follow.waitTimeout ?? DEFAULT_WAIT_TIMEOUT_MS, pollIntervalMs: read.follow.pollInterval ?? DEFAULT_POLL_INTERVAL_MS },
    read.signal,
  );
  const status = await api.getPod();
  if (status === undefined) {
    yield* tagged(read.archive({ since: read.since }, read.tail));
    return;
  }
  const sources: LiveSource[] = [];
  const exclude: Exclusion[] = [];
  for (const [run, previous] of [
    [status.previous, true],
    [status.current, false],
  ] as const) {
    if (run === undefined || (previous && run.id === status.current?.id)) continue;
    const from = await handOff(api, run, previous);
    exclude.push({ containerId: run.id, fromNs: from });
    sources.push({ run, previous, resume: new Resume(maxNs(from, read.since)) });
  }

  let need = read.tail;
  if (need !== undefined) {
    // From the end backwards: the current instance's last lines, then the previous one's.
    for (const source of [...sources].reverse()) {
      if (need === 0 && source.previous) {
        source.lines = [];
        continue;
      }
      // With nothing needed, one line still places the follow at the log's end.
      const lines: FollowedRecord[] = [];
      for await (const batch of live.once(source.run, source.previous, source.resume, Math.max(need, 1))) lines.push(...batch);
      source.lines = lines.slice(Math.max(0, lines.length - need));
      need -= source.lines.length;
    }
  }
  if (need !== 0) yield* tagged(read.archive({ since: read.since, exclude }, need));
  for (const source of sources.filter((s) => s.previous)) {
    if (source.lines !== undefined) {
      if (source.lines.length > 0) yield source.lines;
    } else yield* live.once(source.run, true, source.resume);
  }
  const current = sources.find((s) => !s.previous);
  if (current?.lines !== undefined && current.lines.length > 0) yield current.lines;
  yield* live.follow({
    uid: status.uid,
    run: current?.run,
    resume: current?.resume ?? new Resume(read.since),
    before: status.previous?.id,
    since: read.since,
  });
}

/**
 * The instant from which `run`'s lines are taken from the live log: the time of the first
 * line it still holds, or, while it holds none, the instance's start.
 */
async function handOff(api: PodApi, run: ContainerRun, previous: boolean): Promise<EpochNs> {
  let first: EpochNs | undefined;
  const answer = await api.openLog({ previous, limitBytes: FIRST_LINE_BYTES });
  if (answer.kind === 'stream') {
    for await (const batch of liveLines(answer.body, true)) {
      first = batch[0]?.ns;
      break;
    }
    answer.body.destroy();
  }
  return maxNs(first ?? 0n, run.startedAt) ?? 0n;
}

function maxNs(a: EpochNs | undefined, b: EpochNs | undefined): EpochNs | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return a > b ? a : b;
}

async function* tagged(batches: AsyncIterable<LogRecord[]>): AsyncGenerator<FollowedRecord[]> {
  for await (const batch of batches) yield batch.map((r) => ({ ...r, source: 'archive' as const }));
}

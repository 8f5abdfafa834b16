/**
 * A followed read: the archive up to where the live log takes over, then the live log to the
 * pod's end.
 *
 * The hand-off for the current container instance: its live log holds its lines from its
 * start, or, after the kubelet rotated it, from its first line still there. That line's time
 * is the boundary: the instance's later lines come from the live log only, its earlier ones
 * from the archive only (read/archive-filter.ts). Lines at exactly the boundary time are in the
 * archive, the live log or both (rotation may have cut between lines that share a
 * timestamp): the archive's are held back to the end of the archive part, and those the live
 * log's first lines repeat are left out. So a line written in the last minutes and not
 * uploaded yet is in the live part, and a line in both appears once. A live log that holds
 * no line (just rotated, or nothing written yet) takes over after the instance's last
 * archived record.
 *
 * The instance before it (a restart): its archived records are all read, and the kubelet's
 * `previous` log gives the lines after the last of them, placed before the current
 * instance's first archived record (its records archived later still, a late upload, are
 * left out where those lines hold them; a last line of which only the first pieces were
 * uploaded comes whole from there). Only if the API still serves that instance as
 * `previous` when the archive gets there: a restart during a long archive read moves it out
 * of reach, and then the archive alone has it, as far as it was uploaded.
 *
 * A pod not in the cluster: the archive only. With `tail`, the parts are counted from the
 * end: the current live log's last lines first (`tailLines`), then the archive's last
 * records, with the previous instance's last lines in their place, for what is still missing.
 *
 * The probe of the live log's start is in probe.ts; the archive part, placed, in placed.ts.
 */
import { LiveLogError } from '../errors.js';
import type { LogRecord } from '../layout/records.js';
import { sameContainer } from '../layout/container-id.js';
import type { EpochNs } from '../layout/time.js';
import type { ArchiveFilter, FollowedRecord, FollowOptions } from '../read/types.js';
import { handOffMark } from './hand-off.js';
import { PodApi } from './kube-http.js';
import { Resume } from './live-lines.js';
import { LiveLog } from './live-log.js';
import { noteLast, placed, type CurrentPart, type LastArchived, type PreviousPart } from './placed.js';
import { leadingAt, lookAndProbe } from './probe.js';

export const DEFAULT_WAIT_TIMEOUT_MS = 5 * 60_000;
export const DEFAULT_POLL_INTERVAL_MS = 1000;

export interface FollowRead {
  readonly pod: string;
  readonly since: EpochNs | undefined;
  readonly tail: number | undefined;
  readonly follow: FollowOptions;
  readonly signal: AbortSignal | undefined;
  /**
   * The archived records `filter` keeps, or the last `tail` of them. `mustExist`: a pod the
   * bucket holds nothing of fails the read (PodNotFoundError).
   */
  readonly archive: (
    filter: ArchiveFilter,
    tail: number | undefined,
    mustExist?: boolean,
  ) => AsyncGenerator<LogRecord[]>;
}

export async function* followBatches(read: FollowRead): AsyncGenerator<FollowedRecord[]> {
  const { namespace, kube } = read.follow;
  const api = new PodApi(kube, namespace, read.pod, read.signal);
  let started: Awaited<ReturnType<typeof lookAndProbe>>;
  try {
    started = await lookAndProbe(api);
  } catch (error) {
    // The API failing (unreachable, refused) takes nothing from the archive: it is printed
    // first, and the read fails after it with the API's error.
    if (!(error instanceof LiveLogError) || read.signal?.aborted) throw error;
    yield* placed(read.archive({ since: read.since }, read.tail), undefined, undefined);
    throw error;
  }
  if (started === undefined) {
    yield* placed(read.archive({ since: read.since }, read.tail, true), undefined, undefined);
    return;
  }
  const { status, probed } = started;
  const current = status.current;
  const currentPart: CurrentPart | undefined = current === undefined ? undefined : { run: current, probed };
  const live = new LiveLog(
    api,
    {
      waitTimeoutMs: read.follow.waitTimeout ?? DEFAULT_WAIT_TIMEOUT_MS,
      pollIntervalMs: read.follow.pollInterval ?? DEFAULT_POLL_INTERVAL_MS,
    },
    read.signal,
    recovery(read, currentPart),
  );
  const previous = status.previous !== undefined && status.previous.id !== current?.id ? status.previous : undefined;
  const last = new Map<string, LastArchived>();
  const filter: ArchiveFilter = {
    since: read.since,
    exclude:
      current !== undefined && probed !== undefined && !probed.empty
        ? [{ containerId: current.id, fromNs: probed.boundary }]
        : [],
  };
  const archive = (tail: number | undefined): AsyncGenerator<LogRecord[]> =>
    noteLast(read.archive(filter, tail), current, last);
  /**
   * From `at` on (`seen` of the lines at its time returned already; `held`: the live log
   * held a line there), or from `since` if that is later.
   */
  const from = (at: LastArchived | undefined, held = false): Resume =>
    read.since !== undefined && (at === undefined || read.since > at.ns)
      ? new Resume(read.since)
      : new Resume(at?.ns, at?.seen ?? 0, held);
  const resumeOfCurrent = (): Resume => {
    if (current === undefined) return from(undefined);
    if (probed === undefined || probed.empty) return from(last.get(current.id));
    // The live log held the boundary line when probed.
    return from({ ns: probed.boundary, seen: 0 }, true);
  };
  // The previous instance's lines after `resume`, if the API still serves it as `previous`.
  const previousPart = (tailLines?: number): PreviousPart | undefined =>
    previous === undefined
      ? undefined
      : {
          run: previous,
          tailLines,
          from,
          async *rest(resume: Resume): AsyncGenerator<FollowedRecord[]> {
            const now = await api.getPod();
            if (now === undefined || now.uid !== status.uid || now.previous?.id !== previous.id) return;
            yield* live.once(previous, true, resume, tailLines);
          },
        };

  let resume: Resume;
  if (read.tail === undefined) {
    yield* placed(archive(undefined), currentPart, previousPart());
    resume = resumeOfCurrent();
    yield handOffMark();
  } else {
    resume = yield* tailParts(read.tail, live, currentPart, archive, previousPart, resumeOfCurrent);
  }
  yield* live.follow({ uid: status.uid, run: current, resume, before: previous?.id ?? current?.id, since: read.since });
}

/**
 * Lines the live log lost to rotation after the archive part: from the archive, with the
 * boundary's repeats the live log was to give (if it lost the boundary line itself).
 */
function recovery(
  read: FollowRead,
  currentPart: CurrentPart | undefined,
): (containerId: string, afterNs: EpochNs, beforeNs: EpochNs) => AsyncGenerator<FollowedRecord[]> {
  return async function* recover(containerId, afterNs, beforeNs) {
    const part = currentPart;
    if (part?.repeats !== undefined && part.probed?.boundary === afterNs && sameContainer(containerId, part.run.id)) {
      if (part.repeats.length > 0) yield part.repeats;
      part.repeats = undefined;
    }
    yield* placed(
      read.archive({ since: read.since, within: { containerId, afterNs, beforeNs } }, undefined),
      undefined,
      undefined,
    );
  };
}

/**
 * The last `tail` lines of the archive and the live logs as they are now, then the hand-off
 * mark before the current live log's part. Returns where the current live log goes on.
 */
async function* tailParts(
  tail: number,
  live: LiveLog,
  currentPart: CurrentPart | undefined,
  archive: (tail: number) => AsyncGenerator<LogRecord[]>,
  previousPart: (tailLines: number) => PreviousPart | undefined,
  resumeOfCurrent: () => Resume,
): AsyncGenerator<FollowedRecord[], Resume> {
  const current = currentPart?.run;
  const probed = currentPart?.probed;
  let need = tail;
  let lines: FollowedRecord[] = [];
  let resume = resumeOfCurrent();
  let atBoundary = 0;
  if (current !== undefined && probed !== undefined && !probed.empty) {
    // Even with nothing needed, one line places the follow at the log's end.
    const got: FollowedRecord[] = [];
    for await (const batch of live.once(current, false, resume, Math.max(need, 1))) got.push(...batch);
    lines = got.slice(Math.max(0, got.length - need));
    if (lines.length === got.length) {
      // The whole live log from the boundary: its first lines are the ones that may repeat the archive's.
      probed.leading = leadingAt(got, probed.boundary);
      probed.leadingCut = false;
      atBoundary = probed.leading.length;
    }
    need -= lines.length;
  }
  const before: FollowedRecord[] = [];
  if (need > 0) {
    const parts = placed(archive(need + atBoundary), currentPart, previousPart(need));
    for await (const batch of parts) before.push(...batch);
    // Known now: an empty live log goes on after the instance's last archived record.
    if (probed?.empty) resume = resumeOfCurrent();
  }
  // The last `tail` of both parts: what is cut comes off the front.
  const cut = Math.max(0, before.length + lines.length - tail);
  const kept = before.slice(Math.min(cut, before.length));
  const keptLines = lines.slice(Math.max(0, cut - before.length));
  if (kept.length > 0) yield kept;
  yield handOffMark();
  if (keptLines.length > 0) yield keptLines;
  return resume;
}

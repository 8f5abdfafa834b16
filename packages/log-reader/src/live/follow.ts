/**
 * A followed read: the archive up to where the live log takes over, then the live log to the
 * pod's end.
 *
 * The hand-off for the current container instance: its live log holds its lines from its
 * start, or, after the kubelet rotated it, from its first line still there. That line's time
 * is the boundary: the instance's later lines come from the live log only, its earlier ones
 * from the archive only (archive-filter.ts). Lines at exactly the boundary time are in the
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
 */
import type { ArchiveFilter } from '../read/archive-filter.js';
import type { FollowedRecord, FollowOptions } from '../read/reader.js';
import type { LogRecord } from '../layout/records.js';
import { sameContainer } from '../layout/container-id.js';
import { LiveLogError } from '../errors.js';
import { parseTime, type EpochNs } from '../layout/time.js';
import { handOffMark } from './hand-off.js';
import { PodApi, readText } from './kube-http.js';
import { parseLiveLine, Resume } from './live-lines.js';
import { LiveLog } from './live-log.js';
import type { ContainerRun, PodStatus } from './pod-status.js';

export const DEFAULT_WAIT_TIMEOUT_MS = 5 * 60_000;
export const DEFAULT_POLL_INTERVAL_MS = 1000;
/** Tries to look at the pod and probe its instance's log with no restart in between. */
const PROBE_ATTEMPTS = 3;
/** Enough of a live log's start for its first lines (those at the boundary time). */
const PROBE_BYTES = 64 * 1024;
/** Lines sharing the boundary's exact nanosecond are few; more than this are not matched. */
const MAX_AT_BOUNDARY = 1000;

export interface FollowRead {
  readonly pod: string;
  readonly since: EpochNs | undefined;
  readonly tail: number | undefined;
  readonly follow: FollowOptions;
  readonly signal: AbortSignal | undefined;
  /** The archived records `filter` keeps, or the last `tail` of them. */
  readonly archive: (filter: ArchiveFilter, tail: number | undefined) => AsyncGenerator<LogRecord[]>;
}

/** The live log's start, as the probe found it. */
interface Probe {
  readonly boundary: EpochNs;
  /** The live log's first lines at the boundary time, in order; the last one maybe cut short. */
  leading: string[];
  leadingCut: boolean;
  /** It held no line: where it goes on is after the instance's last archived record. */
  readonly empty: boolean;
}

/** The time of an instance's last archived record, and how many records share it. */
interface LastArchived {
  readonly ns: EpochNs;
  readonly seen: number;
}

/** `at` after one more record at `ns`: the latest time, and how many were at it. */
function latest(at: LastArchived | undefined, ns: EpochNs): LastArchived {
  if (at === undefined || ns > at.ns) return { ns, seen: 1 };
  return ns === at.ns ? { ns, seen: at.seen + 1 } : at;
}

export async function* followBatches(read: FollowRead): AsyncGenerator<FollowedRecord[]> {
  const { namespace, kube } = read.follow;
  const api = new PodApi(kube, namespace, read.pod, read.signal);
  let currentPart: CurrentPart | undefined;
  // Lines the live log lost to rotation after the archive part: from the archive, with the
  // boundary's repeats the live log was to give (if it lost the boundary line itself).
  async function* recover(containerId: string, afterNs: EpochNs, beforeNs: EpochNs): AsyncGenerator<FollowedRecord[]> {
    const part = currentPart;
    if (part?.repeats !== undefined && part.probed?.boundary === afterNs && sameContainer(containerId, part.run.id)) {
      if (part.repeats.length > 0) yield part.repeats;
      part.repeats = undefined;
    }
    yield* placed(read.archive({ since: read.since, within: { containerId, afterNs, beforeNs } }, undefined), undefined, undefined);
  }
  const live = new LiveLog(
    api,
    { waitTimeoutMs: read.follow.waitTimeout ?? DEFAULT_WAIT_TIMEOUT_MS, pollIntervalMs: read.follow.pollInterval ?? DEFAULT_POLL_INTERVAL_MS },
    read.signal,
    recover,
  );
  const started = await lookAndProbe(api);
  if (started === undefined) {
    yield* placed(read.archive({ since: read.since }, read.tail), undefined, undefined);
    return;
  }
  const { status, probed } = started;
  const current = status.current;
  currentPart = current === undefined ? undefined : { run: current, probed };
  const previous = status.previous !== undefined && status.previous.id !== current?.id ? status.previous : undefined;
  const last = new Map<string, LastArchived>();
  const filter: ArchiveFilter = {
    since: read.since,
    exclude: current !== undefined && probed !== undefined && !probed.empty ? [{ containerId: current.id, fromNs: probed.boundary }] : [],
  };
  const archive = (tail: number | undefined): AsyncGenerator<LogRecord[]> => noteLast(read.archive(filter, tail), current, last);
  /**
   * From `at` on (`seen` of the lines at its time returned already; `held`: the live log
   * held a line there), or from `since` if that is later.
   */
  const from = (at: LastArchived | undefined, held = false): Resume =>
    read.since !== undefined && (at === undefined || read.since > at.ns) ? new Resume(read.since) : new Resume(at?.ns, at?.seen ?? 0, held);
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
 * The pod and its current instance's probe, seen together: a restart between the look and
 * the probe would probe the next instance's log as this one's, so the pod is looked at again
 * after the probe, and both are taken again if its instance changed. Undefined when the pod
 * is not in the cluster.
 */
async function lookAndProbe(api: PodApi): Promise<{ status: PodStatus; probed: Probe | undefined } | undefined> {
  for (let attempt = 1; ; attempt++) {
    const status = await api.getPod();
    if (status === undefined) return undefined;
    if (!status.hasContainer) throw new LiveLogError(api.namespace, api.pod, `the pod has no container named ${api.pod}: a job's log is its container named like the pod`);
    if (status.current === undefined) return { status, probed: undefined };
    const probed = await probe(api, status.current);
    const again = await api.getPod();
    if (again === undefined) return undefined;
    if (again.uid === status.uid && again.current?.id === status.current.id) return { status, probed };
    if (attempt >= PROBE_ATTEMPTS) return { status, probed: { boundary: status.current.startedAt ?? 0n, leading: [], leadingCut: false, empty: true } };
  }
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
  if (run.startedAt !== undefined && run.startedAt > first) return { boundary: run.startedAt, leading: [], leadingCut: false, empty: false };
  const leading: string[] = [];
  for (const line of lines) {
    if (line.ns !== first || leading.length >= MAX_AT_BOUNDARY) return { boundary: first, leading, leadingCut: false, empty: false };
    leading.push(line.message);
  }
  // Every whole line is at the boundary time: the cut one may be too.
  const leadingCut = cut?.ns === first;
  if (cut !== undefined && leadingCut) leading.push(cut.message);
  return { boundary: first, leading, leadingCut, empty: false };
}

/** Messages of the first lines at `boundary`. */
function leadingAt(lines: readonly FollowedRecord[], boundary: EpochNs): string[] {
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
  const same = (a: string, i: number): boolean => (leadingCut && i === leading.length - 1 ? a.startsWith(leading[i] as string) : a === leading[i]);
  for (let n = Math.min(archived.length, leading.length); n > 0; n--) {
    let all = true;
    for (let i = 0; i < n && all; i++) all = same(archived[archived.length - n + i] as string, i);
    if (all) return n;
  }
  return 0;
}

/** The current instance, and the archived records at its boundary left out because its live log's first lines repeat them. */
interface CurrentPart {
  readonly run: ContainerRun;
  readonly probed: Probe | undefined;
  repeats?: FollowedRecord[];
}

/** The instance before the current one: its archived records are read, then its `previous` log after the last of them. */
interface PreviousPart {
  readonly run: ContainerRun;
  /** With `tail`: how many of its last lines are read. */
  readonly tailLines: number | undefined;
  /** Where its live lines go on after `at` (its last archived time, and how many share it). */
  readonly from: (at: LastArchived | undefined, held?: boolean) => Resume;
  /** Its live lines from `resume`; none when the API serves it no more. */
  readonly rest: (resume: Resume) => AsyncIterable<FollowedRecord[]>;
}

/**
 * The archive's records, tagged, with:
 *   - the current instance's records at its boundary time held back to the end, and those
 *     its live log's first lines repeat left out;
 *   - the previous instance's live lines (after its last archived record) placed before the
 *     current instance's first archived record, or at the end. Its last archived record waits
 *     for them: when the live log's line in its place begins with it (the archive had only
 *     the first pieces of a long line), the whole line is taken from the live log. Records of
 *     it archived later still (a late upload) that the live lines hold are left out.
 */
async function* placed(
  batches: AsyncIterable<LogRecord[]>,
  current: CurrentPart | undefined,
  previous: PreviousPart | undefined,
): AsyncGenerator<FollowedRecord[]> {
  const boundary = current?.probed !== undefined && !current.probed.empty ? current.probed.boundary : undefined;
  const held: FollowedRecord[] = [];
  // The previous instance, before its live lines are placed: its last archived time, and its
  // last record (held back while nothing else came after it). After: the live lines' range.
  let lastOfPrevious: LastArchived | undefined;
  let waiting: FollowedRecord | undefined;
  let placedRange: { first: EpochNs; last: EpochNs } | undefined;
  let isPlaced = previous === undefined;
  let tailFull = false;

  async function* placePrevious(): AsyncGenerator<FollowedRecord[]> {
    isPlaced = true;
    if (previous === undefined) return;
    const last = waiting;
    waiting = undefined;
    // With its last record waiting, the live log is read from that record's place.
    const redo = last !== undefined && lastOfPrevious !== undefined && parseTime(last.time) === lastOfPrevious.ns;
    const resume = previous.from(redo && lastOfPrevious !== undefined ? { ns: lastOfPrevious.ns, seen: lastOfPrevious.seen - 1 } : lastOfPrevious);
    let first = true;
    let count = 0;
    for await (const read of previous.rest(resume)) {
      count += read.length;
      let batch = read;
      if (first && last !== undefined) {
        const line = batch[0];
        const inPlace = redo && line !== undefined && parseTime(line.time) === parseTime(last.time);
        // The same line: the archive's copy. The archive's is its start: the live log's whole line.
        if (inPlace && line.message === last.message) batch = [last, ...batch.slice(1)];
        else if (!(inPlace && line.message.startsWith(last.message))) yield [last];
      }
      first = false;
      for (const line of batch) {
        const ns = parseTime(line.time);
        if (ns === undefined) continue;
        placedRange = placedRange === undefined ? { first: ns, last: ns } : { first: ns < placedRange.first ? ns : placedRange.first, last: ns > placedRange.last ? ns : placedRange.last };
      }
      yield batch;
    }
    if (first && last !== undefined) yield [last];
    // A tail's read of it came whole: what precedes its lines is outside the window.
    tailFull = previous.tailLines !== undefined && count >= previous.tailLines;
  }

  for await (const batch of batches) {
    let out: FollowedRecord[] = [];
    for (const r of batch) {
      const record: FollowedRecord = { ...r, source: 'archive' };
      const ofCurrent = current !== undefined && sameContainer(r.containerId, current.run.id);
      const ofPrevious = previous !== undefined && sameContainer(r.containerId, previous.run.id);
      if (ofCurrent && !isPlaced) {
        if (out.length > 0) yield out;
        out = [];
        yield* placePrevious();
      }
      if (ofPrevious) {
        const ns = parseTime(r.time);
        if (isPlaced) {
          // Archived after the live lines were placed (a late upload): keep what they do not hold.
          if (ns === undefined || placedRange === undefined || (ns < placedRange.first && !tailFull) || ns > placedRange.last) out.push(record);
          continue;
        }
        if (waiting !== undefined) out.push(waiting);
        waiting = record;
        if (ns !== undefined) lastOfPrevious = latest(lastOfPrevious, ns);
        continue;
      }
      if (!ofCurrent || boundary === undefined || parseTime(r.time) !== boundary) out.push(record);
      else {
        held.push(record);
        // Too many to match: the oldest go out as they are.
        if (held.length > MAX_AT_BOUNDARY) out.push(held.shift() as FollowedRecord);
      }
    }
    if (out.length > 0) yield out;
  }
  if (!isPlaced) yield* placePrevious();
  const probed = current?.probed;
  const repeated = probed === undefined ? 0 : overlap(held.map((r) => r.message), probed.leading, probed.leadingCut);
  if (held.length > repeated) yield held.slice(0, held.length - repeated);
  if (current !== undefined) current.repeats = held.slice(held.length - repeated);
}

/** Passes the batches on, noting the instance's last record: its time and how many share it. */
async function* noteLast(batches: AsyncIterable<LogRecord[]>, run: ContainerRun | undefined, last: Map<string, LastArchived>): AsyncGenerator<LogRecord[]> {
  for await (const batch of batches) {
    if (run !== undefined) {
      for (const r of batch) {
        if (!sameContainer(r.containerId, run.id)) continue;
        const ns = parseTime(r.time);
        if (ns === undefined) continue;
        last.set(run.id, latest(last.get(run.id), ns));
      }
    }
    yield batch;
  }
}

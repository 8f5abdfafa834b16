/**
 * The archive part of a followed read: its records tagged, the current instance's records at
 * its boundary matched against its live log's first lines, and the previous instance's live
 * lines put in their place.
 */
import { sameContainer } from '../layout/container-id.js';
import type { LogRecord } from '../layout/records.js';
import { parseTime, type EpochNs } from '../layout/time.js';
import type { FollowedRecord } from '../read/types.js';
import type { Resume } from './live-lines.js';
import type { ContainerRun } from './pod-status.js';
import { MAX_AT_BOUNDARY, overlap, type Probe } from './probe.js';

/** The time of an instance's last archived record, and how many records share it. */
export interface LastArchived {
  readonly ns: EpochNs;
  readonly seen: number;
}

/** `at` after one more record at `ns`: the latest time, and how many were at it. */
function latest(at: LastArchived | undefined, ns: EpochNs): LastArchived {
  if (at === undefined || ns > at.ns) return { ns, seen: 1 };
  return ns === at.ns ? { ns, seen: at.seen + 1 } : at;
}

/**
 * The current instance, and the archived records at its boundary left out because its live log's first
 * lines repeat them.
 */
export interface CurrentPart {
  readonly run: ContainerRun;
  readonly probed: Probe | undefined;
  repeats?: FollowedRecord[];
}

/**
 * The instance before the current one: its archived records are read, then its `previous` log after
 * the last of them.
 */
export interface PreviousPart {
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
export async function* placed(
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
  let placedRange: TimeRange | undefined;
  let isPlaced = previous === undefined;
  let tailFull = false;

  async function* placePrevious(): AsyncGenerator<FollowedRecord[]> {
    isPlaced = true;
    if (previous === undefined) return;
    const last = waiting;
    waiting = undefined;
    ({ range: placedRange, tailFull } = yield* previousLines(previous, last, lastOfPrevious));
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
          if (
            ns === undefined ||
            placedRange === undefined ||
            (ns < placedRange.first && !tailFull) ||
            ns > placedRange.last
          )
            out.push(record);
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
  const repeated =
    probed === undefined
      ? 0
      : overlap(
          held.map((r) => r.message),
          probed.leading,
          probed.leadingCut,
        );
  if (held.length > repeated) yield held.slice(0, held.length - repeated);
  if (current !== undefined) current.repeats = held.slice(held.length - repeated);
}

/** The first and last time of some lines. */
interface TimeRange {
  readonly first: EpochNs;
  readonly last: EpochNs;
}

/**
 * The previous instance's live lines after its archived ones, with `last`, its last archived
 * record (held back until now), in its place; `lastOfPrevious` is that instance's last
 * archived time and how many records share it. Returns the placed lines' range of times, and
 * whether a tail's read of them came whole.
 */
async function* previousLines(
  previous: PreviousPart,
  last: FollowedRecord | undefined,
  lastOfPrevious: LastArchived | undefined,
): AsyncGenerator<FollowedRecord[], { range: TimeRange | undefined; tailFull: boolean }> {
  // With its last record waiting, the live log is read from that record's place.
  const redo = last !== undefined && lastOfPrevious !== undefined && parseTime(last.time) === lastOfPrevious.ns;
  const resume = previous.from(
    redo && lastOfPrevious !== undefined ? { ns: lastOfPrevious.ns, seen: lastOfPrevious.seen - 1 } : lastOfPrevious,
  );
  let range: TimeRange | undefined;
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
      range =
        range === undefined
          ? { first: ns, last: ns }
          : { first: ns < range.first ? ns : range.first, last: ns > range.last ? ns : range.last };
    }
    yield batch;
  }
  if (first && last !== undefined) yield [last];
  // A tail's read of it came whole: what precedes its lines is outside the window.
  return { range, tailFull: previous.tailLines !== undefined && count >= previous.tailLines };
}

/** Passes the batches on, noting the instance's last record: its time and how many share it. */
export async function* noteLast(
  batches: AsyncIterable<LogRecord[]>,
  run: ContainerRun | undefined,
  last: Map<string, LastArchived>,
): AsyncGenerator<LogRecord[]> {
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

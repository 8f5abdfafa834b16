/**
 * A followed read: the archive up to where the live log takes over, then the live log to the
 * pod's end.
 *
 * The hand-off, per container instance whose log the API still serves (the current one, and
 * the one before it, whose tail may not be uploaded yet): the live log holds that instance's
 * lines from its start, or, after the kubelet rotated it, from its first line still there.
 * That line's time is the boundary: the instance's later lines come from the live log only,
 * its earlier ones from the archive only (archive-filter.ts). Lines at exactly the boundary
 * time are in the archive, the live log or both (rotation may have cut between lines that
 * share a timestamp): the archive's are held back to the end of the archive part, and those
 * that the live log's first lines repeat are left out there. So a line written in the last
 * minutes and not uploaded yet is in the live part, and a line in both appears once.
 *
 * A pod not in the cluster: the archive only. With `tail`, the parts are counted from the
 * end: the live logs' last lines first (`tailLines`), then the archive's last records for
 * what is still missing.
 */
import type { ArchiveFilter, Exclusion } from '../archive-filter.js';
import type { FollowedRecord, FollowOptions } from '../reader.js';
import type { LogRecord } from '../records.js';
import { sameContainer } from '../container-id.js';
import { parseTime, type EpochNs } from '../time.js';
import { PodApi } from './kube-http.js';
import { liveLines, Resume, type LiveLine } from './live-lines.js';
import { LiveLog } from './live-log.js';
import type { ContainerRun } from './pod-status.js';

export const DEFAULT_WAIT_TIMEOUT_MS = 5 * 60_000;
export const DEFAULT_POLL_INTERVAL_MS = 1000;
/** Enough of a live log's start for its first lines (those at the boundary time). */
const PROBE_BYTES = 64 * 1024;
/** Lines sharing the boundary's exact nanosecond are few; more than this are not matched. */
const MAX_AT_BOUNDARY = 10_000;

export interface FollowRead {
  readonly pod: string;
  readonly since: EpochNs | undefined;
  readonly tail: number | undefined;
  readonly follow: FollowOptions;
  readonly signal: AbortSignal | undefined;
  /** The archived records `filter` keeps, or the last `tail` of them. */
  readonly archive: (filter: ArchiveFilter, tail: number | undefined) => AsyncGenerator<LogRecord[]>;
}

/** A container instance whose log the API serves, and its boundary. */
interface LiveSource {
  readonly run: ContainerRun;
  readonly previous: boolean;
  readonly boundary: EpochNs;
  /** The live log's first lines at the boundary time, in order. */
  leading: string[];
  /** The live log held no line when probed: the boundary is the instance's start, a guess. */
  readonly empty: boolean;
  /** With `tail`: its last lines, read before the archive to count them, and where it goes on. */
  lines?: FollowedRecord[];
  resume?: Resume;
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
  for (const [run, previous] of [
    [status.previous, true],
    [status.current, false],
  ] as const) {
    if (run === undefined || (previous && run.id === status.current?.id)) continue;
    sources.push({ run, previous, ...(await probe(api, run, previous)) });
  }
  const start = (s: LiveSource): EpochNs => (read.since !== undefined && read.since > s.boundary ? read.since : s.boundary);
  // A live log that held no line (rotated, or nothing written yet) takes over after the
  // instance's last archived record: all of them were rotated out of it.
  const lastArchived = new Map<LiveSource, { ns: EpochNs; seen: number }>();
  const resumeOf = (s: LiveSource): Resume => {
    const last = lastArchived.get(s);
    if (!s.empty || last === undefined || (read.since !== undefined && read.since > last.ns)) return new Resume(start(s));
    return new Resume(last.ns, last.seen);
  };
  const filter: ArchiveFilter = { since: read.since, exclude: sources.filter((s) => !s.empty).map((s): Exclusion => ({ containerId: s.run.id, fromNs: s.boundary })) };
  const archive = (tail: number | undefined): AsyncGenerator<LogRecord[]> =>
    noteLast(
      read.archive(filter, tail),
      sources.filter((s) => s.empty),
      lastArchived,
    );

  if (read.tail === undefined) {
    // The previous instance's live lines come before the current one's archived lines.
    yield* withoutRepeats(archive(undefined), sources, (s) => {
      s.resume = resumeOf(s);
      return s.previous ? live.once(s.run, true, s.resume) : undefined;
    });
  } else {
    yield* tailParts(read.tail, live, sources, archive, start, resumeOf);
  }
  const current = sources.find((s) => !s.previous);
  yield* live.follow({ uid: status.uid, run: current?.run, resume: current?.resume ?? new Resume(read.since), before: status.previous?.id, since: read.since });
}

/**
 * The last `tail` lines of the archive and the live logs as they are now. The live logs' last
 * lines are read first; the archive then gives what is missing, plus as many as the live
 * lines at a boundary (the ones it may repeat), and the overlap is taken out in memory.
 */
async function* tailParts(
  tail: number,
  live: LiveLog,
  sources: LiveSource[],
  archive: (tail: number) => AsyncGenerator<LogRecord[]>,
  start: (s: LiveSource) => EpochNs,
  resumeOf: (s: LiveSource) => Resume,
): AsyncGenerator<FollowedRecord[]> {
  let need = tail;
  let atBoundaries = 0;
  for (const s of [...sources].reverse()) {
    s.resume = new Resume(start(s));
    // An empty live log has nothing to count; where it goes on is known after the archive.
    if (s.empty || (need === 0 && s.previous)) continue;
    // Even with nothing needed, one line places the follow at the log's end.
    const lines: FollowedRecord[] = [];
    for await (const batch of live.once(s.run, s.previous, s.resume, Math.max(need, 1))) lines.push(...batch);
    s.lines = lines.slice(Math.max(0, lines.length - need));
    if (s.lines.length === lines.length) {
      // The whole live log from the boundary: its first lines are the ones that may repeat the archive's.
      s.leading = leadingAt(lines, s.boundary);
      atBoundaries += s.leading.length;
    }
    need -= s.lines.length;
  }
  const parts: FollowedRecord[] = [];
  const linesOf = (s: LiveSource): AsyncIterable<FollowedRecord[]> => {
    if (s.empty) s.resume = resumeOf(s);
    return batchOf(s.lines ?? []);
  };
  if (need > 0) for await (const batch of withoutRepeats(archive(need + atBoundaries), sources, linesOf)) parts.push(...batch);
  else for (const s of sources) parts.push(...(s.lines ?? []));
  const last = parts.slice(Math.max(0, parts.length - tail));
  if (last.length > 0) yield last;
}

async function* batchOf(records: FollowedRecord[]): AsyncGenerator<FollowedRecord[]> {
  if (records.length > 0) yield records;
}

/**
 * The instance's boundary: the time of the first line its live log holds (or, while it holds
 * none, the instance's start), and the live log's first lines at that time.
 */
async function probe(api: PodApi, run: ContainerRun, previous: boolean): Promise<{ boundary: EpochNs; leading: string[]; empty: boolean }> {
  const lines: LiveLine[] = [];
  const answer = await api.openLog({ previous, limitBytes: PROBE_BYTES });
  if (answer.kind === 'stream') {
    let text = '';
    for await (const chunk of answer.body as AsyncIterable<Buffer>) {
      text += chunk.toString('utf8');
      // The API should have cut it; never hold more than that.
      if (text.length >= PROBE_BYTES) break;
    }
    const parts = text.split('\n');
    // The last part is cut by the byte limit (or empty): only its time can be trusted.
    const cut = parts.pop() ?? '';
    for (const part of parts) lines.push(parseLine(part));
    if (lines.length === 0 && cut !== '') lines.push({ ...parseLine(cut), message: '' });
  }
  const first = lines[0]?.ns;
  if (first === undefined) return { boundary: run.startedAt ?? 0n, leading: [], empty: true };
  if (run.startedAt !== undefined && run.startedAt > first) return { boundary: run.startedAt, leading: [], empty: false };
  return { boundary: first, leading: lines.filter((l, i) => i < MAX_AT_BOUNDARY && l.ns === first).map((l) => l.message), empty: false };
}

function parseLine(text: string): LiveLine {
  const space = text.indexOf(' ');
  const time = space < 0 ? text : text.slice(0, space);
  return { time, ns: parseTime(time), message: space < 0 ? '' : text.slice(space + 1) };
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

/** The longest run that ends `archived` and begins `leading`: the lines both hold. */
export function overlap(archived: readonly string[], leading: readonly string[]): number {
  for (let n = Math.min(archived.length, leading.length); n > 0; n--) {
    let same = true;
    for (let i = 0; i < n && same; i++) same = archived[archived.length - n + i] === leading[i];
    if (same) return n;
  }
  return 0;
}

/**
 * The archive's records, tagged; each live instance's records at its boundary time are held
 * back to the end of that instance's records, and those its live log's first lines repeat are
 * left out. `after(s)`: what follows instance `s`'s archived records (its live lines), before
 * the next instance's (sources are in instance order).
 */
async function* withoutRepeats(
  batches: AsyncIterable<LogRecord[]>,
  sources: readonly LiveSource[],
  after: (s: LiveSource) => AsyncIterable<FollowedRecord[]> | undefined = () => undefined,
): AsyncGenerator<FollowedRecord[]> {
  const held = sources.map(() => [] as FollowedRecord[]);
  let done = 0;
  async function* close(upTo: number): AsyncGenerator<FollowedRecord[]> {
    for (; done < upTo; done++) {
      const s = sources[done] as LiveSource;
      const list = held[done] as FollowedRecord[];
      const rest = list.slice(0, list.length - overlap(list.map((r) => r.message), s.leading));
      if (rest.length > 0) yield rest;
      const lines = after(s);
      if (lines !== undefined) yield* lines;
    }
  }
  for await (const batch of batches) {
    let out: FollowedRecord[] = [];
    for (const r of batch) {
      const of = sources.findIndex((s) => sameContainer(r.containerId, s.run.id));
      if (of > done) {
        // The first record of a later instance: the earlier ones are complete.
        if (out.length > 0) yield out;
        out = [];
        yield* close(of);
      }
      const at = of >= 0 && parseTime(r.time) === (sources[of] as LiveSource).boundary ? of : -1;
      const record = { ...r, source: 'archive' as const };
      if (at < 0) out.push(record);
      else {
        const list = held[at] as FollowedRecord[];
        list.push(record);
        // Too many to match: the oldest go out as they are.
        if (list.length > MAX_AT_BOUNDARY) out.push(list.shift() as FollowedRecord);
      }
    }
    if (out.length > 0) yield out;
  }
  yield* close(sources.length);
}

/** Passes the batches on, noting the time of each source's last record and how many share it. */
async function* noteLast(batches: AsyncIterable<LogRecord[]>, sources: readonly LiveSource[], last: Map<LiveSource, { ns: EpochNs; seen: number }>): AsyncGenerator<LogRecord[]> {
  for await (const batch of batches) {
    for (const r of batch) {
      const s = sources.find((x) => sameContainer(r.containerId, x.run.id));
      const ns = parseTime(r.time);
      if (s === undefined || ns === undefined) continue;
      const was = last.get(s);
      last.set(s, was !== undefined && was.ns === ns ? { ns, seen: was.seen + 1 } : { ns, seen: 1 });
    }
    yield batch;
  }
}

function tagged(batches: AsyncIterable<LogRecord[]>): AsyncGenerator<FollowedRecord[]> {
  return withoutRepeats(batches, []);
}

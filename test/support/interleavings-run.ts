// One run of the interleavings properties: its world, the model of each pod's log, the slow
// reads still open, the trace of its steps, and the checks made after every step (reads
// against the model, what the passes' requests showed, what is in the bucket).
import type { S3Client } from '@aws-sdk/client-s3';
import { LogExpiredError, LogReader, PodNotFoundError, type LogRecord } from '@platform/log-reader';
import { decodeMetadata, metadataKey } from '@platform/log-reader/layout';
import { readMetadataText } from '@platform/log-reader/s3';
import { parsedLine, putRaw } from '@platform/testkit';
import type { Config } from 'compactor';
import { ignoringConditionalDeletes, observing, slowRequests, type SlowRequest } from './hooks.js';
import { watchedClient, type ReaderWatch } from './interleavings-clients.js';
import {
  PodModel,
  asLine,
  duplicates,
  growsAtEnd,
  same,
  short,
  show,
  subsequence,
  type Line,
} from './interleavings-model.js';
import { Failure, type Totals } from './interleavings-report.js';
import { CLEANUP_INTERVAL, INTERVALS, PODS, RETENTION, type PassShape, type Step } from './interleavings-steps.js';
import { MINUTE, newWorld, type World } from './world.js';

const IGNORED_DELETES = process.env['INTERLEAVINGS_DELETES'] === 'ignored';

/** In a pod's list of commits: the expiry deleted its metadata. */
const GONE = '(deleted)';

export interface SlowRead {
  readonly id: number;
  readonly pod: string;
  readonly records: AsyncGenerator<LogRecord>;
  readonly client: S3Client;
  /** The log when the read started (it plans on its first pull, made right away). */
  readonly start: Line[];
  readonly startedAt: number;
  readonly got: Line[];
  readonly watch: ReaderWatch;
  missingChecked: number;
  done: boolean;
  /** The log it reads (PodModel.generation), and whether that log was marked expired when it started, and how often. */
  readonly generation: number;
  readonly markedAtStart: boolean;
  readonly marksAtStart: number;
  /** It ended with LogExpiredError. */
  expired: boolean;
  /** A late raw file inserted records in the middle of the log while it read. */
  midLog: boolean;
}

/** A metadata document that lists nothing: no merged file, no merged raw file. */
function isEmptyLog(pod: string, text: string): boolean {
  const meta = decodeMetadata(metadataKey(pod), text);
  return meta.logFiles.length === 0 && (meta.mergedRawFiles ?? []).length === 0;
}

export class Run {
  readonly models = PODS.map((pod, i) => new PodModel(pod, 'ab'[i]!));
  readonly slow: SlowRead[] = [];
  readonly trace: string[] = [];
  private readonly lastRead = new Map<string, Line[]>();
  /** Pods where a late raw file inserted records in the middle of the log since the last read. */
  private readonly midLogSinceLastRead = new Set<string>();
  private nextReader = 0;
  /**
   * A failure inside a pass's request hook would only fail the pass's pod: kept here and thrown once the pass has
   * ended.
   */
  private hookFailure: unknown;
  /** What the passes' request streams showed wrong (every pass's client has watchPass's hook). */
  private readonly problems: string[] = [];
  /** Each pod's commits, in the order they reached the store. */
  private readonly commits = new Map<string, string[]>(PODS.map((pod) => [pod, []]));
  /** Passes have `retentionMs` (RETENTION) from the run's first `expire` step on. */
  retention = false;

  private constructor(
    readonly w: World,
    readonly totals: Totals,
    private readonly startedAt: number,
  ) {}

  static async start(run: number, totals: Totals): Promise<Run> {
    const w: World = await newWorld(`interleave-${run}`);
    // The clock at the start of a minute (and a second): what "the same minute" is then depends
    // on the steps, not on when the run happens to start.
    w.advance(MINUTE - (w.now().getTime() % MINUTE) + 1000);
    const r = new Run(w, totals, w.now().getTime());
    r.watchPass(w.client);
    return r;
  }

  /** A clock time as seconds since the run started. */
  at(ms: number): string {
    return `${((ms - this.startedAt) / 1000).toFixed(1)} s`;
  }

  fail(problem: string): never {
    throw new Failure(`${problem}\n  steps so far:\n    ${this.trace.join('\n    ')}`);
  }

  check(problem: string | undefined, context: string): void {
    if (problem !== undefined) this.fail(`${context}: ${problem}`);
  }

  async inHook(work: () => Promise<void>): Promise<void> {
    try {
      await work();
    } catch (error) {
      this.hookFailure ??= error;
    }
  }

  rethrowHookFailure(): void {
    if (this.hookFailure !== undefined) throw this.hookFailure;
  }

  modelOf(pod: string): PodModel {
    return this.models[PODS.indexOf(pod as (typeof PODS)[number])]!;
  }

  private checkDelete(key: string, now: number): void {
    for (const model of this.models) {
      if (this.expiryDelete(model, key, now)) return;
      const committed = model.committedAt.get(key);
      if (committed !== undefined) {
        // Deletion waits for readers: a cleanup interval from the moment the commit that made
        // it unneeded was written (docs/design.md §5), not from the time that commit says.
        if (now - committed < CLEANUP_INTERVAL) {
          const stamped = model.unneededSince.get(key) ?? committed;
          this.problems.push(
            `${short(key)} deleted ${(now - committed) / 1000} s after the commit that made it unneeded was written ` +
              `(at ${this.at(committed)}; the commit says ${this.at(stamped)}), less than the cleanup interval (${CLEANUP_INTERVAL / 1000} s)`,
          );
        }
        return;
      }
      if (model.uploads.has(key)) this.problems.push(`raw file ${short(key)} deleted though no commit merged it`);
      if (model.listed.includes(key)) this.problems.push(`merged file ${key} deleted while the metadata lists it`);
    }
  }

  /**
   * Retention (docs/design.md §8): a delete of a merged file a marked log's metadata lists,
   * a cleanup interval after the mark was written, is the expiry's. (Its raw files are
   * checked as any: only merged ones, a cleanup interval after that commit; a raw upload keeps
   * the log, merged or uploaded after the deleting pass's snapshot.)
   */
  private expiryDelete(model: PodModel, key: string, now: number): boolean {
    if (!this.retention || !model.listed.includes(key)) return false;
    if (model.markedAt === undefined) {
      this.problems.push(
        `merged file ${short(key)} of ${model.pod} deleted while the metadata lists it, not marked expired`,
      );
      return true;
    }
    if (now - model.markedAt < CLEANUP_INTERVAL)
      this.problems.push(
        `${short(key)} deleted ${(now - model.markedAt) / 1000} s after ${model.pod} was marked expired (at ${this.at(model.markedAt)}), ` +
          `less than the cleanup interval (${CLEANUP_INTERVAL / 1000} s)`,
      );
    model.expiryDeleted.add(key);
    this.totals.expiryDeletes += 1;
    return true;
  }

  /** The expiry deletes the metadata of a marked log (the last of its objects): the model starts a new log. */
  private metadataDeleted(model: PodModel, now: number): void {
    const seen = this.commits.get(model.pod)!;
    const last = seen[seen.length - 1];
    if (model.markedAt === undefined && last !== undefined && last !== GONE && isEmptyLog(model.pod, last)) {
      // The clean phase's fence on a pod that had no metadata, removed with the leftovers it
      // guarded (commit.ts, unfence): no record of the log was in it.
      this.trace.push(`    ${model.pod}'s empty fence document deleted at ${this.at(now)}`);
      seen.push(GONE);
      return;
    }
    if (model.markedAt === undefined) this.problems.push(`${metadataKey(model.pod)} deleted, not marked expired`);
    else if (now - model.markedAt < CLEANUP_INTERVAL)
      this.problems.push(`${metadataKey(model.pod)} deleted ${(now - model.markedAt) / 1000} s after the mark`);
    this.trace.push(`    ${model.pod}'s log deleted (expired) at ${this.at(now)}`);
    this.totals.logsDeleted += 1;
    this.commits.get(model.pod)!.push(GONE);
    this.lastRead.delete(model.pod);
    this.midLogSinceLastRead.delete(model.pod);
    model.deleted();
  }

  /** A commit of a pod as it reaches the store, at the clock of that moment: the model takes it in. */
  private observeCommit(model: PodModel, key: string, text: string, now: number): void {
    this.commits.get(model.pod)!.push(text);
    // Nothing thrown here may reach the pass (it would fail its pod, not the test).
    try {
      const meta = decodeMetadata(key, text);
      const fresh = (meta.mergedRawFiles ?? []).filter((f) => !model.merged.has(f.key)).map((f) => short(f.key));
      this.trace.push(
        `    commit of ${model.pod} at ${this.at(now)}: lists ${meta.logFiles.length} merged file(s)${fresh.length > 0 ? `, merged ${fresh.join(' ')}` : ''}`,
      );
      const wasMarked = model.markedAt !== undefined;
      const problem = model.observe(meta, now);
      if (problem !== undefined) this.problems.push(`a commit at ${this.at(now)}: ${problem}`);
      this.observeMark(model, wasMarked, now);
    } catch (error) {
      this.problems.push(`a commit at ${this.at(now)} the model could not take in: ${String(error)}`);
    }
  }

  /** A mark or its removal, in the trace; a mark only when nothing of the log is newer than the retention. */
  private observeMark(model: PodModel, wasMarked: boolean, now: number): void {
    const marked = model.markedAt !== undefined;
    if (marked === wasMarked) return;
    this.trace.push(`    ${model.pod} ${marked ? 'marked expired' : 'no longer marked expired'} at ${this.at(now)}`);
    if (!marked) {
      this.totals.unmarks += 1;
      return;
    }
    this.totals.marks += 1;
    if (!this.retention) this.problems.push(`${model.pod} marked expired by a pass without retention`);
    // Merged, the commit is newer than the retention (the raw files too, but the test clock is
    // ahead of S3's LastModified by more than the retention once an expire step ran).
    if (model.lastMergeAt !== undefined && now - model.lastMergeAt < RETENTION)
      this.problems.push(
        `${model.pod} marked expired ${(now - model.lastMergeAt) / 1000} s after a commit merged raw files (retention ${RETENTION / 1000} s)`,
      );
  }

  /**
   * What the passes' request streams show (every pass's client has this hook): each commit
   * as it reaches the store, at the clock of that moment, and each delete as it goes out.
   * Not what the compactor says in the metadata: its timestamps are what is checked.
   */
  watchPass(client: S3Client): S3Client {
    // INTERLEAVINGS_DELETES=ignored: the passes run on a store that ignores If-Match on DELETE,
    // where a lease is released by rewriting it (lease.ts) and the fence stays.
    if (IGNORED_DELETES) ignoringConditionalDeletes(client);
    return observing((command, input) => {
      const now = this.w.now().getTime();
      const key = typeof input['Key'] === 'string' ? input['Key'] : '';
      if (command === 'PutObjectCommand' && key.startsWith('metadata/')) {
        const model = this.models.find((m) => metadataKey(m.pod) === key);
        const body = input['Body'];
        const text =
          typeof body === 'string' ? body : body instanceof Uint8Array ? Buffer.from(body).toString('utf8') : undefined;
        if (model === undefined) return undefined;
        if (text === undefined) {
          this.problems.push(`a commit of ${model.pod} whose body the test cannot see`);
          return undefined;
        }
        return (ok) => {
          if (ok) this.observeCommit(model, key, text, now);
        };
      }
      if (command === 'DeleteObjectsCommand') {
        const objects = (input['Delete'] as { Objects?: { Key?: string }[] } | undefined)?.Objects ?? [];
        for (const o of objects) this.checkDelete(o.Key ?? '', now);
      } else if (command === 'DeleteObjectCommand') {
        const model = this.models.find((m) => metadataKey(m.pod) === key);
        if (model === undefined) this.checkDelete(key, now);
        else
          return (ok) => {
            if (ok) this.metadataDeleted(model, now);
          };
      }
      return undefined;
    }, client);
  }

  /** A client for a pass whose requests the model watches; `jumps`: some of them take long (the clock moves). */
  passClient(jumps: readonly SlowRequest[]): S3Client {
    return this.watchPass(slowRequests(jumps, (ms) => this.w.advance(ms)));
  }

  passConfig(shape: PassShape): Partial<Config> {
    return { ...this.intervals(), maxFileSize: shape.maxFileSize, leaseDurationMs: shape.leaseMs };
  }

  /** The intervals of every pass; the retention too once the run's first `expire` step ran. */
  intervals(): Partial<Config> {
    return this.retention ? { ...INTERVALS, retentionMs: RETENTION } : INTERVALS;
  }

  /** A full read now: exactly the model's log, and a continuation of the previous full read. */
  async readNow(model: PodModel, what: string): Promise<void> {
    let got: Line[];
    try {
      got = (await this.w.records(model.pod)).map(asLine);
    } catch (error) {
      if (error instanceof LogExpiredError && model.markedAt !== undefined) {
        // Retention: a read of a marked log fails, whole.
        this.totals.readsExpired += 1;
        return;
      }
      // Nothing of the pod in the bucket: an empty log to the model, checked as any other.
      if (!(error instanceof PodNotFoundError)) throw error;
      got = [];
    }
    if (model.markedAt !== undefined)
      this.fail(`${what} of ${model.pod}, marked expired at ${this.at(model.markedAt)}, returned ${show(got)}`);
    const expected = model.expected();
    if (got.length !== expected.length || got.some((r, i) => !same(r, expected[i]!))) {
      this.fail(`${what} of ${model.pod}:\n    got      ${show(got)}\n    expected ${show(expected)}`);
    }
    const previous = this.lastRead.get(model.pod);
    const context = `${what} of ${model.pod} after the previous read ${show(previous ?? [])}: ${show(got)}`;
    if (previous && this.midLogSinceLastRead.has(model.pod)) this.check(subsequence(previous, got), context);
    else if (previous) this.check(growsAtEnd(previous, got), context);
    this.lastRead.set(model.pod, got);
    this.midLogSinceLastRead.delete(model.pod);
  }

  /**
   * After every pass: the problems its commits and deletes showed; and what is in the bucket
   * now (the metadata is the last commit seen; nothing unmerged or listed is gone).
   */
  async observePasses(): Promise<void> {
    if (this.problems.length > 0) this.fail(`during a pass: ${this.problems.join('; ')}`);
    // What the model knew before the listing (a pass may commit meanwhile): all of it must
    // be in the listing, whatever the pass does next.
    const known = this.models.map((m) => ({
      unmerged: m.unmerged(),
      listed: [...m.listed],
      unneeded: [...m.unneededSince],
    }));
    const present = new Set(await this.w.keys());
    const now = this.w.now().getTime();
    for (const [i, model] of this.models.entries()) {
      // A pass may still be running (this is called from inside one): a commit may land
      // while the metadata is read. It must be the last commit seen before the read or one
      // seen since.
      const seen = this.commits.get(model.pod)!;
      const before = seen.length;
      const stored = await readMetadataText({ client: this.w.client, bucket: this.w.bucket }, model.pod);
      const possible = seen.slice(Math.max(0, before - 1));
      // GONE: the expiry deleted it.
      const committed = stored === undefined ? before === 0 || possible.includes(GONE) : possible.includes(stored.text);
      if (!committed)
        this.fail(
          `after a pass: ${metadataKey(model.pod)} is not the last commit the passes' requests showed: ${stored?.text ?? 'none'}`,
        );
      // No loss: a raw file is only deleted once a commit has merged it.
      const { unmerged, listed, unneeded } = known[i]!;
      const lost = unmerged.filter((u) => !present.has(u.key));
      if (lost.length > 0)
        this.fail(
          `after a pass: raw files deleted before any commit merged them: ${lost.map((u) => short(u.key)).join(', ')}`,
        );
      const missing = listed.filter((key) => !present.has(key) && !model.expiryDeleted.has(key));
      if (missing.length > 0)
        this.fail(`after a pass: merged files the metadata lists are gone: ${missing.join(', ')}`);
      // Deletion waits for readers: nothing a commit made unneeded goes before the cleanup interval.
      const early = unneeded.filter(
        ([key, since]) => !present.has(key) && now - since < CLEANUP_INTERVAL && !model.expiryDeleted.has(key),
      );
      if (early.length > 0)
        this.fail(
          `after a pass: deleted less than the cleanup interval after the commit: ${early.map(([key, since]) => `${short(key)} (${(now - since) / 1000} s)`).join(', ')}`,
        );
    }
  }

  /** Starts a slow read of `model`'s pod (it plans on its first pull). */
  openSlowRead(model: PodModel, readAhead: number): SlowRead {
    const watch: ReaderWatch = {
      plans: 0,
      returnedAtPlans: [],
      returned: 0,
      gets: 0,
      missing: 0,
      plannedAt: this.w.now().getTime(),
      missingAfterPlan: [],
      beforeNextRequest: undefined,
      ran: undefined,
    };
    const client = watchedClient(watch, () => this.w.now().getTime());
    const reader = new LogReader({ client, bucket: this.w.bucket, readAhead });
    const r: SlowRead = {
      id: this.nextReader++,
      pod: model.pod,
      records: reader.records(model.pod),
      client,
      start: model.expected(),
      startedAt: this.w.now().getTime(),
      got: [],
      watch,
      missingChecked: 0,
      done: false,
      generation: model.generation,
      markedAtStart: model.markedAt !== undefined,
      marksAtStart: model.marks,
      expired: false,
      midLog: false,
    };
    this.slow.push(r);
    return r;
  }

  /** Holds a pass (after moving the clock by `passAfter`) before the slow read's next request. */
  private passBeforeNextRequest(r: SlowRead, passAfter: number): void {
    r.watch.beforeNextRequest = async (request) => {
      this.totals.passesInsideReads += 1;
      this.w.advance(passAfter);
      const { summary } = await this.w.pass(this.intervals());
      this.trace.push(
        `  ${passAfter > 0 ? `advance ${passAfter / MINUTE} min, ` : ''}pass before slow read #${r.id}'s ${request}: merged ${summary.pods.merged}, deleted ${summary.objectsDeleted}`,
      );
      if (summary.failures.length > 0) this.fail(`a pass failed: ${JSON.stringify(summary.failures)}`);
    };
  }

  /**
   * `n` more records of a slow read (or up to its next object), perhaps with a pass before one of its requests; then
   * its checks.
   */
  async pull(r: SlowRead, n: number, passAfter = -1, untilNextFile = false): Promise<void> {
    if (passAfter >= 0) this.passBeforeNextRequest(r, passAfter);
    const gets = r.watch.gets;
    for (let i = 0; i < (untilNextFile ? 10_000 : n) && !r.done; i++) {
      let next: IteratorResult<LogRecord>;
      try {
        next = await r.records.next();
      } catch (error) {
        if (this.expiredUnder(r, error)) break;
        // Nothing of the pod in the bucket when it planned: an empty log, checked against the model as any other.
        if (error instanceof PodNotFoundError && r.got.length === 0) {
          r.done = true;
          break;
        }
        const plans = r.watch.returnedAtPlans.join(', ');
        this.fail(
          `slow read #${r.id} of ${r.pod} threw after ${show(r.got)} (${r.watch.plans} plans, after ${plans} records): ${String(error)}`,
        );
      }
      if (next!.done) r.done = true;
      else r.got.push(asLine(next!.value));
      r.watch.returned = r.got.length;
      if (untilNextFile && r.watch.gets > gets) break;
    }
    // A pass held before a request: wait for it even if this pull did not need the request.
    r.watch.beforeNextRequest = undefined;
    if (r.watch.ran) {
      await r.watch.ran;
      r.watch.ran = undefined;
      await this.observePasses();
    }
    this.checkSlowRead(r);
  }

  /**
   * Retention: a slow read ends with LogExpiredError only when its log was marked expired
   * while it read (or when it started): never a silently partial log.
   */
  private expiredUnder(r: SlowRead, error: unknown): boolean {
    const model = this.modelOf(r.pod);
    if (!(error instanceof LogExpiredError) || !(r.markedAtStart || model.marks > r.marksAtStart)) return false;
    r.done = true;
    r.expired = true;
    this.totals.slowReadsExpired += 1;
    this.trace.push(`  slow read #${r.id} of ${r.pod} ends with LogExpiredError after ${show(r.got)}`);
    return true;
  }

  /** What a slow read returned so far, against the model; and its counts once it is done. */
  private checkSlowRead(r: SlowRead): void {
    // Deletion waits for readers: no object it planned on goes before the cleanup interval,
    // counted from when it planned.
    if (r.watch.missing > r.missingChecked) {
      const readFor = this.w.now().getTime() - r.startedAt;
      if (readFor < CLEANUP_INTERVAL)
        this.fail(`slow read #${r.id} of ${r.pod} met a deleted object after reading for only ${readFor / MINUTE} min`);
      const soon = r.watch.missingAfterPlan.slice(r.missingChecked).filter((ms) => ms < CLEANUP_INTERVAL);
      if (soon.length > 0)
        this.fail(`slow read #${r.id} of ${r.pod} met a deleted object ${soon[0]! / 1000} s after it planned on it`);
      r.missingChecked = r.watch.missing;
    }
    // The log it reads: the one now, or the one an expiry deleted under it.
    const now = this.modelOf(r.pod).logOf(r.generation);
    const context = `slow read #${r.id} of ${r.pod} (started with ${show(r.start)})`;
    this.check(duplicates(r.got), `${context}: ${show(r.got)}`);
    if (!r.midLog) {
      this.check(
        growsAtEnd(r.start.slice(0, r.got.length), r.got),
        `${context} strayed from what it planned: ${show(r.got)}`,
      );
      this.check(
        growsAtEnd(r.got, now),
        `${context} returned ${show(r.got)}, not a beginning of the log now ${show(now)}`,
      );
    } else {
      // A late file inserted records before its place: it skips those, keeps the order.
      this.check(
        subsequence(r.got, now),
        `${context} returned ${show(r.got)}, not in the order of the log now ${show(now)}`,
      );
    }
    if (r.done) this.slowReadDone(r, context);
  }

  private slowReadDone(r: SlowRead, context: string): void {
    const totals = this.totals;
    // It returned at least what was there when it started, and nothing else than the log.
    if (r.expired) {
      r.client.destroy();
      return;
    }
    if (!r.midLog) this.check(growsAtEnd(r.start, r.got), `${context} ended early: ${show(r.got)}`);
    else this.check(subsequence(r.start, r.got), `${context} lost records it planned on: ${show(r.got)}`);
    if (r.watch.plans > 1) totals.replans += 1;
    const progressing = r.watch.returnedAtPlans.filter(
      (returned, i) => i > 0 && returned > r.watch.returnedAtPlans[i - 1]!,
    ).length;
    if (progressing > 5) totals.readsPastMaxReplans += 1;
    totals.mostReplans = Math.max(totals.mostReplans, progressing);
    if (r.watch.plans > 1 && r.midLog) totals.replansAcrossLateFiles += 1;
    totals.missing += r.watch.missing;
    this.trace.push(
      `  #${r.id} done: ${r.got.length} records, ${r.watch.plans} plan(s) (after ${r.watch.returnedAtPlans.join(', ')} records), ${r.watch.missing} missing object(s)`,
    );
    r.client.destroy();
  }

  /** One raw file of `step`, as Fluent Bit uploads it. */
  async upload(step: Extract<Step, { kind: 'upload' }>, where: string): Promise<void> {
    const model = this.models[step.pod]!;
    // A late file keyed before raw files not merged yet inserts records in the middle of the
    // log: reads before it are not prefixes of reads after it, only in the same order.
    const midLog = step.late && model.unmerged().length > 0;
    const file = model.plan(step);
    await putRaw(this.w.client, this.w.bucket, {
      pod: model.pod,
      namespace: 'jobs',
      containerId: file.containerId,
      slice: file.slice,
      index: file.index,
      lines: file.pieces.map((p) =>
        parsedLine({ time: p.time, log: p.text, stream: p.stream, logtag: p.partial ? 'P' : 'F' }),
      ),
      gzip: file.gzip,
      separator: file.separator,
    });
    model.uploads.set(file.key, file);
    this.trace.push(
      `upload${where} ${short(file.key)}${file.gzip ? ' gzip' : ''}: ${file.pieces.map((p) => `${p.text.replace(/\n/, '⏎')}${p.stream === 'stderr' ? '(err)' : ''}`).join(' ')}`,
    );
    if (midLog) {
      this.totals.lateMidLog += 1;
      this.midLogSinceLastRead.add(model.pod);
      for (const r of this.slow) if (!r.done && r.pod === model.pod) r.midLog = true;
    }
  }

  /** Ends the slow reads still open and lets their clients go. */
  async close(): Promise<void> {
    for (const r of this.slow) {
      if (!r.done) await r.records.return(undefined).catch(() => undefined);
      r.client.destroy();
    }
  }
}

/**
 * Following a pod's live log through the Kubernetes API, from a place in it to the pod's end:
 * a stream that breaks is opened again from the last line returned; when the container
 * exits, what its log still holds after that line is read, and if the pod can restart it,
 * the next instance is waited for and followed from its start. It ends when the pod ended
 * for good or is gone.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { LiveLogTimeoutError } from '../errors.js';
import type { FollowedRecord } from '../reader.js';
import type { EpochNs } from '../time.js';
import type { PodApi } from './kube-http.js';
import { liveLines, Resume, type LiveLine } from './live-lines.js';
import { isDone, type ContainerRun, type PodStatus } from './pod-status.js';

export interface FollowTiming {
  /** How long to wait for a pending pod or a restarting container. */
  readonly waitTimeoutMs: number;
  readonly pollIntervalMs: number;
}

export interface FollowStart {
  /** The pod's uid when the read began: another pod of the same name is not this one. */
  readonly uid: string;
  /** The instance to follow, from `resume`; undefined: wait for the next one. */
  readonly run: ContainerRun | undefined;
  readonly resume: Resume;
  /** The instance before, not to be waited for again. */
  readonly before: string | undefined;
  /** Lines before it are not returned (the read's `since`). */
  readonly since: EpochNs | undefined;
}

export class LiveLog {
  constructor(
    private readonly api: PodApi,
    private readonly timing: FollowTiming,
    private readonly signal: AbortSignal | undefined,
  ) {}

  /** The lines of one instance's log after `resume`, read once (no follow). */
  async *once(run: ContainerRun, previous: boolean, resume: Resume, tailLines?: number): AsyncGenerator<FollowedRecord[]> {
    const answer = await this.api.openLog({ previous, sinceTime: resume.sinceTime(), tailLines });
    if (answer.kind !== 'stream') return;
    yield* this.admitted(liveLines(answer.body, !run.running || previous), run, resume);
  }

  /** Follows from `start` to the pod's end. */
  async *follow(start: FollowStart): AsyncGenerator<FollowedRecord[]> {
    let run = start.run;
    let resume = start.resume;
    let before = start.before;
    for (;;) {
      if (run === undefined) {
        const next = await this.waitForRun(start.uid, before);
        if (next === undefined) return;
        // An instance that came and went while nobody looked: its log is the `previous` one.
        if (next.previous !== undefined && next.previous.id !== before && next.previous.id !== next.current?.id) {
          yield* this.once(next.previous, true, new Resume(start.since));
        }
        run = next.current;
        if (run === undefined) return;
        resume = new Resume(start.since);
      }
      let got = 0;
      const answer = await this.api.openLog({ follow: true, sinceTime: resume.sinceTime() });
      if (answer.kind === 'gone') return;
      if (answer.kind === 'stream') {
        try {
          for await (const batch of this.admitted(liveLines(answer.body, false), run, resume)) {
            got += batch.length;
            yield batch;
          }
        } catch (error) {
          // A connection reset mid-stream is the API dropping it, as a clean end is: go on below.
          if (this.signal?.aborted || !isBrokenStream(error)) throw error;
        }
      }
      // The stream ended: the container exited, or the API dropped it.
      const status = await this.api.getPod();
      if (status === undefined || status.uid !== start.uid) return;
      if (status.current?.id === run.id && status.current.running) {
        // Dropped: open it again from the last line returned (not in a tight loop).
        if (got === 0) await sleep(this.timing.pollIntervalMs, undefined, { signal: this.signal });
        continue;
      }
      // The instance ended: the rest of its log after the last line returned.
      const previous = status.previous?.id === run.id;
      if (previous || status.current?.id === run.id) yield* this.once({ ...run, running: false }, previous, resume);
      if (isDone(status)) return;
      before = run.id;
      run = undefined;
    }
  }

  /** Polls until an instance other than `before` runs (or ran); undefined when the pod ended for good or is gone. */
  private async waitForRun(uid: string, before: string | undefined): Promise<PodStatus | undefined> {
    const deadline = Date.now() + this.timing.waitTimeoutMs;
    for (;;) {
      const status = await this.api.getPod();
      if (status === undefined || status.uid !== uid) return undefined;
      if (status.current !== undefined && status.current.id !== before) return status;
      if (isDone(status)) return undefined;
      if (Date.now() >= deadline) {
        const what = before === undefined ? 'the pod stayed pending' : 'its container did not start again';
        throw new LiveLogTimeoutError(this.api.namespace, this.api.pod, this.timing.waitTimeoutMs, what);
      }
      await sleep(this.timing.pollIntervalMs, undefined, { signal: this.signal });
    }
  }

  /** The lines `resume` lets through, as records of instance `run`. */
  private async *admitted(lines: AsyncIterable<LiveLine[]>, run: ContainerRun, resume: Resume): AsyncGenerator<FollowedRecord[]> {
    resume.restart();
    let time = '';
    for await (const batch of lines) {
      const records: FollowedRecord[] = [];
      for (const line of batch) {
        if (!resume.admit(line)) continue;
        // A line whose time cannot be read takes the one before it (as the archive does).
        if (line.ns !== undefined) time = line.time;
        records.push({ time: line.ns === undefined ? time : line.time, message: line.message, stream: 'stdout', containerId: run.id, source: 'live' });
      }
      if (records.length > 0) yield records;
    }
  }
}

/** A response body whose connection broke after its headers (reset, or closed before its end). */
function isBrokenStream(error: unknown): boolean {
  const e = error as { code?: unknown; message?: unknown } | null;
  return e?.code === 'ECONNRESET' || e?.code === 'ERR_STREAM_PREMATURE_CLOSE' || e?.message === 'aborted';
}

/**
 * Following a pod's live log through the Kubernetes API, from a place in it to the pod's end:
 * a stream that breaks is opened again from the last line returned; when the container
 * exits, what its log still holds after that line is read, and if the pod can restart it,
 * the next instance is waited for and followed from its start. It ends when the pod ended
 * for good or is gone.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { isBrokenBody, LiveLogError, LiveLogTimeoutError } from '../errors.js';
import type { FollowedRecord } from '../read/types.js';
import type { EpochNs } from '../layout/time.js';
import type { PodApi } from './kube-http.js';
import { liveLines, Resume, type LiveLine } from './live-lines.js';
import { isDone, type ContainerRun } from './pod-status.js';

/** Times a one-shot read of a log may break off before the read fails. */
const ONCE_ATTEMPTS = 3;

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
    /** The archived records of an instance strictly between two instants (lines its live log lost to rotation). */
    private readonly recover: (
      containerId: string,
      afterNs: EpochNs,
      beforeNs: EpochNs,
    ) => AsyncIterable<FollowedRecord[]> = noRecords,
  ) {}

  /**
   * The lines of one instance's log after `resume`, read once (no follow). A connection that
   * breaks is opened again from the last line returned, a few times.
   */
  async *once(
    run: ContainerRun,
    previous: boolean,
    resume: Resume,
    tailLines?: number,
    recover = false,
  ): AsyncGenerator<FollowedRecord[]> {
    for (let attempt = 1; ; attempt++) {
      const answer = await this.api.openLog({ previous, sinceTime: resume.sinceTime(), tailLines });
      if (answer.kind !== 'stream') return;
      try {
        yield* this.admitted(liveLines(answer.body, !run.running || previous), run, resume, recover);
        return;
      } catch (error) {
        if (this.signal?.aborted || !isBrokenBody(error)) throw error;
        // A tail's count would be off after a partial answer: read it whole again.
        if (tailLines !== undefined || attempt >= ONCE_ATTEMPTS)
          throw new LiveLogError(
            this.api.namespace,
            this.api.pod,
            `the log of container ${run.id.slice(0, 12)} broke off ${attempt} times`,
            undefined,
            { cause: error },
          );
      }
    }
  }

  /**
   * Follows from `start` to the pod's end. An instance's log is read with `previous=false`
   * only while it runs or once the pod can no longer restart it: an exited instance that may
   * be restarted is read as `previous` after the restart, since in between the API may
   * already serve the next instance's log under the same request.
   */
  async *follow(start: FollowStart): AsyncGenerator<FollowedRecord[]> {
    let run = start.run;
    let resume = start.resume;
    let before = start.before;
    // An instance that exited and may be restarted, and where its log was left.
    let pending: { run: ContainerRun; resume: Resume } | undefined;
    // Fresh: the archive before may have taken minutes.
    let status = await this.api.getPod();
    for (;;) {
      if (status === undefined || status.uid !== start.uid) return;
      if (run !== undefined && status.current?.id === run.id && status.current.running) {
        let got = 0;
        const answer = await this.api.openLog({ follow: true, sinceTime: resume.sinceTime() });
        if (answer.kind === 'gone') return;
        if (answer.kind === 'stream') {
          try {
            for await (const batch of this.admitted(liveLines(answer.body, false), run, resume, true)) {
              got += batch.length;
              yield batch;
            }
          } catch (error) {
            // A connection reset mid-stream is the API dropping it, as a clean end is.
            if (this.signal?.aborted || !isBrokenBody(error)) throw error;
          }
        }
        // The stream ended: the container exited, or the API dropped it (then it is opened
        // again from the last line returned, not in a tight loop).
        status = await this.api.getPod();
        if (got === 0 && status?.current?.id === run.id && status.current.running) await this.pause();
        continue;
      }
      if (run !== undefined) {
        // `run` has exited: the rest of its log after the last line returned.
        if (status.previous?.id === run.id) yield* this.once(run, true, resume, undefined, true);
        else if (status.current?.id === run.id) {
          if (isDone(status)) yield* this.once({ ...run, running: false }, false, resume, undefined, true);
          else pending = { run, resume };
        }
        // Else it is two restarts back: the kubelet serves its log no more, the archive has it.
        // Done with `run` still current: nothing after it. Done with a later instance current:
        // that one (and one between, if any) is read below.
        if (isDone(status) && (status.current === undefined || status.current.id === run.id)) return;
        before = run.id;
      }
      // Wait for the next instance (or the end). An exited instance is read as soon as the
      // kubelet has recorded its restart (`previous`), before the next one runs.
      let deadline = Date.now() + this.timing.waitTimeoutMs;
      for (;;) {
        status = await this.api.getPod();
        if (status === undefined || status.uid !== start.uid) return;
        if (pending !== undefined && status.previous?.id === pending.run.id) {
          yield* this.once(pending.run, true, pending.resume, undefined, true);
          pending = undefined;
        }
        if ((status.current !== undefined && status.current.id !== before) || isDone(status)) break;
        // The kubelet restarts a container in CrashLoopBackOff when its back-off (up to 5 minutes) ends.
        if (status.waitingReason === 'CrashLoopBackOff') deadline = Date.now() + this.timing.waitTimeoutMs;
        if (Date.now() >= deadline) {
          const what = before === undefined ? 'the pod stayed pending' : 'its container did not start again';
          throw new LiveLogTimeoutError(this.api.namespace, this.api.pod, this.timing.waitTimeoutMs, what);
        }
        await this.pause();
      }
      // Ended for good with the exited instance still current: no restart can swap its log.
      if (pending !== undefined && status.current?.id === pending.run.id)
        yield* this.once({ ...pending.run, running: false }, false, pending.resume, undefined, true);
      pending = undefined;
      // An instance that came and went while nobody looked: its log is the `previous` one.
      const missed = status.previous;
      if (missed !== undefined && missed.id !== before && missed.id !== status.current?.id)
        yield* this.once(missed, true, new Resume(start.since));
      if (status.current === undefined || status.current.id === before) return;
      run = status.current;
      resume = new Resume(start.since);
    }
  }

  private pause(): Promise<void> {
    return sleep(this.timing.pollIntervalMs, undefined, { signal: this.signal });
  }

  /** The lines `resume` lets through, as records of instance `run`. */
  private async *admitted(
    lines: AsyncIterable<LiveLine[]>,
    run: ContainerRun,
    resume: Resume,
    recover = false,
  ): AsyncGenerator<FollowedRecord[]> {
    resume.restart();
    // A stream whose first line comes after the place the live log held: the kubelet rotated
    // lines out in between, and the archive has those Fluent Bit uploaded.
    let held = recover ? resume.heldPlace() : undefined;
    let time = '';
    for await (const batch of lines) {
      const first = batch[0]?.ns;
      if (held !== undefined && first !== undefined) {
        if (first > held) yield* this.recover(run.id, held, first);
        held = undefined;
      }
      const records: FollowedRecord[] = [];
      for (const line of batch) {
        if (!resume.admit(line)) continue;
        // A line whose time cannot be read takes the one before it (as the archive does).
        if (line.ns !== undefined) time = line.time;
        records.push({
          time: line.ns === undefined ? time : line.time,
          message: line.message,
          stream: 'stdout',
          containerId: run.id,
          source: 'live',
        });
      }
      if (records.length > 0) yield records;
    }
  }
}

async function* noRecords(): AsyncGenerator<FollowedRecord[]> {}

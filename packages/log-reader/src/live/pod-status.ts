/**
 * What a followed read needs to know of a pod, decoded from the API's JSON: its phase and
 * restart policy, and the current and previous instance of its container (the one named like
 * the pod). Pure: no I/O.
 */
import { stripScheme } from '../layout/container-id.js';
import { parseTime, type EpochNs } from '../layout/time.js';

/** One instance of the container: an id of its own, a log of its own. */
export interface ContainerRun {
  readonly id: string;
  /** Kubernetes keeps these to the second. */
  readonly startedAt: EpochNs | undefined;
  readonly running: boolean;
  readonly exitCode: number | undefined;
}

export interface PodStatus {
  readonly uid: string;
  readonly phase: string;
  readonly restartPolicy: string;
  /** The instance whose log `previous=false` serves; undefined while it waits to (re)start. */
  readonly current: ContainerRun | undefined;
  /** The instance before it, whose log `previous=true` serves. */
  readonly previous: ContainerRun | undefined;
  /** Why the container waits, when it does (`ContainerCreating`, `CrashLoopBackOff`, …). */
  readonly waitingReason: string | undefined;
  /** False when the pod's spec lists containers and none is named like the pod: no job log to follow. */
  readonly hasContainer: boolean;
}

export function decodePod(json: unknown, container: string): PodStatus {
  const pod = record(json);
  const metadata = record(pod['metadata']);
  const spec = record(pod['spec']);
  const status = record(pod['status']);
  const statuses = Array.isArray(status['containerStatuses'])
    ? (status['containerStatuses'] as unknown[]).map(record)
    : [];
  const own = statuses.find((s) => s['name'] === container) ?? {};
  const state = record(own['state']);
  const running = record(state['running']);
  const terminated = record(state['terminated']);
  const last = record(record(own['lastState'])['terminated']);
  const ownId = stripScheme(text(own['containerID']));
  let current: ContainerRun | undefined;
  if (state['running'] !== undefined && ownId !== '') {
    current = { id: ownId, startedAt: time(running['startedAt']), running: true, exitCode: undefined };
  } else if (state['terminated'] !== undefined) {
    const id = stripScheme(text(terminated['containerID'])) || ownId;
    if (id !== '')
      current = {
        id,
        startedAt: time(terminated['startedAt']),
        running: false,
        exitCode: number(terminated['exitCode']),
      };
  }
  const lastId = stripScheme(text(last['containerID']));
  const previous =
    lastId === ''
      ? undefined
      : { id: lastId, startedAt: time(last['startedAt']), running: false, exitCode: number(last['exitCode']) };
  return {
    uid: text(metadata['uid']) ?? '',
    phase: text(status['phase']) ?? 'Unknown',
    restartPolicy: text(spec['restartPolicy']) ?? 'Always',
    current,
    previous,
    waitingReason: text(record(state['waiting'])['reason']),
    hasContainer:
      !Array.isArray(spec['containers']) ||
      (spec['containers'] as unknown[]).some((c) => record(c)['name'] === container),
  };
}

/** The pod can write no more lines: it ended for good (its phase says so, or its container may not restart). */
export function isDone(pod: PodStatus): boolean {
  if (pod.phase === 'Succeeded' || pod.phase === 'Failed') return true;
  const run = pod.current;
  return run !== undefined && !run.running && !canRestart(pod.restartPolicy, run.exitCode);
}

function canRestart(policy: string, exitCode: number | undefined): boolean {
  if (policy === 'Never') return false;
  if (policy === 'OnFailure') return exitCode !== 0;
  return true;
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function number(value: unknown): number | undefined {
  return typeof value === 'number' ? value : undefined;
}

function time(value: unknown): EpochNs | undefined {
  return typeof value === 'string' ? parseTime(value) : undefined;
}

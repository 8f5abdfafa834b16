// Pods for the follow tests around restarts: a job pod whose first container instance exited
// and whose second one runs, with some of each instance's lines archived (uploaded by Fluent
// Bit), in the order the scenario says; and a followed read to the pod's end.
import type { FollowOptions, ReadOptions } from '@platform/log-reader';
import type { KubeApiDouble, ScriptedPod } from './kube-api.js';
import { faultyApi } from './kube-proxy.js';
import { follow, jobLines, type Followed } from './follow.js';
import { newWorld, type World } from './world.js';

export const T0 = new Date('2026-11-25T10:00:00Z');
export const ID0 = '3b5a'.repeat(16);
export const ID = '0f3a'.repeat(16);
export const ID2 = '7c21'.repeat(16);
export const ID3 = '9d4e'.repeat(16);
export const ID4 = 'a1b2'.repeat(16);
export const POD = 'job-1';
/** `s` seconds after T0. */
export const at = (s: number): Date => new Date(T0.getTime() + s * 1000);

type Lines = ReturnType<typeof jobLines>;

/**
 * One container instance: started at `startedAt`, wrote `lines` (its log then rotated to its last
 * `keep` lines, if given); exited 1 at `exitedAt`, or runs if none.
 */
export interface Instance {
  readonly id: string;
  readonly startedAt: Date;
  readonly lines: Lines;
  readonly keep?: number | undefined;
  readonly exitedAt?: Date;
}

/** A job pod (restartPolicy OnFailure) whose container instances ran one after the other, the last one running. */
export function instances(kube: KubeApiDouble, ...runs: Instance[]): ScriptedPod {
  const pod = kube.pod('jobs', POD, { restartPolicy: 'OnFailure' });
  for (const run of runs) {
    pod.start(run.id, run.startedAt);
    pod.append(run.lines);
    if (run.keep !== undefined) pod.rotate(run.keep);
    if (run.exitedAt !== undefined) pod.terminate(1, run.exitedAt);
  }
  return pod;
}

/**
 * A job pod (restartPolicy OnFailure) with two container instances: the first (`ID`) started at
 * `at(0)`, wrote `prev` (its log then rotated to its last `keepPrevious` lines, if given) and
 * exited 1 at `exitedAt`; the second (`ID2`) started at `restartedAt`, wrote `cur` and runs.
 */
export function twoInstances(
  kube: KubeApiDouble,
  s: { prev: Lines; exitedAt: Date; cur: Lines; restartedAt: Date; keepPrevious?: number | undefined },
): ScriptedPod {
  return instances(
    kube,
    { id: ID, startedAt: at(0), lines: s.prev, keep: s.keepPrevious, exitedAt: s.exitedAt },
    { id: ID2, startedAt: s.restartedAt, lines: s.cur },
  );
}

/**
 * Follows `pod` until its current container exits 0 at `endedAt`, once the read's follow stream
 * is open (what was there before is out), and the read has ended.
 */
export async function followToEnd(
  w: World,
  pod: ScriptedPod,
  options: ReadOptions & { follow: FollowOptions },
  endedAt: Date,
): Promise<Followed> {
  const read = follow(w.reader, POD, options);
  await read.waitFor(() => pod.openFollows() === 1);
  pod.terminate(0, endedAt);
  await read.ended;
  return read;
}

/**
 * A restarted pod: p-0..p-9 written by the first instance (`prevLines` of them; archived: the
 * first `archived`), c-0..c-4 by the running one (archived: c-0..c-`curArchived - 1`).
 */
export async function restarted(
  kube: KubeApiDouble,
  name: string,
  archived: number,
  curArchived: number,
  prevLines = 10,
): Promise<{ w: World; pod: ScriptedPod; prev: Lines; cur: Lines }> {
  const w = await newWorld(name);
  const prev = jobLines('p', prevLines, at(0));
  const cur = jobLines('c', 5, at(60));
  const pod = twoInstances(kube, { prev, exitedAt: at(30), cur, restartedAt: at(60) });
  if (archived > 0) await w.container(POD, ID).upload(prev.slice(0, archived));
  if (curArchived > 0) await w.container(POD, ID2, { firstIndex: 10 }).upload(cur.slice(0, curArchived));
  return { w, pod, prev, cur };
}

/**
 * The previous instance's last raw file uploaded after the current one's: p-0..p-9 by the
 * previous instance (its log rotated to its last `keepPrevious` lines before it exited, if
 * given), c-0..c-4 by the running one; Fluent Bit uploaded p-0..4 (index 1), then c-0..4
 * (index 2), then p-5..7 late (index 3), all keyed 10:00. `all`: every line's message, in
 * write order.
 */
export async function previousUploadedLate(
  kube: KubeApiDouble,
  name: string,
  keepPrevious?: number,
): Promise<{ w: World; pod: ScriptedPod; all: string[] }> {
  const w = await newWorld(name);
  const prev = jobLines('p', 10, at(0));
  const cur = jobLines('c', 5, at(20));
  const pod = twoInstances(kube, { prev, exitedAt: at(10), cur, restartedAt: at(20), keepPrevious });
  await w.container(POD, ID, { firstIndex: 1 }).upload(prev.slice(0, 5));
  await w.container(POD, ID2, { firstIndex: 2 }).upload(cur);
  await w.container(POD, ID, { firstIndex: 3 }).upload(prev.slice(5, 8));
  return { w, pod, all: [...prev, ...cur].map((l) => l.message) };
}

/** An API server in front of the double; `before` runs before a request is passed on. */
export function hookedApi(target: KubeApiDouble, before: (url: URL) => void): ReturnType<typeof faultyApi> {
  return faultyApi(target, (url) => {
    before(url);
    return undefined;
  });
}

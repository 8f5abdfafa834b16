// Scenarios with raw files uploaded late (Fluent Bit retries a failed upload, or a node sends
// its backlog after a restart): one job's raw files put one at a time, in the order the test
// chooses, while the job is still writing.
import { putRaw } from '@platform/testkit';
import { HOUR, newWorld, type World } from './world.js';

/** Where a raw file goes: job-1 in namespace jobs, container 0f3a, slice 10:00 unless given. */
export interface RawFileAt {
  readonly index: number;
  readonly slice?: string;
  readonly containerId?: string;
  readonly pod?: string;
}

/** Puts one raw file holding `lines` (parsedLine() texts); returns its key. */
export function putRawFile(w: World, at: RawFileAt, lines: readonly string[]): Promise<string> {
  const { index, slice = '202611251000', containerId = '0f3a', pod = 'job-1' } = at;
  return putRaw(w.client, w.bucket, { pod, namespace: 'jobs', containerId, slice, index, lines: [...lines] });
}

/** A world whose compactor clock is an hour behind the uploads: the job is still writing (its log is not quiet). */
export async function stillWriting(name: string): Promise<World> {
  const w = await newWorld(name);
  w.advance(-HOUR);
  return w;
}

// Scenarios of a compactor that stalls past its lease (a paused process, a slow node) while
// another takes its pods over: a pod merged once, the takeover's pass, and the passes that
// must tidy up afterwards.
import { cleanupKey } from '@platform/log-reader/layout';
import type { FluentBitContainer } from '@platform/testkit';
import type { PassResult } from 'compactor';
import { HOUR, MINUTE, messages, newWorld, type World } from './world.js';

export const T0 = new Date('2026-11-25T10:00:00Z');

/** job-1 with `n` records uploaded by its container 0f3a; not compacted yet. */
export async function uploadedPod(name: string, n: number): Promise<{ w: World; fb: FluentBitContainer }> {
  const w = await newWorld(name);
  const fb = w.container('job-1', '0f3a');
  await fb.upload(messages('a', n, T0));
  return { w, fb };
}

/** The S3 request that takes the pod off the cleanup queue. */
export function isCleanupDelete(command: string, key: string): boolean {
  return command === 'DeleteObjectCommand' && key === cleanupKey('job-1');
}

/** Ten minutes on, the job uploads a new raw file and another compactor's pass takes the pod over. */
export async function takeOver(w: World, fb: FluentBitContainer): Promise<{ late: string; takeover: PassResult }> {
  w.advance(10 * MINUTE);
  const late = await fb.upload(messages('b', 2, new Date(T0.getTime() + 40 * MINUTE)));
  const takeover = await w.pass({ compactIntervalMs: 0 });
  return { late, takeover };
}

/** Hours later, pass after pass: what is due must be gone by then. */
export async function passHoursLater(w: World): Promise<void> {
  for (let i = 0; i < 3; i++) {
    w.advance(HOUR);
    await w.pass();
  }
}

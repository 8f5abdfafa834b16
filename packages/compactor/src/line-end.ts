/**
 * With `--kube`: whether the unfinished line at the end of a pod's raw files can no longer be
 * finished, so that it is merged as it is. It can't once the container that writes it has
 * ended (kube.ts asks the Kubernetes API) and the pod's newest raw upload is older than the
 * settle time (Fluent Bit's last upload of a deleted pod may still be on its way). Without
 * `--kube`, merge.ts keeps the quiet rule.
 */
import { parseRawKey } from '@platform/log-reader';
import type { ContainerLiveness } from './kube.js';
import type { PodState } from './pod-state.js';

export async function lineContainerEnded(liveness: ContainerLiveness, state: Pick<PodState, 'pod' | 'raw' | 'unmerged' | 'metadata'>, now: Date): Promise<boolean> {
  // A loop, not Math.max(...list): a spread of months of raw files overflows the stack.
  let newest = 0;
  for (const f of state.raw) newest = Math.max(newest, f.lastModified.getTime());
  if (now.getTime() - newest < liveness.settleMs) return false;
  // The line's container is that of the last raw file read: files not merged yet are read
  // after those merged already (a container restart ends a line, so it is that file's).
  const lastKey = state.unmerged.at(-1)?.key ?? state.metadata.mergedRawFiles?.at(-1)?.key;
  const last = lastKey === undefined ? undefined : parseRawKey(lastKey);
  if (last === undefined) return false;
  return liveness.hasEnded(last.namespace, state.pod, last.containerId, now);
}

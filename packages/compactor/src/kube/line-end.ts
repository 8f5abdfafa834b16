/**
 * With `--kube`: whether the unfinished line at the end of a pod's raw files can no longer be
 * finished, so that it is merged as it is. It can't once the container that writes it has
 * ended (kube.ts asks the Kubernetes API) and the pod's newest raw upload is older than the
 * settle time (Fluent Bit's last upload of a deleted pod may still be on its way). Without
 * `--kube`, pass/decide.ts keeps the quiet rule.
 */
import { parseRawKey, type UnfinishedLine } from '@platform/log-reader/layout';
import { newestUpload, type PodState } from '../store/pod-state.js';
import type { ContainerLiveness } from './kube.js';

export async function lineContainerEnded(
  liveness: ContainerLiveness,
  state: Pick<PodState, 'pod' | 'raw'>,
  lines: readonly UnfinishedLine[],
  now: Date,
): Promise<boolean> {
  if (now.getTime() - newestUpload(state) < liveness.settleMs) return false;
  // The container that writes the lines: that of the file each started in (a container
  // restart ends a line, so all open lines are of one container).
  for (const line of lines) {
    const start = parseRawKey(line.key);
    if (start === undefined || !(await liveness.hasEnded(start.namespace, state.pod, start.containerId, now)))
      return false;
  }
  return lines.length > 0;
}

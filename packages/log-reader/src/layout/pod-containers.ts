/**
 * Which containers of a pod the raw layout holds files of (docs/design.md §1): the reader and
 * the compactor read only the pod's own container, named like the pod (the platform's job
 * convention); the files of its other containers (a sidecar, a Deployment pod's containers)
 * are uploaded by Fluent Bit but never merged or read.
 */
import { parseRawDir } from './keys.js';

export interface PodContainers {
  /** Whether a raw directory of the pod's own container was listed. */
  readonly hasOwn: boolean;
  /** The pod's other containers with raw files, by name, sorted, each once (all its restarts). */
  readonly others: readonly string[];
  /** The namespaces those directories are in, sorted. */
  readonly namespaces: readonly string[];
}

/**
 * The containers of `pod` among raw directories (the common prefixes of a `/` delimiter
 * listing under the pod's raw prefix); anything that is not a raw directory of `pod` is left out.
 */
export function podContainersOf(pod: string, dirs: Iterable<string>): PodContainers {
  let hasOwn = false;
  const others = new Set<string>();
  const namespaces = new Set<string>();
  for (const prefix of dirs) {
    const dir = parseRawDir(prefix);
    if (dir === undefined || dir.pod !== pod) continue;
    namespaces.add(dir.namespace);
    if (dir.container === pod) hasOwn = true;
    else others.add(dir.container);
  }
  return { hasOwn, others: [...others].sort(), namespaces: [...namespaces].sort() };
}

/**
 * Which pods a pass works on: the raw "directories" of Fluent Bit's layout (one delimiter
 * listing), the pods among them (a container named like its pod), and a queued pod's namespace.
 */
import { RAW_PREFIX, parseRawDir, parseRawKey } from '@platform/log-reader/layout';
import { listCommonPrefixes, listRawFiles, loadMetadata, type Bucket, type RawFile } from '@platform/log-reader/s3';
import { PodNamespaceConflictError } from '@platform/log-reader';
import type { OtherContainerDir } from './other-containers.js';

/** Every raw directory (one per container id) in Fluent Bit's layout, from one delimiter listing. */
export async function listRawDirs(store: Bucket): Promise<OtherContainerDir[]> {
  const dirs: OtherContainerDir[] = [];
  for await (const prefix of listCommonPrefixes(store, RAW_PREFIX)) {
    const dir = parseRawDir(prefix);
    if (dir !== undefined) dirs.push({ ...dir, prefix });
  }
  return dirs;
}

/**
 * Pods that have raw files of their own container (named like the pod), in `namespace` if given;
 * the directories of other containers (in `namespace`) are added to `others`.
 */
export function podsIn(
  dirs: readonly OtherContainerDir[],
  namespace: string | undefined,
  others: OtherContainerDir[],
): string[] {
  const pods = new Set<string>();
  for (const dir of dirs) {
    if (namespace !== undefined && dir.namespace !== namespace) continue;
    if (dir.container === dir.pod) pods.add(dir.pod);
    else others.push(dir);
  }
  return [...pods].sort();
}

/**
 * Whether a queued pod is in `namespace`. One that nothing names a namespace of (only objects
 * under data/: a stalled writer's file after retention deleted the rest) is every compactor's,
 * or with a compactor per namespace nobody would delete it (docs/operations.md#orphans).
 */
export async function inNamespace(store: Bucket, pod: string, namespace: string | undefined): Promise<boolean> {
  if (namespace === undefined) return true;
  const namespaces = await podNamespaces(store, pod);
  return namespaces.length === 0 || namespaces.includes(namespace);
}

/**
 * The namespaces of a pod in the cleanup queue: from its raw files, else from the raw keys
 * its metadata names (a pod whose raw files are all deleted may still have objects due).
 */
async function podNamespaces(store: Bucket, pod: string): Promise<readonly string[]> {
  let raw: RawFile[];
  try {
    raw = await listRawFiles(store, pod);
  } catch (error) {
    // Reported by the run of either namespace, which fails the pod; none of ours otherwise.
    if (error instanceof PodNamespaceConflictError) return error.namespaces;
    throw error;
  }
  if (raw[0] !== undefined) return [raw[0].namespace];
  const { metadata } = await loadMetadata(store, pod);
  const named = [metadata.lastMergedKey, ...(metadata.mergedRawFiles ?? []).map((p) => p.key)];
  for (const key of named) {
    const parsed = key === null ? undefined : parseRawKey(key);
    if (parsed !== undefined) return [parsed.namespace];
  }
  return [];
}

/**
 * The one owner of the bucket layout.
 *
 *   raw (Fluent Bit):  kube.var.log.containers.{pod}_{namespace}_{container}-{containerId}.log/{slice}_{index}.gz
 *                      (some deployments write `{slice}__{index}.gz`)
 *   merged:            data/{pod}/{containerId}/{slice}_{index}.gz
 *   metadata:          metadata/{pod}.json      (the only commit point)
 *   cleanup queue:     cleanup/{pod}            (empty object)
 *   lease:             leases/{pod}.json        (one compactor per pod; see the compactor's lease.ts)
 *                      leases/.conditional-write-check  (the store's conditional writes, checked)
 *
 * `{slice}` is a `YYYYMMDDHHmm` UTC minute; `{index}` a decimal counter, not zero-padded.
 */
import { InvalidPodNameError } from '../errors.js';
import { formatSlice } from './time.js';

export const RAW_PREFIX = 'kube.var.log.containers.';
export const MERGED_PREFIX = 'data/';
export const METADATA_PREFIX = 'metadata/';
export const CLEANUP_PREFIX = 'cleanup/';
export const LEASE_PREFIX = 'leases/';

/** A parsed raw key: one Fluent Bit upload of one container. */
export interface RawKey {
  readonly key: string;
  readonly pod: string;
  readonly namespace: string;
  readonly container: string;
  readonly containerId: string;
  /** `YYYYMMDDHHmm`: the minute Fluent Bit opened the chunk, not a bound on its records. */
  readonly slice: string;
  readonly index: number;
}

/** A parsed merged key written by the compactor. */
export interface MergedKey {
  readonly key: string;
  readonly pod: string;
  readonly containerId: string;
  readonly slice: string;
  readonly index: number;
}

// Kubernetes names never contain `_`; the container id is the hex run after the last `-`.
const NAME = '[^_/]+';
const RAW_DIR = new RegExp(`^${escape(RAW_PREFIX)}(${NAME})_(${NAME})_(${NAME})-([0-9a-fA-F]+)\\.log/$`);
const RAW_FILE = /^(\d{12})__?(\d+)\.gz$/;
const MERGED_KEY = /^data\/([^/]+)\/([0-9a-fA-F]+)\/(\d{12})_(\d+)\.gz$/;

// RFC 1123 subdomain, as Kubernetes requires of pod names: no `/`, no `..`, no unicode.
const POD_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const MAX_POD_NAME = 253;

export function isValidPodName(pod: string): boolean {
  return pod.length <= MAX_POD_NAME && POD_NAME.test(pod);
}

/** Throws {@link InvalidPodNameError} unless `pod` is a Kubernetes pod name. */
export function assertPodName(pod: string): string {
  if (!isValidPodName(pod)) throw new InvalidPodNameError(pod);
  return pod;
}

/**
 * Parses a raw "directory" (a delimiter listing's common prefix); `undefined` if it is not
 * one. Pod, namespace and container must all be Kubernetes names (no `..`, uppercase,
 * unicode or control characters): anything else is not a Fluent Bit upload of a pod, and a
 * stray key like `{pod}_.._{pod}-…` must not make a pod look as if it were in two namespaces.
 */
export function parseRawDir(prefix: string): Omit<RawKey, 'key' | 'slice' | 'index'> | undefined {
  const m = RAW_DIR.exec(prefix);
  if (!m) return undefined;
  const [, pod, namespace, container, containerId] = m as unknown as [string, string, string, string, string];
  if (!isValidPodName(pod) || !isValidPodName(namespace) || !isValidPodName(container)) return undefined;
  return { pod, namespace, container, containerId };
}

/** Parses a raw key; `undefined` for anything that is not a Fluent Bit upload of this layout. */
export function parseRawKey(key: string): RawKey | undefined {
  const slash = key.indexOf('/');
  if (slash < 0) return undefined;
  const dir = parseRawDir(key.slice(0, slash + 1));
  const file = RAW_FILE.exec(key.slice(slash + 1));
  if (!dir || !file) return undefined;
  return { key, ...dir, slice: file[1] as string, index: Number(file[2]) };
}

/** Builds a raw key (Fluent Bit's side; used by tests and the demo seeder). */
export function rawKey(parts: Omit<RawKey, 'key'>, separator: '_' | '__' = '_'): string {
  return `${rawDir(parts)}${parts.slice}${separator}${parts.index}.gz`;
}

export function rawDir(parts: Pick<RawKey, 'pod' | 'namespace' | 'container' | 'containerId'>): string {
  return `${RAW_PREFIX}${parts.pod}_${parts.namespace}_${parts.container}-${parts.containerId}.log/`;
}

/** Every raw key of a pod, all namespaces and containers, starts with this. */
export function rawPodPrefix(pod: string): string {
  return `${RAW_PREFIX}${assertPodName(pod)}_`;
}

/**
 * An index at or above this was seeded from the clock (k8s/base/fluent-bit/seed-index.sh puts
 * the counter at or above seconds x 1000 before every start of Fluent Bit: 10^12 is the clock
 * of September 2001). A stock Fluent Bit counts from 1, one upload at a time, and never gets
 * near it.
 */
export const SEEDED_INDEX_FLOOR = 1e12;

/** The latest clock a seeded index can stand for, in seconds: 9999-12-31T23:59:59Z. */
const LAST_SECOND = 253_402_300_799;

/**
 * The minute a raw file is ordered by (docs/design.md §1): its slice; for a seeded index, no
 * earlier than the minute after the one its Fluent Bit started in (index / 1000 seconds, at
 * most: the seed is at least the clock x 1000, and a node uploads far fewer than 1000 files
 * a second). Why: a restarted Fluent Bit keys the files it reloads from its store_dir by the
 * minute it started, and the first file it writes afterwards by its first record's minute,
 * often earlier, though the reloaded files hold the older lines and are uploaded first (lower
 * indexes). Lifted to the same minute, the files its first minute uploads are ordered by
 * index, which is their upload order. Never earlier than the slice: a listing that has passed
 * a slice has listed every file ordered before it (raw-listing.ts).
 */
export function rawOrderSlice(raw: Pick<RawKey, 'slice' | 'index'>): string {
  if (raw.index < SEEDED_INDEX_FLOOR) return raw.slice;
  // A sort compares each key many times: the minute is formatted once per key object.
  let minute = orderMinutes.get(raw);
  if (minute === undefined) {
    const second = Math.min(Math.floor(raw.index / 1000) + 60, LAST_SECOND);
    const started = formatSlice(new Date(second * 1000));
    minute = started > raw.slice ? started : raw.slice;
    orderMinutes.set(raw, minute);
  }
  return minute;
}

const orderMinutes = new WeakMap<Pick<RawKey, 'slice' | 'index'>, string>();

/**
 * Raw file order within a pod: {@link rawOrderSlice}, then index as a number, then the key.
 * For keys of a stock Fluent Bit (indexes below {@link SEEDED_INDEX_FLOOR}) it is the Python
 * service's order, {@link compareRawKeysAsPython}.
 */
export function compareRawKeys(a: RawKey, b: RawKey): number {
  const sa = rawOrderSlice(a);
  const sb = rawOrderSlice(b);
  if (sa !== sb) return sa < sb ? -1 : 1;
  if (a.index !== b.index) return a.index - b.index;
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

/**
 * The Python service's raw file order: slice, then index as a number, then the key. What its
 * `last_merged_key` means ("every raw key up to it"), read or written, whatever the indexes.
 */
export function compareRawKeysAsPython(a: RawKey, b: RawKey): number {
  if (a.slice !== b.slice) return a.slice < b.slice ? -1 : 1;
  if (a.index !== b.index) return a.index - b.index;
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

export function mergedKey(parts: Omit<MergedKey, 'key'>): string {
  const prefix = mergedPodPrefix(parts.pod);
  // The other parts come from parsed raw keys and the clock; checked so no key leaves data/{pod}/.
  if (
    !/^[0-9a-fA-F]+$/.test(parts.containerId) ||
    !/^\d{12}$/.test(parts.slice) ||
    !Number.isSafeInteger(parts.index) ||
    parts.index < 0
  ) {
    throw new RangeError(`not a merged key of pod ${parts.pod}: ${JSON.stringify(parts)}`);
  }
  return `${prefix}${parts.containerId}/${parts.slice}_${parts.index}.gz`;
}

/** Parses a merged key of this layout; `undefined` for other keys (e.g. the Python service's). */
export function parseMergedKey(key: string): MergedKey | undefined {
  const m = MERGED_KEY.exec(key);
  if (!m || !isValidPodName(m[1] as string)) return undefined;
  return { key, pod: m[1] as string, containerId: m[2] as string, slice: m[3] as string, index: Number(m[4]) };
}

export function mergedPodPrefix(pod: string): string {
  return `${MERGED_PREFIX}${assertPodName(pod)}/`;
}

export function metadataKey(pod: string): string {
  return `${METADATA_PREFIX}${assertPodName(pod)}.json`;
}

export function cleanupKey(pod: string): string {
  return `${CLEANUP_PREFIX}${assertPodName(pod)}`;
}

export function leaseKey(pod: string): string {
  return `${LEASE_PREFIX}${assertPodName(pod)}.json`;
}

/**
 * Where the compactor checks that the store enforces conditional writes (no pod's: a dot is not a pod
 * name's first character).
 */
export const CONDITIONAL_WRITE_CHECK_KEY = `${LEASE_PREFIX}.conditional-write-check`;
/** The object a pass asks whether the store enforces If-Match on DELETE (compactor store-checks.ts). */
export const CONDITIONAL_DELETE_CHECK_KEY = `${LEASE_PREFIX}.conditional-delete-check`;

/**
 * When the compactor's daily survey (orphan sweep, containers never merged) of one scope last
 * ran: its user metadata `surveyed-at` (no pod's key either: it starts with a dot). A compactor
 * per namespace or per shard surveys only its own scope, so each has its own stamp.
 */
export function dailySurveyKey(scope: {
  readonly namespace?: string | undefined;
  readonly shard?: { readonly index: number; readonly count: number } | undefined;
}): string {
  const namespace = scope.namespace === undefined ? '' : `.namespace-${scope.namespace}`;
  const shard = scope.shard === undefined ? '' : `.shard-${scope.shard.index}-of-${scope.shard.count}`;
  return `${LEASE_PREFIX}.daily-survey${namespace}${shard}`;
}
/** The user metadata field (`x-amz-meta-surveyed-at`) of {@link dailySurveyKey}: an ISO time. */
export const SURVEYED_AT_FIELD = 'surveyed-at';

/** The pod of a metadata key (`metadata/{pod}.json`); `undefined` for any other key. */
export function parseMetadataKey(key: string): string | undefined {
  if (!key.startsWith(METADATA_PREFIX) || !key.endsWith('.json')) return undefined;
  const pod = key.slice(METADATA_PREFIX.length, -'.json'.length);
  return isValidPodName(pod) ? pod : undefined;
}

/** The pod of a cleanup-queue key; `undefined` when the rest is not a pod name. */
export function parseCleanupKey(key: string): string | undefined {
  if (!key.startsWith(CLEANUP_PREFIX)) return undefined;
  const pod = key.slice(CLEANUP_PREFIX.length);
  return isValidPodName(pod) ? pod : undefined;
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * What `compactor inspect` shows about one pod: collect.ts fills it in, format.ts prints it
 * as text, `--json` prints it as it is (the field names are stable).
 */
import type { Stream } from '@platform/log-reader';
import type { PendingKind } from '../pass/deletions.js';

/** Everything `compactor inspect` shows; `--json` prints it as it is (field names are stable). */
export interface PodInspection {
  readonly pod: string;
  readonly bucket: string;
  /** ISO 8601: the instant everything below was judged at. */
  readonly inspectedAt: string;
  readonly cleanupIntervalMs: number;
  readonly compactIntervalMs: number;
  /** `--quiet-after`: an unfinished line is merged as it is once the pod has uploaded nothing for this long. */
  readonly quietAfterMs: number;
  /** False when the bucket holds no object of the pod at all (exit 1 in the CLI). */
  readonly found: boolean;
  /** The `--namespace` given; `null` for all. */
  readonly namespace: string | null;
  /** Namespaces of the raw files of the pod's own container (more than one: the pass fails the pod). */
  readonly namespaces: readonly string[];
  /** Container ids of the pod's own container, from raw and merged keys, in order of appearance. */
  readonly containerIds: readonly string[];
  /** Raw files of other containers of the pod (sidecars): never read, merged or deleted. */
  readonly otherContainers: readonly OtherContainer[];
  readonly metadata: MetadataSummary;
  /** The merged files the metadata lists, in log order. */
  readonly mergedFiles: readonly MergedFileInfo[];
  readonly mergedTotals: {
    readonly files: number;
    readonly records: number;
    readonly size: number;
    readonly storedSize: number;
  };
  /** Raw files of the pod's own container that no commit has merged, in raw-file order. */
  readonly unmergedRawFiles: readonly RawFileInfo[];
  readonly unmergedTotals: { readonly files: number; readonly size: number };
  /** Lines whose last piece has not arrived; their files are kept until the line ends. */
  readonly unfinishedLines: readonly UnfinishedLineInfo[];
  /**
   * Objects a pass found whole but undecodable (metadata `unreadable_objects`): merged around,
   * kept (never deleted by cleaning), their records past the damage left out of the log.
   */
  readonly unreadableObjects: readonly UnreadableObjectInfo[];
  /** Objects waiting for deletion, with when they are due. */
  readonly pendingDeletions: readonly PendingDeletionInfo[];
  readonly pendingTotals: {
    readonly objects: number;
    readonly dueNow: number;
    readonly heldForUnfinishedLines: number;
  };
  readonly cleanupQueue: { readonly key: string; readonly present: boolean; readonly lastModified: string | null };
  readonly lease: LeaseInfo;
  readonly nextPass: NextPass;
  /** What stops the pass from working on the pod, or looks wrong: `code` as the pass's errors. */
  readonly problems: readonly { readonly code: string; readonly message: string }[];
}

export interface OtherContainer {
  readonly namespace: string;
  readonly container: string;
  readonly rawFiles: number;
}

export interface MetadataSummary {
  readonly key: string;
  readonly exists: boolean;
  /** `python-service` for a document without `merged_raw_files` (merged = up to `last_merged_key`). */
  readonly writtenBy: 'compactor' | 'python-service' | null;
  readonly lastCompactionTime: string | null;
  readonly lastMergedKey: string | null;
  readonly commitId: string | null;
  readonly etag: string | null;
}

export interface MergedFileInfo {
  readonly key: string;
  readonly records: number;
  /** NDJSON bytes before compression, as the metadata says. */
  readonly size: number;
  /** Bytes stored (compressed), from the listing; `null` when the file is not under `data/{pod}/`. */
  readonly storedSize: number | null;
  readonly firstRecordTime: string;
  readonly lastRecordTime: string;
}

export interface RawFileInfo {
  readonly key: string;
  readonly size: number;
  /** ISO 8601, as listed (whole seconds on most stores). */
  readonly lastModified: string;
}

export interface UnfinishedLineInfo {
  readonly stream: Stream;
  /** The raw file holding the line's first piece, and its line there (from 1). */
  readonly key: string;
  readonly line: number;
  /** Every raw file holding pieces, from which line on; `present` false: gone from the bucket. */
  readonly files: readonly { readonly key: string; readonly line: number; readonly present: boolean }[];
}

export interface UnreadableObjectInfo {
  readonly key: string;
  /** What is wrong with its body, as the pass that found it said. */
  readonly reason: string;
  /** ISO 8601: the commit that recorded it. */
  readonly foundAt: string;
  /** False when it is gone from the bucket (deleted by hand or by retention). */
  readonly present: boolean;
}

export interface PendingDeletionInfo {
  readonly key: string;
  /**
   * `merged-raw`: merged by a commit; `retired`: a merged file a commit stopped listing; `orphan`: no
   * commit lists it.
   */
  readonly kind: PendingKind;
  /** What the wait counts from: the commit (`committed_at`, `retired_at`) or an orphan's LastModified. */
  readonly since: string;
  /** `since` plus the cleanup interval (ISO 8601); `null` while it holds pieces of an unfinished line. */
  readonly dueAt: string | null;
  readonly due: boolean;
  readonly heldForUnfinishedLine: boolean;
}

export interface LeaseInfo {
  readonly key: string;
  readonly present: boolean;
  /** `null` when absent or unreadable. */
  readonly holder: string | null;
  readonly expiresAt: string | null;
  /** When its holder released it (a store without conditional deletes keeps it so); `null` otherwise. */
  readonly releasedAt: string | null;
  /** True while it binds: a pass now would leave the pod alone (`busy`). */
  readonly live: boolean;
}

/** What a pass started now would do for the pod (without `--kube`). */
export interface NextPass {
  /** Why it would fail the pod (nothing merged or deleted); `null` when it would not. */
  readonly fails: string | null;
  /** Another compactor holds the pod's lease: a pass now would leave the pod alone. */
  readonly busy: boolean;
  readonly merge: boolean;
  readonly mergeRawFiles: number;
  /** Why it would not merge; `null` when it would. */
  readonly mergeSkipReason: string | null;
  /** Objects due now: the pass deletes them when it works on the pod (a merge, or the cleanup queue). */
  readonly deleteObjects: number;
  /** Objects waiting that are not due yet. */
  readonly deleteLater: number;
}

/**
 * The read's types: a read's options and records (the public API), and the archive filter
 * the follow mode hands the reader (live/ imports this file, never reader.ts).
 */
import type { RequestOptions } from 'node:https';
import type { S3Client } from '@aws-sdk/client-s3';
import type { LogFileEntry } from '../layout/metadata.js';
import type { LogRecord } from '../layout/records.js';
import type { EpochNs } from '../layout/time.js';
import type { UnfinishedPieces } from '../s3/raw-records.js';
import type { RawFile } from '../s3/store.js';

/**
 * What a followed read uses of a kubeconfig: a `KubeConfig` of `@kubernetes/client-node` fits.
 * Declared here rather than imported so that the package's types never load the Kubernetes
 * client's: those import `ws`, whose types (`@types/ws`) client-node does not depend on, and a
 * consumer compiling with `skipLibCheck: false` would fail on them even without `follow`.
 */
export interface KubeAccess {
  /** The current context's cluster (its API server's URL), or null when there is none. */
  getCurrentCluster(): { readonly server: string } | null;
  /** Adds the current user's credentials and the cluster's CA to the options of an HTTPS request. */
  applyToHTTPSOptions(options: RequestOptions): Promise<void>;
  /** The current context's name, for error messages (a `KubeConfig` has it; optional). */
  getCurrentContext?(): string;
}

/**
 * Where the live log is: the cluster (a `KubeConfig`: in-cluster or from a kubeconfig file) and the
 * pod's namespace.
 */
export interface FollowOptions {
  readonly kube: KubeAccess;
  readonly namespace: string;
  /** How long to wait for a pending pod or a restarting container. Milliseconds; default 5 minutes. */
  readonly waitTimeout?: number;
  /** How often the pod is asked about while waiting. Milliseconds; default 1 s. */
  readonly pollInterval?: number;
}

/** A record of a followed read: from the archive (S3) or from the live log (the Kubernetes API). */
export interface FollowedRecord extends LogRecord {
  readonly source: 'archive' | 'live';
}

export interface LogReaderOptions {
  /**
   * An S3 client: `createS3Client()` builds the one the CLIs use (path-style addressing with a
   * custom endpoint, bounded retries). One of your own needs `forcePathStyle: true` with a custom endpoint.
   */
  readonly client: S3Client;
  readonly bucket: string;
  /**
   * How many times in a row a read may re-plan (after an object vanished under it, or a body
   * broke) without passing a record in between before it fails. Default 5. A re-plan that
   * takes the read further starts the count again, so a read may outlast any number of passes.
   */
  readonly maxReplans?: number;
  /** GETs started ahead of the file being read (each holds a paused response). Default 4. */
  readonly readAhead?: number;
}

export interface ReadOptions {
  /** Only records at or after this time (nanosecond precision for strings). */
  readonly since?: Date | string;
  /**
   * Only the last `tail` records (of those at or after `since`). The metadata's
   * `records_count` says which merged files hold them: only those are fetched.
   */
  readonly tail?: number;
  /** Aborts the read: open S3 and Kubernetes requests are closed, the read ends with an `AbortError`. */
  readonly signal?: AbortSignal;
  /**
   * Continue into the pod's live log through the Kubernetes API once the archive is read, and
   * follow it (through container restarts) until the pod is terminated for good or deleted.
   */
  readonly follow?: FollowOptions;
  /**
   * Called once per read for each object of the pod that arrived whole but cannot be decoded
   * (docs/design.md §8): one the compactor recorded in the metadata, or one the read met. The
   * read goes on without its records (of a damaged merged file, those up to the damage are returned). Not called
   * with `strict`.
   */
  readonly onUnreadable?: (object: UnreadableObject) => void;
  /**
   * Fail the read with an `UnreadableObjectError` at the first unreadable object instead of
   * reading around it (records returned before it stay returned). Default false.
   */
  readonly strict?: boolean;
}

/** An object of the pod's log that arrived whole but cannot be decoded. */
export interface UnreadableObject {
  readonly pod: string;
  readonly key: string;
  /** What is wrong with its body, e.g. `gzip: incorrect header check`. */
  readonly reason: string;
  /** When a compactor pass recorded it in the metadata (ISO 8601); absent when this read found it. */
  readonly foundAt?: string;
}

export interface ReadStreamOptions extends ReadOptions {
  /** Prefix each line with its verbatim time string and a space. Default false. */
  readonly timestamps?: boolean;
  /**
   * With `follow`: the line written between the archive part and the live part when both
   * are non-empty. Default `=== Live logs === ` plus a random suffix; `false` for none.
   */
  readonly separator?: string | false;
}

/** The files of one read, in log order. */
export interface ReadPlan {
  readonly merged: readonly LogFileEntry[];
  readonly raw: readonly RawFile[];
  /** Lines the last commit left unfinished, read from the merged raw files that hold their pieces. */
  readonly unfinished: UnfinishedPieces;
}

/**
 * The records of container `containerId` after `fromNs` are read elsewhere (its live log).
 * Those at exactly `fromNs` are kept: the live log may have lost some of them to rotation, so
 * the follower matches them against the live log's first lines instead (live/placed.ts).
 */
export interface Exclusion {
  readonly containerId: string;
  readonly fromNs: EpochNs;
}

/**
 * Only the records of container `containerId` strictly between two instants: the lines a
 * live log lost to rotation between a follower's place and its next line (live/follow.ts).
 */
export interface Window {
  readonly containerId: string;
  readonly afterNs: EpochNs;
  readonly beforeNs: EpochNs;
}

/** Which archived records a read returns (archive-filter.ts): `since`, minus a live log's, or only a window's. */
export interface ArchiveFilter {
  readonly since?: EpochNs | undefined;
  readonly exclude?: readonly Exclusion[] | undefined;
  readonly within?: Window | undefined;
}

/**
 * Errors of the log reader. Each has a stable `code` for callers to branch on and a
 * message that names the pod and the key it is about. And isBrokenBody(): the transport
 * failure after which both a read of S3 and a live log's stream go on from their place.
 */
export class LogReaderError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** What a pod name is, as Kubernetes requires it (and the layout relies on: no `_`, no `/`). */
export const POD_NAME_FORMAT =
  "a lowercase RFC 1123 name: at most 253 characters of a-z, 0-9, '-' and '.', starting and ending with a letter or digit";

/** A pod name that is not a Kubernetes name: it could escape the pod's own prefixes. */
export class InvalidPodNameError extends LogReaderError {
  constructor(readonly pod: string) {
    super('ERR_INVALID_POD_NAME', `invalid pod name ${JSON.stringify(pod)}: expected ${POD_NAME_FORMAT}`);
  }
}

/**
 * The bucket holds nothing of the pod: no metadata, no raw file of any of its containers (a
 * typo, another bucket, a pod whose uploads have not started). Thrown by a read that is not
 * followed; a followed read of a pod that is in the cluster reads its live log instead.
 */
export class PodNotFoundError extends LogReaderError {
  constructor(
    readonly pod: string,
    readonly bucket: string,
  ) {
    super(
      'ERR_POD_NOT_FOUND',
      `pod ${pod} not found in bucket ${bucket}: no metadata and no raw file of any of its containers`,
    );
  }
}

/** A time string that is not RFC 3339. */
export class InvalidTimeError extends LogReaderError {
  constructor(readonly value: string) {
    super(
      'ERR_INVALID_TIME',
      `invalid time ${JSON.stringify(value)}: expected RFC 3339, e.g. 2026-11-25T10:00:00.123456789Z`,
    );
  }
}

/** The same pod name appears under two namespaces: its log is ambiguous. */
export class PodNamespaceConflictError extends LogReaderError {
  constructor(
    readonly pod: string,
    readonly namespaces: readonly string[],
  ) {
    super(
      'ERR_POD_NAMESPACE_CONFLICT',
      `pod ${pod} has raw log files in several namespaces (${namespaces.join(', ')}); refusing to guess which one is the job`,
    );
  }
}

/** The metadata object of a pod cannot be decoded. */
export class MetadataError extends LogReaderError {
  constructor(
    readonly key: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super('ERR_BAD_METADATA', `metadata ${key} is invalid: ${detail}`, options);
  }
}

/**
 * An object whose body arrived whole (every byte its response announced) but cannot be
 * decoded: a gzip that is corrupt or was stored cut short, a merged file with a line that is
 * not a record (docs/design.md §8). The compactor merges around it and records it in the
 * pod's metadata; a read reports it and goes on, unless it is strict (then it throws this).
 * A body cut in transit is a {@link BodyCutShortError} instead, and is read again.
 */
export class UnreadableObjectError extends LogReaderError {
  /** The pod whose log the object belongs to, when the caller knows it. */
  readonly pod: string | undefined;

  constructor(
    readonly key: string,
    /** What is wrong with the body, e.g. `gzip: unexpected end of file`. */
    readonly reason: string,
    options?: { cause?: unknown; pod?: string | undefined },
  ) {
    super('ERR_UNREADABLE_OBJECT', `${podPrefix(options?.pod)}object ${key} is unreadable: ${reason}`, options);
    this.pod = options?.pod;
  }
}

/** The former name of {@link UnreadableObjectError}, kept for callers that catch it by that name. */
export const CorruptObjectError = UnreadableObjectError;
export type CorruptObjectError = UnreadableObjectError;

/**
 * A response body that ended before all the bytes its Content-Length announced: cut in
 * transit, not corrupt. Read again like a reset connection ({@link isBrokenBody}).
 */
export class BodyCutShortError extends LogReaderError {
  /** The pod whose log the object belongs to, when the caller knows it. */
  readonly pod: string | undefined;

  constructor(
    readonly key: string,
    readonly received: number,
    readonly expected: number,
    options?: { pod?: string | undefined },
  ) {
    super(
      'ERR_BODY_CUT_SHORT',
      `${podPrefix(options?.pod)}object ${key}: the body ended after ${received} of ${expected} bytes (cut in transit)`,
    );
    this.pod = options?.pod;
  }
}

/** An object a read planned on disappeared again and again: the reader gave up. */
export class ObjectVanishedError extends LogReaderError {
  constructor(
    readonly pod: string,
    readonly key: string,
  ) {
    super(
      'ERR_OBJECT_VANISHED',
      `pod ${pod}: object ${key} vanished while reading, even after re-reading the metadata`,
    );
  }
}

/** An object that a listing or the metadata named is not there (any more). */
export class ObjectMissingError extends LogReaderError {
  /** The pod whose log the object belongs to, when the caller knows it. */
  readonly pod: string | undefined;

  constructor(
    readonly key: string,
    options?: { cause?: unknown; pod?: string | undefined },
  ) {
    super('ERR_OBJECT_MISSING', `${podPrefix(options?.pod)}object ${key} does not exist`, options);
    this.pod = options?.pod;
  }
}

function podPrefix(pod: string | undefined): string {
  return pod === undefined ? '' : `pod ${pod}: `;
}

/**
 * The pod's log has expired (the compactor's retention): it is marked for deletion, or was
 * deleted while this read was under way. A read never returns part of an expiring log as if
 * it were the whole of it: it ends with this error instead.
 */
export class LogExpiredError extends LogReaderError {
  constructor(
    readonly pod: string,
    /** When the compactor marked it expired (ISO 8601); undefined when the log was already deleted. */
    readonly expiredAt: string | undefined,
  ) {
    super(
      'ERR_LOG_EXPIRED',
      expiredAt === undefined
        ? `pod ${pod}: its log expired (retention) and was deleted while it was read`
        : `pod ${pod}: its log expired (retention) at ${expiredAt} and is being deleted`,
    );
  }
}

/** After a re-plan the reader could not find its place again: the log changed before it. */
export class LogChangedError extends LogReaderError {
  constructor(readonly pod: string) {
    super(
      'ERR_LOG_CHANGED',
      `pod ${pod}: the log changed before the reader's place while it read (objects were replaced under a slow read); read it again`,
    );
  }
}

/**
 * A listing page said it was truncated but gave no continuation token: the rest of the
 * listing cannot be fetched, and ending there would hide objects (a store's bug).
 */
export class TruncatedListingError extends LogReaderError {
  constructor(
    readonly bucket: string,
    readonly prefix: string,
  ) {
    super(
      'ERR_TRUNCATED_LISTING',
      `listing s3://${bucket}/${prefix} is truncated but the store gave no continuation token; refusing to go on with part of it`,
    );
  }
}

/** The read's `signal` aborted it. Named `AbortError`, as Node's own aborted operations are. */
export class ReadAbortedError extends LogReaderError {
  override readonly name = 'AbortError';

  constructor(
    readonly pod: string,
    options?: { cause?: unknown },
  ) {
    super('ABORT_ERR', `pod ${pod}: the read was aborted`, options);
  }
}

/** The Kubernetes API could not tell about the pod or serve its live log (no credential in the message). */
export class LiveLogError extends LogReaderError {
  constructor(
    readonly namespace: string,
    readonly pod: string,
    detail: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super('ERR_KUBE_API', `pod ${namespace}/${pod}: Kubernetes API: ${detail}`, options);
  }
}

/** A followed pod stayed pending, or its container did not come back, for longer than `waitTimeout`. */
export class LiveLogTimeoutError extends LogReaderError {
  constructor(
    readonly namespace: string,
    readonly pod: string,
    waitedMs: number,
    what: string,
  ) {
    super('ERR_WAIT_TIMEOUT', `pod ${namespace}/${pod}: ${what} for ${Math.round(waitedMs / 1000)} s; gave up waiting`);
  }
}

/**
 * A response body whose connection broke after its headers: reset, closed before its end
 * (an S3 body the SDK does not retry, or a Kubernetes log stream).
 */
export function isBrokenBody(error: unknown): boolean {
  const e = error as { code?: unknown; message?: unknown } | null;
  return (
    error instanceof BodyCutShortError ||
    e?.code === 'ECONNRESET' ||
    e?.code === 'ERR_STREAM_PREMATURE_CLOSE' ||
    (typeof e?.message === 'string' && /(^|: )aborted$/.test(e.message))
  );
}

import { leaseKey, metadataKey } from '@platform/log-reader/layout';

/** Errors of the compactor, each with a stable `code`; the CLI maps them to exit codes in one place. */
export class CompactorError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Bad flags or configuration: exit 2, one line, no stack trace. */
export class UsageError extends CompactorError {
  constructor(message: string) {
    super('ERR_USAGE', message);
  }
}

/** The store cannot be used at all (unreachable endpoint, missing bucket, bad credentials): exit 2. */
export class SetupError extends CompactorError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_SETUP', message, options);
  }
}

/** Another writer changed the pod's metadata since this pass read it: this pass does not commit over it. */
export class ConcurrentUpdateError extends CompactorError {
  constructor(
    readonly pod: string,
    readonly key: string,
  ) {
    super(
      'ERR_CONCURRENT_UPDATE',
      `pod ${pod}: ${key} was changed by another writer during this pass; nothing committed, the next pass retries`,
    );
  }
}

/** Another compactor holds the pod: this one leaves it alone. */
export class LeaseHeldError extends CompactorError {
  constructor(
    readonly pod: string,
    readonly holder: string,
    readonly expiresAt: string,
  ) {
    super('ERR_LEASE_HELD', `pod ${pod} is being processed by ${holder} (lease until ${expiresAt})`);
  }
}

/** This compactor's lease was taken over (it stalled past it): it must not write for the pod. */
export class LeaseLostError extends CompactorError {
  constructor(readonly pod: string) {
    super(
      'ERR_LEASE_LOST',
      `pod ${pod}: lease ${leaseKey(pod)} was taken over by another compactor; nothing more written for the pod`,
    );
  }
}

/**
 * The metadata lists a merged file of this layout that is not under `data/{pod}/` any more
 * (someone deleted it by hand). Its records may now exist only in the raw files it was
 * merged from, so nothing of the pod is deleted until a person restores the file or takes
 * its entry out of the metadata.
 */
export class MergedFileMissingError extends CompactorError {
  constructor(
    readonly pod: string,
    readonly key: string,
  ) {
    super(
      'ERR_MERGED_FILE_MISSING',
      `pod ${pod}: ${metadataKey(pod)} lists ${key}, which is not in the bucket (deleted by hand?); ` +
        'nothing of the pod is merged or deleted until it is restored or its entry removed from the metadata',
    );
  }
}

/**
 * A merged file's key already holds an object another writer put there (a compactor that
 * took the pod over while this one stalled): merged files are written with `If-None-Match: *`
 * and never replace an object, so this pass leaves the pod alone.
 */
export class MergedKeyTakenError extends CompactorError {
  constructor(readonly key: string) {
    super(
      'ERR_MERGED_KEY_TAKEN',
      `merged file ${key} was written by another compactor meanwhile; nothing committed, the next pass retries`,
    );
  }
}

/**
 * The Kubernetes API could not say whether a pod's container has ended (403, 5xx,
 * unreachable, timeout): the pod fails for this pass instead of guessing. The message names
 * the pod and the HTTP status, never a credential.
 */
export class KubeApiError extends CompactorError {
  constructor(
    readonly namespace: string,
    readonly pod: string,
    readonly problem: string,
    readonly status: number | undefined,
    options?: { cause?: unknown },
  ) {
    super(
      'ERR_KUBE_API',
      `pod ${pod}: Kubernetes API GET /api/v1/namespaces/${namespace}/pods/${pod} failed: ${problem}`,
      options,
    );
  }
}

/**
 * A raw file that holds pieces of a line left unfinished (metadata `unfinished_lines`) is not
 * in the bucket: the line cannot be completed, so nothing of the pod is merged or deleted
 * until someone restores the file or ends the line by hand.
 */
export class UnfinishedPiecesMissingError extends CompactorError {
  constructor(
    readonly pod: string,
    readonly key: string,
  ) {
    super(
      'ERR_UNFINISHED_PIECES_MISSING',
      `pod ${pod}: ${key} holds pieces of an unfinished line but is not in the bucket; nothing merged or deleted`,
    );
  }
}

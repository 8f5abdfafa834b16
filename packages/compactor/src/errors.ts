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
  constructor(readonly pod: string, readonly key: string) {
    super('ERR_CONCURRENT_UPDATE', `pod ${pod}: ${key} was changed by another writer during this pass; nothing committed, the next pass retries`);
  }
}

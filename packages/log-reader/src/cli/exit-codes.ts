/** The exit codes of `log-reader`, and the error that ends a run with exit 2. */

export const EXIT_OK = 0;
export const EXIT_UNREADABLE = 1;
export const EXIT_USAGE = 2;
/** The pod's log expired (the compactor's retention): marked for deletion, or deleted during the read. */
export const EXIT_EXPIRED = 3;
/** 128 + the signal's number, as a shell reports a process the signal ended. */
export const EXIT_SIGINT = 130;
export const EXIT_SIGTERM = 143;

/** A flag or environment value that cannot be used: one line on stderr, exit 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

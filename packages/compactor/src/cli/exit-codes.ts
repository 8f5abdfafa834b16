// The compactor CLI's exit codes, for main.ts and the pass (run.ts) alike.
import { SetupError, UsageError } from '../errors.js';

export const EXIT_OK = 0;
export const EXIT_POD_FAILED = 1;
export const EXIT_USAGE = 2;

/** The one mapping of errors to exit codes: 2 for usage and set-up, 1 for anything else. */
export function exitCodeFor(error: unknown): number {
  return error instanceof UsageError || error instanceof SetupError ? EXIT_USAGE : EXIT_POD_FAILED;
}

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

/**
 * Commander's own message (`error: unknown option '--x'` and maybe a second line of advice) as
 * one line in the style of the CLI's other errors, with where to look:
 * `log-reader: unknown option '--x'; see log-reader logs --help`.
 */
export function commanderLine(
  program: string,
  message: string,
  argv: readonly string[],
  commands: readonly string[],
): string {
  const words = message
    .replace(/^error:\s*/i, '')
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .join(' ');
  const command = argv.find((arg) => !arg.startsWith('-'));
  const help =
    command !== undefined && commands.includes(command) ? `${program} ${command} --help` : `${program} --help`;
  return `${program}: ${words}; see ${help}\n`;
}

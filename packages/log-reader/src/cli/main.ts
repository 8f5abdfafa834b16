/**
 * `log-reader logs POD` (alias `cat`): a pod's log on stdout, with the flags of `kubectl
 * logs` (`-f`, `--since`, `--since-time`, `--tail`, `--timestamps`, `--limit-bytes`, `-n`,
 * `--kubeconfig`, `--context`). Thin: parse, read, map errors to exit codes (0 done, 1 the
 * log cannot be read, 2 bad usage or set-up, 130/143 interrupted by SIGINT/SIGTERM). Every S3
 * flag has an environment twin; bad values end the run with one line on stderr.
 *
 * Here: the program and the errors of parsing. The command and its flags: logs-command.ts
 * (values: flag-values.ts); the read and its exit code: logs.ts.
 */
import { Command, CommanderError } from 'commander';
import { commanderLine, EXIT_OK, EXIT_USAGE, UsageError } from './exit-codes.js';
import { ignoreClosedPipe, type CliOptions, type Io } from './io.js';
import { addLogsCommand } from './logs-command.js';

// The boolean environment twins' parser, for the compactor's CLI too (one owner).
export { BOOLEAN_WORDS, checkBooleanEnv, parseBoolean } from './boolean-env.js';
// Shared with the compactor's CLI: one style for Commander's own errors in both.
export { commanderLine } from './exit-codes.js';
// What the compactor's flags and config need before a request, without the AWS SDK's code.
export { POD_NAME_FORMAT } from '../errors.js';
export { resolveEndpoint } from '../s3/client-defaults.js';
export { bucketNameProblem } from '../s3/setup-problem.js';

export async function main(
  argv: readonly string[],
  io: Io = { stdout: process.stdout, stderr: process.stderr },
  options: CliOptions = {},
): Promise<number> {
  const stopIgnoring = [io.stdout, io.stderr].map(ignoreClosedPipe);
  const program = new Command('log-reader')
    .description("Read one job's whole log from the bucket: merged and not-yet-merged files as one")
    .version(options.version ?? 'unknown', '--version', 'print the version and exit')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => void io.stdout.write(s),
      writeErr: (s) => void io.stderr.write(s),
      // Kept for one line in the style of every other error (below).
      outputError: (s) => void (parseError += s),
    });
  let parseError = '';
  let exitCode = EXIT_OK;
  addLogsCommand(program, async (pod, flags) => {
    // Loaded only for a read: it brings the AWS SDK, which `--help`, `--version` and usage
    // errors do without (start-up time).
    const { logs } = await import('./logs.js');
    exitCode = await logs(pod, flags, io, options);
  });
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and --version went out through writeOut/writeErr already; a parse error did not.
      if (parseError !== '') io.stderr.write(commanderLine('log-reader', parseError, argv, ['logs', 'cat']));
      return error.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    }
    if (error instanceof UsageError) {
      io.stderr.write(`log-reader: ${error.message}\n`);
      return EXIT_USAGE;
    }
    throw error;
  } finally {
    // A failed write reports its error a tick later: let it arrive while the listener is on.
    await new Promise((done) => setImmediate(done));
    for (const stop of stopIgnoring) stop();
  }
}

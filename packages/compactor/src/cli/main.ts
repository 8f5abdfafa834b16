/**
 * `compactor run`: commands and flags → Config → one pass. Thin: every flag also comes from
 * an environment variable (run-flags.ts), errors map to exit codes in one place
 * ({@link exitCodeFor}), and users never see a stack trace.
 */
import { Command, CommanderError } from 'commander';
import { commanderLine } from '@platform/log-reader/cli';
import { EXIT_OK, EXIT_USAGE, exitCodeFor } from './exit-codes.js';
import { addInspectCommand } from './inspect.js';
import { ignoreClosedPipe, type Io } from './io.js';
import { addRunFlags, toConfig, type RunFlags } from './run-flags.js';

export interface CliOptions {
  /** What `--version` prints (bin.ts reads it from package.json). */
  readonly version?: string;
}

export { EXIT_OK, EXIT_POD_FAILED, EXIT_USAGE, exitCodeFor } from './exit-codes.js';

export async function main(
  argv: readonly string[],
  io: Io = { stdout: process.stdout, stderr: process.stderr },
  options: CliOptions = {},
): Promise<number> {
  const stopIgnoring = [io.stdout, io.stderr].map(ignoreClosedPipe);
  let exitCode = EXIT_OK;
  const program = new Command('compactor')
    .description(
      'Merge the tiny log objects Fluent Bit uploads into large gzip files, then delete them once no reader can need them',
    )
    .version(options.version ?? 'unknown', '--version', 'print the version and exit')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => void io.stdout.write(s),
      writeErr: (s) => void io.stderr.write(s),
      // Kept for one line in the style of every other error (below).
      outputError: (s) => void (parseError += s),
    });
  let parseError = '';
  // command() rather than addCommand(): `run` inherits exitOverride and the output settings.
  addRunFlags(program.command('run')).action(async (flags: RunFlags) => {
    const config = toConfig(flags);
    // Loaded only for a pass: the SDK, the logger and the metrics client it brings cost
    // `--help`, `--version` and usage errors most of their start-up time.
    const { run } = await import('./run.js');
    exitCode = await run(config, flags.logLevel, io);
  });
  addInspectCommand(program, io);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and --version went out through writeOut/writeErr already; a parse error did not.
      if (parseError !== '') io.stderr.write(commanderLine('compactor', parseError, argv, ['run', 'inspect']));
      return error.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    }
    io.stderr.write(`compactor: ${error instanceof Error ? error.message : String(error)}\n`);
    return exitCodeFor(error);
  } finally {
    // A failed write reports its error a tick later: let it arrive while the listener is on.
    await new Promise((done) => setImmediate(done));
    for (const stop of stopIgnoring) stop();
  }
}

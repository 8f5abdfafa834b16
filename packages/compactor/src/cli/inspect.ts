/**
 * `compactor inspect POD [--json]`: the command around inspect/. Its S3, namespace and
 * interval flags are the `run` command's own options (same parsers, defaults and COMPACTOR_*
 * environment twins), so an inspection judges due times with what the CronJob runs with.
 *
 * Exit: 0 the pod has objects in the bucket; 1 it has none ("no objects for pod X in bucket B";
 * with --json the empty inspection is still printed) or reading failed; 2 bad usage or set-up.
 */
import { Option, type Command } from 'commander';
import type { InspectFlags } from './inspect-run.js';
import type { Io } from './io.js';

/** The `run` options `inspect` takes as they are. */
const SHARED_FLAGS = [
  '--bucket',
  '--endpoint',
  '--region',
  '--namespace',
  '--cleanup-interval',
  '--compact-interval',
  '--quiet-after',
  '--s3-max-attempts',
  '--s3-request-timeout',
  '--s3-connect-timeout',
] as const;

/** Adds `inspect` to `program`, whose `run` command must already be defined (its options are shared). */
export function addInspectCommand(program: Command, io: Io): Command {
  const run = program.commands.find((c) => c.name() === 'run');
  const command = program
    .command('inspect')
    .description(
      'what the bucket holds for one pod and what a pass would do with it: metadata, merged and unmerged files, unfinished lines, pending deletions and when they are due, cleanup queue, lease (read-only)',
    )
    .argument('<pod>', 'pod name (the job container is named like the pod)');
  for (const flag of SHARED_FLAGS) {
    const option = run?.options.find((o) => o.long === flag);
    if (option === undefined) throw new Error(`compactor inspect: the run command has no ${flag} option to share`);
    command.addOption(option);
  }
  return command
    .addOption(new Option('--json', 'print the inspection as one JSON object (field names are stable)'))
    .addHelpText(
      'after',
      '\nRead-only: GET, HEAD and LIST requests only. Due times and the next pass are judged with\n' +
        "--cleanup-interval, --compact-interval and --quiet-after (defaults and COMPACTOR_* as for run): give the CronJob's.\n" +
        'Exit: 0 the pod has objects in the bucket, 1 it has none (or reading failed), 2 bad usage or set-up.',
    )
    .action(async (pod: string, flags: InspectFlags) => {
      // Loaded only when it runs: it brings the AWS SDK, which `--help` does without.
      const { inspect } = await import('./inspect-run.js');
      await inspect(pod, flags, io);
    });
}

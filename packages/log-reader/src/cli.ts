/** `log-reader cat POD`: a pod's whole log on stdout. Thin: parse, read, map errors to exit codes. */
import { pipeline } from 'node:stream/promises';
import { Command, CommanderError, Option } from 'commander';
import { LogReaderError } from './errors.js';
import { LogReader } from './reader.js';
import { createS3Client, describeSetupProblem, resolveEndpoint } from './s3-client.js';
import { toEpochNs } from './time.js';

interface CatOptions {
  bucket: string;
  endpoint?: string;
  region?: string;
  since?: string;
  timestamps: boolean;
}

export async function main(argv: readonly string[], out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<number> {
  const program = new Command('log-reader')
    .description("Read one job's whole log from the bucket: merged and not-yet-merged files as one")
    .exitOverride()
    .configureOutput({ writeOut: (s) => void out.write(s), writeErr: (s) => void err.write(s) });
  let exitCode = 0;
  program
    .command('cat')
    .description("write the pod's log to stdout, one line per record")
    .argument('<pod>', 'pod name (the job container is named like the pod)')
    .addOption(new Option('--bucket <name>', 'S3 bucket').env('LOG_READER_BUCKET').makeOptionMandatory())
    .addOption(new Option('--endpoint <url>', 'custom S3 endpoint (implies path-style); also AWS_ENDPOINT_URL_S3'))
    .addOption(new Option('--region <region>', 'S3 region; also AWS_REGION'))
    .addOption(new Option('--since <time>', 'only records at or after this RFC 3339 time (nanosecond precision)'))
    .addOption(new Option('--timestamps', 'prefix each line with its time').default(false))
    .action(async (pod: string, options: CatOptions) => {
      exitCode = await cat(pod, options, out, err);
    });
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    throw error;
  }
}

async function cat(pod: string, options: CatOptions, out: NodeJS.WritableStream, err: NodeJS.WritableStream): Promise<number> {
  try {
    if (options.since !== undefined) toEpochNs(options.since);
  } catch (error) {
    err.write(`log-reader: --since: ${(error as Error).message}\n`);
    return 2;
  }
  const endpoint = resolveEndpoint(options.endpoint);
  const client = createS3Client({ endpoint, region: options.region });
  const reader = new LogReader({ client, bucket: options.bucket });
  try {
    await pipeline(reader.createReadStream(pod, { since: options.since, timestamps: options.timestamps }), out);
    return 0;
  } catch (error) {
    if ((error as { code?: unknown }).code === 'EPIPE') return 0; // the consumer (e.g. `head`) had enough
    const setup = describeSetupProblem(error, { endpoint, bucket: options.bucket });
    if (setup) {
      err.write(`log-reader: ${setup.message}\n`);
      return 2;
    }
    if (error instanceof LogReaderError) {
      err.write(`log-reader: ${error.message}\n`);
      return error.code === 'ERR_INVALID_POD_NAME' ? 2 : 1;
    }
    err.write(`log-reader: reading pod ${pod} failed: ${(error as Error).message ?? String(error)}\n`);
    return 1;
  } finally {
    client.destroy();
  }
}

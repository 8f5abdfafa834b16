/**
 * The `logs` command (alias `cat`) and its flags, in the order --help lists them: the bucket,
 * the read (kubectl logs' flags), the cluster for -f, the S3 client's settings.
 */
import { Option, type Command } from 'commander';
import { S3_CLIENT_DEFAULTS } from '../s3/client-defaults.js';
import { checkBooleanEnv } from './boolean-env.js';
import { UsageError } from './exit-codes.js';
import {
  parseAttempts,
  parseDuration,
  parseLimitBytes,
  parseSince,
  parseSinceTime,
  parseTail,
  type Since,
} from './flag-values.js';

/** The parsed flags of `logs`: durations in ms. */
export interface LogsOptions {
  bucket: string;
  endpoint?: string;
  region?: string;
  follow: boolean;
  since?: Since;
  sinceTime?: string;
  tail?: number;
  timestamps: boolean;
  limitBytes?: number;
  strict: boolean;
  namespace?: string;
  kubeconfig?: string;
  context?: string;
  s3MaxAttempts?: number;
  s3RequestTimeout?: number;
  s3ConnectTimeout?: number;
}

/** Adds `logs POD` to `program`, to run `action` with the pod and its parsed flags. */
export function addLogsCommand(program: Command, action: (pod: string, flags: LogsOptions) => Promise<void>): Command {
  const command = program
    .command('logs')
    .alias('cat')
    .description("write the pod's log to stdout, one line per record, like `kubectl logs` (`cat` is the earlier name)")
    .argument('<pod>', 'pod name (the job container is named like the pod)');
  for (const option of [...bucketOptions(), ...readOptions(), ...clusterOptions(), ...s3ClientOptions()])
    command.addOption(option);
  // LOG_READER_STRICT=false must mean false: commander alone would read any value as true.
  return checkBooleanEnv(command, (message) => new UsageError(message)).action(action);
}

/** The bucket and how to reach it. */
function bucketOptions(): Option[] {
  return [
    new Option('--bucket <name>', 'S3 bucket').env('LOG_READER_BUCKET').makeOptionMandatory(),
    new Option('--endpoint <url>', 'custom S3 endpoint (implies path-style); also AWS_ENDPOINT_URL_S3'),
    new Option('--region <region>', 'S3 region; also AWS_REGION'),
  ];
}

/** What to read and how to write it, with kubectl logs' flags. */
function readOptions(): Option[] {
  return [
    new Option(
      '-f, --follow',
      "after the archive, follow the pod's live log through the Kubernetes API (through container restarts) until the pod ends; Ctrl-C stops (kubectl logs -f)",
    ).default(false),
    new Option(
      '--since <duration>',
      'only records of the last DURATION, e.g. 1h, 30m, 90s (kubectl logs --since); an RFC 3339 time is also taken, as in earlier releases',
    ).argParser((text) => parseSince(text)),
    new Option(
      '--since-time <time>',
      'only records at or after this RFC 3339 time, nanoseconds kept (kubectl logs --since-time)',
    ).argParser((text) => parseSinceTime(text)),
    new Option('--tail <n>', 'only the last N records; -1 (the default) for all (kubectl logs --tail)').argParser(
      (text) => parseTail(text),
    ),
    new Option('--timestamps', 'prefix each line with its time (kubectl logs --timestamps)').default(false),
    new Option('--limit-bytes <n>', 'stop after writing N bytes of log (kubectl logs --limit-bytes)').argParser(
      (text) => parseLimitBytes(text),
    ),
    new Option(
      '--strict',
      'fail (exit 1) at an object that cannot be decoded, instead of printing the rest of the log around it with a warning',
    )
      .env('LOG_READER_STRICT')
      .default(false),
  ];
}

/** With -f: where the pod's live log is, as kubectl finds it. */
function clusterOptions(): Option[] {
  return [
    new Option(
      '-n, --namespace <namespace>',
      "with -f: the pod's namespace; default the kubeconfig context's, else `default` (kubectl -n)",
    ),
    new Option(
      '--kubeconfig <path>',
      'with -f: the kubeconfig file; default KUBECONFIG, ~/.kube/config, else the service account in a pod (kubectl --kubeconfig)',
    ),
    new Option(
      '--context <name>',
      'with -f: the kubeconfig context to use instead of its current one (kubectl --context)',
    ),
  ];
}

/** The S3 client's retries and timeouts, each with an environment twin; not given: the client's defaults. */
function s3ClientOptions(): Option[] {
  return [
    new Option(
      '--s3-max-attempts <n>',
      `attempts per S3 request, the first included (default ${S3_CLIENT_DEFAULTS.maxAttempts})`,
    )
      .env('LOG_READER_S3_MAX_ATTEMPTS')
      .argParser((text) => parseAttempts(text, '--s3-max-attempts (LOG_READER_S3_MAX_ATTEMPTS)')),
    new Option(
      '--s3-request-timeout <duration>',
      `time an S3 request attempt may take until its answer starts, e.g. 30s (default ${S3_CLIENT_DEFAULTS.requestTimeoutMs / 1000}s)`,
    )
      .env('LOG_READER_S3_REQUEST_TIMEOUT')
      .argParser((text) => parseDuration(text, '--s3-request-timeout (LOG_READER_S3_REQUEST_TIMEOUT)')),
    new Option(
      '--s3-connect-timeout <duration>',
      `time opening a connection may take, e.g. 500ms (default ${S3_CLIENT_DEFAULTS.connectionTimeoutMs / 1000}s)`,
    )
      .env('LOG_READER_S3_CONNECT_TIMEOUT')
      .argParser((text) => parseDuration(text, '--s3-connect-timeout (LOG_READER_S3_CONNECT_TIMEOUT)')),
  ];
}

/**
 * `compactor inspect POD`'s read: the S3 client, the inspection and how it prints. Imported
 * by inspect.ts only when the command runs (start-up time).
 */
import { createS3Client, LogReaderError, POD_NAME_FORMAT } from '@platform/log-reader';
import { describeSetupProblem, resolveEndpoint } from '@platform/log-reader/s3';
import { isValidPodName } from '@platform/log-reader/layout';
import { defaultConfig, validate, type Config } from '../config/config.js';
import { CompactorError, SetupError, UsageError } from '../errors.js';
import { inspectPod } from '../inspect/collect.js';
import { formatInspection } from '../inspect/format.js';
import type { PodInspection } from '../inspect/inspection.js';
import type { Io } from './io.js';

export interface InspectFlags {
  bucket?: string;
  endpoint?: string;
  region?: string;
  namespace?: string;
  cleanupInterval: number;
  compactInterval: number;
  quietAfter: number;
  s3MaxAttempts?: number;
  s3RequestTimeout?: number;
  s3ConnectTimeout?: number;
  json?: boolean;
}

export async function inspect(pod: string, flags: InspectFlags, io: Io): Promise<void> {
  if (!isValidPodName(pod))
    throw new UsageError(`invalid pod name ${JSON.stringify(pod)}: expected ${POD_NAME_FORMAT}`);
  const config: Config = validate({
    ...defaultConfig(flags.bucket ?? ''),
    endpoint: resolveEndpoint(flags.endpoint),
    region: flags.region,
    namespace: flags.namespace,
    cleanupIntervalMs: flags.cleanupInterval,
    compactIntervalMs: flags.compactInterval,
    quietAfterMs: flags.quietAfter,
    s3MaxAttempts: flags.s3MaxAttempts,
    s3RequestTimeoutMs: flags.s3RequestTimeout,
    s3ConnectTimeoutMs: flags.s3ConnectTimeout,
  });
  const client = createS3Client({
    endpoint: config.endpoint,
    region: config.region,
    maxAttempts: config.s3MaxAttempts,
    requestTimeoutMs: config.s3RequestTimeoutMs,
    connectionTimeoutMs: config.s3ConnectTimeoutMs,
  });
  let inspection: PodInspection;
  try {
    inspection = await inspectPod({ client, bucket: config.bucket }, pod, {
      now: new Date(),
      cleanupIntervalMs: config.cleanupIntervalMs,
      compactIntervalMs: config.compactIntervalMs,
      quietAfterMs: config.quietAfterMs,
      namespace: config.namespace,
    });
  } catch (error) {
    const problem = describeSetupProblem(error, { endpoint: config.endpoint, bucket: config.bucket });
    if (problem !== undefined) throw new SetupError(problem.message, { cause: error });
    // Our own errors (a metadata document that is not one, a truncated listing) name the key already.
    const message =
      error instanceof LogReaderError
        ? error.message
        : `inspecting pod ${pod} failed: ${error instanceof Error ? error.message : String(error)}`;
    throw new CompactorError('ERR_INSPECT', message, { cause: error });
  } finally {
    client.destroy();
  }
  if (flags.json === true) io.stdout.write(`${JSON.stringify(inspection, null, 2)}\n`);
  else if (inspection.found) io.stdout.write(formatInspection(inspection));
  if (!inspection.found)
    throw new CompactorError('ERR_POD_NOT_FOUND', `no objects for pod ${pod} in bucket ${config.bucket}`);
}

/**
 * What a pass checks of the store before it touches a pod: the bucket answers, and it enforces
 * conditional writes (If-None-Match), on PUT and on multipart completion. A set-up problem
 * ends the pass with exit 2.
 */
import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  HeadBucketCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { CONDITIONAL_DELETE_CHECK_KEY, CONDITIONAL_WRITE_CHECK_KEY } from '@platform/log-reader/layout';
import { describeSetupProblem, isNotFound, isPreconditionFailure, type Bucket } from '@platform/log-reader/s3';
import type { Config } from '../config/config.js';
import { SetupError } from '../errors.js';
import type { Logger } from '../logger.js';

export async function checkBucket(store: Bucket, config: Config): Promise<void> {
  const where = { endpoint: config.endpoint, bucket: config.bucket };
  try {
    await store.client.send(new HeadBucketCommand({ Bucket: store.bucket }));
  } catch (error) {
    const problem = describeSetupProblem(error, where);
    const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (problem) throw new SetupError(problem.message, { cause: error });
    if (status === 404) {
      // A HEAD's 404 has no body to say why: a missing bucket, or (versitygw) an access key the
      // store does not know. A listing's answer says which; asked only when the HEAD failed.
      const why = await whyNotFound(store);
      const named = why === undefined ? undefined : describeSetupProblem(why, where);
      if (named !== undefined) throw new SetupError(named.message, { cause: why });
      throw new SetupError(`bucket ${config.bucket} does not exist`, { cause: error });
    }
    if (status === 403) throw new SetupError(`access denied to bucket ${config.bucket}`, { cause: error });
    throw error;
  }
}

/** The error of a one-key listing of the bucket, or `undefined` if it succeeds. */
async function whyNotFound(store: Bucket): Promise<unknown> {
  try {
    await store.client.send(new ListObjectsV2Command({ Bucket: store.bucket, MaxKeys: 1 }));
    return undefined;
  } catch (error) {
    return error;
  }
}

/**
 * "One writer per pod" rests on the store refusing a conditional write that does not hold:
 * a store that ignores `If-None-Match` would let two compactors both commit. Checked on
 * every pass with one small object that stays in place: creating it again must fail.
 */
export async function checkConditionalWrites(store: Bucket, config: Config, logger: Logger): Promise<void> {
  const create = (): PutObjectCommand =>
    new PutObjectCommand({
      Bucket: store.bucket,
      Key: CONDITIONAL_WRITE_CHECK_KEY,
      Body: 'If-None-Match must fail here',
      IfNoneMatch: '*',
    });
  let enforced = false;
  try {
    // The first pass on a bucket creates it; from then on the first request already fails.
    await store.client.send(create());
    await store.client.send(create());
  } catch (error) {
    if (!isPreconditionFailure(error)) throw error;
    enforced = true;
  }
  // Large merged files are completed multipart uploads: their If-None-Match must hold too.
  if (enforced && (await multipartConditionHolds(store))) return;
  const problem = `the S3 store for bucket ${config.bucket} ignores conditional writes (If-None-Match), so two compactors could both write one pod`;
  if (!config.unsafeWithoutConditionalWrites) {
    throw new SetupError(
      `${problem}; use a store that enforces them, or accept the risk with --unsafe-without-conditional-writes`,
    );
  }
  logger.warn(`${problem}; running anyway (--unsafe-without-conditional-writes)`);
}

/** Completing a multipart upload onto the (existing) check object with If-None-Match must fail. */
async function multipartConditionHolds(store: Bucket): Promise<boolean> {
  const target = { Bucket: store.bucket, Key: CONDITIONAL_WRITE_CHECK_KEY };
  const { UploadId } = await store.client.send(new CreateMultipartUploadCommand(target));
  try {
    const part = await store.client.send(
      new UploadPartCommand({ ...target, UploadId, PartNumber: 1, Body: 'If-None-Match must fail here' }),
    );
    await store.client.send(
      new CompleteMultipartUploadCommand({
        ...target,
        UploadId,
        IfNoneMatch: '*',
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
      }),
    );
    return false;
  } catch (error) {
    if (isPreconditionFailure(error)) return true;
    throw error;
  } finally {
    // Completed or not, nothing of it may linger as a billed, unfinished upload.
    await store.client.send(new AbortMultipartUploadCommand({ ...target, UploadId })).catch(() => undefined);
  }
}

/**
 * Whether the store refuses a DELETE whose If-Match does not hold. Only then does the clean phase
 * delete the fence it wrote on a pod without metadata (commit.ts unfence), the expire phase run,
 * and a lease's release delete it: on a store that ignores the header, a compactor that stalled
 * between its check and its delete could remove the commit of the one that took the pod over.
 * Asked on an object of its own (never the conditional-write check's, which a store that ignores
 * the header would delete under another pass's check): one request a pass once it exists. 412
 * says enforced; a delete that went through or 501 (LocalStack) says not; any other error fails
 * the pass rather than decide the store's kind on a transient failure.
 */
export async function conditionalDeletesHold(store: Bucket): Promise<boolean> {
  const target = { Bucket: store.bucket, Key: CONDITIONAL_DELETE_CHECK_KEY };
  const probe = async (): Promise<boolean | undefined> => {
    try {
      await store.client.send(new DeleteObjectCommand({ ...target, IfMatch: NO_SUCH_ETAG }));
      return undefined; // deleted, or nothing there to refuse: ask again on the object
    } catch (error) {
      if (isPreconditionFailure(error)) return true;
      if (isNotFound(error)) return undefined;
      if ((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 501) return false;
      throw error;
    }
  };
  const first = await probe();
  if (first !== undefined) return first;
  // The first pass on a bucket, or a store that ignores the header (and deleted it): the object
  // in place, a refusal now says the store enforces it.
  await store.client.send(new PutObjectCommand({ ...target, Body: 'If-Match must fail here' }));
  return (await probe()) ?? false;
}

/** An ETag no object has. */
const NO_SUCH_ETAG = '"00000000000000000000000000000000"';

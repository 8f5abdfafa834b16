// The IAM policies of k8s/README.md ("Least privilege: one identity per workload"), enforced by
// a real S3 server: a moto server of this file's own with IAM authorisation on (the shared
// test server stays open), one IAM user per workload holding exactly its policy. Fluent Bit's
// identity puts raw files and can do nothing else; the compactor's reads, deletes and writes
// where a pass does, but never writes raw files; the real log-reader reads with the readers'.
// test/k8s-manifests.test.ts checks the same policies offline against the code's S3 commands.
//
// Runs where S3_TEST_SERVER is moto (versitygw has no IAM policies; `make test` runs moto first).
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type S3ServiceException,
} from '@aws-sdk/client-s3';
import { LOG_READER_BIN, runCli } from './support/cli.js';
import { iamPoliciesOf, type IamPolicy, type IamStatement } from './support/k8s-policy.js';

const ROOT = resolve(__dirname, '..');
const README = resolve(ROOT, 'k8s/README.md');
/** The bucket the policies name (the production overlay's). */
const BUCKET = 'acme-job-logs';
const POD = 'job-iam-0b1c';
/** Where the compactor's test writes, away from the pod the reader reads. */
const OTHER = 'job-iam-other';
const CONTAINER_ID = 'c0ffee'.padEnd(64, '0');
const rawKey = (n: number): string =>
  `kube.var.log.containers.${POD}_jobs_${POD}-${CONTAINER_ID}.log/20261125100${n}__${n}.gz`;
const LINES = Array.from({ length: 3 }, (_, f) => Array.from({ length: 4 }, (_, i) => `file ${f + 1} line ${i + 1}`));
const recordsOf = (f: number): string =>
  (LINES[f] as string[])
    .map((log, i) =>
      JSON.stringify({ time: `2026-11-25T10:0${f + 1}:0${i}.000000001Z`, stream: 'stdout', logtag: 'F', log }),
    )
    .join('\n') + '\n';

/**
 * moto's authorisation model where it differs from AWS's, applied to a policy without widening
 * it on AWS: moto names HeadBucket's permission `s3:HeadBucket` (AWS: `s3:ListBucket`), and
 * checks DeleteObjects against the bucket's ARN (AWS: each key's, as moto itself does for
 * DeleteObject, which keeps every single delete checked per key here).
 */
function onMoto(policy: IamPolicy): IamPolicy {
  const allows = (action: string): boolean =>
    policy.Statement.some((s) => s.Effect === 'Allow' && [s.Action].flat().includes(action));
  const extra: IamStatement[] = [];
  if (allows('s3:ListBucket'))
    extra.push({ Effect: 'Allow', Action: ['s3:HeadBucket'], Resource: [`arn:aws:s3:::${BUCKET}`] });
  if (allows('s3:DeleteObject'))
    extra.push({ Effect: 'Allow', Action: ['s3:DeleteObject'], Resource: [`arn:aws:s3:::${BUCKET}`] });
  return { ...policy, Statement: [...policy.Statement, ...extra] };
}

interface Keys {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

const runs = process.env['S3_TEST_SERVER'] === 'moto';
const describeOnMoto = runs ? describe : describe.skip;
if (!runs) process.stderr.write('test/iam-policies.test.ts: skipped (needs moto: S3_TEST_SERVER=moto)\n');

describeOnMoto('the IAM policies of k8s/README.md, enforced by moto', () => {
  // Its log stays beside it after the run (.tmp/ is gitignored), to read against a failure.
  const state = resolve(ROOT, '.tmp', 'iam-policies-moto.json');
  let endpoint = '';
  const keys = new Map<string, Keys>();
  const client = (role: string): S3Client =>
    new S3Client({ endpoint, forcePathStyle: true, region: 'us-east-1', credentials: keys.get(role), maxAttempts: 1 });
  const cliEnv = (role: string): Record<string, string> => ({
    AWS_ACCESS_KEY_ID: keys.get(role)?.accessKeyId ?? '',
    AWS_SECRET_ACCESS_KEY: keys.get(role)?.secretAccessKey ?? '',
    AWS_REGION: 'us-east-1',
    AWS_ENDPOINT_URL_S3: endpoint,
  });
  /** The HTTP status of what `send` does: 200 when it succeeds. */
  const status = async (send: () => Promise<unknown>): Promise<number | undefined> => {
    try {
      await send();
      return 200;
    } catch (error) {
      return (error as S3ServiceException).$metadata?.httpStatusCode;
    }
  };

  beforeAll(async () => {
    const started = spawnSync(process.execPath, ['scripts/s3-server.mjs', 'start', 'moto', '--state', state], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    if (started.status !== 0) throw new Error(`moto did not start: ${started.stderr}`);
    endpoint = (JSON.parse(readFileSync(state, 'utf8')) as { endpoint: string }).endpoint;

    // Set-up before authorisation is on: the bucket, then a user per role with its policy.
    const policies = iamPoliciesOf(README);
    const admin = {
      Version: '2012-10-17',
      Id: 'admin',
      Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }],
    };
    for (const [role, policy] of [...policies.entries(), ['admin', admin] as const]) {
      await iam({ Action: 'CreateUser', UserName: role });
      const document = role === 'admin' ? policy : onMoto(policy as IamPolicy);
      await iam({
        Action: 'PutUserPolicy',
        UserName: role,
        PolicyName: role,
        PolicyDocument: JSON.stringify(document),
      });
      const answer = await iam({ Action: 'CreateAccessKey', UserName: role });
      keys.set(role, {
        accessKeyId: /<AccessKeyId>([^<]+)</.exec(answer)?.[1] ?? '',
        secretAccessKey: /<SecretAccessKey>([^<]+)</.exec(answer)?.[1] ?? '',
      });
    }
    await client('admin').send(new CreateBucketCommand({ Bucket: BUCKET }));
    // From here on every request must be signed by one of these users and allowed by its policy.
    const reset = await fetch(`${endpoint}/moto-api/reset-auth`, { method: 'POST', body: '0' });
    if (!reset.ok) throw new Error(`moto-api/reset-auth: HTTP ${reset.status}`);
    expect(await status(() => client('admin').send(new ListObjectsV2Command({ Bucket: BUCKET })))).toBe(200);
  }, 120_000);

  afterAll(() => {
    spawnSync(process.execPath, ['scripts/s3-server.mjs', 'stop', '--state', state], { cwd: ROOT });
    rmSync(state, { force: true });
  });

  /** An IAM Query API call, unsigned but for the service name moto routes by (authorisation is still off). */
  async function iam(params: Record<string, string>): Promise<string> {
    const response = await fetch(`${endpoint}/`, {
      method: 'POST',
      body: new URLSearchParams({ Version: '2010-05-08', ...params }).toString(),
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization:
          'AWS4-HMAC-SHA256 Credential=AKIDSETUP/20261125/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0',
      },
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`IAM ${params['Action']}: HTTP ${response.status}: ${text}`);
    return text;
  }

  it("lets Fluent Bit's identity put raw files, and nothing else: no delete, no read, no list, no other prefix", async () => {
    const fluentBit = client('job-logs-fluent-bit');
    for (let f = 0; f < LINES.length; f++)
      expect(
        await status(() =>
          fluentBit.send(new PutObjectCommand({ Bucket: BUCKET, Key: rawKey(f), Body: recordsOf(f) })),
        ),
      ).toBe(200);
    const denied = {
      'DeleteObject raw': () => fluentBit.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: rawKey(0) })),
      'DeleteObjects raw': async () => {
        const out = await fluentBit.send(
          new DeleteObjectsCommand({ Bucket: BUCKET, Delete: { Objects: [{ Key: rawKey(0) }] } }),
        );
        if ((out.Errors ?? []).length > 0)
          throw Object.assign(new Error('denied'), { $metadata: { httpStatusCode: 403 } });
      },
      'GetObject raw': () => fluentBit.send(new GetObjectCommand({ Bucket: BUCKET, Key: rawKey(0) })),
      ListObjectsV2: () => fluentBit.send(new ListObjectsV2Command({ Bucket: BUCKET })),
      'PutObject metadata': () =>
        fluentBit.send(new PutObjectCommand({ Bucket: BUCKET, Key: `metadata/${POD}.json`, Body: '{}' })),
      'PutObject data': () =>
        fluentBit.send(new PutObjectCommand({ Bucket: BUCKET, Key: `data/${POD}/x.gz`, Body: '' })),
    };
    for (const [what, send] of Object.entries(denied))
      expect({ what, status: await status(send) }).toEqual({ what, status: 403 });
    // Everything it put is still there.
    const listed = await client('admin').send(new ListObjectsV2Command({ Bucket: BUCKET }));
    expect((listed.Contents ?? []).map((o) => o.Key)).toEqual([0, 1, 2].map(rawKey));
  });

  // Not the compactor CLI itself: once IAM is on, moto rejects the signature of every listing
  // whose query has a `/` (SignatureDoesNotMatch; the compactor lists `metadata/`, `cleanup/`,
  // `data/`). Its identity is tried here with the other requests of a pass; the offline test
  // checks its policy against every S3 command of its code.
  it("lets the compactor's identity read and delete raw files and write its own prefixes, but not write raw files", async () => {
    const compactor = client('job-logs-compactor');
    // A raw file of its own to delete (the reader's test below reads the others).
    await client('admin').send(new PutObjectCommand({ Bucket: BUCKET, Key: rawKey(7), Body: recordsOf(0) }));
    const put = (key: string) => () => compactor.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: '{}' }));
    const tried = {
      'ListObjectsV2 raw': () => compactor.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'kube.var.log.' })),
      'GetObject raw': () => compactor.send(new GetObjectCommand({ Bucket: BUCKET, Key: rawKey(7) })),
      'PutObject data': put(`data/${OTHER}/${CONTAINER_ID}/202611251100_1.gz`),
      'PutObject metadata': put(`metadata/${OTHER}.json`),
      'PutObject cleanup': put(`cleanup/${OTHER}`),
      'PutObject leases': put(`leases/${OTHER}`),
      'DeleteObject raw': () => compactor.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: rawKey(7) })),
      'DeleteObject leases': () => compactor.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: `leases/${OTHER}` })),
      'PutObject raw': put(rawKey(9)),
      'PutObject elsewhere': put('other/x'),
    };
    const statuses: Record<string, number | undefined> = {};
    for (const [what, send] of Object.entries(tried)) statuses[what] = await status(send);
    expect(statuses).toEqual({
      ...Object.fromEntries(Object.keys(tried).map((what) => [what, 200])),
      'PutObject raw': 403,
      'PutObject elsewhere': 403,
    });
  });

  it("reads a job's log with the readers' identity, which can neither write nor delete", async () => {
    const read = await runCli(LOG_READER_BIN, ['logs', POD, '--bucket', BUCKET], cliEnv('job-logs-reader'));
    expect({ exitCode: read.exitCode, stderr: read.stderr }).toEqual({ exitCode: 0, stderr: '' });
    expect(read.stdout).toBe(LINES.flat().join('\n') + '\n');
    const reader = client('job-logs-reader');
    expect(
      await status(() => reader.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: `metadata/${POD}.json` }))),
    ).toBe(403);
    expect(
      await status(() =>
        reader.send(new PutObjectCommand({ Bucket: BUCKET, Key: `metadata/${POD}.json`, Body: '{}' })),
      ),
    ).toBe(403);
  });
});

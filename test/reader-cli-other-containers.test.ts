// `log-reader logs POD` for a pod whose only logs in the bucket are other containers' (a
// Deployment pod's, a job's sidecar): Fluent Bit uploads every container of a pod, the reader
// reads only the one named like the pod. The built bin says which containers the bucket holds
// and exits 1, instead of an empty log that looks like a job that wrote nothing; a pod with a
// log of its own reads as before, and pays no request for the check.
import { LOG_READER_BIN, runCli, s3Env } from './support/cli.js';
import { PASS, startFaultProxy } from './support/fault-proxy.js';
import { MINUTE, messages, newWorld } from './support/world.js';

const T0 = new Date('2026-11-25T10:00:00Z');
const LATER = '2026-11-26T00:00:00Z';

describe('log-reader logs of a pod whose only logs are other containers', () => {
  it("names a Deployment pod's containers and exits 1, writing nothing to stdout", async () => {
    const w = await newWorld('cli-other-deployment');
    const pod = 'web-7d9c8b-abcde';
    await w.container(pod, '0f3a', { namespace: 'default', container: 'nginx' }).upload(messages('n', 2, T0));
    await w.container(pod, '1b2c', { namespace: 'default', container: 'istio-proxy' }).upload(messages('i', 2, T0));
    // nginx restarted: a second container id, still one container named once.
    await w.container(pod, '2c3d', { namespace: 'default', container: 'nginx' }).upload(messages('m', 1, T0));

    expect(await runCli(LOG_READER_BIN, ['logs', pod, '--bucket', w.bucket], s3Env())).toEqual({
      exitCode: 1,
      stdout: '',
      stderr:
        `log-reader: pod ${pod} has no log of its own container (${pod}); the bucket holds raw files of its ` +
        'containers istio-proxy, nginx (namespace default), which are not merged or read\n',
    });
  });

  it("says so for a job whose sidecar's log is all the bucket holds of it", async () => {
    const w = await newWorld('cli-other-sidecar');
    await w.container('job-1', '0f3a', { container: 'istio-proxy' }).upload(messages('i', 2, T0));
    const result = await runCli(LOG_READER_BIN, ['logs', 'job-1', '--bucket', w.bucket, '--tail', '5'], s3Env());
    expect(result).toMatchObject({ exitCode: 1, stdout: '' });
    expect(result.stderr).toBe(
      'log-reader: pod job-1 has no log of its own container (job-1); the bucket holds raw files of its ' +
        'container istio-proxy (namespace jobs), which is not merged or read\n',
    );
  });

  it("reads a job's own log beside its sidecar's as before: exit 0, no message", async () => {
    const w = await newWorld('cli-other-own-raw');
    await w.container('job-1', '0f3a').upload(messages('a', 2, T0));
    await w.container('job-1', '1b2c', { container: 'istio-proxy' }).upload(messages('i', 2, T0));
    expect(await runCli(LOG_READER_BIN, ['logs', 'job-1', '--bucket', w.bucket], s3Env())).toEqual({
      exitCode: 0,
      stdout: 'a-0\na-1\n',
      stderr: '',
    });
    // Nothing after --since-time: the pod still has a log of its own, empty here.
    expect(
      await runCli(LOG_READER_BIN, ['logs', 'job-1', '--bucket', w.bucket, '--since-time', LATER], s3Env()),
    ).toEqual({ exitCode: 0, stdout: '', stderr: '' });
  });

  it("reads a job whose own log is only merged (its raw files cleaned) beside a sidecar's raw files as before", async () => {
    const w = await newWorld('cli-other-own-merged');
    await w.container('job-1', '0f3a').upload(messages('a', 2, T0));
    await w.container('job-1', '1b2c', { container: 'istio-proxy' }).upload(messages('i', 2, T0));
    await w.pass({ cleanupIntervalMs: 30 * MINUTE });
    w.advance(31 * MINUTE);
    await w.pass({ cleanupIntervalMs: 30 * MINUTE });
    expect(await w.keys('kube.')).toEqual([expect.stringContaining('_istio-proxy-1b2c.log/')]);

    const args = ['logs', 'job-1', '--bucket', w.bucket];
    expect(await runCli(LOG_READER_BIN, args, s3Env())).toEqual({ exitCode: 0, stdout: 'a-0\na-1\n', stderr: '' });
    expect(await runCli(LOG_READER_BIN, [...args, '--since-time', LATER], s3Env())).toEqual({
      exitCode: 0,
      stdout: '',
      stderr: '',
    });
  });

  it('says a pod the bucket holds nothing of is not found, naming the pod and the bucket, exit 1 (as kubectl)', async () => {
    const w = await newWorld('cli-other-nothing');
    // Another pod whose name starts like it: not the pod's (its prefix ends at `_`).
    await w.container('job-10', '0f3a', { container: 'sidecar' }).upload(messages('s', 1, T0));
    expect(await runCli(LOG_READER_BIN, ['logs', 'job-1', '--bucket', w.bucket], s3Env())).toEqual({
      exitCode: 1,
      stdout: '',
      stderr: `log-reader: pod job-1 not found in bucket ${w.bucket}: no metadata and no raw file of any of its containers\n`,
    });
  });

  it('asks nothing more of S3 for a pod with a log of its own: no containers listing, no metadata HEAD', async () => {
    const w = await newWorld('cli-other-cost');
    await w.container('job-1', '0f3a').upload(messages('a', 2, T0));
    await w.container('job-1', '1b2c', { container: 'istio-proxy' }).upload(messages('i', 2, T0));
    const proxy = await startFaultProxy(() => PASS);
    try {
      const result = await runCli(LOG_READER_BIN, ['logs', 'job-1', '--bucket', w.bucket, '--endpoint', proxy.url], {
        ...s3Env(),
        AWS_ENDPOINT_URL_S3: undefined,
      });
      expect(result).toEqual({ exitCode: 0, stdout: 'a-0\na-1\n', stderr: '' });
      const check = proxy.log.filter((e) => e.operation === 'HeadObject' || /[?&]delimiter=/.test(e.url));
      expect(check).toEqual([]);
    } finally {
      await proxy.close();
    }
  });
});

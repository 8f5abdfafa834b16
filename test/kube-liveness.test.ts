// kubeLiveness against a Kubernetes API double (an HTTP server on loopback, reached through a
// kubeconfig file with token auth): when a job's container counts as ended, and what a
// failing API gives the caller.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  KubeApiError,
  SetupError,
  DEFAULT_SETTLE_MS,
  kubeLiveness,
  loadKubeConfig,
  type ContainerLiveness,
} from 'compactor';
import { FAKE_TOKEN, kubeconfig, startKubeApi, type KubeApiDouble } from './support/kube-api.js';

const NOW = new Date('2026-11-25T12:00:00Z');
const MINUTE = 60_000;
const ago = (ms: number): Date => new Date(NOW.getTime() - ms);
// Raw keys carry the full 64-hex container id.
const OLD = 'a1'.repeat(32);
const NEW = 'b2'.repeat(32);

let api: KubeApiDouble;
let liveness: ContainerLiveness;

beforeAll(async () => {
  api = await startKubeApi();
  liveness = kubeLiveness(loadKubeConfig(api.kubeconfigPath));
});
afterAll(() => api.close());

/** The error a call fails with (it must fail). */
async function failure(call: Promise<unknown>): Promise<KubeApiError> {
  const outcome = await call.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  if (!('error' in outcome)) throw new Error(`expected a failure, got ${JSON.stringify(outcome.value)}`);
  expect(outcome.error).toBeInstanceOf(KubeApiError);
  return outcome.error as KubeApiError;
}

describe('kubeLiveness', () => {
  it('asks GET /api/v1/namespaces/{ns}/pods/{pod} with the kubeconfig token, and a running container has not ended', async () => {
    api.set('jobs', 'job-run', { kind: 'running', containerId: OLD });
    const before = api.requests.length;
    expect(await liveness.hasEnded('jobs', 'job-run', OLD, NOW)).toBe(false);
    expect(api.requests.slice(before)).toEqual([
      { method: 'GET', path: '/api/v1/namespaces/jobs/pods/job-run', authorization: `Bearer ${FAKE_TOKEN}` },
    ]);
  });

  it('a pending pod has not ended', async () => {
    api.set('jobs', 'job-pending', { kind: 'pending' });
    expect(await liveness.hasEnded('jobs', 'job-pending', OLD, NOW)).toBe(false);
  });

  it('a container that terminated has ended only once the settle time has passed (Fluent Bit may still be uploading)', async () => {
    expect(liveness.settleMs).toBe(DEFAULT_SETTLE_MS);
    api.set('jobs', 'job-done', { kind: 'terminated', containerId: OLD, finishedAt: ago(MINUTE) });
    expect(await liveness.hasEnded('jobs', 'job-done', OLD, NOW)).toBe(false);
    api.set('jobs', 'job-done', { kind: 'terminated', containerId: OLD, finishedAt: ago(DEFAULT_SETTLE_MS) });
    expect(await liveness.hasEnded('jobs', 'job-done', OLD, NOW)).toBe(true);
    api.set('jobs', 'job-done', {
      kind: 'terminated',
      containerId: OLD,
      finishedAt: ago(3 * 60 * MINUTE),
      exitCode: 1,
    });
    expect(await liveness.hasEnded('jobs', 'job-done', OLD, NOW)).toBe(true);
  });

  it('takes its settle time from the options', async () => {
    const quick = kubeLiveness(loadKubeConfig(api.kubeconfigPath), { settleMs: 10_000 });
    api.set('jobs', 'job-settle', { kind: 'terminated', containerId: OLD, finishedAt: ago(MINUTE) });
    expect(await quick.hasEnded('jobs', 'job-settle', OLD, NOW)).toBe(true);
    expect(await liveness.hasEnded('jobs', 'job-settle', OLD, NOW)).toBe(false);
  });

  it('after a restart, the old container has ended once settled and the new one has not', async () => {
    api.set('jobs', 'job-restart', { kind: 'restarted', oldId: OLD, newId: NEW, finishedAt: ago(MINUTE) });
    expect(await liveness.hasEnded('jobs', 'job-restart', OLD, NOW)).toBe(false);
    expect(await liveness.hasEnded('jobs', 'job-restart', NEW, NOW)).toBe(false);
    api.set('jobs', 'job-restart', { kind: 'restarted', oldId: OLD, newId: NEW, finishedAt: ago(5 * MINUTE) });
    expect(await liveness.hasEnded('jobs', 'job-restart', OLD, NOW)).toBe(true);
    expect(await liveness.hasEnded('jobs', 'job-restart', NEW, NOW)).toBe(false);
  });

  it('a container replaced before the last restart has ended', async () => {
    api.set('jobs', 'job-replaced', {
      kind: 'replaced',
      previousId: NEW,
      currentId: 'c3'.repeat(32),
      finishedAt: ago(10_000),
    });
    expect(await liveness.hasEnded('jobs', 'job-replaced', OLD, NOW)).toBe(true);
  });

  it('compares container ids by prefix either way', async () => {
    api.set('jobs', 'job-prefix', { kind: 'running', containerId: OLD });
    expect(await liveness.hasEnded('jobs', 'job-prefix', OLD.slice(0, 12), NOW)).toBe(false);
    api.set('jobs', 'job-prefix', { kind: 'running', containerId: OLD.slice(0, 12) });
    expect(await liveness.hasEnded('jobs', 'job-prefix', OLD, NOW)).toBe(false);
    expect(await liveness.hasEnded('jobs', 'job-prefix', NEW, NOW)).toBe(true);
  });

  it('a deleted pod (404 with a Status body) has ended', async () => {
    api.set('jobs', 'job-gone', { kind: 'running', containerId: OLD });
    api.delete('jobs', 'job-gone');
    expect(await liveness.hasEnded('jobs', 'job-gone', OLD, NOW)).toBe(true);
  });

  it('asks in the namespace of the raw key', async () => {
    api.set('team-a', 'job-ns', { kind: 'running', containerId: OLD });
    expect(await liveness.hasEnded('team-a', 'job-ns', OLD, NOW)).toBe(false);
    expect(await liveness.hasEnded('team-b', 'job-ns', OLD, NOW)).toBe(true);
  });

  it('fails with KubeApiError naming the pod and the status when access is denied (403)', async () => {
    api.set('jobs', 'job-403', { kind: 'status', code: 403 });
    const error = await failure(liveness.hasEnded('jobs', 'job-403', OLD, NOW));
    expect(error.code).toBe('ERR_KUBE_API');
    expect(error.status).toBe(403);
    expect(error.message).toContain('pod job-403');
    expect(error.message).toContain('/api/v1/namespaces/jobs/pods/job-403');
    expect(error.message).toContain('HTTP 403: Forbidden: pods "job-403" is forbidden');
    expect(error.message).not.toContain(FAKE_TOKEN);
  });

  it('fails with KubeApiError on a server error (500)', async () => {
    api.set('jobs', 'job-500', { kind: 'status', code: 500 });
    const error = await failure(liveness.hasEnded('jobs', 'job-500', OLD, NOW));
    expect(error.status).toBe(500);
    expect(error.message).toMatch(
      /^pod job-500: Kubernetes API GET \/api\/v1\/namespaces\/jobs\/pods\/job-500 failed: HTTP 500/,
    );
  });

  it('never puts the token in a message, even when the server echoes it', async () => {
    api.set('jobs', 'job-echo', {
      kind: 'status',
      code: 500,
      message: `bad request with Authorization: Bearer ${FAKE_TOKEN}`,
    });
    const error = await failure(liveness.hasEnded('jobs', 'job-echo', OLD, NOW));
    expect(error.message).toContain('Bearer [redacted]');
    expect(error.message).not.toContain(FAKE_TOKEN);
    expect(String(error.stack)).not.toContain(FAKE_TOKEN);
  });

  it('fails with KubeApiError on a wrong token (401), without the token', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kubeconfig-'));
    try {
      const path = join(dir, 'config');
      await writeFile(path, kubeconfig(api.server, 'wrong-token-9f8e7d6c'));
      const error = await failure(kubeLiveness(loadKubeConfig(path)).hasEnded('jobs', 'job-run', OLD, NOW));
      expect(error.status).toBe(401);
      expect(error.message).not.toContain('wrong-token-9f8e7d6c');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('fails with KubeApiError when the API is unreachable', async () => {
    const other = await startKubeApi();
    const unreachable = kubeLiveness(loadKubeConfig(other.kubeconfigPath));
    await other.close(); // nothing listens on its port any more
    const error = await failure(unreachable.hasEnded('jobs', 'job-run', OLD, NOW));
    expect(error.status).toBeUndefined();
    expect(error.message).toContain('pod job-run');
    expect(error.message).toContain('unreachable (ECONNREFUSED)');
    expect(error.message).not.toContain(FAKE_TOKEN);
  });

  it('fails with KubeApiError when the API does not answer within the timeout', async () => {
    api.set('jobs', 'job-hang', { kind: 'hang' });
    const impatient = kubeLiveness(loadKubeConfig(api.kubeconfigPath), { timeoutMs: 200 });
    const error = await failure(impatient.hasEnded('jobs', 'job-hang', OLD, NOW));
    expect(error.message).toContain('no answer within 200 ms');
  });
});

describe('loadKubeConfig', () => {
  const saved = { KUBECONFIG: process.env['KUBECONFIG'], HOME: process.env['HOME'] };
  let home: string;
  beforeEach(async () => {
    home = await mkdtemp(join(tmpdir(), 'home-'));
  });
  afterEach(async () => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    await rm(home, { recursive: true, force: true });
  });

  it("'default' finds the kubeconfig named by KUBECONFIG, like kubectl", async () => {
    process.env['KUBECONFIG'] = api.kubeconfigPath;
    process.env['HOME'] = home;
    api.set('jobs', 'job-default', { kind: 'running', containerId: OLD });
    expect(await kubeLiveness(loadKubeConfig('default')).hasEnded('jobs', 'job-default', OLD, NOW)).toBe(false);
  });

  it("'default' falls back to ~/.kube/config", async () => {
    delete process.env['KUBECONFIG'];
    process.env['HOME'] = home;
    await mkdir(join(home, '.kube'));
    await writeFile(join(home, '.kube', 'config'), kubeconfig(api.server, FAKE_TOKEN));
    expect(loadKubeConfig('default').getCurrentCluster()?.server).toBe(api.server);
  });

  it("'default' with no kubeconfig and no service account is a set-up error", () => {
    delete process.env['KUBECONFIG'];
    process.env['HOME'] = home;
    expect(() => loadKubeConfig('default')).toThrow(SetupError);
    expect(() => loadKubeConfig('default')).toThrow(
      '--kube: no Kubernetes cluster configured in ~/.kube/config or the service account (in-cluster)',
    );
  });

  it('a missing or invalid kubeconfig file is a set-up error that quotes none of the file', async () => {
    expect(() => loadKubeConfig(join(home, 'nope'))).toThrow(
      `--kube: cannot load the kubeconfig from ${join(home, 'nope')}: ENOENT`,
    );
    const bad = join(home, 'bad');
    await writeFile(bad, `users:\n- name: x\n  user:\n    token: ${FAKE_TOKEN}\n  : : [\n`);
    let message = '';
    try {
      loadKubeConfig(bad);
    } catch (error) {
      expect(error).toBeInstanceOf(SetupError);
      message = (error as Error).message;
    }
    expect(message).toBe(`--kube: cannot load the kubeconfig from ${bad}: not valid YAML`);
  });
});

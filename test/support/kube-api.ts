// A Kubernetes API double: an HTTP server on 127.0.0.1 that answers
// GET /api/v1/namespaces/{ns}/pods/{name} from a state the test scripts, checks the bearer
// token as the API server would, and records what it was asked. Plus a kubeconfig file
// pointing at it, so the compactor loads its configuration the way it does in production.
// Two ways to script a pod: `set()` a fixed answer (what the compactor needs), or `pod()` a
// ScriptedPod with a life and a live log (kube-cluster.ts), which also answers .../log.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  KubeCluster,
  notFound,
  sendJson,
  sendStatus,
  type LogRequest,
  type ScriptedPod,
  type ScriptedPodOptions,
} from './kube-cluster.js';

export {
  rfc3339Nano,
  parseRfc3339,
  type LogLine,
  type LogRequest,
  type RestartPolicy,
  type ScriptedPod,
  type ScriptedPodOptions,
} from './kube-cluster.js';

/** Looks like a service-account token; it must never appear in any message. */
export const FAKE_TOKEN = 'eyJhbGciOiJSUzI1NiJ9.fake-kube-token-5b2f9c1e';

/** What the double answers for one pod. Pods it has no answer for are not found (404). */
export type PodAnswer =
  | { readonly kind: 'running'; readonly containerId: string; readonly startedAt?: Date }
  | { readonly kind: 'pending' }
  | {
      readonly kind: 'terminated';
      readonly containerId: string;
      readonly finishedAt: Date;
      readonly exitCode?: number;
      readonly phase?: 'Succeeded' | 'Failed' | 'Running';
    }
  /** Restarted: `oldId` terminated at `finishedAt`, `newId` runs now. */
  | { readonly kind: 'restarted'; readonly oldId: string; readonly newId: string; readonly finishedAt: Date }
  /** Restarted twice or more: `currentId` runs, and the previous one is `previousId`. */
  | { readonly kind: 'replaced'; readonly previousId: string; readonly currentId: string; readonly finishedAt: Date }
  | { readonly kind: 'status'; readonly code: 403 | 500 | 503 | 404; readonly message?: string }
  /** Accepts the connection and never answers. */
  | { readonly kind: 'hang' };

export interface KubeRequest {
  readonly method: string;
  readonly path: string;
  readonly authorization: string | undefined;
}

export interface KubeApiDouble {
  /** `http://127.0.0.1:{port}` */
  readonly server: string;
  /** A kubeconfig file (token auth) pointing at the double. */
  readonly kubeconfigPath: string;
  set(namespace: string, pod: string, answer: PodAnswer): void;
  /** The pod is deleted (set() or pod() alike): 404 with a Status body. */
  delete(namespace: string, pod: string): void;
  /**
   * Creates a scripted pod: Pending, its one container (named like the pod) waiting in
   * ContainerCreating. It wins over a set() answer of the same name; pod() again replaces it.
   */
  pod(namespace: string, name: string, options?: ScriptedPodOptions): ScriptedPod;
  readonly requests: readonly KubeRequest[];
  /** Every GET .../pods/{name}/log, with its query. */
  readonly logRequests: readonly LogRequest[];
  close(): Promise<void>;
}

export async function startKubeApi(): Promise<KubeApiDouble> {
  const pods = new Map<string, PodAnswer>();
  const requests: KubeRequest[] = [];
  const hanging = new Set<ServerResponse>();
  const cluster = new KubeCluster();
  const server = createServer((req, res) => handle(req, res));

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const target = new URL(req.url ?? '/', 'http://double');
    const path = target.pathname;
    requests.push({ method: req.method ?? '', path, authorization: req.headers.authorization });
    const m = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)(\/log)?$/.exec(path);
    const namespace = decodeURIComponent(m?.[1] ?? '');
    const name = decodeURIComponent(m?.[2] ?? '');
    const log = m?.[3] !== undefined;
    if (m !== null && log && req.method === 'GET') cluster.record(namespace, name, target.searchParams);
    if (req.headers.authorization !== `Bearer ${FAKE_TOKEN}`) return status(res, 401, 'Unauthorized', 'Unauthorized');
    if (req.method !== 'GET' || m === null)
      return status(res, 404, 'NotFound', 'the server could not find the requested resource');
    if (cluster.has(namespace, name)) {
      const answer = log ? cluster.getLog(namespace, name, target.searchParams, res) : cluster.getPod(namespace, name);
      if (answer === undefined) return;
      return 'pod' in answer ? json(res, 200, answer.pod) : sendStatus(res, answer);
    }
    const answer = pods.get(`${namespace}/${name}`);
    if (answer === undefined) return sendStatus(res, notFound(name));
    switch (answer.kind) {
      case 'hang':
        hanging.add(res);
        return;
      case 'status': {
        const reason =
          answer.code === 403
            ? 'Forbidden'
            : answer.code === 404
              ? 'NotFound'
              : answer.code === 503
                ? 'ServiceUnavailable'
                : 'InternalError';
        const message =
          answer.message ??
          (answer.code === 403
            ? `pods "${name}" is forbidden: User "system:serviceaccount:ops:compactor" cannot get resource "${log ? 'pods/log' : 'pods'}" in API group "" in the namespace "${namespace}"`
            : 'an error on the server has prevented the request from succeeding');
        return status(res, answer.code, reason, message);
      }
      default:
        // A set() answer has a state but no log: script the pod with pod() to read its log.
        if (log)
          return status(
            res,
            500,
            'InternalError',
            `kube-api double: pod ${namespace}/${name} was set() without a log; script it with pod()`,
          );
        return json(res, 200, podObject(namespace, name, answer));
    }
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  const dir = await mkdtemp(join(tmpdir(), 'kube-api-'));
  const kubeconfigPath = join(dir, 'kubeconfig');
  await writeFile(kubeconfigPath, kubeconfig(url, FAKE_TOKEN));

  return {
    server: url,
    kubeconfigPath,
    set: (namespace, pod, answer) => void pods.set(`${namespace}/${pod}`, answer),
    delete: (namespace, pod) => {
      pods.delete(`${namespace}/${pod}`);
      cluster.delete(namespace, pod);
    },
    pod: (namespace, name, options) => cluster.pod(namespace, name, options),
    requests,
    logRequests: cluster.logRequests,
    close: async () => {
      for (const res of hanging) res.destroy();
      cluster.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A kubeconfig as `kubectl config view --raw` shows one, with token auth. */
export function kubeconfig(server: string, token: string): string {
  // Plain HTTP needs insecure-skip-tls-verify in client-node; a real API server is HTTPS.
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: double',
    '  cluster:',
    `    server: ${server}`,
    '    insecure-skip-tls-verify: true',
    'users:',
    '- name: compactor',
    '  user:',
    `    token: ${token}`,
    'contexts:',
    '- name: double',
    '  context:',
    '    cluster: double',
    '    user: compactor',
    '    namespace: jobs',
    'current-context: double',
    '',
  ].join('\n');
}

/** Kubernetes writes times to the second. */
function k8sTime(date: Date): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}

/** The pod as the API returns it: only the fields a client may look at, in the runtime's id format. */
function podObject(namespace: string, name: string, answer: Exclude<PodAnswer, { kind: 'status' | 'hang' }>): unknown {
  const started = new Date('2026-11-25T09:00:00Z');
  const id = (hex: string): string => `containerd://${hex}`;
  const base = {
    name,
    image: 'registry.example/job:1',
    imageID: 'registry.example/job@sha256:ab',
    ready: false,
    restartCount: 0,
  };
  let phase: string;
  let status: Record<string, unknown>;
  switch (answer.kind) {
    case 'pending':
      phase = 'Pending';
      status = { ...base, state: { waiting: { reason: 'ContainerCreating' } } };
      break;
    case 'running':
      phase = 'Running';
      status = {
        ...base,
        ready: true,
        containerID: id(answer.containerId),
        state: { running: { startedAt: k8sTime(answer.startedAt ?? started) } },
      };
      break;
    case 'terminated':
      phase = answer.phase ?? ((answer.exitCode ?? 0) === 0 ? 'Succeeded' : 'Failed');
      status = {
        ...base,
        containerID: id(answer.containerId),
        state: {
          terminated: {
            containerID: id(answer.containerId),
            exitCode: answer.exitCode ?? 0,
            reason: (answer.exitCode ?? 0) === 0 ? 'Completed' : 'Error',
            startedAt: k8sTime(started),
            finishedAt: k8sTime(answer.finishedAt),
          },
        },
      };
      break;
    case 'restarted':
    case 'replaced': {
      const [previous, current] =
        answer.kind === 'restarted' ? [answer.oldId, answer.newId] : [answer.previousId, answer.currentId];
      phase = 'Running';
      status = {
        ...base,
        ready: true,
        restartCount: answer.kind === 'restarted' ? 1 : 2,
        containerID: id(current),
        state: { running: { startedAt: k8sTime(answer.finishedAt) } },
        lastState: {
          terminated: {
            containerID: id(previous),
            exitCode: 137,
            reason: 'OOMKilled',
            startedAt: k8sTime(started),
            finishedAt: k8sTime(answer.finishedAt),
          },
        },
      };
      break;
    }
  }
  return {
    kind: 'Pod',
    apiVersion: 'v1',
    metadata: {
      name,
      namespace,
      uid: '6d3c0e9e-0000-4000-8000-000000000001',
      resourceVersion: '1234',
      creationTimestamp: k8sTime(started),
    },
    spec: { containers: [{ name, image: 'registry.example/job:1' }], restartPolicy: 'OnFailure', nodeName: 'node-1' },
    status: { phase, startTime: k8sTime(started), containerStatuses: [status] },
  };
}

const json = sendJson;

/** A `Status` object, as the API server answers errors. */
function status(res: ServerResponse, code: number, reason: string, message: string): void {
  sendStatus(res, { code, reason, message });
}

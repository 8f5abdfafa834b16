/**
 * Asking the Kubernetes API whether a job's container has ended (`--kube`).
 *
 * A raw file that ends inside an unfinished line (`P` pieces without their `F`) is held back
 * until the rest arrives. When the container can no longer write (it terminated, was replaced
 * by a restart, or its pod is gone) the rest will never come, and the line is merged as it
 * is. Without an API the compactor can only guess that from the pod's uploads having been
 * quiet for a while (pass/decide.ts); the API knows.
 *
 * One GET /api/v1/namespaces/{namespace}/pods/{pod} per question (RBAC: `get` on `pods`).
 * The container is the one named like the pod (the platform's job convention). It has ended
 * when:
 *   - the pod is not found (404);
 *   - the container's current id is another one (a restart replaced it) and the id asked
 *     about is not the one that just terminated;
 *   - the container with that id terminated, or the pod's phase is Succeeded or Failed, at
 *     least `settleMs` ago: Fluent Bit uploads once a minute, so its last pieces may still be
 *     on their way for a while after the container stopped.
 * Running, waiting, pending or terminated too recently: not ended. Any other answer (403,
 * 5xx, unreachable, a timeout) is a {@link KubeApiError}: the caller fails that pod for the
 * pass rather than guess.
 */
import {
  ApiException,
  CoreV1Api,
  KubeConfig,
  Observable,
  type ObservableMiddleware,
  type RequestContext,
  type ResponseContext,
  type V1ContainerStatus,
  type V1Pod,
} from '@kubernetes/client-node';
import { sameContainer, stripScheme } from '@platform/log-reader/layout';
import { statusReason } from '@platform/log-reader/kube-config';
import { KubeConfigError, loadKubeTarget } from '@platform/log-reader/kube-config';
import { KubeApiError, SetupError } from '../errors.js';

export type { KubeConfig } from '@kubernetes/client-node';

/** Fluent Bit uploads every minute; two minutes lets the last upload of a stopped container land. */
export const DEFAULT_SETTLE_MS = 2 * 60_000;
/** How long one GET of a pod may take before it counts as an API failure. */
export const DEFAULT_KUBE_TIMEOUT_MS = 30_000;

export interface ContainerLiveness {
  /**
   * True when container `containerId` (the hex id of a raw key; a prefix match either way)
   * of pod `pod` in `namespace` can no longer write log lines that Fluent Bit has not
   * uploaded yet. Throws {@link KubeApiError} when the API cannot tell.
   */
  hasEnded(namespace: string, pod: string, containerId: string, now: Date): Promise<boolean>;
  /** How long after a container stopped its last uploads may still arrive. Milliseconds. */
  readonly settleMs: number;
}

export interface KubeLivenessOptions {
  /** How long after a container terminated it counts as ended. Milliseconds; default 2 min. */
  readonly settleMs?: number;
  /** Timeout of one API request. Milliseconds; default 30 s. */
  readonly timeoutMs?: number;
}

export function kubeLiveness(kubeConfig: KubeConfig, options: KubeLivenessOptions = {}): ContainerLiveness {
  const settleMs = options.settleMs ?? DEFAULT_SETTLE_MS;
  const timeoutMs = options.timeoutMs ?? DEFAULT_KUBE_TIMEOUT_MS;
  const api = kubeConfig.makeApiClient(CoreV1Api);
  const secrets = credentialsOf(kubeConfig);
  return {
    settleMs,
    async hasEnded(namespace, pod, containerId, now) {
      let found: V1Pod;
      try {
        found = await api.readNamespacedPod(
          { name: pod, namespace },
          { middleware: [withTimeout(timeoutMs)], middlewareMergeStrategy: 'append' },
        );
      } catch (error) {
        if (error instanceof ApiException && error.code === 404) return true;
        throw new KubeApiError(namespace, pod, describeFailure(error, timeoutMs, secrets), statusOf(error), {
          cause: error,
        });
      }
      return containerEnded(found, pod, containerId, now, settleMs);
    },
  };
}

/**
 * The decision on a pod the API returned (pure, for tests): has container `containerId` of
 * the container named `container` ended, as of `now`?
 */
export function containerEnded(
  pod: V1Pod,
  container: string,
  containerId: string,
  now: Date,
  settleMs: number,
): boolean {
  const settled = (finishedAt: Date | undefined): boolean =>
    finishedAt === undefined || now.getTime() - finishedAt.getTime() >= settleMs;
  const status = pod.status?.containerStatuses?.find((s) => s.name === container);
  const terminated = status === undefined ? undefined : terminationOf(status, containerId);
  if (terminated !== undefined) return settled(terminated.finishedAt);
  // A restart gave the container a new id, and the old one is not the one that just
  // terminated (that case is above): it stopped before the last restart.
  const current = stripScheme(status?.containerID);
  if (current !== '' && !sameContainer(current, containerId)) return true;
  const phase = pod.status?.phase;
  return (phase === 'Succeeded' || phase === 'Failed') && settled(latestTransition(pod));
}

/** The termination of exactly this container instance, from `state` or `lastState`. */
function terminationOf(status: V1ContainerStatus, containerId: string): { finishedAt: Date | undefined } | undefined {
  const now = status.state?.terminated;
  if (now !== undefined && sameContainer(stripScheme(now.containerID ?? status.containerID), containerId))
    return { finishedAt: now.finishedAt };
  const last = status.lastState?.terminated;
  if (last !== undefined && sameContainer(stripScheme(last.containerID), containerId))
    return { finishedAt: last.finishedAt };
  return undefined;
}

/** When a pod in a final phase got there, as far as its conditions say. */
function latestTransition(pod: V1Pod): Date | undefined {
  const times = (pod.status?.conditions ?? []).flatMap((c) =>
    c.lastTransitionTime === undefined ? [] : [c.lastTransitionTime.getTime()],
  );
  return times.length === 0 ? undefined : new Date(Math.max(...times));
}

/** client-node sets no timeout of its own: a request to an API that never answers would hang the pass. */
function withTimeout(timeoutMs: number): ObservableMiddleware {
  return {
    pre: (context: RequestContext) => {
      context.setSignal(AbortSignal.timeout(timeoutMs));
      return new Observable(Promise.resolve(context));
    },
    post: (context: ResponseContext) => new Observable(Promise.resolve(context)),
  };
}

function statusOf(error: unknown): number | undefined {
  return error instanceof ApiException ? error.code : undefined;
}

/** What went wrong, in words that carry no credential. */
function describeFailure(error: unknown, timeoutMs: number, secrets: readonly string[]): string {
  let text: string;
  if (error instanceof ApiException) {
    const status = statusBody(error.body);
    text = `HTTP ${error.code}${status === undefined ? '' : `: ${status}`}`;
  } else if (isAbort(error)) {
    text = `no answer within ${timeoutMs} ms`;
  } else {
    const code = (error as { code?: unknown } | undefined)?.code;
    text = `unreachable (${typeof code === 'string' ? code : error instanceof Error ? error.message : String(error)})`;
  }
  for (const secret of secrets) text = text.split(secret).join('[redacted]');
  return text;
}

/** A Kubernetes `Status` body's reason and message (`Forbidden: pods "job-1" is forbidden: …`). */
function statusBody(body: unknown): string | undefined {
  return statusReason(typeof body === 'string' ? safeJson(body) : body);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isAbort(error: unknown): boolean {
  return error instanceof Error && (error.name === 'AbortError' || error.name === 'TimeoutError');
}

/** The current user's secrets, kept out of every message. */
function credentialsOf(kubeConfig: KubeConfig): string[] {
  const user = kubeConfig.getCurrentUser();
  return [user?.token, user?.password].filter((s): s is string => typeof s === 'string' && s.length >= 4);
}

/**
 * The kubeconfig, found like kubectl finds it (the log reader's loader, one for both CLIs):
 * `'default'` reads `KUBECONFIG`, else `~/.kube/config`, else the pod's service account
 * (in-cluster); any other value is the path of a kubeconfig file. Throws {@link SetupError}
 * when none is found or it cannot be read.
 */
export function loadKubeConfig(source: 'default' | string): KubeConfig {
  try {
    return loadKubeTarget(source === 'default' ? {} : { kubeconfig: source }).kube;
  } catch (error) {
    if (error instanceof KubeConfigError) throw new SetupError(`--kube: ${error.message}`, { cause: error });
    throw error;
  }
}

/**
 * The two Kubernetes API calls a followed read makes, for one pod: GET the pod, and GET its
 * container's log (RBAC: `get` on `pods` and `pods/log`). Over node:http with the
 * kubeconfig's agent and credentials, so that every answer is ours to judge: a `Status`
 * body's reason, a stream that ends or breaks, an abort that closes the connection.
 */
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import { LiveLogError } from '../errors.js';
import type { KubeAccess } from '../read/types.js';
import { statusReason } from './kube-status.js';
import { decodePod, type PodStatus } from './pod-status.js';

/** How long a request may take until its answer starts (and a pod's whole answer). */
export const KUBE_REQUEST_TIMEOUT_MS = 30_000;
/** Tries of one request when it fails in a way that may pass, and the first pause between them (doubling). */
const KUBE_ATTEMPTS = 4;
const KUBE_RETRY_BASE_MS = 500;
/** What to check when the API cannot be reached. */
const HINT = "check the kubeconfig's cluster and context (--kubeconfig, --context, KUBECONFIG)";
/** A `Status` body is small; anything longer is cut. */
const MAX_ERROR_BODY = 64 * 1024;

export interface LogQuery {
  readonly previous?: boolean;
  readonly follow?: boolean;
  readonly sinceTime?: string | undefined;
  readonly tailLines?: number | undefined;
  readonly limitBytes?: number;
}

export type LogAnswer =
  | { readonly kind: 'stream'; readonly body: IncomingMessage }
  /** 400: the container has no such log now (waiting to start, no previous instance). */
  | { readonly kind: 'unavailable'; readonly reason: string }
  /** 404: the pod is gone. */
  | { readonly kind: 'gone' };

export class PodApi {
  constructor(
    private readonly kube: KubeAccess,
    readonly namespace: string,
    readonly pod: string,
    private readonly signal: AbortSignal | undefined,
  ) {}

  /** The pod, or undefined when it does not exist (any more). Transient failures are retried. */
  getPod(): Promise<PodStatus | undefined> {
    return this.retrying(() => this.getPodOnce());
  }

  /**
   * The container's log (the container named like the pod), with timestamps. Transient failures to
   * open it are retried.
   */
  openLog(query: LogQuery): Promise<LogAnswer> {
    return this.retrying(() => this.openLogOnce(query));
  }

  /**
   * `attempt` again after a failure that may pass (no connection, no answer in time, 429, 5xx),
   * a few times with a growing pause: a follow that lasts hours should outlive an API
   * server's restart.
   */
  private async retrying<T>(attempt: () => Promise<T>): Promise<T> {
    for (let n = 1; ; n++) {
      try {
        return await attempt();
      } catch (error) {
        if (this.signal?.aborted || !(error instanceof LiveLogError) || !transient.has(error) || n >= KUBE_ATTEMPTS)
          throw error;
        await sleep(KUBE_RETRY_BASE_MS * 2 ** (n - 1), undefined, { signal: this.signal });
      }
    }
  }

  private async getPodOnce(): Promise<PodStatus | undefined> {
    const timeout = AbortSignal.timeout(KUBE_REQUEST_TIMEOUT_MS);
    const response = await this.request('', {}, timeout);
    if (response.statusCode === 404) {
      response.resume();
      return undefined;
    }
    if (response.statusCode !== 200) throw await this.failure(response);
    let json: unknown;
    try {
      json = JSON.parse(await readText(response, Infinity));
    } catch (error) {
      throw this.wrap(error, timeout);
    }
    return decodePod(json, this.pod);
  }

  private async openLogOnce(query: LogQuery): Promise<LogAnswer> {
    const params: Record<string, string> = { container: this.pod, timestamps: 'true' };
    if (query.follow) params['follow'] = 'true';
    if (query.previous) params['previous'] = 'true';
    if (query.sinceTime !== undefined) params['sinceTime'] = query.sinceTime;
    if (query.tailLines !== undefined) params['tailLines'] = String(query.tailLines);
    if (query.limitBytes !== undefined) params['limitBytes'] = String(query.limitBytes);
    // Only until the answer starts: a followed log may rightly stay quiet for hours.
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(new Error('timeout')), KUBE_REQUEST_TIMEOUT_MS);
    try {
      const response = await this.request('/log', params, timeout.signal);
      if (response.statusCode === 200) {
        // A one-shot read's body that stalls would hang the read; a followed one may rightly be quiet.
        if (!query.follow) {
          response.setTimeout(KUBE_REQUEST_TIMEOUT_MS, () =>
            response.destroy(
              new LiveLogError(
                this.namespace,
                this.pod,
                `the log stopped coming for ${KUBE_REQUEST_TIMEOUT_MS / 1000} s`,
              ),
            ),
          );
        }
        return { kind: 'stream', body: response };
      }
      if (response.statusCode === 404) {
        response.resume();
        return { kind: 'gone' };
      }
      if (response.statusCode === 400)
        return { kind: 'unavailable', reason: (await statusText(response)) ?? 'HTTP 400' };
      throw await this.failure(response);
    } finally {
      clearTimeout(timer);
    }
  }

  private async request(
    suffix: string,
    params: Record<string, string>,
    timeout: AbortSignal,
  ): Promise<IncomingMessage> {
    const cluster = this.kube.getCurrentCluster();
    if (cluster === null) throw new LiveLogError(this.namespace, this.pod, 'the kubeconfig has no current cluster');
    const url = new URL(
      `${cluster.server.replace(/\/+$/, '')}/api/v1/namespaces/${encodeURIComponent(this.namespace)}/pods/${encodeURIComponent(this.pod)}${suffix}`,
    );
    for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
    const options: https.RequestOptions = {};
    try {
      await this.kube.applyToHTTPSOptions(options);
    } catch (error) {
      throw new LiveLogError(
        this.namespace,
        this.pod,
        `cannot authenticate with the kubeconfig (${describe(error)})`,
        undefined,
        { cause: error },
      );
    }
    const signal = this.signal === undefined ? timeout : AbortSignal.any([this.signal, timeout]);
    const send = url.protocol === 'https:' ? https.request : http.request;
    return new Promise<IncomingMessage>((resolve, reject) => {
      const req = send(
        url,
        { ...options, method: 'GET', headers: { ...options.headers, Accept: 'application/json, */*' }, signal },
        resolve,
      );
      req.on('error', (error) => reject(this.wrap(error, timeout)));
      req.end();
    });
  }

  /** The API server and the context it came from: `server https://10.0.0.1:6443 (context kind-dev)`. */
  private where(): string {
    const server = this.kube.getCurrentCluster()?.server ?? '?';
    let shown: string;
    try {
      // No user info or query: nothing of a credential in a message.
      const url = new URL(server);
      shown = `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
    } catch {
      shown = '(an invalid URL)';
    }
    // A KubeConfig names its context; any other access to the cluster may not.
    const name = this.kube.getCurrentContext?.();
    const context = name === undefined || name === '' ? '' : ` (context ${name})`;
    return `server ${shown}${context}`;
  }

  /** A failure as the user should read it: the status and the server's words, never a credential. */
  private async failure(response: IncomingMessage): Promise<LiveLogError> {
    const code = response.statusCode ?? 0;
    const words = await statusText(response);
    const error = new LiveLogError(
      this.namespace,
      this.pod,
      `HTTP ${code}${words === undefined ? '' : `: ${words}`}`,
      code,
    );
    if (code === 429 || code >= 500) transient.add(error);
    return error;
  }

  private wrap(error: unknown, timeout: AbortSignal): unknown {
    // The read's own abort passes through as it is: the reader turns it into an AbortError.
    if (this.signal?.aborted) return error;
    const what = timeout.aborted ? `no answer within ${KUBE_REQUEST_TIMEOUT_MS / 1000} s` : describe(error);
    const failure = new LiveLogError(
      this.namespace,
      this.pod,
      `${this.where()} unreachable (${what}); ${HINT}`,
      undefined,
      {
        cause: error,
      },
    );
    transient.add(failure);
    return failure;
  }
}

/**
 * A `Status` body's reason and message
 * (`BadRequest: container "job-1" in pod "job-1" is waiting to start: ContainerCreating`).
 */
async function statusText(response: IncomingMessage): Promise<string | undefined> {
  let body: string;
  try {
    body = await readText(response, MAX_ERROR_BODY);
  } catch {
    return undefined;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return body.trim() === '' ? undefined : body.trim().slice(0, 300);
  }
  return statusReason(parsed);
}

/** A body as text, at most about `limit` bytes of it (the connection is closed there). */
export async function readText(response: IncomingMessage, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response as AsyncIterable<Buffer>) {
    chunks.push(chunk);
    size += chunk.length;
    if (size >= limit) {
      response.destroy();
      break;
    }
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Failures that may pass: no connection, no answer in time, 429, 5xx (not a kubeconfig without a
 * cluster, 401, 403).
 */
const transient = new WeakSet<LiveLogError>();

/** An error's code or message, which for node:http errors names no credential. */
function describe(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string') return code;
  return error instanceof Error ? error.message : String(error);
}

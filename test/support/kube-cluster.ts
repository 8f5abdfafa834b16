// Scripted pods for the Kubernetes API double (kube-api.ts): a test drives one pod through
// its life (pending, running, lines written, terminated, restarted, rotated, deleted) and the
// double answers GET pod and GET pod/log the way the API server and the kubelet behind it do.
// What it is faithful to, and why it matters to a log follower:
// - Pod status times are whole seconds (metav1.Time), so a client cannot hand off at a
//   container's exact start from the status alone.
// - The API server re-encodes `sinceTime` with second precision before the kubelet filters
//   (`time.RFC3339`), so a follower that reconnects "since" a fractional time gets the lines of
//   that whole second again and must drop what it already has.
// - Which instance a non-`previous` request reads follows the kubelet's choice
//   (validateContainerLogStatus): running, else terminated, else the last terminated one
//   (a container in CrashLoopBackOff answers with the log of the instance that crashed), else
//   400 "waiting to start".
// - tailLines is applied before the since filter; limitBytes counts bytes of the body, cutting
//   mid-line; timestamps are the runtime's, reprinted with Go's RFC3339Nano.
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';

export type RestartPolicy = 'Always' | 'OnFailure' | 'Never';

/** One GET .../pods/{name}/log as the double received it; absent numbers/times were not sent. */
export interface LogRequest {
  readonly namespace: string;
  readonly pod: string;
  /** Absent when the query had no `container`. */
  readonly container?: string;
  readonly follow: boolean;
  readonly previous: boolean;
  readonly timestamps: boolean;
  /** As sent (before the API server's truncation to seconds). */
  readonly sinceTime?: string;
  readonly sinceSeconds?: number;
  readonly tailLines?: number;
  readonly limitBytes?: number;
}

/** A line written by a container: `time` is RFC 3339 with up to nine fraction digits. */
export interface LogLine {
  readonly time: string;
  readonly message: string;
}

export interface ScriptedPod {
  readonly namespace: string;
  readonly name: string;
  /** metadata.uid, fresh for each pod() (a pod recreated under the same name gets a new one). */
  readonly uid: string;
  /** A new container instance runs (64-hex id). The one before it, if it ran, becomes lastState. */
  start(containerId: string, startedAt: Date): void;
  /** Lines written by the current (running) instance; open follow streams get them at once. */
  append(lines: readonly LogLine[]): void;
  /** The current instance exits; its follow streams end cleanly. Phase follows restartPolicy. */
  terminate(exitCode: number, finishedAt: Date): void;
  /** After terminate, when the policy restarts it: state waiting (CrashLoopBackOff by default). */
  waitRestart(reason?: string): void;
  /** Log rotation: the current instance's log now holds only its last `keepLast` lines. */
  rotate(keepLast: number): void;
  /** The API drops this pod's open follow streams: 'reset' destroys the socket, 'end' ends cleanly. */
  dropStreams(how: 'reset' | 'end'): void;
  /** The pod is gone: 404 for it and its log; open follow streams end. */
  delete(): void;
  /** Follow streams of this pod the double still holds open (a client that closed its end is not counted). */
  openFollows(): number;
}

export interface ScriptedPodOptions {
  readonly restartPolicy?: RestartPolicy;
  /** metadata.creationTimestamp and status.startTime (default: now). */
  readonly createdAt?: Date;
}

const NANOS_PER_SECOND = 1_000_000_000n;
const CONTAINER_ID = /^[0-9a-f]{64}$/;

/**
 * A time as Go's `time.RFC3339Nano` prints it in UTC, the way the kubelet prints log timestamps:
 * nine fraction digits at most, trailing zeros trimmed, no fraction when it is zero.
 * `nanosWithinMs` (0..999999) adds the digits below the millisecond a Date cannot hold.
 */
export function rfc3339Nano(epochMs: number, nanosWithinMs = 0): string {
  if (!Number.isInteger(epochMs) || !Number.isInteger(nanosWithinMs) || nanosWithinMs < 0 || nanosWithinMs > 999_999) {
    throw new RangeError(`rfc3339Nano: bad time ${epochMs} ms + ${nanosWithinMs} ns`);
  }
  return formatNanos(BigInt(epochMs) * 1_000_000n + BigInt(nanosWithinMs));
}

/** Nanoseconds since the epoch of an RFC 3339 time (fraction and offset accepted, as Go parses). */
export function parseRfc3339(text: string): bigint | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/.exec(
    text,
  );
  if (m === null) return undefined;
  const [, y, mo, d, h, mi, s, fraction, , sign, oh, om] = m;
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  if (
    Number.isNaN(ms) ||
    new Date(ms).getUTCDate() !== Number(d) ||
    Number(h) > 23 ||
    Number(mi) > 59 ||
    Number(s) > 59
  )
    return undefined;
  const offsetSeconds = sign === undefined ? 0 : (sign === '-' ? -1 : 1) * (Number(oh) * 3600 + Number(om) * 60);
  const nanos = BigInt((fraction ?? '').padEnd(9, '0'));
  return (BigInt(ms / 1000) - BigInt(offsetSeconds)) * NANOS_PER_SECOND + nanos;
}

function formatNanos(nanos: bigint): string {
  const seconds = nanos / NANOS_PER_SECOND;
  const fraction = (nanos % NANOS_PER_SECOND).toString().padStart(9, '0').replace(/0+$/, '');
  return `${new Date(Number(seconds) * 1000).toISOString().slice(0, 19)}${fraction === '' ? '' : `.${fraction}`}Z`;
}

/** metav1.Time: RFC 3339 truncated to the second, as every time in a pod's status. */
function k8sTime(date: Date): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}

interface HeldLine {
  readonly nanos: bigint;
  /** The body line with and without the timestamp prefix. */
  readonly stamped: string;
  readonly plain: string;
}

/** An open `follow` response and the filters it was asked with. */
interface Follower {
  readonly res: ServerResponse;
  readonly timestamps: boolean;
  readonly sinceNanos: bigint | undefined;
  /** Bytes it may still send (limitBytes), or Infinity. */
  remaining: number;
}

/** One container instance: what `crictl` would call one container, with its log file. */
interface Instance {
  readonly id: string;
  readonly startedAt: Date;
  /** The log the kubelet can still read (rotation drops the head). */
  lines: HeldLine[];
  exit?: { readonly exitCode: number; readonly finishedAt: Date };
  readonly followers: Set<Follower>;
}

/** Query of a log request once validated, as the kubelet sees it. */
interface LogQuery {
  readonly container: string | undefined;
  readonly follow: boolean;
  readonly previous: boolean;
  readonly timestamps: boolean;
  /** The since filter in nanoseconds (sinceTime already truncated to seconds). */
  readonly sinceNanos: bigint | undefined;
  readonly tailLines: number | undefined;
  readonly limitBytes: number | undefined;
}

/** An error answer: the API server's `Status`. */
export interface StatusAnswer {
  readonly code: number;
  readonly reason: string;
  readonly message: string;
  readonly details?: Record<string, unknown>;
}

class PodState implements ScriptedPod {
  readonly uid = randomUUID();
  readonly restartPolicy: RestartPolicy;
  readonly createdAt: Date;
  deleted = false;
  /** The instance in `state` (running or terminated); undefined while waiting. */
  current: Instance | undefined;
  /** The instance in `lastState.terminated`: the only earlier log the kubelet serves. */
  last: Instance | undefined;
  waitingReason: string | undefined = 'ContainerCreating';
  restartCount = 0;
  private started = false;

  constructor(
    readonly namespace: string,
    readonly name: string,
    options: ScriptedPodOptions,
  ) {
    this.restartPolicy = options.restartPolicy ?? 'Always';
    this.createdAt = options.createdAt ?? new Date();
  }

  start(containerId: string, startedAt: Date): void {
    this.assertAlive('start');
    if (!CONTAINER_ID.test(containerId))
      throw new Error(`pod ${this.name}: container id must be 64 hex digits, got ${containerId}`);
    if (this.current !== undefined && this.current.exit === undefined)
      throw new Error(`pod ${this.name}: start while ${this.current.id} still runs`);
    if (this.current !== undefined && !this.restarts(this.current.exit?.exitCode ?? 0)) {
      throw new Error(
        `pod ${this.name}: restartPolicy ${this.restartPolicy} does not restart a container that exited ${this.current.exit?.exitCode}`,
      );
    }
    if (this.current !== undefined) this.last = this.current;
    if (this.started) this.restartCount += 1;
    this.started = true;
    this.current = { id: containerId, startedAt, lines: [], followers: new Set() };
    this.waitingReason = undefined;
  }

  append(lines: readonly LogLine[]): void {
    this.assertAlive('append');
    const instance = this.current;
    if (instance === undefined || instance.exit !== undefined)
      throw new Error(`pod ${this.name}: append with no running container`);
    for (const line of lines) {
      const nanos = parseRfc3339(line.time);
      if (nanos === undefined) throw new Error(`pod ${this.name}: line time ${line.time} is not RFC 3339`);
      if (line.message.includes('\n'))
        throw new Error(`pod ${this.name}: a line holds no newline: ${JSON.stringify(line.message)}`);
      // The kubelet reprints the runtime's timestamp with RFC3339Nano: normalize like it does.
      const stamped = `${formatNanos(nanos)} ${line.message}\n`;
      const held: HeldLine = { nanos, stamped, plain: `${line.message}\n` };
      instance.lines.push(held);
      for (const follower of instance.followers) sendLines(instance, follower, [held]);
    }
  }

  terminate(exitCode: number, finishedAt: Date): void {
    this.assertAlive('terminate');
    const instance = this.current;
    if (instance === undefined || instance.exit !== undefined)
      throw new Error(`pod ${this.name}: terminate with no running container`);
    instance.exit = { exitCode, finishedAt };
    // Everything was written as it came: a follower has it all, so its stream ends cleanly.
    endFollowers(instance);
  }

  waitRestart(reason = 'CrashLoopBackOff'): void {
    this.assertAlive('waitRestart');
    const instance = this.current;
    if (instance?.exit === undefined) throw new Error(`pod ${this.name}: waitRestart needs a terminated container`);
    if (!this.restarts(instance.exit.exitCode))
      throw new Error(
        `pod ${this.name}: restartPolicy ${this.restartPolicy} does not restart exit ${instance.exit.exitCode}`,
      );
    this.last = instance;
    this.current = undefined;
    this.waitingReason = reason;
  }

  rotate(keepLast: number): void {
    this.assertAlive('rotate');
    if (this.current === undefined) throw new Error(`pod ${this.name}: rotate with no current container`);
    this.current.lines = keepLast <= 0 ? [] : this.current.lines.slice(-keepLast);
  }

  dropStreams(how: 'reset' | 'end'): void {
    for (const instance of this.instances()) {
      for (const follower of instance.followers) {
        if (how === 'reset') follower.res.destroy();
        else follower.res.end();
      }
      instance.followers.clear();
    }
  }

  delete(): void {
    if (this.deleted) return;
    this.deleted = true;
    // Deleting kills the container: its follow streams reach the end of the log and end.
    for (const instance of this.instances()) endFollowers(instance);
  }

  openFollows(): number {
    return this.instances().reduce((sum, instance) => sum + instance.followers.size, 0);
  }

  /** Would the kubelet start the container again after this exit? */
  restarts(exitCode: number): boolean {
    return this.restartPolicy === 'Always' || (this.restartPolicy === 'OnFailure' && exitCode !== 0);
  }

  phase(): string {
    if (!this.started) return 'Pending';
    const exit = this.current?.exit;
    if (exit !== undefined && !this.restarts(exit.exitCode)) return exit.exitCode === 0 ? 'Succeeded' : 'Failed';
    return 'Running';
  }

  instances(): Instance[] {
    return [this.current, this.last].filter((i): i is Instance => i !== undefined);
  }

  private assertAlive(what: string): void {
    if (this.deleted) throw new Error(`pod ${this.name}: ${what} after delete`);
  }
}

function containerId(instance: Instance): string {
  return `containerd://${instance.id}`;
}

function terminatedState(instance: Instance): Record<string, unknown> {
  const exit = instance.exit;
  if (exit === undefined) throw new Error(`container ${instance.id} has not terminated`);
  return {
    containerID: containerId(instance),
    exitCode: exit.exitCode,
    reason: exit.exitCode === 0 ? 'Completed' : 'Error',
    startedAt: k8sTime(instance.startedAt),
    finishedAt: k8sTime(exit.finishedAt),
  };
}

/** The pod object as GET returns it (the fields a client may read). */
function podObject(pod: PodState): unknown {
  const current = pod.current;
  const running = current !== undefined && current.exit === undefined;
  let state: Record<string, unknown>;
  if (current === undefined && pod.last === undefined) {
    state = { waiting: { reason: pod.waitingReason ?? 'ContainerCreating' } };
  } else if (current === undefined) {
    const message = `back-off 10s restarting failed container=${pod.name} pod=${pod.name}_${pod.namespace}(${pod.uid})`;
    state = { waiting: { reason: pod.waitingReason ?? 'CrashLoopBackOff', message } };
  } else if (running) {
    state = { running: { startedAt: k8sTime(current.startedAt) } };
  } else {
    state = { terminated: terminatedState(current) };
  }
  // In CrashLoopBackOff the status keeps the crashed instance's id, as the kubelet reports it.
  const shownId = current ?? pod.last;
  const status: Record<string, unknown> = {
    name: pod.name,
    image: 'registry.example/job:1',
    imageID: 'registry.example/job@sha256:ab',
    ready: running,
    started: running,
    restartCount: pod.restartCount,
    state,
    lastState: pod.last === undefined ? {} : { terminated: terminatedState(pod.last) },
    ...(shownId === undefined ? {} : { containerID: containerId(shownId) }),
  };
  return {
    kind: 'Pod',
    apiVersion: 'v1',
    metadata: {
      name: pod.name,
      namespace: pod.namespace,
      uid: pod.uid,
      resourceVersion: '1',
      creationTimestamp: k8sTime(pod.createdAt),
    },
    spec: {
      containers: [{ name: pod.name, image: 'registry.example/job:1' }],
      restartPolicy: pod.restartPolicy,
      nodeName: 'node-1',
    },
    status: { phase: pod.phase(), startTime: k8sTime(pod.createdAt), containerStatuses: [status] },
  };
}

/** Writes lines to a follower within its since filter and byte limit; ends it at the limit. */
function sendLines(instance: Instance, follower: Follower, lines: readonly HeldLine[]): void {
  for (const line of lines) {
    if (follower.sinceNanos !== undefined && line.nanos < follower.sinceNanos) continue;
    const bytes = Buffer.from(follower.timestamps ? line.stamped : line.plain);
    if (bytes.length >= follower.remaining) {
      // limitBytes cuts the body where the count runs out, mid-line if need be.
      follower.res.end(bytes.subarray(0, follower.remaining));
      instance.followers.delete(follower);
      return;
    }
    follower.remaining -= bytes.length;
    follower.res.write(bytes);
  }
}

function endFollowers(instance: Instance): void {
  for (const follower of instance.followers) follower.res.end();
  instance.followers.clear();
}

/** Go's strconv.ParseBool, which the API server uses for boolean query parameters. */
function parseBool(value: string | null): boolean | undefined {
  if (value === null) return false;
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(value)) return false;
  return undefined;
}

function parseInteger(value: string | null): number | undefined | 'bad' {
  if (value === null) return undefined;
  return /^[+-]?\d+$/.test(value) ? Number(value) : 'bad';
}

/** The request as recorded for tests: lenient, so a malformed query is still visible. */
function recordOf(namespace: string, pod: string, query: URLSearchParams): LogRequest {
  const number = (key: string): number | undefined => {
    const n = parseInteger(query.get(key));
    return typeof n === 'number' ? n : undefined;
  };
  const container = query.get('container');
  const sinceTime = query.get('sinceTime');
  const sinceSeconds = number('sinceSeconds');
  const tailLines = number('tailLines');
  const limitBytes = number('limitBytes');
  return {
    namespace,
    pod,
    ...(container === null ? {} : { container }),
    follow: parseBool(query.get('follow')) === true,
    previous: parseBool(query.get('previous')) === true,
    timestamps: parseBool(query.get('timestamps')) === true,
    ...(sinceTime === null ? {} : { sinceTime }),
    ...(sinceSeconds === undefined ? {} : { sinceSeconds }),
    ...(tailLines === undefined ? {} : { tailLines }),
    ...(limitBytes === undefined ? {} : { limitBytes }),
  };
}

function badRequest(message: string): StatusAnswer {
  return { code: 400, reason: 'BadRequest', message };
}

/** PodLogOptions decoding (400) then validation (422), as the API server does before the kubelet. */
function parseLogQuery(pod: string, query: URLSearchParams, nowMs: number): LogQuery | StatusAnswer {
  const follow = parseBool(query.get('follow'));
  const previous = parseBool(query.get('previous'));
  const timestamps = parseBool(query.get('timestamps'));
  const sinceSeconds = parseInteger(query.get('sinceSeconds'));
  const tailLines = parseInteger(query.get('tailLines'));
  const limitBytes = parseInteger(query.get('limitBytes'));
  const sinceText = query.get('sinceTime');
  const sinceTime = sinceText === null ? undefined : parseRfc3339(sinceText);
  if (follow === undefined || previous === undefined || timestamps === undefined)
    return badRequest('invalid boolean in the query');
  if (sinceSeconds === 'bad' || tailLines === 'bad' || limitBytes === 'bad')
    return badRequest('invalid integer in the query');
  if (sinceText !== null && sinceTime === undefined)
    return badRequest(`parsing time "${sinceText}" as "2006-01-02T15:04:05Z07:00": cannot parse`);
  const invalid: { field: string; value: string; why: string }[] = [];
  if (sinceTime !== undefined && sinceSeconds !== undefined)
    invalid.push({
      field: 'sinceTime',
      value: sinceText ?? '',
      why: 'at most one of `sinceTime` or `sinceSeconds` may be specified',
    });
  if (sinceSeconds !== undefined && sinceSeconds < 1)
    invalid.push({ field: 'sinceSeconds', value: String(sinceSeconds), why: 'must be greater than 0' });
  if (tailLines !== undefined && tailLines < 0)
    invalid.push({ field: 'tailLines', value: String(tailLines), why: 'must be greater than or equal to 0' });
  if (limitBytes !== undefined && limitBytes < 1)
    invalid.push({ field: 'limitBytes', value: String(limitBytes), why: 'must be greater than 0' });
  if (invalid.length > 0) {
    const message = `PodLogOptions "${pod}" is invalid: ${invalid.map((i) => `${i.field}: Invalid value: ${i.value}: ${i.why}`).join(', ')}`;
    const causes = invalid.map((i) => ({
      reason: 'FieldValueInvalid',
      message: `Invalid value: ${i.value}: ${i.why}`,
      field: i.field,
    }));
    return { code: 422, reason: 'Invalid', message, details: { name: pod, kind: 'PodLogOptions', causes } };
  }
  // metav1.Time is forwarded to the kubelet as time.RFC3339: whole seconds, truncated.
  const truncated =
    sinceTime === undefined
      ? undefined
      : sinceTime - (((sinceTime % NANOS_PER_SECOND) + NANOS_PER_SECOND) % NANOS_PER_SECOND);
  const relative = sinceSeconds === undefined ? undefined : BigInt(nowMs - sinceSeconds * 1000) * 1_000_000n;
  return {
    container: query.get('container') ?? undefined,
    follow,
    previous,
    timestamps,
    sinceNanos: truncated ?? relative,
    tailLines,
    limitBytes,
  };
}

/** The instance the kubelet reads, or its error (kubelet validateContainerLogStatus). */
function chooseInstance(pod: PodState, previous: boolean): Instance | StatusAnswer {
  const container = pod.name;
  if (previous)
    return pod.last ?? badRequest(`previous terminated container "${container}" in pod "${pod.name}" not found`);
  if (pod.current !== undefined) return pod.current;
  if (pod.last !== undefined) return pod.last;
  return badRequest(
    `container "${container}" in pod "${pod.name}" is waiting to start: ${pod.waitingReason ?? 'ContainerCreating'}`,
  );
}

/** The scripted pods of one double, and its answers for them. */
export class KubeCluster {
  private readonly pods = new Map<string, PodState>();
  readonly logRequests: LogRequest[] = [];

  constructor(private readonly now: () => number = Date.now) {}

  pod(namespace: string, name: string, options: ScriptedPodOptions = {}): ScriptedPod {
    const key = `${namespace}/${name}`;
    this.pods.get(key)?.delete();
    const pod = new PodState(namespace, name, options);
    this.pods.set(key, pod);
    return pod;
  }

  /** Does this double script the pod (alive or deleted)? Then it answers for it. */
  has(namespace: string, name: string): boolean {
    return this.pods.has(`${namespace}/${name}`);
  }

  delete(namespace: string, name: string): void {
    this.pods.get(`${namespace}/${name}`)?.delete();
  }

  /** GET pod: the object, or 404 once deleted. */
  getPod(namespace: string, name: string): { readonly pod: unknown } | StatusAnswer {
    const pod = this.alive(namespace, name);
    return pod === undefined ? notFound(name) : { pod: podObject(pod) };
  }

  /** Records a log request (whoever answers it). */
  record(namespace: string, name: string, query: URLSearchParams): void {
    this.logRequests.push(recordOf(namespace, name, query));
  }

  /** GET pod/log for a scripted pod: answers on `res`, or returns the error to answer with. */
  getLog(namespace: string, name: string, query: URLSearchParams, res: ServerResponse): StatusAnswer | undefined {
    const pod = this.alive(namespace, name);
    if (pod === undefined) return notFound(name);
    const options = parseLogQuery(name, query, this.now());
    if ('code' in options) return options;
    // The real API server defaults a missing container when the pod has exactly one; the double
    // refuses, so a client that forgets `container` (job pods may grow sidecars) fails here.
    if (options.container !== pod.name)
      return badRequest(`container ${options.container ?? ''} is not valid for pod ${pod.name}`);
    const instance = chooseInstance(pod, options.previous);
    if ('code' in instance) return instance;
    serveLog(instance, options, res);
    return undefined;
  }

  /** Ends every open follow stream (the server is closing). */
  close(): void {
    for (const pod of this.pods.values()) pod.dropStreams('reset');
  }

  private alive(namespace: string, name: string): PodState | undefined {
    const pod = this.pods.get(`${namespace}/${name}`);
    return pod === undefined || pod.deleted ? undefined : pod;
  }
}

export function notFound(name: string): StatusAnswer {
  return { code: 404, reason: 'NotFound', message: `pods "${name}" not found`, details: { name, kind: 'pods' } };
}

/** Sends what the instance holds after the filters; keeps a follow of a running instance open. */
function serveLog(instance: Instance, options: LogQuery, res: ServerResponse): void {
  // No Content-Length: the body is chunked, as the API server streams it from the kubelet.
  res.writeHead(200, { 'Content-Type': 'text/plain' });
  res.flushHeaders();
  const held =
    options.tailLines === undefined
      ? instance.lines
      : options.tailLines === 0
        ? []
        : instance.lines.slice(-options.tailLines);
  const follower: Follower = {
    res,
    timestamps: options.timestamps,
    sinceNanos: options.sinceNanos,
    remaining: options.limitBytes ?? Infinity,
  };
  instance.followers.add(follower);
  sendLines(instance, follower, held);
  if (!instance.followers.has(follower)) return; // the byte limit ended it
  if (!options.follow || instance.exit !== undefined) {
    instance.followers.delete(follower);
    res.end();
    return;
  }
  res.on('close', () => instance.followers.delete(follower));
}

/** A `Status` object, as the API server answers errors. */
export function sendStatus(res: ServerResponse, answer: StatusAnswer): void {
  sendJson(res, answer.code, {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: answer.message,
    reason: answer.reason,
    ...(answer.details ? { details: answer.details } : {}),
    code: answer.code,
  });
}

export function sendJson(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

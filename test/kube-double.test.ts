// The Kubernetes API double's scripted pods, read with raw HTTP: the log follower's tests are only
// as honest as the double's imitation of the API server and the kubelet behind it.
import { request, type IncomingMessage } from 'node:http';
import { PassThrough } from 'node:stream';
import { CoreV1Api, KubeConfig, Log } from '@kubernetes/client-node';
import { FAKE_TOKEN, rfc3339Nano, startKubeApi, type KubeApiDouble } from './support/kube-api.js';

const A = 'a1'.repeat(32);
const B = 'b2'.repeat(32);
const C = 'c3'.repeat(32);
const T0 = Date.parse('2026-11-25T10:00:00Z');
const at = (seconds: number, nanos = 0): string => rfc3339Nano(T0 + seconds * 1000, nanos);

let api: KubeApiDouble;
beforeAll(async () => {
  api = await startKubeApi();
});
afterAll(() => api.close());

/** An open GET: the body so far, and how it ended. */
interface Reply {
  readonly status: number;
  readonly headers: IncomingMessage['headers'];
  body: string;
  readonly ended: Promise<'end' | 'reset'>;
  /** Resolves once the body holds `text`. */
  until(text: string): Promise<void>;
  destroy(): void;
}

function get(path: string, token: string | undefined = FAKE_TOKEN): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${api.server}${path}`,
      { headers: token === undefined ? {} : { Authorization: `Bearer ${token}` } },
      (res) => {
        const waiters: { text: string; done: () => void }[] = [];
        const reply: Reply = {
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: '',
          ended: new Promise((settle) => {
            res.on('end', () => settle('end'));
            res.on('error', () => settle('reset'));
            res.on('aborted', () => settle('reset'));
          }),
          until: (text) => new Promise((done) => (reply.body.includes(text) ? done() : waiters.push({ text, done }))),
          destroy: () => req.destroy(),
        };
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          reply.body += chunk;
          for (const w of waiters.filter((x) => reply.body.includes(x.text))) w.done();
        });
        resolve(reply);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

async function getAll(path: string, token?: string): Promise<{ status: number; body: string; how: string }> {
  const reply = await get(path, token);
  const how = await reply.ended;
  return { status: reply.status, body: reply.body, how };
}

/** The fields of a pod object the tests look at. */
interface PodJson {
  readonly metadata: { readonly uid: string };
  readonly spec: unknown;
  readonly status: {
    readonly phase: string;
    readonly containerStatuses: readonly { readonly state: { readonly terminated?: unknown } }[];
  };
}
async function getPod(name: string): Promise<PodJson> {
  const reply = await getAll(`/api/v1/namespaces/jobs/pods/${name}`);
  expect(reply.status).toBe(200);
  return JSON.parse(reply.body) as PodJson;
}

const logPath = (pod: string, query: string): string => `/api/v1/namespaces/jobs/pods/${pod}/log?${query}`;
const message = (body: string): string => (JSON.parse(body) as { message: string }).message;

describe('kube-api double: scripted pods', () => {
  it('serves the pod object: pending, then running with times to the second, a fresh uid per pod', async () => {
    const pod = api.pod('jobs', 'p-status', { restartPolicy: 'Never' });
    const pending = await getPod('p-status');
    expect(pending.status.phase).toBe('Pending');
    expect(pending.status.containerStatuses[0]).toMatchObject({
      name: 'p-status',
      restartCount: 0,
      state: { waiting: { reason: 'ContainerCreating' } },
    });
    expect(pending.spec).toMatchObject({ restartPolicy: 'Never', containers: [{ name: 'p-status' }] });

    pod.start(A, new Date(T0 + 1999));
    const running = await getPod('p-status');
    expect(running.status.phase).toBe('Running');
    expect(running.status.containerStatuses[0]).toMatchObject({
      containerID: `containerd://${A}`,
      state: { running: { startedAt: '2026-11-25T10:00:01Z' } },
    });

    pod.terminate(1, new Date(T0 + 5000));
    const failed = await getPod('p-status');
    expect(failed.status.phase).toBe('Failed');
    expect(failed.status.containerStatuses[0]?.state.terminated).toMatchObject({
      exitCode: 1,
      reason: 'Error',
      finishedAt: '2026-11-25T10:00:05Z',
    });
    expect(pod.uid).toBe(pending.metadata.uid);
    expect(api.pod('jobs', 'p-status').uid).not.toBe(pod.uid);
  });

  it('refuses a log request as the API server and kubelet do', async () => {
    api.pod('jobs', 'p-errors');
    expect((await getAll(logPath('p-errors', 'container=p-errors'), 'wrong')).status).toBe(401);
    const missing = await getAll(logPath('p-errors', 'follow=false'));
    expect([missing.status, message(missing.body)]).toEqual([400, 'container  is not valid for pod p-errors']);
    const wrong = await getAll(logPath('p-errors', 'container=sidecar'));
    expect([wrong.status, message(wrong.body)]).toEqual([400, 'container sidecar is not valid for pod p-errors']);
    const waiting = await getAll(logPath('p-errors', 'container=p-errors'));
    expect([waiting.status, message(waiting.body)]).toEqual([
      400,
      'container "p-errors" in pod "p-errors" is waiting to start: ContainerCreating',
    ]);
    const previous = await getAll(logPath('p-errors', 'container=p-errors&previous=true'));
    expect([previous.status, message(previous.body)]).toEqual([
      400,
      'previous terminated container "p-errors" in pod "p-errors" not found',
    ]);
    const unknown = await getAll(logPath('p-nobody', 'container=p-nobody'));
    expect([unknown.status, message(unknown.body)]).toEqual([404, 'pods "p-nobody" not found']);
    const both = await getAll(logPath('p-errors', `container=p-errors&sinceSeconds=5&sinceTime=${at(0)}`));
    expect(both.status).toBe(422);
    expect(api.logRequests.at(-1)).toEqual({
      namespace: 'jobs',
      pod: 'p-errors',
      container: 'p-errors',
      follow: false,
      previous: false,
      timestamps: false,
      sinceSeconds: 5,
      sinceTime: at(0),
    });
  });

  it('follows a running container: held lines, then each appended line, and ends when it terminates', async () => {
    const pod = api.pod('jobs', 'p-follow', { restartPolicy: 'Never' });
    pod.start(A, new Date(T0));
    pod.append([{ time: '2026-11-25T10:00:00.120000000Z', message: 'one' }]);
    const reply = await get(logPath('p-follow', 'container=p-follow&follow=true&timestamps=true'));
    expect([reply.status, reply.headers['content-type'], reply.headers['transfer-encoding']]).toEqual([
      200,
      'text/plain',
      'chunked',
    ]);
    await reply.until('one\n');
    pod.append([{ time: at(1, 5), message: 'two' }]);
    await reply.until('two\n');
    pod.terminate(0, new Date(T0 + 2000));
    expect(await reply.ended).toBe('end');
    // The kubelet reprints the runtime's time with RFC3339Nano: trailing zeros go.
    expect(reply.body).toBe('2026-11-25T10:00:00.12Z one\n2026-11-25T10:00:01.000000005Z two\n');
    const after = await getAll(logPath('p-follow', 'container=p-follow&follow=true'));
    expect([after.body, after.how]).toEqual(['one\ntwo\n', 'end']);
  });

  it('truncates sinceTime to the second, applies tailLines before it, and cuts at limitBytes', async () => {
    const pod = api.pod('jobs', 'p-filter');
    pod.start(A, new Date(T0));
    pod.append([
      { time: at(1, 100), message: 'a' },
      { time: at(2, 100), message: 'b' },
      { time: at(2, 900_000), message: 'c' },
      { time: at(3), message: 'd' },
    ]);
    const since = (query: string): Promise<string> =>
      getAll(logPath('p-filter', `container=p-filter&${query}`)).then((r) => r.body);
    expect(await since(`sinceTime=${at(2, 500_000)}`)).toBe('b\nc\nd\n');
    expect(await since(`sinceTime=${at(2, 500_000)}&tailLines=1`)).toBe('d\n');
    expect(await since(`sinceTime=${at(3)}&tailLines=3`)).toBe('d\n');
    expect(await since('tailLines=0')).toBe('');
    expect(await since('limitBytes=5')).toBe('a\nb\nc');
  });

  it('after a restart serves the new instance, previous the one before; in CrashLoopBackOff the crashed one', async () => {
    const pod = api.pod('jobs', 'p-restart', { restartPolicy: 'OnFailure' });
    pod.start(A, new Date(T0));
    pod.append([{ time: at(1), message: 'first run' }]);
    pod.terminate(2, new Date(T0 + 2000));
    pod.waitRestart();
    const body = async (query: string): Promise<string> =>
      (await getAll(logPath('p-restart', `container=p-restart&${query}`))).body;
    const waiting = await getPod('p-restart');
    expect(waiting.status.phase).toBe('Running');
    expect(waiting.status.containerStatuses[0]).toMatchObject({
      restartCount: 0,
      state: { waiting: { reason: 'CrashLoopBackOff' } },
      lastState: { terminated: { containerID: `containerd://${A}`, exitCode: 2 } },
    });
    // The kubelet serves the last terminated instance while the next one waits to start.
    expect(await body('follow=true')).toBe('first run\n');
    pod.start(B, new Date(T0 + 3000));
    pod.append([{ time: at(4), message: 'second run' }]);
    expect(await body('')).toBe('second run\n');
    expect(await body('previous=true')).toBe('first run\n');
    pod.terminate(1, new Date(T0 + 5000));
    pod.start(C, new Date(T0 + 6000));
    expect(await body('previous=true')).toBe('second run\n');
    const running = await getPod('p-restart');
    expect(running.status.containerStatuses[0]).toMatchObject({
      restartCount: 2,
      containerID: `containerd://${C}`,
      lastState: { terminated: { containerID: `containerd://${B}` } },
    });
    pod.terminate(0, new Date(T0 + 7000));
    expect((await getPod('p-restart')).status.phase).toBe('Succeeded');
    expect(() => pod.waitRestart()).toThrow(/OnFailure/);
  });

  it('rotation drops old lines; dropped streams reset or end; a deleted pod ends its streams and is 404', async () => {
    const pod = api.pod('jobs', 'p-drop');
    pod.start(A, new Date(T0));
    pod.append([1, 2, 3].map((n) => ({ time: at(n), message: `line ${n}` })));
    pod.rotate(1);
    const path = logPath('p-drop', 'container=p-drop&follow=true');
    const reset = await get(path);
    await reset.until('line 3\n');
    expect(reset.body).toBe('line 3\n');
    pod.dropStreams('reset');
    expect(await reset.ended).toBe('reset');
    const ended = await get(path);
    await ended.until('line 3\n');
    pod.dropStreams('end');
    expect(await ended.ended).toBe('end');
    const last = await get(path);
    await last.until('line 3\n');
    api.delete('jobs', 'p-drop');
    expect(await last.ended).toBe('end');
    expect((await getAll('/api/v1/namespaces/jobs/pods/p-drop')).status).toBe(404);
    expect((await getAll(path)).status).toBe(404);
  });

  it('close() ends open follow streams without hanging', async () => {
    const own = await startKubeApi();
    const pod = own.pod('jobs', 'p-close');
    pod.start(A, new Date(T0));
    const reply = await new Promise<IncomingMessage>((resolve, reject) => {
      request(
        `${own.server}${logPath('p-close', 'container=p-close&follow=true')}`,
        { headers: { Authorization: `Bearer ${FAKE_TOKEN}` } },
        resolve,
      )
        .on('error', reject)
        .end();
    });
    const ended = new Promise<void>((resolve) => reply.on('close', () => resolve()));
    reply.resume();
    await own.close();
    await ended;
  });

  it("is read by @kubernetes/client-node's CoreV1Api and Log through the kubeconfig file", async () => {
    const kube = new KubeConfig();
    kube.loadFromFile(api.kubeconfigPath);
    const pod = api.pod('jobs', 'p-client', { restartPolicy: 'Never' });
    pod.start(A, new Date(T0));
    pod.append([{ time: at(1, 250_000), message: 'held' }]);
    const read = await kube.makeApiClient(CoreV1Api).readNamespacedPod({ namespace: 'jobs', name: 'p-client' });
    expect(read.status?.containerStatuses?.[0]?.containerID).toBe(`containerd://${A}`);

    const out = new PassThrough();
    let body = '';
    out.setEncoding('utf8');
    const held = new Promise<void>((resolve) =>
      out.on('data', (chunk: string) => {
        body += chunk;
        if (body.includes('held\n')) resolve();
      }),
    );
    const ended = new Promise<void>((resolve) => out.on('end', () => resolve()));
    await new Log(kube).log('jobs', 'p-client', 'p-client', out, {
      follow: true,
      timestamps: true,
      sinceTime: at(1, 500_000),
    });
    await held;
    pod.append([{ time: at(2), message: 'live' }]);
    pod.terminate(0, new Date(T0 + 3000));
    await ended;
    // sinceTime 10:00:01.0005 is truncated to 10:00:01: the line at 10:00:01.00025 is sent.
    expect(body).toBe(`${at(1, 250_000)} held\n${at(2)} live\n`);
    expect(api.logRequests.at(-1)).toEqual({
      namespace: 'jobs',
      pod: 'p-client',
      container: 'p-client',
      follow: true,
      previous: false,
      timestamps: true,
      sinceTime: at(1, 500_000),
    });
  });
});

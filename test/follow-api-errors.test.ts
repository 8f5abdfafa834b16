// log-reader follow when the Kubernetes API fails: refusals and errors are retried (bounded,
// abortable), and a read that cannot go on fails with a LiveLogError naming the pod.
import { LiveLogError } from '@platform/log-reader';
import { startKubeApi, type KubeApiDouble } from './support/kube-api.js';
import { faultyApi } from './support/kube-proxy.js';
import { follow, jobLines } from './support/follow.js';
import { ID, POD, at, instances } from './support/follow-scenarios.js';
import { newWorld } from './support/world.js';

let kube: KubeApiDouble;
beforeEach(async () => {
  kube = await startKubeApi();
});
afterEach(async () => {
  await kube.close();
});

const isPodGet = (u: URL): boolean => !u.pathname.endsWith('/log');

describe('follow: the API failing', () => {
  it('a 400 "waiting to start" to a follow request while the pod says running: looks at the pod, pauses, asks again, loses nothing', async () => {
    const w = await newWorld('follow-api-400-running');
    const pod = instances(kube, { id: ID, startedAt: at(0), lines: jobLines('a', 3, at(0)) });
    let refused = 0;
    const api = await faultyApi(kube, (u) => {
      if (u.pathname.endsWith('/log') && u.searchParams.get('follow') === 'true' && refused < 3) {
        refused += 1;
        return {
          code: 400,
          reason: 'BadRequest',
          message: `container "${POD}" in pod "${POD}" is waiting to start: ContainerCreating`,
        };
      }
      return undefined;
    });
    try {
      const read = follow(w.reader, POD, { follow: { kube: api.kube, namespace: 'jobs', pollInterval: 10 } });
      await read.waitFor(() => pod.openFollows() === 1);
      pod.append(jobLines('a', 2, at(3), 3));
      await read.until((r) => r.length === 5);
      pod.terminate(0, at(10));
      await read.ended;
      expect(read.messages()).toEqual(['a-0', 'a-1', 'a-2', 'a-3', 'a-4']);
      expect(refused).toBe(3);
      // Each refusal is followed by a look at the pod (then a pause) before the next request.
      const follows = api.seen.map((u, i) => ({ u, i })).filter(({ u }) => u.searchParams.get('follow') === 'true');
      for (let k = 1; k < follows.length; k++)
        expect(
          api.seen.slice((follows[k - 1] as { i: number }).i, (follows[k] as { i: number }).i).some(isPodGet),
        ).toBe(true);
    } finally {
      await api.close();
    }
  });

  it('a 503, a dropped connection and a 429 on the pod are retried; the read goes on', async () => {
    const w = await newWorld('follow-api-retry-ok');
    const pod = kube.pod('jobs', POD, { restartPolicy: 'OnFailure' });
    pod.start(ID, at(0));
    pod.append(jobLines('a', 3, at(0)));
    pod.terminate(0, at(10));
    let n = 0;
    const api = await faultyApi(kube, (u) => {
      if (!isPodGet(u)) return undefined;
      n += 1;
      if (n === 1)
        return {
          code: 503,
          reason: 'ServiceUnavailable',
          message: 'the server is currently unable to handle the request',
        };
      if (n === 2) return 'reset';
      if (n === 3) return { code: 429, reason: 'TooManyRequests', message: 'too many requests' };
      return undefined;
    });
    try {
      const read = follow(w.reader, POD, { follow: { kube: api.kube, namespace: 'jobs', pollInterval: 10 } });
      await read.ended;
      expect(read.messages()).toEqual(['a-0', 'a-1', 'a-2']);
    } finally {
      await api.close();
    }
  });

  it('a 503 that does not pass fails the read after 4 tries with a LiveLogError naming the pod, after the archive', async () => {
    const w = await newWorld('follow-api-retry-fail');
    await w.container(POD, ID).upload(jobLines('a', 2, at(0)));
    kube.pod('jobs', POD, { restartPolicy: 'OnFailure' }).start(ID, at(0));
    const api = await faultyApi(kube, () => ({
      code: 503,
      reason: 'ServiceUnavailable',
      message: 'the server is currently unable to handle the request',
    }));
    try {
      const read = follow(w.reader, POD, { follow: { kube: api.kube, namespace: 'jobs', pollInterval: 10 } });
      const error = await read.ended.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(LiveLogError);
      expect(error).toMatchObject({ status: 503, pod: POD });
      // The archive was readable: it came first, whole.
      expect(read.messages()).toEqual(['a-0', 'a-1']);
      expect(api.seen.filter(isPodGet)).toHaveLength(4);
    } finally {
      await api.close();
    }
  });

  it('an abort while a failed request waits to be tried again ends the read with an AbortError, asking no more', async () => {
    const w = await newWorld('follow-api-retry-abort');
    kube.pod('jobs', POD, { restartPolicy: 'OnFailure' }).start(ID, at(0));
    const api = await faultyApi(kube, () => ({ code: 500, reason: 'InternalError', message: 'boom' }));
    try {
      const controller = new AbortController();
      const read = follow(w.reader, POD, {
        follow: { kube: api.kube, namespace: 'jobs', pollInterval: 10 },
        signal: controller.signal,
      });
      await read.waitFor(() => api.seen.length >= 1);
      controller.abort();
      await expect(read.ended).rejects.toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
      expect(api.seen.length).toBeLessThanOrEqual(2);
    } finally {
      await api.close();
    }
  });
});

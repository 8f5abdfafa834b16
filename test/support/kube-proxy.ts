// An API server in front of the Kubernetes API double that a test can make fail: a Status
// answer or a dropped connection for the requests it picks, or anything done to the scripted
// pod right before a request is passed on (a restart at the worst moment).
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { FAKE_TOKEN, kubeconfig, type KubeApiDouble } from './kube-api.js';

/** What the proxy does with a request: pass it on, answer with a Status, or drop the connection. */
export type Intercept =
  { readonly code: number; readonly reason: string; readonly message: string } | 'reset' | undefined;

/** An API server in front of the double that fails the requests `intercept` picks. */
export async function faultyApi(
  target: KubeApiDouble,
  intercept: (url: URL) => Intercept,
): Promise<{ kube: KubeConfig; seen: URL[]; close: () => Promise<void> }> {
  const seen: URL[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://proxy');
    seen.push(url);
    const fault = intercept(url);
    if (fault === 'reset') return void req.socket.destroy();
    if (fault !== undefined) {
      const body = JSON.stringify({
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: fault.message,
        reason: fault.reason,
        code: fault.code,
      });
      res.writeHead(fault.code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
      return void res.end(body);
    }
    const upstream = request(
      `${target.server}${req.url ?? '/'}`,
      { method: req.method, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    res.on('close', () => upstream.destroy());
    upstream.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const kc = new KubeConfig();
  kc.loadFromString(kubeconfig(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, FAKE_TOKEN));
  return {
    kube: kc,
    seen,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

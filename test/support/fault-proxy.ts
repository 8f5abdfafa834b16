// A small HTTP proxy on loopback in front of the real S3 test server, which injects the
// faults a real S3 shows now and then: throttling (503 SlowDown), 500 InternalError, slow
// responses, connections dropped before the request reaches the server, connections
// dropped after the server did the work (the client never hears), and response bodies cut
// short. A rule decides per request; everything the proxy did is recorded for assertions.
//
//   const proxy = await startFaultProxy((r) => (r.operation === 'PutObject' && r.attempt === 1 ? SLOW_DOWN : PASS));
//   const client = createS3Client({ endpoint: proxy.url, ... });
//   ...
//   expect(proxy.log.filter((e) => e.fault !== 'pass')).toHaveLength(...);
//   await proxy.close();
//
// Signatures: SigV4 signs the Host header, and the client signs the host it talks to (the
// proxy's 127.0.0.1:port). The proxy forwards the Host header exactly as the client sent it,
// so the server checks the signature against the same value (versitygw verifies signatures;
// both it and moto route path-style requests by path, not by Host). The request is forwarded
// byte for byte otherwise, except hop-by-hop headers and `Expect` (unsigned; the proxy
// answers `100 Continue` itself).
import { once } from 'node:events';
import {
  Agent,
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** What the proxy does with one request. */
export type Fault =
  /** Forward it and relay the answer. */
  | { readonly kind: 'pass' }
  /** Answer 503 with an S3 `SlowDown` error; the server never sees the request. */
  | { readonly kind: 'slow-down' }
  /** Answer 500 with an S3 `InternalError`; the server never sees the request. */
  | { readonly kind: 'internal-error' }
  /**
   * Wait `ms` before forwarding the request (`before: 'request'`, the default: a client
   * that gives up first never reaches the server) or before relaying the server's answer
   * (`before: 'response'`: the server did the work whether the client waits or not).
   */
  | { readonly kind: 'delay'; readonly ms: number; readonly before?: 'request' | 'response' }
  /** Destroy the connection without forwarding: the server never sees the request. */
  | { readonly kind: 'drop-before' }
  /** Forward it, let the server answer in full, then destroy the connection instead of relaying the answer. */
  | { readonly kind: 'drop-after' }
  /**
   * Relay the status, the headers and the first `afterBytes` bytes of the body, then destroy
   * the connection (a body no longer than that arrives whole, then the connection closes).
   */
  | { readonly kind: 'cut-body'; readonly afterBytes: number }
  /**
   * Answer an S3 error of this status and code, as a store that behaves so does; the server
   * never sees the request.
   */
  | { readonly kind: 'answer'; readonly status: number; readonly code: string; readonly message: string };

export const PASS: Fault = { kind: 'pass' };
export const SLOW_DOWN: Fault = { kind: 'slow-down' };
export const INTERNAL_ERROR: Fault = { kind: 'internal-error' };
export const DROP_BEFORE: Fault = { kind: 'drop-before' };
export const DROP_AFTER: Fault = { kind: 'drop-after' };
/** LocalStack's answer to a DeleteObject with If-Match (AWS has enforced it since September 2025). */
export const NOT_IMPLEMENTED: Fault = {
  kind: 'answer',
  status: 501,
  code: 'NotImplemented',
  message: 'A header you provided implies functionality that is not implemented',
};
/** AWS's and LocalStack's answer to a retried CompleteMultipartUpload whose first attempt completed it. */
export const NO_SUCH_UPLOAD: Fault = {
  kind: 'answer',
  status: 404,
  code: 'NoSuchUpload',
  message:
    'The specified multipart upload does not exist. The upload ID might be invalid, or the multipart upload might have been aborted or completed.',
};

/** One request as the rule sees it. */
export interface ProxiedRequest {
  /** 1 for the proxy's first request, counting every request (retries too). */
  readonly n: number;
  readonly method: string;
  /** Path and query exactly as received, e.g. `/bucket/metadata/job-1.json?x-id=PutObject`. */
  readonly url: string;
  readonly query: URLSearchParams;
  /** Path-style: the first path segment. */
  readonly bucket: string | undefined;
  /** The decoded object key; `undefined` for a bucket-level request. */
  readonly key: string | undefined;
  /** The S3 operation, as far as method, path and query tell (`PutObject`, `UploadPart`, `DeleteObjects`, …). */
  readonly operation: string;
  /** The SDK's attempt number for this operation (`amz-sdk-request: attempt=N`), 1 when absent. */
  readonly attempt: number;
  /** The SDK's id of the operation, the same for all its attempts (`amz-sdk-invocation-id`). */
  readonly invocationId: string | undefined;
  readonly headers: IncomingHttpHeaders;
}

/** Decides the fault for a request. Called once per request, in arrival order. */
export type FaultRule = (request: ProxiedRequest) => Fault;

/** What the proxy did with one request. */
export interface ProxyLogEntry {
  readonly n: number;
  readonly method: string;
  readonly url: string;
  readonly operation: string;
  readonly bucket: string | undefined;
  readonly key: string | undefined;
  readonly attempt: number;
  readonly invocationId: string | undefined;
  readonly fault: Fault['kind'];
  /**
   * The status the server answered (when the request was forwarded and the answer came), or
   * `undefined` (not forwarded, or the client gave up before it was).
   */
  serverStatus: number | undefined;
  /** The status the client was sent; `undefined` when the connection was destroyed instead. */
  clientStatus: number | undefined;
}

export interface FaultProxy {
  /** `http://127.0.0.1:{port}`: give it to the client as its endpoint. */
  readonly url: string;
  /** Every request so far, in arrival order. */
  readonly log: readonly ProxyLogEntry[];
  /** Replaces the rule for the requests from now on. */
  setRule(rule: FaultRule): void;
  /** Stops listening and destroys open connections, both sides. */
  close(): Promise<void>;
}

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
  'expect',
]);

/** Starts the proxy on 127.0.0.1 (a free port) in front of `target` (default: S3_TEST_ENDPOINT). */
export async function startFaultProxy(
  rule: FaultRule = () => PASS,
  target: string | undefined = process.env['S3_TEST_ENDPOINT'],
): Promise<FaultProxy> {
  if (!target)
    throw new Error(
      'startFaultProxy: no target endpoint (S3_TEST_ENDPOINT is not set; run the tests with jest from the repo root)',
    );
  const upstream = new URL(target);
  const agent = new Agent({ keepAlive: true });
  const log: ProxyLogEntry[] = [];
  const sockets = new Set<Socket>();
  let current = rule;
  let count = 0;
  // Ends the delays still running when the proxy closes (their connections are gone by then).
  const closing = new AbortController();
  const wait = (ms: number): Promise<void> => sleep(ms, undefined, { signal: closing.signal }).catch(() => undefined);

  const server = createServer((req, res) => {
    const request = describe(++count, req);
    let fault: Fault;
    try {
      fault = current(request);
    } catch (error) {
      fault = INTERNAL_ERROR;
      process.emitWarning(`fault proxy rule threw: ${String(error)}`);
    }
    const entry: ProxyLogEntry = {
      n: request.n,
      method: request.method,
      url: request.url,
      operation: request.operation,
      bucket: request.bucket,
      key: request.key,
      attempt: request.attempt,
      invocationId: request.invocationId,
      fault: fault.kind,
      serverStatus: undefined,
      clientStatus: undefined,
    };
    log.push(entry);
    handle(req, res, fault, entry).catch((error: unknown) => {
      if (!closing.signal.aborted) process.emitWarning(`fault proxy: ${String(error)}`);
      req.socket.destroy();
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  // A client that goes away mid-request (its timeout) is normal here, not an error.
  server.on('clientError', (_error, socket) => socket.destroy());

  async function handle(req: IncomingMessage, res: ServerResponse, fault: Fault, entry: ProxyLogEntry): Promise<void> {
    switch (fault.kind) {
      case 'slow-down':
        return answerError(req, res, entry, 503, 'SlowDown', 'Please reduce your request rate.');
      case 'internal-error':
        return answerError(
          req,
          res,
          entry,
          500,
          'InternalError',
          'We encountered an internal error. Please try again.',
        );
      case 'answer':
        return answerError(req, res, entry, fault.status, fault.code, fault.message);
      case 'drop-before':
        req.socket.destroy();
        return;
      case 'delay':
        if ((fault.before ?? 'request') === 'request') {
          await wait(fault.ms);
          if (req.socket.destroyed) return; // the client gave up: the server never sees it
        }
        return forward(req, res, entry, fault);
      default:
        return forward(req, res, entry, fault);
    }
  }

  async function answerError(
    req: IncomingMessage,
    res: ServerResponse,
    entry: ProxyLogEntry,
    status: number,
    code: string,
    message: string,
  ): Promise<void> {
    // Read the request body first, so the client hears the answer instead of a broken pipe.
    req.resume();
    await once(req, 'end').catch(() => undefined);
    if (req.socket.destroyed) return;
    const body =
      '<?xml version="1.0" encoding="UTF-8"?>\n' +
      `<Error><Code>${code}</Code><Message>${message}</Message><Resource>${escapeXml(req.url ?? '/')}</Resource>` +
      `<RequestId>fault-proxy-${entry.n}</RequestId></Error>`;
    entry.clientStatus = status;
    res.writeHead(status, {
      'content-type': 'application/xml',
      'content-length': Buffer.byteLength(body),
      'x-amz-request-id': `fault-proxy-${entry.n}`,
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  function forward(req: IncomingMessage, res: ServerResponse, entry: ProxyLogEntry, fault: Fault): Promise<void> {
    return new Promise<void>((done) => {
      const out = httpRequest({
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        // The client's Host header included: it is part of the signature.
        headers: endToEndHeaders(req.rawHeaders),
        agent,
        setHost: false,
      });
      const abandon = (): void => {
        out.destroy();
        req.socket.destroy();
        done();
      };
      out.on('error', abandon);
      req.on('error', abandon);
      req.on('aborted', abandon);
      out.on('response', (answer) => {
        entry.serverStatus = answer.statusCode;
        relay(answer, res, req, entry, fault)
          .catch(() => {
            answer.destroy();
            req.socket.destroy();
          })
          .finally(done);
      });
      req.pipe(out);
    });
  }

  async function relay(
    answer: IncomingMessage,
    res: ServerResponse,
    req: IncomingMessage,
    entry: ProxyLogEntry,
    fault: Fault,
  ): Promise<void> {
    if (fault.kind === 'drop-after') {
      // The server did the work; the client never hears of it.
      answer.resume();
      await once(answer, 'end').catch(() => undefined);
      req.socket.destroy();
      return;
    }
    if (fault.kind === 'delay' && fault.before === 'response') await wait(fault.ms);
    if (req.socket.destroyed) {
      // The client gave up (its timeout): the answer has nowhere to go.
      answer.destroy();
      return;
    }
    entry.clientStatus = answer.statusCode;
    res.writeHead(answer.statusCode ?? 502, answer.statusMessage, endToEndHeaders(answer.rawHeaders));
    if (fault.kind === 'cut-body') {
      let left = fault.afterBytes;
      for await (const chunk of answer as AsyncIterable<Buffer>) {
        if (left <= 0) break;
        const piece = chunk.subarray(0, left);
        left -= piece.byteLength;
        if (!res.write(piece)) await once(res, 'drain');
      }
      // Let what was written reach the client, then cut the connection mid-body.
      await new Promise<void>((flushed) => res.write('', () => flushed()));
      answer.destroy();
      req.socket.destroy();
      return;
    }
    // A client that goes away mid-body (its own timeout) must not leave the server's answer hanging.
    res.on('close', () => {
      if (!res.writableFinished) answer.destroy();
    });
    answer.pipe(res);
    await Promise.race([once(res, 'finish'), once(res, 'close')]).catch(() => undefined);
  }

  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    log,
    setRule: (next) => {
      current = next;
    },
    close: async () => {
      closing.abort();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      agent.destroy();
      await closed;
    },
  };
}

function describe(n: number, req: IncomingMessage): ProxiedRequest {
  const url = req.url ?? '/';
  const parsed = new URL(url, 'http://proxy.invalid');
  const segments = parsed.pathname.split('/');
  const bucket = segments[1] ? decodeURIComponent(segments[1]) : undefined;
  const rest = segments.slice(2).join('/');
  const key = rest === '' ? undefined : decodeURIComponent(rest);
  const method = req.method ?? 'GET';
  const attempt = Number(/attempt=(\d+)/.exec(String(req.headers['amz-sdk-request'] ?? ''))?.[1] ?? 1);
  const invocation = req.headers['amz-sdk-invocation-id'];
  return {
    n,
    method,
    url,
    query: parsed.searchParams,
    bucket,
    key,
    operation: operationOf(method, key, parsed.searchParams),
    attempt,
    invocationId: typeof invocation === 'string' ? invocation : undefined,
    headers: req.headers,
  };
}

/** The S3 operation of a path-style request. */
export function operationOf(method: string, key: string | undefined, query: URLSearchParams): string {
  const xId = query.get('x-id');
  if (xId) return xId;
  if (key === undefined) {
    if (method === 'POST' && query.has('delete')) return 'DeleteObjects';
    if (method === 'GET' && query.get('list-type') === '2') return 'ListObjectsV2';
    if (method === 'GET') return 'ListObjects';
    if (method === 'HEAD') return 'HeadBucket';
    if (method === 'PUT') return 'CreateBucket';
    if (method === 'DELETE') return 'DeleteBucket';
    return `${method} bucket`;
  }
  if (method === 'POST' && query.has('uploads')) return 'CreateMultipartUpload';
  if (query.has('uploadId')) {
    if (method === 'PUT') return 'UploadPart';
    if (method === 'POST') return 'CompleteMultipartUpload';
    if (method === 'DELETE') return 'AbortMultipartUpload';
    if (method === 'GET') return 'ListParts';
  }
  if (method === 'PUT') return 'PutObject';
  if (method === 'GET') return 'GetObject';
  if (method === 'HEAD') return 'HeadObject';
  if (method === 'DELETE') return 'DeleteObject';
  return `${method} object`;
}

/** Raw header pairs without the hop-by-hop ones, as node:http takes them (a repeated header as an array). */
function endToEndHeaders(raw: readonly string[]): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] as string;
    const value = raw[i + 1] as string;
    if (HOP_BY_HOP.has(name.toLowerCase())) continue;
    const earlier = headers[name];
    headers[name] = earlier === undefined ? value : Array.isArray(earlier) ? [...earlier, value] : [earlier, value];
  }
  return headers;
}

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The requests of the log that met a fault (everything but `pass`). */
export function faulted(log: readonly ProxyLogEntry[]): ProxyLogEntry[] {
  return log.filter((e) => e.fault !== 'pass');
}

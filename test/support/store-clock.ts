// A proxy in front of the S3 test server that gives the store a clock a test can move: every
// object written through it is stamped with the test's time, and the LastModified the store
// reports for it (listings, HEAD, GET) is that stamp instead of the server's wall clock.
//
// Retention and the leftover rule judge objects by their upload time (docs/design.md §8, §5).
// A test that simulates weeks of uploads in a few seconds needs those times to follow its
// simulated clock: a raw file "uploaded on day 90" must not look as old as one from day 1.
//
//   const store = await startStoreClock(() => simulated);
//   const client = createS3Client({ endpoint: store.url, ... });   // everything goes through it
//
// Writes are PutObject, CopyObject and CompleteMultipartUpload answered 200; an object the
// proxy never saw written keeps the server's time. Stamps are whole seconds, as S3 lists them.
// Signatures are untouched: the request is forwarded with the client's Host header (see
// fault-proxy.ts), and responses are not signed.
import { once } from 'node:events';
import { Agent, createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { operationOf } from './fault-proxy.js';

export interface StoreClock {
  /** `http://127.0.0.1:{port}`: the endpoint to give every client of the test. */
  readonly url: string;
  /** The upload time the store now reports for a key, if the proxy stamped it. */
  stampOf(bucket: string, key: string): Date | undefined;
  close(): Promise<void>;
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'expect']);
const WRITES = new Set(['PutObject', 'CopyObject', 'CompleteMultipartUpload']);
const LISTINGS = new Set(['ListObjectsV2', 'ListObjects']);

export async function startStoreClock(
  clock: () => Date,
  target: string | undefined = process.env['S3_TEST_ENDPOINT'],
): Promise<StoreClock> {
  if (!target)
    throw new Error('startStoreClock: S3_TEST_ENDPOINT is not set (run the tests with jest from the repo root)');
  const upstream = new URL(target);
  const agent = new Agent({ keepAlive: true });
  const stamps = new Map<string, Date>();
  const sockets = new Set<Socket>();
  const id = (bucket: string, key: string): string => `${bucket}/${key}`;

  const server = createServer((req, res) => {
    forward(req, res).catch(() => req.socket.destroy());
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('clientError', (_error, socket) => socket.destroy());

  async function forward(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { bucket, key, operation } = describe(req);
    const out = httpRequest({
      host: upstream.hostname,
      port: upstream.port,
      method: req.method,
      path: req.url,
      headers: endToEnd(req.rawHeaders),
      agent,
      setHost: false,
    });
    req.pipe(out);
    const [answer] = (await once(out, 'response')) as [IncomingMessage];
    const status = answer.statusCode ?? 502;
    const headers = endToEnd(answer.rawHeaders);
    if (status === 200 && bucket !== undefined && key !== undefined && WRITES.has(operation))
      stamps.set(id(bucket, key), new Date(Math.floor(clock().getTime() / 1000) * 1000));
    const stamp = bucket !== undefined && key !== undefined ? stamps.get(id(bucket, key)) : undefined;
    if (stamp !== undefined) setHeader(headers, 'last-modified', stamp.toUTCString());
    if (status === 200 && bucket !== undefined && LISTINGS.has(operation)) {
      const chunks: Buffer[] = [];
      for await (const chunk of answer as AsyncIterable<Buffer>) chunks.push(chunk);
      const body = restamp(Buffer.concat(chunks).toString('utf8'), (k) => stamps.get(id(bucket, k)));
      setHeader(headers, 'content-length', String(Buffer.byteLength(body)));
      res.writeHead(status, answer.statusMessage, headers);
      res.end(body);
      return;
    }
    res.writeHead(status, answer.statusMessage, headers);
    answer.pipe(res);
    await Promise.race([once(res, 'finish'), once(res, 'close')]);
  }

  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    stampOf: (bucket, key) => stamps.get(id(bucket, key)),
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      agent.destroy();
      await closed;
    },
  };
}

/** Each `<Contents>` of a listing with a stamped key gets the stamp as its `<LastModified>`. */
export function restamp(xml: string, stampOf: (key: string) => Date | undefined): string {
  return xml.replace(/<Contents>([\s\S]*?)<\/Contents>/g, (whole, inner: string) => {
    const key = /<Key>([\s\S]*?)<\/Key>/.exec(inner)?.[1];
    const stamp = key === undefined ? undefined : stampOf(unescapeXml(key));
    if (stamp === undefined) return whole;
    return `<Contents>${inner.replace(/<LastModified>[^<]*<\/LastModified>/, `<LastModified>${stamp.toISOString()}</LastModified>`)}</Contents>`;
  });
}

function describe(req: IncomingMessage): { bucket?: string; key?: string; operation: string } {
  const parsed = new URL(req.url ?? '/', 'http://proxy.invalid');
  const segments = parsed.pathname.split('/');
  const bucket = segments[1] ? decodeURIComponent(segments[1]) : undefined;
  const rest = segments.slice(2).join('/');
  const key = rest === '' ? undefined : decodeURIComponent(rest);
  return { bucket, key, operation: operationOf(req.method ?? 'GET', key, parsed.searchParams) };
}

function endToEnd(raw: readonly string[]): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = (raw[i] as string).toLowerCase();
    if (HOP_BY_HOP.has(name)) continue;
    const value = raw[i + 1] as string;
    const earlier = headers[name];
    headers[name] = earlier === undefined ? value : [...(Array.isArray(earlier) ? earlier : [earlier]), value];
  }
  return headers;
}

function setHeader(headers: Record<string, string | string[]>, name: string, value: string): void {
  headers[name] = value;
}

function unescapeXml(text: string): string {
  return text
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&#(\d+);/g, (_m, n: string) => String.fromCodePoint(Number(n)))
    .replace(/&amp;/g, '&');
}

// A pod the bucket holds nothing of with tail 0, and a gateway's 503 page in the middle of a read.
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PodNotFoundError } from '@platform/log-reader';
import { LOG_READER_BIN, runCli } from './support/cli.js';
import { messages, newWorld } from './support/world.js';

const T0 = new Date('2026-11-25T10:00:00Z');

describe('a pod the bucket holds nothing of', () => {
  // kubectl logs --tail=0 of a pod that does not exist says "not found" and exits 1, as every
  // other tail does here (reader-errors.test.ts checks tail 5); tail 0 returns before the
  // metadata GET and the listing, so a typo reads as an empty log again.
  it('fails a read with tail 0 with PodNotFoundError too', async () => {
    const w = await newWorld('tail0');
    let failure: unknown;
    try {
      for await (const _ of w.reader.records('job-typo', { tail: 0 })) void _;
    } catch (error) {
      failure = error;
    }
    expect(failure).toBeInstanceOf(PodNotFoundError);
  });
});

describe('a gateway error in the middle of a read', () => {
  // A reverse proxy in front of the store answers the second raw file's GET (every attempt)
  // with its own 503 page, as nginx or a load balancer does while the store restarts. The
  // first file was printed: the read failed part-way, which is exit 1 (not 2, set-up), and
  // nothing says the endpoint is not S3.
  it('exits 1, not 2 with "check the endpoint URL"', async () => {
    const w = await newWorld('gateway-503');
    const c = w.container('job-1', '0f3a');
    await c.upload(messages('a', 2, T0));
    await c.upload(messages('b', 2, new Date(T0.getTime() + 60_000)));
    const target = new URL(process.env['S3_TEST_ENDPOINT']!);
    let rawGets = 0;
    const proxy = createServer((req, res) => {
      const isRawGet = req.method === 'GET' && /kube\.var\.log\.containers\.[^?]*\.gz/.test(req.url ?? '');
      if (isRawGet && ++rawGets > 1) {
        res.writeHead(503, { 'content-type': 'text/html' });
        res.end('<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>');
        return;
      }
      const upstream = httpRequest(
        { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      req.pipe(upstream);
    });
    await new Promise<void>((ok) => proxy.listen(0, '127.0.0.1', ok));
    try {
      const endpoint = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
      const result = await runCli(LOG_READER_BIN, ['logs', 'job-1', '--bucket', w.bucket, '--s3-max-attempts', '1'], {
        AWS_ENDPOINT_URL_S3: endpoint,
      });
      expect(result.stdout).toContain('a');
      expect({ exitCode: result.exitCode, stderr: result.stderr }).toEqual({
        exitCode: 1,
        stderr: expect.not.stringContaining('check the endpoint URL'),
      });
    } finally {
      proxy.close();
    }
  });
});

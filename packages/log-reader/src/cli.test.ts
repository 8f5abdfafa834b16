import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { main, parseAttempts, parseDuration } from './cli.js';

function captured(): { io: { stdout: PassThrough; stderr: PassThrough }; stdout: () => string; stderr: () => string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
  stderr.setEncoding('utf8').on('data', (s: string) => (err += s));
  return { io: { stdout, stderr }, stdout: () => out, stderr: () => err };
}

describe('parseDuration', () => {
  it.each([
    ['30', 30_000],
    ['30s', 30_000],
    ['500ms', 500],
    ['1.5s', 1_500],
    ['2m', 120_000],
    ['1h', 3_600_000],
    [' 10s ', 10_000],
  ])('reads %j as %p ms', (text, ms) => {
    expect(parseDuration(text, '--s3-request-timeout')).toBe(ms);
  });

  it.each(['', 'soon', '-1s', '0', '0ms', '1e3', '30 s', 'Infinity', '9'.repeat(400)])('refuses %j, naming the flag and the value', (text) => {
    expect(() => parseDuration(text, '--s3-connect-timeout')).toThrow(new RegExp(`^--s3-connect-timeout: .*${JSON.stringify(text).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  });
});

describe('parseAttempts', () => {
  it.each([
    ['1', 1],
    ['5', 5],
    ['12', 12],
  ])('reads %j as %p', (text, n) => {
    expect(parseAttempts(text, '--s3-max-attempts')).toBe(n);
  });

  it.each(['0', '-1', '1.5', 'five', '', '99999999999999999999'])('refuses %j', (text) => {
    expect(() => parseAttempts(text, '--s3-max-attempts')).toThrow(/^--s3-max-attempts: invalid number of attempts/);
  });
});

describe('main', () => {
  it('prints the version it is given', async () => {
    const c = captured();
    expect(await main(['--version'], c.io, { version: '1.2.3' })).toBe(0);
    expect(c.stdout()).toBe('1.2.3\n');
  });

  it('refuses a bad S3 flag with one line on stderr and exit 2, before any request', async () => {
    const c = captured();
    expect(await main(['cat', 'job-1', '--bucket', 'b', '--endpoint', 'http://127.0.0.1:9', '--s3-request-timeout', 'soon'], c.io)).toBe(2);
    expect(c.stderr()).toBe('log-reader: --s3-request-timeout (LOG_READER_S3_REQUEST_TIMEOUT): invalid duration "soon": expected seconds or a number with ms, s, m, h or d (e.g. 30s, 500ms)\n');
    expect(c.stdout()).toBe('');
  });

  it('makes exactly --s3-max-attempts attempts of a request that keeps failing', async () => {
    // The credential chain reads the environment; the local server checks no signature.
    const saved = { id: process.env['AWS_ACCESS_KEY_ID'], secret: process.env['AWS_SECRET_ACCESS_KEY'] };
    process.env['AWS_ACCESS_KEY_ID'] ||= 'AKIAUNITTEST';
    process.env['AWS_SECRET_ACCESS_KEY'] ||= 'unit-test-secret';
    let requests = 0;
    const server = createServer((request, response) => {
      requests += 1;
      request.resume();
      const body = '<Error><Code>InternalError</Code><Message>We encountered an internal error</Message></Error>';
      response.writeHead(500, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) });
      response.end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const c = captured();
      expect(await main(['cat', 'job-1', '--bucket', 'b', '--endpoint', endpoint, '--s3-max-attempts', '2'], c.io)).toBe(1);
      expect(requests).toBe(2);
      expect(c.stderr()).toBe('log-reader: reading pod job-1 failed: GET metadata/job-1.json: HTTP 500: We encountered an internal error\n');
    } finally {
      await new Promise((resolve) => server.close(resolve));
      for (const [name, value] of [['AWS_ACCESS_KEY_ID', saved.id], ['AWS_SECRET_ACCESS_KEY', saved.secret]] as const) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });
});

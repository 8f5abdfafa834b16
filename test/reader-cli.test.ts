// The built `log-reader` bin as a user runs it: --version, a closed stdout (`| head -1`),
// and the S3 client flags with their environment twins.
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { LOG_READER_BIN, runCli, s3Env, type CliResult } from './support/cli.js';
import { messages, newWorld } from './support/world.js';

const T0 = new Date('2026-11-25T10:00:00Z');
const STACK_TRACE = /\n\s+at /;

/** `log-reader ARGS | head -c 1`: a real consumer that reads one byte and exits, closing the pipe. */
function intoHead(args: readonly string[], env: Record<string, string | undefined>): Promise<CliResult & { head: string }> {
  return new Promise((done, fail) => {
    const reader = spawn(process.execPath, [LOG_READER_BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const head = spawn('head', ['-c', '1'], { stdio: [reader.stdout, 'pipe', 'inherit'] });
    // Only `head` holds the read end now: once it exits, the reader's writes meet a closed pipe.
    reader.stdout.destroy();
    let stderr = '';
    let out = '';
    reader.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    head.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
    reader.on('error', fail);
    head.on('error', fail);
    reader.on('close', (exitCode) => done({ exitCode, stdout: '', stderr, head: out }));
  });
}

describe('log-reader, the bin', () => {
  it("prints the package's version with --version", async () => {
    const { version } = JSON.parse(await readFile(resolve(__dirname, '../packages/log-reader/package.json'), 'utf8')) as { version: string };
    expect(await runCli(LOG_READER_BIN, ['--version'])).toEqual({ exitCode: 0, stdout: `${version}\n`, stderr: '' });
  });

  it('ends quietly when stdout is closed before the help is written (`log-reader cat --help | head -1`)', async () => {
    expect(await runCli(LOG_READER_BIN, ['cat', '--help'], {}, { closeStdout: true })).toEqual({ exitCode: 0, stdout: '', stderr: '' });
  });

  it('keeps exit code 2 and its one-line message for bad usage when stdout is closed', async () => {
    const result = await runCli(LOG_READER_BIN, ['cat', 'job-1'], { LOG_READER_BUCKET: undefined }, { closeStdout: true });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toBe("error: required option '--bucket <name>' not specified\n");
  });

  it('ends a long read piped into a consumer that stops early with exit 0 and no stack trace', async () => {
    const w = await newWorld('cli-head');
    const fb = w.container('job-1', '0f3a');
    // Enough text that the read is still writing when `head` exits.
    for (let minute = 0; minute < 4; minute++) {
      await fb.upload(messages(`m${minute}-${'x'.repeat(2000)}`, 100, new Date(T0.getTime() + minute * 60_000)));
    }
    const closed = await runCli(LOG_READER_BIN, ['cat', 'job-1', '--bucket', w.bucket], s3Env(), { closeStdout: true });
    expect(closed).toEqual({ exitCode: 0, stdout: '', stderr: '' });
    const piped = await intoHead(['cat', 'job-1', '--bucket', w.bucket], s3Env());
    expect(piped).toMatchObject({ exitCode: 0, stderr: '', head: 'm' });
    expect(piped.stderr).not.toMatch(STACK_TRACE);
  });
});

describe('log-reader S3 client flags', () => {
  it('reads with --s3-max-attempts, --s3-request-timeout and --s3-connect-timeout, and with their environment twins', async () => {
    const w = await newWorld('cli-s3-flags');
    await w.container('job-1', '0f3a').upload(messages('a', 2, T0));
    const flags = await runCli(LOG_READER_BIN, ['cat', 'job-1', '--bucket', w.bucket, '--s3-max-attempts', '2', '--s3-request-timeout', '30s', '--s3-connect-timeout', '500ms'], s3Env());
    expect(flags).toEqual({ exitCode: 0, stdout: 'a-0\na-1\n', stderr: '' });
    const env = await runCli(LOG_READER_BIN, ['cat', 'job-1', '--bucket', w.bucket], {
      ...s3Env(),
      LOG_READER_S3_MAX_ATTEMPTS: '3',
      LOG_READER_S3_REQUEST_TIMEOUT: '20',
      LOG_READER_S3_CONNECT_TIMEOUT: '2s',
    });
    expect(env).toEqual({ exitCode: 0, stdout: 'a-0\na-1\n', stderr: '' });
  });

  it.each([
    [['--s3-max-attempts', '0'], {}, '--s3-max-attempts (LOG_READER_S3_MAX_ATTEMPTS): invalid number of attempts "0"'],
    [['--s3-request-timeout', 'soon'], {}, '--s3-request-timeout (LOG_READER_S3_REQUEST_TIMEOUT): invalid duration "soon"'],
    [[], { LOG_READER_S3_CONNECT_TIMEOUT: '-1s' }, '--s3-connect-timeout (LOG_READER_S3_CONNECT_TIMEOUT): invalid duration "-1s"'],
  ])('refuses %j %j with one line on stderr and exit 2', async (args, env, message) => {
    const result = await runCli(LOG_READER_BIN, ['cat', 'job-1', '--bucket', 'b', ...args], env);
    expect(result.exitCode).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(new RegExp(`^log-reader: ${message.replace(/[()]/g, '\\$&')}[^\\n]*\\n$`));
  });
});

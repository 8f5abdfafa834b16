// Runs the real built CLIs (`make test` builds them first) and returns what a user sees.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { Writable } from 'node:stream';

export interface CliResult {
  readonly exitCode: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

const ROOT = resolve(__dirname, '../..');
/** The bundles the bin shims run (scripts/bundle-clis.mjs; jest's global setup bundles again if dist/ is newer). */
export const COMPACTOR_BIN = resolve(ROOT, 'packages/compactor/bundle/bin.js');
export const LOG_READER_BIN = resolve(ROOT, 'packages/log-reader/bundle/bin.js');
/** What npm links at install time, as `npx compactor` runs it. */
export const LINKED_BIN = (name: 'compactor' | 'log-reader'): string => resolve(ROOT, 'node_modules/.bin', name);

export interface RunOptions {
  /** Run the file itself (its shebang), as a shell does, instead of `node file`. */
  readonly exec?: boolean;
  /** Close our end of stdout at once, as `| head -1` does once it has read enough. */
  readonly closeStdout?: boolean;
}

export function runCli(
  bin: string,
  args: readonly string[],
  env: Record<string, string | undefined> = {},
  options: RunOptions = {},
): Promise<CliResult> {
  const [command, argv] = options.exec ? [bin, [...args]] : [process.execPath, [bin, ...args]];
  return runProcess(command, argv, { env: { ...process.env, ...env }, closeStdout: options.closeStdout });
}

export interface ProcessOptions {
  readonly env: NodeJS.ProcessEnv;
  readonly cwd?: string;
  readonly uid?: number;
  readonly gid?: number;
  /** Close our end of stdout at once, as `| head -1` does once it has read enough. */
  readonly closeStdout?: boolean;
}

/** Runs `command` to its end and returns its exit code and everything it printed. */
export function runProcess(command: string, args: readonly string[], options: ProcessOptions): Promise<CliResult> {
  return new Promise((done, fail) => {
    const { closeStdout, ...spawnOptions } = options;
    const child = spawn(command, [...args], { ...spawnOptions, stdio: ['ignore', 'pipe', 'pipe'] });
    // The child is still starting up: every write it makes to stdout meets a closed pipe.
    if (closeStdout) child.stdout.destroy();
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.on('error', fail);
    child.on('close', (exitCode) => done({ exitCode, stdout, stderr }));
  });
}

/** An io for a CLI's main() that keeps what it was given. */
export function captured(): { io: { stdout: Writable; stderr: Writable }; stdout: () => string; stderr: () => string } {
  const sink = (into: string[]): Writable =>
    new Writable({
      write(chunk: Buffer | string, _encoding, done) {
        into.push(String(chunk));
        done();
      },
    });
  const out: string[] = [];
  const err: string[] = [];
  return { io: { stdout: sink(out), stderr: sink(err) }, stdout: () => out.join(''), stderr: () => err.join('') };
}

/** The environment that points the CLIs at the test server. */
export function s3Env(): Record<string, string | undefined> {
  return { AWS_ENDPOINT_URL_S3: process.env['S3_TEST_ENDPOINT'] };
}

/** A CLI's JSON lines (log lines on stderr, the summary on stdout), parsed. */
export function jsonLines(text: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** A loopback port nobody listens on. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as { port: number };
  await new Promise((ok) => server.close(ok));
  return port;
}

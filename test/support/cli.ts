// Runs the real built CLIs (`make test` builds them first) and returns what a user sees.
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';

export interface CliResult {
  readonly exitCode: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

const ROOT = resolve(__dirname, '../..');
export const COMPACTOR_BIN = resolve(ROOT, 'packages/compactor/dist/bin.js');
export const LOG_READER_BIN = resolve(ROOT, 'packages/log-reader/dist/bin.js');

export function runCli(bin: string, args: readonly string[], env: Record<string, string | undefined> = {}): Promise<CliResult> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [bin, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.on('error', fail);
    child.on('close', (exitCode) => done({ exitCode, stdout, stderr }));
  });
}

/** The environment that points the CLIs at the test server. */
export function s3Env(): Record<string, string | undefined> {
  return { AWS_ENDPOINT_URL_S3: process.env['S3_TEST_ENDPOINT'] };
}

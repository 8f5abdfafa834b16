/**
 * Every measured case runs in a process of its own, so its CPU time and peak RSS are its own
 * (not the harness's, nor the data generator's):
 *   - a task (library code, or a limit) runs in a forked `child.js`, which times the work
 *     itself and sends back its result and its peak RSS;
 *   - a CLI runs as the real built bin, under `--import usage-hook.js`, which writes the
 *     process's CPU time and peak RSS to a file as it exits; wall time and time to first
 *     byte are taken here, from the spawn.
 */
import { fork, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

/** What a child process used, over its whole life. */
export interface ProcessUsage {
  /** Peak resident set size (`process.resourceUsage().maxRSS`), bytes. */
  readonly maxRssBytes: number;
}

/** Wall and CPU time of one piece of work, measured in the process that did it. */
export interface Timing {
  readonly wallMs: number;
  /** User + system CPU time of the process (all its threads: zlib's pool included). */
  readonly cpuMs: number;
}

/** A task's answer over IPC. */
type ChildMessage =
  | { readonly ok: true; readonly result: object; readonly maxRssBytes: number }
  | { readonly ok: false; readonly error: string };

/** How long any one case may take before it is stopped and reported as failed. */
const CASE_TIMEOUT_MS = 15 * 60_000;

const CHILD = fileURLToPath(new URL('./child.js', import.meta.url));
const USAGE_HOOK = new URL('./usage-hook.js', import.meta.url).href;

export class CaseError extends Error {
  override readonly name = 'CaseError';
}

/** Times `work` in this process. */
export async function measure<T>(work: () => Promise<T>): Promise<{ value: T; timing: Timing }> {
  const cpu = process.cpuUsage();
  const started = performance.now();
  const value = await work();
  const wallMs = performance.now() - started;
  const used = process.cpuUsage(cpu);
  return { value, timing: { wallMs, cpuMs: (used.user + used.system) / 1000 } };
}

/** Runs task `name` of child.js with `params` in a fresh Node process. */
export function runTask<T extends object>(name: string, params: object): Promise<{ result: T } & ProcessUsage> {
  return new Promise((resolve, reject) => {
    // The code under test may print (SDK warnings): kept, and shown only if the task fails.
    const child = fork(CHILD, [], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    let output = '';
    const keep = (chunk: Buffer): void => {
      output = (output + chunk.toString()).slice(-2000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    let answer: ChildMessage | undefined;
    const timer = setTimeout(() => child.kill('SIGKILL'), CASE_TIMEOUT_MS);
    child.on('message', (message) => {
      answer = message as ChildMessage;
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (answer?.ok) resolve({ result: answer.result as T, maxRssBytes: answer.maxRssBytes });
      else if (answer) reject(new CaseError(`${name}: ${answer.error}`));
      else
        reject(
          new CaseError(
            `${name}: the child process ended (${signal ?? `exit ${code}`}) without an answer: ${lastLines(output)}`,
          ),
        );
    });
    child.send({ name, params });
  });
}

function lastLines(text: string): string {
  return text.trim().split('\n').slice(-3).join(' / ');
}

export interface CliRun extends Timing, ProcessUsage {
  /** From the spawn to the first byte on stdout (process start included); undefined if none. */
  readonly firstByteMs: number | undefined;
  readonly stdoutBytes: number;
}

/**
 * Runs a built bin (`node BIN ARGS`) to its end with its stdout drained here. Fails with the
 * tail of its stderr when it exits non-zero.
 */
export async function runCli(
  bin: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<CliRun> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-usage-'));
  const usageFile = join(dir, 'usage.json');
  try {
    const started = performance.now();
    const child = spawn(process.execPath, ['--import', USAGE_HOOK, ...shebangFlags(bin), bin, ...args], {
      env: { ...env, BENCH_USAGE_FILE: usageFile },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let firstByteMs: number | undefined;
    let stdoutBytes = 0;
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      firstByteMs ??= performance.now() - started;
      stdoutBytes += chunk.length;
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-2000);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), CASE_TIMEOUT_MS);
    const code = await new Promise<number | null>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (exitCode) => resolve(exitCode));
    });
    clearTimeout(timer);
    const wallMs = performance.now() - started;
    if (code !== 0) throw new CaseError(`${bin} ${args[0] ?? ''} exited ${code}: ${lastLines(stderr)}`);
    const usage = JSON.parse(readFileSync(usageFile, 'utf8')) as { cpuMs: number; maxRssBytes: number };
    return { wallMs, cpuMs: usage.cpuMs, maxRssBytes: usage.maxRssBytes, firstByteMs, stdoutBytes };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The node flags a bin's `#!/usr/bin/env -S node FLAGS` line gives it: run as a user runs it. */
export function shebangFlags(bin: string): string[] {
  const first = readFileSync(bin, 'utf8').split('\n', 1)[0] ?? '';
  const flags = /^#!\S*env -S node\s+(.*)$/.exec(first)?.[1];
  return flags === undefined ? [] : flags.trim().split(/\s+/);
}

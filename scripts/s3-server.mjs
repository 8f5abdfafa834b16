#!/usr/bin/env node
// Start a real S3-compatible server on loopback for tests and demos.
//
//   import { startS3Server } from './s3-server.mjs';
//   const s3 = await startS3Server('versitygw');   // or 'moto', 'localstack'
//   ... use s3.endpoint, s3.accessKeyId, s3.secretAccessKey, s3.region ...
//   await s3.stop();
//
// CLI (used by `make demo`; the server outlives this process):
//   node scripts/s3-server.mjs start moto|versitygw|localstack --state .tmp/demo-s3.json
//   node scripts/s3-server.mjs env --state .tmp/demo-s3.json    # prints `export ...` lines
//   node scripts/s3-server.mjs stop --state .tmp/demo-s3.json
//
// How it works: pick a free port (bind port 0 on 127.0.0.1, close, reuse it), spawn the
// server with its stdout and stderr going to a log file, and poll it over HTTP until it
// answers as that kind of server (any status counts: versitygw says 403 to an unsigned
// request). If the server exits first, fail with the tail of its log. A lost port race
// (another process took the port between our close and the server's bind) is retried on
// a new port.
//
// Binaries: versitygw from .tools/bin/versitygw (scripts/install-versitygw.sh) unless
// $VERSITYGW_BIN is set; moto_server from .tools/venv/bin when scripts/install-moto.sh
// made one, else from PATH, unless $MOTO_SERVER_BIN is set. LocalStack: its runtime started
// directly, without Docker, from .tools/localstack-venv (scripts/install-localstack.sh) unless
// $LOCALSTACK_PYTHON_BIN names another Python that has localstack-core; it is ready when its
// health endpoint says S3 is available.

import { spawn } from 'node:child_process';
import { closeSync, existsSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const HOST = '127.0.0.1';

/** Fixed test credentials. versitygw requires them; moto accepts any. */
export const TEST_CREDENTIALS = Object.freeze({
  accessKeyId: 'AKIA_TEST_ACCESS',
  secretAccessKey: 'test-secret',
  region: 'us-east-1',
});

export const SERVER_KINDS = Object.freeze(['moto', 'versitygw', 'localstack']);

/** Default time to wait for the server to answer HTTP (moto's first start imports a lot). */
const DEFAULT_START_TIMEOUT_MS = 60_000;
/** Time a server gets to exit after SIGTERM before it gets SIGKILL. */
const STOP_GRACE_MS = 5_000;
/** Attempts when another process grabs our port between probe and bind. */
const PORT_ATTEMPTS = 3;

/**
 * Start a server.
 * @param {'moto'|'versitygw'|'localstack'} kind
 * @param {object} [opts]
 * @param {number} [opts.timeoutMs=60000] how long to wait for the server to answer HTTP
 * @param {string} [opts.logFile] where the server's stdout+stderr go (default: in its temp dir)
 * @param {boolean} [opts.detached=false] own process group, not killed with this process (CLI mode)
 * @param {boolean|'auto'} [opts.sidecar='auto'] versitygw only: keep object metadata in a
 *   sidecar directory instead of xattrs; 'auto' uses xattrs and falls back to a sidecar when
 *   the filesystem of the temp dir has no user xattrs
 * @param {boolean} [opts.quiet=false] versitygw only: no per-request log lines
 * @param {(info: {kind: string, pid: number, endpoint: string, dataDir: string, logFile: string}) => void|Promise<void>} [opts.onSpawn]
 *   called as soon as the process exists, before it is ready (the CLI records the pid then,
 *   so a stop during a slow start still finds the server)
 * @returns {Promise<{endpoint: string, accessKeyId: string, secretAccessKey: string,
 *   region: string, kind: string, pid: number, dataDir: string, logFile: string,
 *   stop: () => Promise<void>}>}
 */
export async function startS3Server(kind, opts = {}) {
  if (!SERVER_KINDS.includes(kind)) {
    throw new Error(`unknown S3 server kind ${JSON.stringify(kind)}; expected one of ${SERVER_KINDS.join(', ')}`);
  }
  const timeoutMs = opts.timeoutMs ?? Number(process.env.S3_SERVER_START_TIMEOUT_MS || DEFAULT_START_TIMEOUT_MS);
  const dataDir = await mkdtemp(join(tmpdir(), `s3-${kind}-`));
  const logFile = resolve(opts.logFile ?? join(dataDir, 'server.log'));
  await mkdir(dirname(logFile), { recursive: true });
  await writeFile(logFile, ''); // one start per log (retries below append to it)

  let sidecar = opts.sidecar ?? 'auto';
  let lastError;
  try {
    for (let attempt = 1; attempt <= PORT_ATTEMPTS; attempt++) {
      const port = await freePort();
      const { command, args, env } = await serverCommand(kind, port, dataDir, {
        sidecar: sidecar === true,
        quiet: !!opts.quiet,
      });
      try {
        return await launch({
          kind,
          command,
          args,
          env,
          port,
          dataDir,
          logFile,
          timeoutMs,
          detached: !!opts.detached,
          onSpawn: opts.onSpawn,
        });
      } catch (err) {
        lastError = err;
        const log = String(err.logTail ?? '');
        if (kind === 'versitygw' && sidecar === 'auto' && /xattr check failed/.test(log)) {
          sidecar = true; // the fs has no user xattrs: retry storing metadata in a sidecar dir
          attempt--;
          continue;
        }
        if (!/address already in use/i.test(log)) break;
      }
    }
  } catch (err) {
    lastError = err;
  }
  await rm(dataDir, { recursive: true, force: true }).catch(() => {});
  throw lastError;
}

async function serverCommand(kind, port, dataDir, { sidecar, quiet }) {
  if (kind === 'moto') {
    return { command: motoBinary(), args: ['-H', HOST, '-p', String(port)] };
  }
  if (kind === 'localstack') return localstackCommand(port, dataDir);
  const command = process.env.VERSITYGW_BIN || join(REPO_ROOT, '.tools/bin/versitygw');
  if (!existsSync(command)) {
    throw new Error(`versitygw not found at ${command}; run scripts/install-versitygw.sh (or make install)`);
  }
  // posix backend: every directory under the root is a bucket, object metadata (etag,
  // content type, user metadata) lives in user.* xattrs or, with --sidecar, in a directory.
  const root = join(dataDir, 'root');
  await mkdir(root, { recursive: true });
  const posixArgs = ['posix'];
  if (sidecar) {
    const meta = join(dataDir, 'meta');
    await mkdir(meta, { recursive: true });
    posixArgs.push('--sidecar', meta);
  }
  posixArgs.push(root);
  return {
    command,
    args: [
      '--access',
      TEST_CREDENTIALS.accessKeyId,
      '--secret',
      TEST_CREDENTIALS.secretAccessKey,
      '--region',
      TEST_CREDENTIALS.region,
      '--port',
      `${HOST}:${port}`,
      // As S3 does: without it versitygw closes every connection after one request, and the
      // tests and the bench would pay (and measure) a TCP connect per request.
      '--keep-alive',
      ...(quiet ? ['--quiet'] : []),
      ...posixArgs,
    ],
  };
}

/**
 * LocalStack's runtime, S3 only, in the foreground and without Docker: OVERRIDE_IN_DOCKER=0
 * because a `/.dockerenv` would make it believe it runs in its own container; no state kept
 * between starts (PERSISTENCE=0), no certificate fetched from the internet, no DNS server (it
 * would try port 53), and its volume and temp files under the server's own data dir.
 */
async function localstackCommand(port, dataDir) {
  const python = process.env.LOCALSTACK_PYTHON_BIN || join(REPO_ROOT, '.tools/localstack-venv/bin/python');
  if (!existsSync(python)) {
    throw new Error(`LocalStack not found at ${python}; run scripts/install-localstack.sh (it needs Python >= 3.13)`);
  }
  const volume = join(dataDir, 'volume');
  await mkdir(join(volume, 'tmp'), { recursive: true });
  return {
    command: python,
    args: ['-m', 'localstack.runtime.main'],
    env: {
      SERVICES: 's3',
      GATEWAY_LISTEN: `${HOST}:${port}`,
      OVERRIDE_IN_DOCKER: '0',
      PERSISTENCE: '0',
      SKIP_SSL_CERT_DOWNLOAD: '1',
      DNS_ADDRESS: '0',
      LOCALSTACK_VOLUME_DIR: volume,
      TMPDIR: join(volume, 'tmp'),
      DISABLE_EVENTS: '1',
    },
  };
}

function motoBinary() {
  if (process.env.MOTO_SERVER_BIN) return process.env.MOTO_SERVER_BIN;
  const venv = join(REPO_ROOT, '.tools/venv/bin/moto_server');
  return existsSync(venv) ? venv : 'moto_server';
}

/** A port that was free a moment ago: bind port 0 on loopback, read it, close. */
function freePort() {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, HOST, () => {
      const { port } = srv.address();
      srv.close(() => resolvePort(port));
    });
  });
}

async function launch({ kind, command, args, env, port, dataDir, logFile, timeoutMs, detached, onSpawn }) {
  const out = openSync(logFile, 'a');
  const logStart = fstatSync(out).size;
  let child;
  try {
    child = spawn(command, args, {
      cwd: dataDir,
      stdio: ['ignore', out, out],
      detached, // CLI mode: own process group, survives this process
      env: { ...serverEnv(), ...env },
    });
  } finally {
    closeSync(out);
  }

  const endpoint = `http://${HOST}:${port}`;
  const described = `${kind} (${command} ${args.join(' ')})`;
  let exited = null;
  const exitPromise = new Promise((res) => {
    child.once('exit', (code, signal) => {
      exited = { code, signal };
      res(exited);
    });
    child.once('error', (err) => {
      exited = { error: err };
      res(exited);
    });
  });
  if (onSpawn && child.pid !== undefined) {
    try {
      await onSpawn({ kind, pid: child.pid, endpoint, dataDir, logFile });
    } catch (err) {
      await killAndWait(child.pid, exitPromise, detached);
      throw err;
    }
  }

  const fail = (why) => {
    const tail = logTail(logFile, logStart);
    const where = logFile.startsWith(dataDir) ? '' : ` (full log: ${logFile})`;
    const err = new Error(`${described} ${why}${where}. Its output ends with:\n${tail || '(no output)'}`);
    err.logTail = tail;
    return err;
  };

  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (exited) {
      if (exited.error) {
        const hint = exited.error.code === 'ENOENT' ? ` (run scripts/install-${kind}.sh, or make install)` : '';
        throw fail(`failed to start: ${exited.error.message}${hint}`);
      }
      throw fail(`exited before answering HTTP (code ${exited.code}, signal ${exited.signal})`);
    }
    if (await answersHttp(endpoint, kind)) break;
    if (Date.now() > deadline) {
      await killAndWait(child.pid, exitPromise, detached);
      throw fail(`did not answer HTTP at ${endpoint} within ${timeoutMs} ms`);
    }
    await Promise.race([sleep(50), exitPromise]);
  }

  // If this process exits without calling stop(), do not leave the server behind
  // (except in CLI mode, where outliving us is the point).
  const onExit = () => {
    try {
      process.kill(child.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  };
  if (detached) child.unref();
  else process.once('exit', onExit);

  let stopping;
  const stop = () => {
    stopping ??= (async () => {
      process.removeListener('exit', onExit);
      await killAndWait(child.pid, exitPromise, detached);
      await rm(dataDir, { recursive: true, force: true });
    })();
    return stopping;
  };

  return {
    endpoint,
    ...TEST_CREDENTIALS,
    kind,
    pid: child.pid,
    dataDir,
    logFile,
    stop,
  };
}

/** The server's environment, minus variables that would change how it behaves. */
function serverEnv() {
  const env = { ...process.env };
  for (const name of Object.keys(env)) {
    // versitygw reads VGW_* and ROOT_* settings from the environment; moto reads MOTO_*;
    // LocalStack reads many plain names (DEBUG, SERVICES, …): the ones it would change come
    // from localstackCommand, and its LOCALSTACK_* (auth token, host) never reach it.
    if (/^(VGW_|ROOT_ACCESS_KEY|ROOT_SECRET|MOTO_|LOCALSTACK_)/.test(name)) delete env[name];
  }
  env.PYTHONUNBUFFERED = '1'; // moto's log lines reach the file as they happen
  return env;
}

/**
 * Does the server answer HTTP, and is it the kind we started? (If another process won
 * the race for our port, its answers must not count: our server exits with "address
 * already in use" and we retry on another port.)
 */
async function answersHttp(endpoint, kind) {
  try {
    const res = await fetch(`${endpoint}/`, { signal: AbortSignal.timeout(2_000) });
    const body = await res.text().catch(() => '');
    if (kind === 'versitygw') return /versitygw/i.test(res.headers.get('server') ?? '');
    if (kind === 'localstack') return await localstackS3Ready(endpoint);
    return res.headers.has('x-amzn-requestid') || body.includes('ListAllMyBucketsResult');
  } catch {
    return false;
  }
}

/** LocalStack answers HTTP before its S3 is up: its health endpoint says when it is. */
async function localstackS3Ready(endpoint) {
  const res = await fetch(`${endpoint}/_localstack/health`, { signal: AbortSignal.timeout(2_000) });
  if (!res.ok) return false;
  const health = await res.json().catch(() => ({}));
  return ['available', 'running'].includes(health?.services?.s3);
}

/** SIGTERM, wait up to STOP_GRACE_MS, then SIGKILL. `group`: signal the process group. */
async function killAndWait(pid, exitPromise, group) {
  const signal = (sig) => {
    try {
      process.kill(group ? -pid : pid, sig);
      return true;
    } catch {
      return false;
    }
  };
  if (!signal('SIGTERM')) return;
  const exited = exitPromise ?? waitForPidExit(pid);
  if (!(await within(exited, STOP_GRACE_MS))) {
    signal('SIGKILL');
    await within(exited, STOP_GRACE_MS);
  }
}

/** Did `promise` settle within `ms`? (Clears its timer, so it never holds the process open.) */
async function within(promise, ms) {
  let timer;
  const timedOut = new Promise((res) => {
    timer = setTimeout(res, ms, false);
  });
  try {
    return await Promise.race([promise.then(() => true), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

async function waitForPidExit(pid) {
  const deadline = Date.now() + 2 * STOP_GRACE_MS + 1_000; // killAndWait gives up by then
  while (isAlive(pid) && Date.now() < deadline) await sleep(50);
}

function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}

function logTail(file, from = 0, maxBytes = 4_000) {
  try {
    const fd = openSync(file, 'r');
    try {
      const size = fstatSync(fd).size;
      const start = Math.max(from, size - maxBytes);
      const buf = Buffer.alloc(size - start);
      readSync(fd, buf, 0, buf.length, start);
      return buf.toString('utf8').trimEnd();
    } finally {
      closeSync(fd);
    }
  } catch {
    return '';
  }
}

// ---------------------------------------------------------------------------------------
// CLI

const USAGE = `usage:
  node scripts/s3-server.mjs start moto|versitygw|localstack --state FILE [--timeout MS]
  node scripts/s3-server.mjs env --state FILE
  node scripts/s3-server.mjs stop --state FILE`;

async function cli(argv) {
  const [command, ...rest] = argv;
  const positional = [];
  let stateFile;
  let timeoutMs;
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i];
    if (arg === '--state') stateFile = rest[++i];
    else if (arg === '--timeout') timeoutMs = Number(rest[++i]);
    else if (arg.startsWith('--state=')) stateFile = arg.slice('--state='.length);
    else positional.push(arg);
  }
  if (!stateFile || !['start', 'stop', 'env'].includes(command)) {
    console.error(USAGE);
    return 2;
  }
  stateFile = resolve(stateFile);

  if (command === 'start') {
    const kind = positional[0];
    if (!SERVER_KINDS.includes(kind)) {
      console.error(`unknown server kind ${JSON.stringify(kind)}\n${USAGE}`);
      return 2;
    }
    if (existsSync(stateFile)) {
      const old = readState(stateFile);
      if (old && isOurServer(old)) {
        console.error(
          `an S3 server is already running from ${stateFile} (pid ${old.pid}, ${old.endpoint}); stop it first`,
        );
        return 1;
      }
    }
    const logFile = stateFile.replace(/\.json$/, '') + '.log';
    const saveState = async (state) => {
      await mkdir(dirname(stateFile), { recursive: true });
      await writeFile(stateFile, JSON.stringify(state, null, 2) + '\n');
    };
    let server;
    try {
      server = await startS3Server(kind, {
        detached: true,
        logFile,
        timeoutMs,
        // Recorded before the server is ready, so `stop` finds it if we are interrupted.
        onSpawn: (info) => saveState({ ...info, ...TEST_CREDENTIALS, starting: true }),
      });
    } catch (err) {
      await rm(stateFile, { force: true }); // startS3Server stopped what it started
      throw err;
    }
    const { stop: _stop, ...state } = server;
    await saveState({ ...state, startedAt: new Date().toISOString() });
    console.log(`${kind} S3 server at ${server.endpoint} (pid ${server.pid}, log ${logFile}, state ${stateFile})`);
    return 0;
  }

  const state = existsSync(stateFile) ? readState(stateFile) : null;
  if (command === 'env') {
    if (!state) {
      console.error(`no S3 server state in ${stateFile}`);
      return 1;
    }
    const q = (v) => `'${String(v).replace(/'/g, `'\\''`)}'`;
    console.log(
      [
        `export S3_TEST_ENDPOINT=${q(state.endpoint)}`,
        `export S3_TEST_SERVER=${q(state.kind)}`,
        `export AWS_ACCESS_KEY_ID=${q(state.accessKeyId)}`,
        `export AWS_SECRET_ACCESS_KEY=${q(state.secretAccessKey)}`,
        `export AWS_REGION=${q(state.region)}`,
      ].join('\n'),
    );
    return 0;
  }

  // stop: idempotent, so it is safe in a cleanup trap.
  if (!state) {
    console.log(`no S3 server state in ${stateFile}; nothing to stop`);
    return 0;
  }
  if (isOurServer(state)) {
    await killAndWait(state.pid, null, true);
    console.log(`stopped ${state.kind} S3 server (pid ${state.pid}, ${state.endpoint})`);
  } else {
    console.log(`${state.kind} S3 server (pid ${state.pid}) is not running`);
  }
  if (state.dataDir && basename(state.dataDir).startsWith(`s3-${state.kind}-`)) {
    await rm(state.dataDir, { recursive: true, force: true });
  }
  await rm(stateFile, { force: true });
  return 0;
}

function readState(file) {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return null;
  }
}

/** Is state.pid alive and still the server we started (not a recycled pid)? */
function isOurServer(state) {
  if (!Number.isInteger(state.pid) || state.pid <= 1 || !isAlive(state.pid)) return false;
  try {
    const cmdline = readFileSync(`/proc/${state.pid}/cmdline`, 'utf8');
    return cmdline.includes(state.kind === 'localstack' ? 'localstack.runtime.main' : state.kind);
  } catch {
    return process.platform !== 'linux'; // no /proc to check: trust the state file
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  cli(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      console.error(err instanceof Error ? err.message : err);
      process.exitCode = 1;
    },
  );
}

// @platform/log-reader as a consumer meets it: the packed tarball (`npm pack`) installed into a
// scratch package of its own, compiled under `strict` with `skipLibCheck: false` (so every .d.ts
// the package brings is checked, its dependencies' included), then run against the test S3
// server through a `localhost` endpoint: a program that streams a pod through `pipeline`, and
// the README's HTTP example as it is written there.
//
// The scratch package lives in the OS temp directory, not under the repository: Node and tsc
// look for a module in every node_modules/ up the tree, and the repository's would hide a
// dependency the tarball forgot to declare.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve, sep } from 'node:path';
import { type CliResult, closedPort, runProcess } from './support/cli.js';
import { messages, newWorld } from './support/world.js';

const ROOT = resolve(__dirname, '..');
const TSC = resolve(ROOT, 'node_modules/typescript/bin/tsc');
const T0 = new Date('2026-11-25T10:00:00Z');
// npm pack, an install from the npm cache (the registry when it is cold) and two compiles.
const SETUP_TIMEOUT_MS = 240_000;

/** The README's TypeScript example: the one fenced `ts` block that imports the package. */
function readmeExample(): string {
  const blocks = [...readFileSync(resolve(ROOT, 'README.md'), 'utf8').matchAll(/^```ts\n([\s\S]*?)^```$/gm)];
  const ours = blocks.map((b) => b[1] ?? '').filter((b) => b.includes("from '@platform/log-reader'"));
  if (ours.length !== 1)
    throw new Error(`README.md: expected one ts block importing the package, found ${ours.length}`);
  return ours[0] ?? '';
}

/** Streams a pod to stdout through `pipeline`; a typed error of the package prints its code and exits 3. */
const MAIN = `import { pipeline } from 'node:stream/promises';
import { InvalidPodNameError, LogReader, LogReaderError, createS3Client } from '@platform/log-reader';

const [bucket = '', pod = ''] = process.argv.slice(2);
const reader = new LogReader({ client: createS3Client({}), bucket });
try {
  await pipeline(reader.createReadStream(pod, { timestamps: true }), process.stdout);
} catch (error) {
  if (!(error instanceof LogReaderError)) throw error;
  console.error(\`\${error.code} \${error instanceof InvalidPodNameError ? 'invalid pod name' : error.message}\`);
  process.exitCode = 3;
}
`;

/** A followed read with the package's kubeconfig loader: its types, not run. */
const FOLLOW = `import { LogReader, createS3Client, type FollowOptions } from '@platform/log-reader';
import { loadKubeTarget } from '@platform/log-reader/kube-config';

const { kube, namespace } = loadKubeTarget({ namespace: 'jobs' });
const follow: FollowOptions = { kube, namespace };
const reader = new LogReader({ client: createS3Client({}), bucket: 'job-logs' });
for await (const r of reader.records('job-0b1c', { follow, tail: 10 })) console.log(r.source, r.message);
`;

function tsconfig(files: readonly string[], emit: boolean): string {
  const compilerOptions = {
    strict: true,
    skipLibCheck: false,
    exactOptionalPropertyTypes: true,
    noUncheckedIndexedAccess: true,
    module: 'nodenext',
    target: 'es2022',
    types: ['node'],
    rootDir: '.',
    outDir: 'dist',
    ...(emit ? {} : { noEmit: true }),
  };
  return JSON.stringify({ compilerOptions, files }, null, 2);
}

// What a parent `npm test` or `npm exec` exports about the repository's own package and
// workspace: a child npm would take the scratch package for part of the workspace. The
// registry, cache and proxy settings (npm_config_registry, …) are kept.
const PARENT_NPM = /^npm_(package_|lifecycle_|config_(workspaces?|include_workspace_root|prefix|local_prefix)$)/i;

/** This environment without the parent npm's project; npm next to the node that runs the tests first. */
function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !PARENT_NPM.test(k)));
  return { ...env, PATH: `${dirname(process.execPath)}:${env['PATH'] ?? ''}`, ...extra };
}

async function run(command: string, args: readonly string[], cwd: string, extra = {}): Promise<CliResult> {
  return runProcess(command, args, { cwd, env: childEnv(extra) });
}

function ok(what: string, result: CliResult): CliResult {
  if (result.exitCode !== 0) throw new Error(`${what} exited ${result.exitCode}:\n${result.stdout}${result.stderr}`);
  return result;
}

/** The test server's endpoint with the host name `localhost`: a host name, which needs path-style addressing. */
function localhostEndpoint(): string {
  const url = new URL(process.env['S3_TEST_ENDPOINT'] ?? '');
  if (url.hostname === '127.0.0.1') url.hostname = 'localhost';
  return url.toString().replace(/\/$/, '');
}

/** The S3 settings of a consumer's process: the endpoint and the test credentials, from the standard variables. */
function s3Env(): Record<string, string> {
  return {
    AWS_ENDPOINT_URL_S3: localhostEndpoint(),
    AWS_ACCESS_KEY_ID: process.env['AWS_ACCESS_KEY_ID'] ?? '',
    AWS_SECRET_ACCESS_KEY: process.env['AWS_SECRET_ACCESS_KEY'] ?? '',
    AWS_REGION: process.env['AWS_REGION'] ?? 'us-east-1',
  };
}

interface Scratch {
  readonly dir: string;
  readonly compiled: CliResult;
  readonly compiledFollow: CliResult;
}

async function makeScratchPackage(): Promise<Scratch> {
  if (!existsSync(resolve(ROOT, 'packages/log-reader/dist/index.d.ts')))
    throw new Error('packages/log-reader/dist is missing: run `npx tsc -b` first');
  const dir = mkdtempSync(join(tmpdir(), 'log-reader-consumer-'));
  const packed = ok(
    'npm pack',
    await run('npm', ['pack', '--workspace', 'packages/log-reader', '--pack-destination', dir, '--json'], ROOT),
  );
  const [{ filename }] = JSON.parse(packed.stdout) as [{ filename: string }];
  const rootPackage = JSON.parse(readFileSync(resolve(ROOT, 'package.json'), 'utf8')) as {
    devDependencies: Record<string, string>;
  };
  const dependencies = {
    '@platform/log-reader': `file:./${filename}`,
    '@types/node': rootPackage.devDependencies['@types/node'],
  };
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: 'consumer', private: true, type: 'module', dependencies }),
  );
  ok(
    'npm install',
    await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--ignore-scripts'], dir),
  );
  writeFileSync(join(dir, 'main.ts'), MAIN);
  writeFileSync(join(dir, 'readme-example.ts'), readmeExample());
  writeFileSync(join(dir, 'follow.ts'), FOLLOW);
  writeFileSync(join(dir, 'tsconfig.json'), tsconfig(['main.ts', 'readme-example.ts'], true));
  writeFileSync(join(dir, 'tsconfig.follow.json'), tsconfig(['follow.ts'], false));
  const compiled = await run(process.execPath, [TSC, '-p', 'tsconfig.json', '--listFiles'], dir);
  const compiledFollow = await run(process.execPath, [TSC, '-p', 'tsconfig.follow.json'], dir);
  return { dir, compiled, compiledFollow };
}

/** Starts the README's server on a free port; resolves once it says it listens. */
async function startReadmeServer(dir: string, bucket: string): Promise<{ child: ChildProcess; base: string }> {
  const port = await closedPort();
  const child = spawn(process.execPath, ['dist/readme-example.js'], {
    cwd: dir,
    env: childEnv({ ...s3Env(), PORT: String(port), LOG_BUCKET: bucket }),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let said = '';
  child.stdout?.setEncoding('utf8');
  while (!said.includes('\n')) {
    const [chunk] = (await Promise.race([once(child.stdout!, 'data'), once(child, 'exit')])) as [unknown];
    if (typeof chunk !== 'string') throw new Error(`the README's example exited (${String(chunk)}) before listening`);
    said += chunk;
  }
  return { child, base: `http://localhost:${port}` };
}

describe('the packed @platform/log-reader, installed and compiled as a consumer does', () => {
  let scratch: Scratch;

  beforeAll(async () => {
    scratch = await makeScratchPackage();
  }, SETUP_TIMEOUT_MS);

  afterAll(() => {
    if (scratch !== undefined && process.env['KEEP_CONSUMER'] === undefined)
      rmSync(scratch.dir, { recursive: true, force: true });
  });

  it('compiles under strict with skipLibCheck false, without loading the Kubernetes client types', () => {
    expect(scratch.compiled.stdout.split('\n').filter((l) => l.includes('error TS'))).toEqual([]);
    expect(scratch.compiled.exitCode).toBe(0);
    const files = scratch.compiled.stdout.split('\n').filter(Boolean);
    // Every declaration comes from the scratch package's own install (or TypeScript's lib).
    const typescriptLib = resolve(ROOT, 'node_modules/typescript/lib') + sep;
    expect(files.filter((f) => !f.startsWith(scratch.dir + sep) && !f.startsWith(typescriptLib))).toEqual([]);
    expect(
      files.filter((f) => f.includes(`${sep}node_modules${sep}@platform${sep}log-reader${sep}`)).length,
    ).toBeGreaterThan(0);
    // A read that does not follow needs none of @kubernetes/client-node's types (nor ws's).
    expect(files.filter((f) => f.includes(`${sep}@kubernetes${sep}`) || f.includes(`${sep}ws${sep}`))).toEqual([]);
  });

  it('compiles a followed read with the kubeconfig loader of @platform/log-reader/kube-config', () => {
    expect(scratch.compiledFollow.stdout).toBe('');
    expect(scratch.compiledFollow.exitCode).toBe(0);
  });

  it('streams a pod through pipeline from a localhost endpoint, and fails a bad pod name with its typed error', async () => {
    const w = await newWorld('consumer');
    const fb = w.container('job-1', '0f3a');
    await fb.upload(messages('merged', 3, T0));
    await w.pass();
    await fb.upload(messages('raw', 2, new Date(T0.getTime() + 5 * 60_000)));

    const read = await run(process.execPath, ['dist/main.js', w.bucket, 'job-1'], scratch.dir, s3Env());
    expect(read).toEqual({
      exitCode: 0,
      stdout: [...messages('merged', 3, T0), ...messages('raw', 2, new Date(T0.getTime() + 5 * 60_000))]
        .map((m) => `${m.time} ${m.log}\n`)
        .join(''),
      stderr: '',
    });

    const bad = await run(process.execPath, ['dist/main.js', w.bucket, 'Bad_Name'], scratch.dir, s3Env());
    expect(bad).toEqual({ exitCode: 3, stdout: '', stderr: 'ERR_INVALID_POD_NAME invalid pod name\n' });
  });

  it("serves a job's log with the README's HTTP example: 200 and the lines, 400 for a bad pod name", async () => {
    const w = await newWorld('consumer-http');
    await w.container('job-2', '0f3a').upload(messages('line', 3, T0));
    const { child, base } = await startReadmeServer(scratch.dir, w.bucket);
    try {
      const log = await fetch(`${base}/logs/job-2`);
      expect([log.status, await log.text()]).toEqual([
        200,
        messages('line', 3, T0)
          .map((m) => `${m.time} ${m.log}\n`)
          .join(''),
      ]);
      const bad = await fetch(`${base}/logs/Bad_Name`);
      expect(bad.status).toBe(400);
      expect(await bad.text()).toMatch(/invalid pod name "Bad_Name"/);
    } finally {
      child.kill();
    }
  });
});

// Start-up: the bins run each CLI's bundle (scripts/bundle-clis.mjs), and commands that send
// no request (`--version`, `--help`, usage errors) load neither the AWS SDK nor the Kubernetes
// client, whose code is most of a CLI's start-up time: the bundle's chunks that hold them load
// only when a command uses them. The bins keep Node's compile cache where they can, and run as
// before where they cannot.
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { closedPort, runProcess } from './support/cli.js';

const ROOT = resolve(__dirname, '..');
const BINS = {
  compactor: resolve(ROOT, 'packages/compactor/bin/compactor.js'),
  'log-reader': resolve(ROOT, 'packages/log-reader/bin/log-reader.js'),
} as const;
const HEAVY = /(^|\/)node_modules\/(@aws-sdk|@smithy|@kubernetes\/client-node)\//;

// A module hook, preloaded with --import, that writes every URL Node loads (ES modules and
// require() alike) to the file named in LOADED_URLS_FILE when the process exits.
const HOOK = `
import { registerHooks } from 'node:module';
import { writeFileSync } from 'node:fs';
const urls = [];
registerHooks({ load(url, context, next) { urls.push(url); return next(url, context); } });
process.on('exit', () => writeFileSync(process.env.LOADED_URLS_FILE, urls.join('\\n')));
`;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'startup-'));
  await writeFile(join(dir, 'hook.mjs'), HOOK);
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

async function loadedBy(
  bin: keyof typeof BINS,
  args: readonly string[],
): Promise<{ exitCode: number | null; urls: string[] }> {
  const file = join(dir, `${bin}-${args.join('_')}.txt`);
  const env = { PATH: process.env['PATH'], LOADED_URLS_FILE: file };
  const result = await runProcess(process.execPath, ['--import', join(dir, 'hook.mjs'), BINS[bin], ...args], { env });
  return { exitCode: result.exitCode, urls: (await readFile(file, 'utf8')).split('\n') };
}

/**
 * The modules each loaded file holds: a bundle's file holds many, each after a comment with
 * its path that esbuild writes (`// node_modules/commander/lib/command.js`); any other file is itself.
 */
async function modulesIn(urls: readonly string[]): Promise<string[]> {
  const modules: string[] = [];
  for (const url of urls) {
    if (!/\/packages\/[^/]+\/bundle\//.test(url)) {
      modules.push(url);
      continue;
    }
    const text = await readFile(fileURLToPath(url), 'utf8');
    modules.push(...[...text.matchAll(/^\/\/ (\S+\.[cm]?js(?:on)?)$/gm)].map((m) => m[1]!));
  }
  return modules;
}

describe.each([
  ['compactor', ['--version'], 0],
  ['compactor', ['--help'], 0],
  ['compactor', ['run', '--help'], 0],
  ['compactor', ['inspect', '--help'], 0],
  ['compactor', ['run'], 2], // no bucket: a usage error
  ['log-reader', ['--version'], 0],
  ['log-reader', ['--help'], 0],
  ['log-reader', ['logs', '--help'], 0],
  ['log-reader', ['logs', 'job-1', '--tail', 'x'], 2],
] as const)('%s %j', (bin, args, exitCode) => {
  it('runs the bundle, and loads neither the AWS SDK nor the Kubernetes client', async () => {
    const loaded = await loadedBy(bin, args);
    expect(loaded.exitCode).toBe(exitCode);
    expect(loaded.urls).toContain(pathToFileURL(resolve(ROOT, 'packages', bin, 'bundle/bin.js')).href);
    const modules = await modulesIn(loaded.urls);
    // The check saw the CLI's own modules (else the one below would pass for nothing).
    expect(modules.some((module) => module.includes('node_modules/commander/'))).toBe(true);
    expect(modules.filter((module) => HEAVY.test(module))).toEqual([]);
  });
});

describe('a command that uses them', () => {
  // Else the checks above could pass on a bundle whose chunks the hook never sees.
  it.each([
    ['compactor', ['run', '--bucket', 'b', '--kube', 'KUBECONFIG']],
    ['log-reader', ['logs', 'job-1', '-f', '--bucket', 'b', '--kubeconfig', 'KUBECONFIG']],
  ] as const)('%s %j loads both, and says only what went wrong', async (bin, args) => {
    const kubeconfig = join(dir, 'kubeconfig.yaml');
    await writeFile(
      kubeconfig,
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]',
        'users: [{name: u, user: {token: t}}]',
        'contexts: [{name: x, context: {cluster: c, user: u, namespace: default}}]',
        'current-context: x',
      ].join('\n'),
    );
    const endpoint = `http://127.0.0.1:${await closedPort()}`;
    const argv = [...args.map((a) => (a === 'KUBECONFIG' ? kubeconfig : a)), '--endpoint', endpoint];
    const file = join(dir, `${bin}-uses.txt`);
    const env = {
      PATH: process.env['PATH'],
      LOADED_URLS_FILE: file,
      AWS_ACCESS_KEY_ID: 'x',
      AWS_SECRET_ACCESS_KEY: 'y',
    };
    const hook = ['--import', join(dir, 'hook.mjs')];
    const result = await runProcess(process.execPath, [...hook, BINS[bin], ...argv, '--s3-max-attempts', '1'], { env });
    // One line naming the endpoint: no warning of a bundled dependency's (Node's deprecated
    // `punycode`, which tr46 under the Kubernetes client requires, warns from outside node_modules/).
    expect(result).toMatchObject({ exitCode: 2, stderr: `${bin}: cannot reach S3 at ${endpoint}: ECONNREFUSED\n` });
    const modules = await modulesIn((await readFile(file, 'utf8')).split('\n'));
    expect(modules.some((module) => module.includes('node_modules/@aws-sdk/client-s3/'))).toBe(true);
    expect(modules.some((module) => module.includes('node_modules/@kubernetes/client-node/'))).toBe(true);
  });
});

describe("Node's compile cache", () => {
  it.each(Object.keys(BINS) as (keyof typeof BINS)[])('%s keeps it under the OS temp dir', async (bin) => {
    const tmp = await mkdtemp(join(dir, 'tmp-'));
    const env = { PATH: process.env['PATH'], TMPDIR: tmp };
    const result = await runProcess(process.execPath, [BINS[bin], '--version'], { env });
    expect(result).toMatchObject({ exitCode: 0, stderr: '' });
    expect((await readdir(join(tmp, 'node-compile-cache'))).length).toBeGreaterThan(0);
  });

  it.each(Object.keys(BINS) as (keyof typeof BINS)[])('%s runs as before where it cannot be written', async (bin) => {
    // A directory under a regular file cannot be made, whoever runs the CLI (root included).
    const file = join(dir, 'hook.mjs');
    const env = { PATH: process.env['PATH'], TMPDIR: file };
    const result = await runProcess(process.execPath, [BINS[bin], '--version'], { env });
    expect(result).toMatchObject({ exitCode: 0, stderr: '' });
    expect(result.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
  });
});

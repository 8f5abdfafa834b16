// The compactor image's tree without a Docker engine: scripts/build-prod-tree.sh (what the
// Dockerfile's build stage runs) makes it in a temp dir, and the CLIs run from it as in the
// container: the tree and HOME read-only, another user than the tree's owner, only the
// variables a deployment sets, a working directory outside the checkout.
import { execFileSync } from 'node:child_process';
import { lstat, mkdir, mkdtemp, readdir, readFile, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve, sep } from 'node:path';
import { runProcess, type CliResult } from './support/cli.js';
import { messages, newWorld } from './support/world.js';

const ROOT = resolve(__dirname, '..');
const T0 = new Date('2026-11-25T10:00:00Z');
/** Root writes through any mode bits: as root, the CLIs run as nobody, as the image's uid 1000 would. */
const RUN_AS = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};

let base = '';
let tree = '';
let home = '';
let cwd = '';

/**
 * A CLI of the tree found on PATH, as the image's ENTRYPOINT finds it, with what a deployment sets and nothing else.
 */
function fromTree(name: 'compactor' | 'log-reader', args: readonly string[]): Promise<CliResult> {
  const env: NodeJS.ProcessEnv = {
    PATH: `${join(tree, 'bin')}:${dirname(process.execPath)}`,
    HOME: home,
    AWS_ACCESS_KEY_ID: process.env['AWS_ACCESS_KEY_ID'],
    AWS_SECRET_ACCESS_KEY: process.env['AWS_SECRET_ACCESS_KEY'],
    AWS_REGION: process.env['AWS_REGION'],
    AWS_ENDPOINT_URL_S3: process.env['S3_TEST_ENDPOINT'],
  };
  return runProcess(name, args, { cwd, env, ...RUN_AS });
}

async function chmodTree(mode: string, ...paths: string[]): Promise<void> {
  const result = await runProcess('chmod', ['-R', mode, ...paths], { cwd: ROOT, env: process.env });
  if (result.exitCode !== 0) throw new Error(`chmod -R ${mode} ${paths.join(' ')}: ${result.stderr}`);
}

/** Every path under dir (dir-relative), symlinks not followed. */
async function walk(dir: string, prefix = ''): Promise<{ path: string; symlink: boolean }[]> {
  const out: { path: string; symlink: boolean }[] = [];
  for (const entry of await readdir(join(dir, prefix), { withFileTypes: true })) {
    const path = join(prefix, entry.name);
    out.push({ path, symlink: entry.isSymbolicLink() });
    if (entry.isDirectory()) out.push(...(await walk(dir, path)));
  }
  return out;
}

async function exists(path: string): Promise<boolean> {
  return lstat(path).then(
    () => true,
    () => false,
  );
}

const version = async (pkg: string): Promise<string> =>
  (JSON.parse(await readFile(join(ROOT, 'packages', pkg, 'package.json'), 'utf8')) as { version: string }).version;

beforeAll(async () => {
  base = await realpath(await mkdtemp(join(tmpdir(), 'compactor-image-')));
  tree = join(base, 'app');
  home = join(base, 'home');
  cwd = join(base, 'cwd');
  await Promise.all([mkdir(home), mkdir(cwd)]);
  const built = await runProcess(join(ROOT, 'scripts/build-prod-tree.sh'), [tree], { cwd: ROOT, env: process.env });
  if (built.exitCode !== 0)
    throw new Error(`scripts/build-prod-tree.sh failed (${built.exitCode}):\n${built.stdout}${built.stderr}`);
  await chmodTree('a-w', tree, home, cwd);
  // mkdtemp makes the base 0700: the other user must get through it to the tree.
  await runProcess('chmod', ['755', base], { cwd: ROOT, env: process.env });
}, 180_000);

afterAll(async () => {
  if (!base) return;
  await chmodTree('u+w', base);
  await rm(base, { recursive: true, force: true });
});

describe('the compactor image tree (scripts/build-prod-tree.sh)', () => {
  it('holds the two CLIs, each bundled with its dependencies: no node_modules/, no testkit, no sources', async () => {
    expect((await readdir(join(tree, 'packages'))).sort()).toEqual(['compactor', 'log-reader']);
    expect(await exists(join(tree, 'node_modules'))).toBe(false);
    for (const pkg of ['compactor', 'log-reader']) {
      expect([pkg, (await readdir(join(tree, 'packages', pkg))).sort()]).toEqual([
        pkg,
        ['bin', 'bundle', 'package.json'],
      ]);
      // Stack traces in a bug report name the TypeScript sources (the shims turn source maps on).
      const map = JSON.parse(await readFile(join(tree, 'packages', pkg, 'bundle/bin.js.map'), 'utf8')) as {
        sources: string[];
      };
      expect(map.sources).toContain('../src/bin.ts');
    }
    // The licences of what each bundle holds travel with it.
    const notices = async (pkg: string): Promise<string> =>
      readFile(join(tree, 'packages', pkg, 'bundle/THIRD-PARTY-NOTICES.txt'), 'utf8');
    const runtime = {
      compactor: ['@aws-sdk/client-s3', '@kubernetes/client-node', 'commander', 'prom-client', 'winston'],
      'log-reader': ['@aws-sdk/client-s3', '@kubernetes/client-node', 'commander'],
    };
    for (const [pkg, deps] of Object.entries(runtime)) {
      const text = await notices(pkg);
      for (const dep of deps) expect([pkg, dep, text.includes(`\n${dep} `)]).toEqual([pkg, dep, true]);
      expect(text).toContain('Apache License');
      // Every package's licence text is there, even where the package ships no licence file
      // (tr46, MIT: the standard text with its author) or names it otherwise (stream-buffers' UNLICENSE).
      const sections = text.split(`\n${'-'.repeat(78)}\n`).slice(1);
      const bare = sections.filter(
        (section) => !/permission|copyright|licen[cs]e/i.test(section.split('\n').slice(1).join('\n')),
      );
      expect(bare.map((section) => section.trim().split('\n')[0])).toEqual([]);
      if (pkg === 'compactor') expect(text).toMatch(/^tr46 [^\n]+\n\n[^]*Permission is hereby granted/m);
    }
  });

  it('points nowhere outside itself: every symlink resolves inside the tree', async () => {
    const outside: string[] = [];
    for (const { path, symlink } of await walk(tree)) {
      if (!symlink) continue;
      const target = await realpath(join(tree, path));
      if (!target.startsWith(tree + sep)) outside.push(`${path} -> ${target}`);
    }
    expect(outside).toEqual([]);
  });
});

describe('the CLIs run from the tree: read-only, another user, a clean environment', () => {
  it('compactor --version and log-reader --version print the packages’ versions', async () => {
    expect(await fromTree('compactor', ['--version'])).toEqual({
      exitCode: 0,
      stdout: `${await version('compactor')}\n`,
      stderr: '',
    });
    expect(await fromTree('log-reader', ['--version'])).toEqual({
      exitCode: 0,
      stdout: `${await version('log-reader')}\n`,
      stderr: '',
    });
  });

  it('compactor run --dry-run exits 0 and writes or deletes nothing', async () => {
    const w = await newWorld('image-dry-run');
    await w.container('job-1', '0f3a').upload(messages('a', 2, T0));
    const before = await w.listing();

    const result = await fromTree('compactor', ['run', '--dry-run', '--bucket', w.bucket]);

    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain('merge job-1: would merge 1 raw file(s)');
    expect(await w.listing()).toEqual(before);
  });

  it('compactor run merges, and log-reader cat from the same tree reads the merged log', async () => {
    const w = await newWorld('image-run');
    await w.container('job-1', '0f3a').upload(messages('a', 2, T0));

    const result = await fromTree('compactor', ['run', '--bucket', w.bucket]);

    expect(result.exitCode).toBe(0);
    expect(JSON.parse(result.stdout) as unknown).toMatchObject({ pods: { merged: 1, failed: 0 }, dryRun: false });
    // A write the runtime could not make (a cache, a temp file in HOME) would show as a warning.
    const levels = result.stderr
      .split('\n')
      .filter(Boolean)
      .map((line) => (JSON.parse(line) as { level?: unknown }).level);
    expect(levels).toContain('info');
    expect(levels.filter((level) => level !== 'info' && level !== 'debug')).toEqual([]);
    expect(await w.keys('metadata/')).toEqual(['metadata/job-1.json']);
    expect(await fromTree('log-reader', ['cat', 'job-1', '--bucket', w.bucket])).toEqual({
      exitCode: 0,
      stdout: 'a-0\na-1\n',
      stderr: '',
    });
  });
});

describe('the Dockerfile', () => {
  /** Its instructions, continuation lines joined, comments dropped. */
  async function instructions(): Promise<string[]> {
    const text = await readFile(join(ROOT, 'Dockerfile'), 'utf8');
    return text
      .replace(/\\\n/g, ' ')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#'));
  }

  it('runs the tree this test runs: built by the same script, its bin first on PATH, as a non-root user', async () => {
    const lines = await instructions();
    const stages = lines.map((line, i) => [line, i] as const).filter(([line]) => line.startsWith('FROM '));
    expect(stages).toHaveLength(2);
    const runtimeStart = stages[1]![1];
    const build = lines.slice(0, runtimeStart);
    const runtime = lines.slice(runtimeStart);

    const script = build.map((line) => /^RUN .*scripts\/build-prod-tree\.sh (\S+)/.exec(line)?.[1]).find(Boolean);
    expect(script).toBeDefined();
    const copy = runtime.map((line) => /^COPY --from=build (\S+) (\S+)$/.exec(line)).find(Boolean);
    expect(copy?.[1]).toBe(script);
    const app = copy?.[2];
    expect(runtime.some((line) => line.startsWith('ENV ') && line.includes(`PATH=${app}/bin:$PATH`))).toBe(true);

    const user = runtime.map((line) => /^USER (\d+)(?::(\d+))?$/.exec(line)).find(Boolean);
    expect(Number(user?.[1])).toBeGreaterThan(0);
    const entrypoint = runtime.find((line) => line.startsWith('ENTRYPOINT '));
    expect((JSON.parse(entrypoint!.slice('ENTRYPOINT '.length)) as string[]).at(-1)).toBe('compactor');
    expect(runtime).toContain('CMD ["run"]');
  });

  it("copies only what .dockerignore lets into the build context (else the build fails with 'not found')", async () => {
    const rules = (await readFile(join(ROOT, '.dockerignore'), 'utf8'))
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#'))
      .map((line) => ({ keep: line.startsWith('!'), pattern: dockerignorePattern(line.replace(/^!/, '')) }));
    /** Docker's rule: the last pattern matching the path or one of its parent directories decides. */
    const sent = (path: string): boolean => {
      const parts = path.split('/');
      const prefixes = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
      let keep = true;
      for (const rule of rules) if (prefixes.some((prefix) => rule.pattern.test(prefix))) keep = rule.keep;
      return keep;
    };
    const tracked = execFileSync('git', ['ls-files'], { cwd: ROOT, encoding: 'utf8' }).trim().split('\n');
    const sources = (await instructions())
      .filter((line) => line.startsWith('COPY ') && !line.startsWith('COPY --from'))
      .flatMap((line) => line.split(/\s+/).slice(1, -1));
    expect(sources.length).toBeGreaterThan(3);
    for (const source of sources) {
      const files = tracked.filter(
        (file) => file === source || file.startsWith(source.endsWith('/') ? source : `${source}/`),
      );
      expect({ source, inCheckout: files.length > 0 }).toEqual({ source, inCheckout: true });
      expect({ source, sent: files.filter(sent).length > 0 }).toEqual({ source, sent: true });
    }
    expect(sent('packages/compactor/src/pass/pass.test.ts')).toBe(false);
    expect(sent('.git/config')).toBe(false);
  });

  it('builds on the Node release .nvmrc pins, as docker-compose.yml runs it and package.json engines allow', async () => {
    const pinned = (await readFile(join(ROOT, '.nvmrc'), 'utf8')).trim();
    const image = `node:${pinned}-bookworm-slim`;
    expect((await instructions()).find((line) => line.startsWith('ARG NODE_IMAGE='))).toBe(`ARG NODE_IMAGE=${image}`);
    const compose = await readFile(join(ROOT, 'docker-compose.yml'), 'utf8');
    const nodeImages = [...compose.matchAll(/image: (node:\S+)/g)].map((m) => m[1]);
    expect(nodeImages.length).toBeGreaterThan(0);
    expect(new Set(nodeImages)).toEqual(new Set([image]));
    for (const manifest of ['package.json', 'packages/compactor/package.json', 'packages/log-reader/package.json']) {
      const { engines } = JSON.parse(await readFile(join(ROOT, manifest), 'utf8')) as { engines: { node: string } };
      const floor = /^>=(\d+)\.(\d+)$/.exec(engines.node);
      expect(floor?.[1]).toBe(pinned.split('.')[0]);
      expect(Number(floor?.[2])).toBeLessThanOrEqual(Number(pinned.split('.')[1]));
    }
  });
});

/** A .dockerignore pattern as a regular expression over a path (`*` within a segment, `**` across). */
function dockerignorePattern(pattern: string): RegExp {
  const body = pattern
    .replace(/\/$/, '')
    .split('/')
    .map((segment) =>
      segment === '**'
        ? '.*'
        : segment
            .replace(/[.+^${}()|[\]\\]/g, '\\$&')
            .replace(/\*/g, '[^/]*')
            .replace(/\?/g, '[^/]'),
    )
    .join('/');
  return new RegExp(`^${body.replace(/\.\*\//g, '(?:.*/)?')}$`);
}

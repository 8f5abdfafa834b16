/**
 * The code under test: the built `@platform/log-reader` and `compactor` of a checkout (this
 * one by default, or `--code DIR`, e.g. a git worktree at `bench-baseline` built with
 * `npm ci --ignore-scripts && npx tsc -b`), and its two CLI bins. The harness itself
 * (generator, limits, report) is always this checkout's, so two checkouts are measured
 * the same way.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export type ReaderLib = typeof import('@platform/log-reader');
export type CompactorLib = typeof import('compactor');

export interface Code {
  readonly dir: string;
  readonly reader: ReaderLib;
  readonly compactor: CompactorLib;
}

/** The checkout this harness belongs to. */
export const OWN_CHECKOUT = resolve(fileURLToPath(new URL('../../../..', import.meta.url)));

export function bins(dir: string): { readonly logReader: string; readonly compactor: string } {
  return {
    logReader: join(dir, 'packages/log-reader/bin/log-reader.js'),
    compactor: join(dir, 'packages/compactor/bin/compactor.js'),
  };
}

function dists(dir: string): { readonly reader: string; readonly compactor: string } {
  return {
    reader: join(dir, 'packages/log-reader/dist/index.js'),
    compactor: join(dir, 'packages/compactor/dist/index.js'),
  };
}

/** Why `dir` cannot be benched (not built), or undefined. */
export function checkCode(dir: string): string | undefined {
  const missing = [...Object.values(dists(dir)), ...Object.values(bins(dir))].filter((file) => !existsSync(file));
  if (missing.length > 0) return `${dir} is not built (missing ${missing.join(', ')}): run \`npx tsc -b\` there`;
  // The bin shims run a CLI's bundle where there is one: an old one would measure old code.
  const stale = ['log-reader', 'compactor'].filter((p) => {
    const bundle = join(dir, 'packages', p, 'bundle/bin.js');
    return existsSync(bundle) && newestMtime(join(dir, 'packages', p, 'dist')) > statSync(bundle).mtimeMs;
  });
  if (stale.length > 0)
    return `${dir}: the bundle of ${stale.join(', ')} is older than its dist/: run \`node scripts/bundle-clis.mjs\` there, or delete packages/*/bundle`;
  return undefined;
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true }))
    if (entry.isFile()) newest = Math.max(newest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
  return newest;
}

export async function loadCode(dir: string): Promise<Code> {
  const files = dists(dir);
  const reader = (await import(pathToFileURL(files.reader).href)) as ReaderLib;
  const compactor = (await import(pathToFileURL(files.compactor).href)) as CompactorLib;
  return { dir, reader, compactor };
}

/** The commit of `dir` and how `git describe` names it (`bench-baseline`, `…-dirty`). */
export function describeCode(dir: string): {
  readonly commit: string;
  readonly describe: string;
  readonly subject: string;
} {
  const git = (...args: string[]): string => {
    try {
      return execFileSync('git', ['-C', dir, ...args], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }).trim();
    } catch {
      return 'unknown';
    }
  };
  const commit = git('rev-parse', '--short', 'HEAD');
  const tagged = git('describe', '--tags', '--always', '--dirty');
  // A tag names the commit itself (`bench-baseline`); else the branch and commit say more
  // than `bench-baseline-11-gf0704e8`.
  const exact = !/-g[0-9a-f]+(-dirty)?$/.test(tagged);
  const branch = git('rev-parse', '--abbrev-ref', 'HEAD');
  const describe = exact
    ? tagged
    : `${branch === 'HEAD' ? 'detached' : branch}@${commit}${tagged.endsWith('-dirty') ? '-dirty' : ''}`;
  return { commit, describe, subject: git('log', '-1', '--format=%s') };
}

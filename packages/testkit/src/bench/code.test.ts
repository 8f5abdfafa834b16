import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { checkCode } from './code.js';

/** A checkout as the bench sees one: both packages built, both bins, a bundle of each CLI made after. */
function checkout(): string {
  const dir = mkdtempSync(join(tmpdir(), 'bench-code-'));
  for (const file of [
    'packages/log-reader/dist/index.js',
    'packages/compactor/dist/index.js',
    'packages/compactor/dist/pass/pass.js',
    'packages/log-reader/bin/log-reader.js',
    'packages/compactor/bin/compactor.js',
    'packages/log-reader/bundle/bin.js',
    'packages/compactor/bundle/bin.js',
  ]) {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    writeFileSync(join(dir, file), '');
    utimesSync(join(dir, file), file.includes('/bundle/') ? 2_000 : 1_000, file.includes('/bundle/') ? 2_000 : 1_000);
  }
  return dir;
}

const at = (dir: string, file: string, seconds: number): void => utimesSync(join(dir, file), seconds, seconds);

it('measures a checkout whose bundles are newer than its compiled code', () => {
  const dir = checkout();
  try {
    expect(checkCode(dir)).toBeUndefined();
  } finally {
    rmSync(dir, { recursive: true });
  }
});

it('refuses a checkout whose bundle is older than a compiled file: its bins would run old code', () => {
  const dir = checkout();
  try {
    at(dir, 'packages/compactor/dist/pass/pass.js', 3_000);
    expect(checkCode(dir)).toMatch(
      /the bundle of compactor is older than its dist\/: run `node scripts\/bundle-clis.mjs`/,
    );
  } finally {
    rmSync(dir, { recursive: true });
  }
});

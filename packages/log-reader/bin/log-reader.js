#!/usr/bin/env -S node --max-semi-space-size=16
// The young generation at Node 20's size (16 MiB a semi-space): since Node 22 V8 lets it grow
// to 64 MiB in a long run, garbage between scavenges that took the peak RSS of compacting or
// reading a 1-2 GB pod log from 125-190 MiB to 260-360 (docs/performance.md). V8 reads the
// flag only at start-up, hence here. `node BIN` without it runs with V8's defaults.
// npm links a workspace's bins when it installs, before `make build` has made dist/, so the
// link points at this committed file, which runs the built CLI (or says what is missing).
import { existsSync } from 'node:fs';
import module from 'node:module';

// Node's compile cache (under the OS temp dir, or NODE_COMPILE_CACHE; NODE_DISABLE_COMPILE_CACHE=1
// turns it off) spares later runs compiling the CLI's modules again. Only modules loaded after
// this line use it. A directory that cannot be written (a read-only root without /tmp) leaves
// it off without a word: it never fails the CLI.
try {
  module.enableCompileCache?.();
} catch {
  // Starting slower is all it costs.
}

// Stack traces name the TypeScript sources (bundle/*.js.map), for bug reports; Node reads a
// map only when a stack is printed.
module.setSourceMapsSupport?.(true);

// make build's bundle: one file and lazily loaded chunks (scripts/bundle-clis.mjs). Where
// there is none (the published @platform/log-reader ships dist/ only, or `npx tsc -b` ran
// alone) the compiled dist/bin.js runs, the same CLI loading more files.
const bundle = new URL('../bundle/bin.js', import.meta.url);
const built = existsSync(bundle) ? bundle : new URL('../dist/bin.js', import.meta.url);
if (!existsSync(built)) {
  process.stderr.write('log-reader: not built yet (no bundle/bin.js, no dist/bin.js): run `make build` first\n');
  process.exit(2);
}
await import(built.href);

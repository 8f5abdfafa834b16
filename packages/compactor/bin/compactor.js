#!/usr/bin/env node
// npm links a workspace's bins when it installs, before `make build` has made dist/, so the
// link points at this committed file, which runs the built CLI (or says what is missing).
import { existsSync } from 'node:fs';

const built = new URL('../dist/bin.js', import.meta.url);
if (!existsSync(built)) {
  process.stderr.write('compactor: not built yet (no dist/bin.js): run `make build` first\n');
  process.exit(2);
}
await import(built.href);

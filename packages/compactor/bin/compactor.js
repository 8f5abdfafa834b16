#!/usr/bin/env node
// npm links a workspace's bins when it installs, before `make build` has made dist/, so the
// link points at this committed file, which runs the built CLI (or says what is missing).
import { existsSync } from 'node:fs';

// V8's young generation: since Node 22 it grows to 64 MiB per semi-space (Node 20: 16 MiB) in a
// long run, all of it garbage between scavenges: on Node 24, compacting or reading a 1-2 GB pod
// log peaked at 260-360 MiB of RSS instead of 125-190. The flag is read only at start-up, so
// the process replaces itself once (same pid: tini and signals see no difference) with Node
// 20's size, unless the command line or NODE_OPTIONS sizes the young generation already.
const heapFlag = /^--(max[-_]semi[-_]space[-_]size|max[-_]heap[-_]size)\b/;
const sized = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)].some((a) => heapFlag.test(a));
if (!sized && typeof process.execve === 'function') {
  try {
    const args = ['--max-semi-space-size=16', ...process.execArgv, ...process.argv.slice(1)];
    process.execve(process.execPath, [process.execPath, ...args]);
  } catch {
    // not allowed here (a worker, the permission model): run with V8's defaults
  }
}

const built = new URL('../dist/bin.js', import.meta.url);
if (!existsSync(built)) {
  process.stderr.write('compactor: not built yet (no dist/bin.js): run `make build` first\n');
  process.exit(2);
}
await import(built.href);

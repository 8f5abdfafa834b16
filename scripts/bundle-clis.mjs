#!/usr/bin/env node
// scripts/bundle-clis.mjs: each CLI as one ES module and its lazily loaded chunks, made by
// esbuild from the compiled dist/ (run `npx tsc -b` first; `make build` runs both).
//
//   packages/compactor/bundle/bin.js     packages/log-reader/bundle/bin.js
//                 .../bundle/chunks/*.js, *.js.map, THIRD-PARTY-NOTICES.txt
//
// Why: Node resolving, reading and compiling the 289 files of a pass (the SDK, winston,
// commander, ours) was most of its start; 23 bundled ones take a third off (docs/performance.md).
// `splitting` keeps the dynamic import()s of the sources as separate chunks, so `--version`,
// `--help` and usage errors still load no SDK (test/startup.test.ts). The bin shims run
// bundle/bin.js; the library entries (`@platform/log-reader`, `compactor`) stay dist/, unbundled.
// Source maps map back to the TypeScript (tsc's maps are read through); the shims turn them on.
import { build } from 'esbuild';
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CLIS = ['log-reader', 'compactor'];

// A CommonJS dependency bundled into an ES module calls require() for Node's own modules;
// ES modules have none, so each output file gets one.
const BANNER =
  "import { createRequire as __createRequire } from 'node:module';\nconst require = __createRequire(import.meta.url);";

for (const cli of CLIS) {
  const entry = join(ROOT, 'packages', cli, 'dist/bin.js');
  if (!existsSync(entry)) {
    process.stderr.write(`bundle-clis: packages/${cli} is not compiled (no dist/bin.js): run \`npx tsc -b\` first\n`);
    process.exit(2);
  }
  const outdir = join(ROOT, 'packages', cli, 'bundle');
  rmSync(outdir, { recursive: true, force: true });
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: [entry],
    outdir,
    entryNames: '[name]',
    chunkNames: 'chunks/[name]-[hash]',
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node24',
    // The dependencies' ES module builds (the SDK's dist-es), as Node's own `import` picks.
    mainFields: ['module', 'main'],
    banner: { js: BANNER },
    // tr46 (under @kubernetes/client-node) requires Node's deprecated `punycode`, which warns on
    // stderr once its caller is outside node_modules/, as bundled code is. The npm package is
    // the same code (Node's copy is vendored from it): a pinned devDependency, built in.
    alias: { punycode: 'punycode/' },
    sourcemap: 'linked',
    // The maps name the sources; their text stays out (a bug report's stack needs only the lines).
    sourcesContent: false,
    // Licence comments stay at the end of each file; THIRD-PARTY-NOTICES.txt holds the full texts.
    legalComments: 'eof',
    metafile: true,
    logLevel: 'warning',
  });
  writeFileSync(join(outdir, 'THIRD-PARTY-NOTICES.txt'), notices(cli, Object.keys(result.metafile.inputs)));
}

/** Each bundled package's name, version, licence and licence file, from the inputs esbuild read. */
function notices(cli, inputs) {
  const roots = new Set();
  for (const input of inputs) {
    const match = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input);
    if (match) roots.add(match[1]);
  }
  const sections = [...roots].map((root) => {
    const dir = join(ROOT, root);
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    const file = readdirSync(dir).find((name) => /^(licen[cs]e|unlicen[cs]e|copying|notice)/i.test(name));
    const text = file ? readFileSync(join(dir, file), 'utf8').trim() : standardText(pkg);
    return { name: pkg.name, text: `${pkg.name} ${pkg.version} (${pkg.license ?? 'no licence field'})\n\n${text}\n` };
  });
  sections.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const rule = `\n${'-'.repeat(78)}\n\n`;
  const head = `The ${cli} CLI's bundle (bin.js and chunks/) holds code of these packages, under these licences.\n`;
  return [head, ...sections.map((s) => s.text)].join(rule);
}

/**
 * For a package that ships no licence file: MIT's standard text with the author its
 * package.json names (MIT asks for its notice to travel with the code); for another licence
 * (Apache-2.0 packages of the SDK) where to read it.
 */
function standardText(pkg) {
  const author = typeof pkg.author === 'string' ? pkg.author : (pkg.author?.name ?? 'its authors');
  if (pkg.license !== 'MIT')
    return `(the package ships no licence file; ${pkg.license ?? 'no licence'}: https://spdx.org/licenses/${pkg.license}.html, copyright ${author})`;
  return [
    `(the package ships no licence file; the MIT licence's standard text, copyright ${author})`,
    '',
    `Copyright (c) ${author}`,
    '',
    'Permission is hereby granted, free of charge, to any person obtaining a copy of this software and',
    'associated documentation files (the "Software"), to deal in the Software without restriction,',
    'including without limitation the rights to use, copy, modify, merge, publish, distribute,',
    'sublicense, and/or sell copies of the Software, and to permit persons to whom the Software is',
    'furnished to do so, subject to the following conditions:',
    '',
    'The above copyright notice and this permission notice shall be included in all copies or',
    'substantial portions of the Software.',
    '',
    'THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, INCLUDING BUT',
    'NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND',
    'NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM,',
    'DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM, OUT',
    'OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.',
  ].join('\n');
}

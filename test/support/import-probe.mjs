// `node --import test/support/import-probe.mjs bin.js ...`: writes one line to stderr when the
// process loads @kubernetes/client-node, so a test can tell whether a run loaded it: a file of
// its package, or a file of a CLI's bundle that holds its code (esbuild names each module it
// bundled in a `// node_modules/…` comment).
import { registerHooks } from 'node:module';

export const PROBE_LINE = 'import-probe: @kubernetes/client-node loaded';
const PACKAGE = 'node_modules/@kubernetes/client-node/';

let seen = false;
registerHooks({
  load(url, context, next) {
    const result = next(url, context);
    const bundled = /\/bundle\//.test(url) && String(result.source ?? '').includes(`// ${PACKAGE}`);
    if (!seen && (url.includes(`/${PACKAGE}`) || bundled)) {
      seen = true;
      process.stderr.write(`${PROBE_LINE}\n`);
    }
    return result;
  },
});

// `node --import test/support/import-probe.mjs bin.js ...`: writes one line to stderr when the
// process resolves @kubernetes/client-node, so a test can tell whether a run loaded it.
import { register } from 'node:module';

export const PROBE_LINE = 'import-probe: @kubernetes/client-node loaded';

const hooks = `export async function resolve(specifier, context, next) {
  if (specifier === '@kubernetes/client-node') process.stderr.write(${JSON.stringify(PROBE_LINE + '\n')});
  return next(specifier, context);
}`;
register(`data:text/javascript,${encodeURIComponent(hooks)}`);

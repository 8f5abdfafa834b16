// Validates Kubernetes objects offline against the API's schemas, with the model classes of
// the kubernetes-models package (e.g. `new CronJob(obj).validate()`). That package is
// ES-module-only (its exports have no `require` condition), which Jest's CommonJS loader
// cannot load, so test/k8s-manifests.test.ts runs this file with plain Node.
//
// stdin: a JSON array of objects. stdout: a JSON array with one entry per object, `null`
// when it is valid, else the reason (no model for its apiVersion/kind, or the schema errors).
import { readFileSync } from 'node:fs';

const objects = JSON.parse(readFileSync(0, 'utf8'));
const results = [];
for (const object of objects) results.push(await problemOf(object));
process.stdout.write(JSON.stringify(results));

async function problemOf(object) {
  const apiVersion = object?.apiVersion;
  const kind = object?.kind;
  if (
    typeof apiVersion !== 'string' ||
    typeof kind !== 'string' ||
    !/^[A-Za-z0-9]+$/.test(kind) ||
    !/^[a-z0-9.]+(\/v[a-z0-9]+)?$/.test(apiVersion)
  ) {
    return `not a Kubernetes object: apiVersion ${JSON.stringify(apiVersion)}, kind ${JSON.stringify(kind)}`;
  }
  let Model;
  try {
    Model = (await import(`kubernetes-models/${apiVersion}/${kind}`))[kind];
  } catch {
    Model = undefined;
  }
  // Only a top-level model carries its own apiVersion and kind (ObjectMeta, say, does not).
  if (Model === undefined || Model.apiVersion !== apiVersion || Model.kind !== kind)
    return `no kubernetes-models model for ${apiVersion} ${kind}`;
  try {
    new Model(object).validate();
    return null;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

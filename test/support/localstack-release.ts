// The LocalStack release the project pins: the one scripts/install-localstack.sh installs for
// the test tier, which docker-compose.yml and the minikube overlay must run too.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

const INSTALLER = resolve(__dirname, '../../scripts/install-localstack.sh');

/** `2026.3.0`: the `localstack-core…==VERSION` of the installer. */
export function pinnedLocalStackRelease(): string {
  const match = /"localstack-core(?:\[[\w-]+\])?==([\d.]+)"/.exec(readFileSync(INSTALLER, 'utf8'));
  if (match?.[1] === undefined) throw new Error(`${INSTALLER}: no localstack-core==VERSION pin`);
  return match[1];
}

/** The image of that release. */
export function pinnedLocalStackImage(): string {
  return `localstack/localstack:${pinnedLocalStackRelease()}`;
}

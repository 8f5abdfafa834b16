/**
 * The kubeconfig of `log-reader logs -f`, found the way kubectl finds it. Imported lazily by
 * cli/logs.ts: loading `@kubernetes/client-node` costs about half a CPU-second, which a plain read
 * of the archive must not pay.
 */
import { KubeConfig } from '@kubernetes/client-node';

export interface KubeTarget {
  /**
   * The Kubernetes client's own type (the compactor calls more of it than a read does), so this
   * entry's types load client-node's, which import `ws`: the package depends on `@types/ws` for
   * them (client-node does not).
   */
  readonly kube: KubeConfig;
  /** `--namespace`, else the context's namespace, else `default` (as kubectl). */
  readonly namespace: string;
}

export interface KubeTargetOptions {
  /** `--kubeconfig`: a kubeconfig file; without it `KUBECONFIG`, `~/.kube/config`, then in-cluster. */
  readonly kubeconfig?: string | undefined;
  /** `--context`: a context of that kubeconfig instead of its current one. */
  readonly context?: string | undefined;
  /** `--namespace`. */
  readonly namespace?: string | undefined;
}

/** A kubeconfig that cannot be used; the message names where it looked, never what it read. */
export class KubeConfigError extends Error {
  override readonly name = 'KubeConfigError';
}

export function loadKubeTarget(options: KubeTargetOptions): KubeTarget {
  const kube = new KubeConfig();
  // client-node reads the same variable (loadFromDefault).
  const fromEnv = process.env['KUBECONFIG'];
  const where =
    options.kubeconfig !== undefined
      ? options.kubeconfig
      : fromEnv !== undefined && fromEnv !== ''
        ? `KUBECONFIG (${fromEnv})`
        : '~/.kube/config or the service account (in-cluster)';
  try {
    if (options.kubeconfig !== undefined) kube.loadFromFile(options.kubeconfig);
    else kube.loadFromDefault();
  } catch (error) {
    // Not the parser's message: it may quote the file, tokens included.
    const code = (error as { code?: unknown }).code;
    const why =
      typeof code === 'string'
        ? code
        : error instanceof Error && error.name === 'YAMLException'
          ? 'not valid YAML'
          : 'unreadable';
    throw new KubeConfigError(`cannot load the kubeconfig from ${where}: ${why}`, { cause: error });
  }
  if (options.context !== undefined) {
    if (kube.getContextObject(options.context) === null)
      throw new KubeConfigError(
        `--context: no context ${JSON.stringify(options.context)} in the kubeconfig from ${where}`,
      );
    kube.setCurrentContext(options.context);
  }
  const cluster = kube.getCurrentCluster();
  // Finding nothing, client-node falls back to http://localhost:8080 without credentials.
  if (
    cluster === null ||
    (options.kubeconfig === undefined &&
      kube.getCurrentContext() === 'loaded-context' &&
      cluster.server === 'http://localhost:8080')
  ) {
    throw new KubeConfigError(`no Kubernetes cluster configured in ${where}`);
  }
  const namespace = options.namespace || kube.getContextObject(kube.getCurrentContext())?.namespace || 'default';
  return { kube, namespace };
}

/**
 * Container ids as the two sides write them: raw keys carry the runtime's 64-hex id, the
 * Kubernetes API a `containerd://…` (or `docker://`, `cri-o://`) URI, sometimes shortened.
 */

/** `containerd://0f3a…` → `0f3a…` (also `docker://`, `cri-o://`), lowercase. */
export function stripScheme(containerId: string | undefined): string {
  if (containerId === undefined) return '';
  const at = containerId.indexOf('://');
  return (at < 0 ? containerId : containerId.slice(at + 3)).toLowerCase();
}

/** One container instance, whichever side shortened its id (a prefix match either way). */
export function sameContainer(a: string, b: string): boolean {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  return x !== '' && y !== '' && (x.startsWith(y) || y.startsWith(x));
}

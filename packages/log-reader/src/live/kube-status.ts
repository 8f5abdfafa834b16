/** Words of a Kubernetes API error, for messages: both the reader and the compactor ask the API. */

/** A `Status` body's reason and message (`Forbidden: pods "job-1" is forbidden: …`), at most 300 characters. */
export function statusReason(status: unknown): string | undefined {
  if (typeof status !== 'object' || status === null) return undefined;
  const { reason, message } = status as { reason?: unknown; message?: unknown };
  const parts = [reason, message].filter((p): p is string => typeof p === 'string' && p !== '');
  return parts.length === 0 ? undefined : parts.join(': ').slice(0, 300);
}

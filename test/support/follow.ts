// A followed read in the background, watched by a test: what it has returned so far, a way to
// wait until it has returned something (no fixed sleeps), and how it ended.
import { KubeConfig } from '@kubernetes/client-node';
import type { FollowedRecord, FollowOptions, LogReader, ReadOptions } from '@platform/log-reader';
import type { KubeApiDouble, LogLine } from './kube-api.js';

export interface Followed {
  readonly records: FollowedRecord[];
  /** Messages returned so far, in order. */
  messages(): string[];
  /** Resolves once `check` holds for what was returned (polls; the test's timeout bounds it). */
  until(check: (records: readonly FollowedRecord[]) => boolean): Promise<void>;
  /** Resolves once `check` holds (what the double saw, say) while the read goes on; rejects if the read ends first. */
  waitFor(check: () => boolean): Promise<void>;
  /** Settles when the read ends: resolves with nothing, or rejects with its error. */
  readonly ended: Promise<void>;
}

/** A KubeConfig loaded from the double's kubeconfig file, as a service would load its own. */
export function kubeConfigOf(kube: KubeApiDouble): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(kube.kubeconfigPath);
  return kc;
}

export function followOptions(kube: KubeApiDouble, extra: Partial<FollowOptions> = {}): FollowOptions {
  return { kube: kubeConfigOf(kube), namespace: 'jobs', pollInterval: 10, ...extra };
}

export function follow(reader: LogReader, pod: string, options: ReadOptions & { follow: FollowOptions }): Followed {
  const records: FollowedRecord[] = [];
  let failure: unknown;
  let done = false;
  const ended = (async () => {
    try {
      for await (const r of reader.records(pod, options)) records.push(r);
    } catch (error) {
      failure = error;
      throw error;
    } finally {
      done = true;
    }
  })();
  ended.catch(() => undefined);
  const waitFor = async (check: () => boolean): Promise<void> => {
    while (!check()) {
      if (done)
        throw new Error(
          `the read ended before the awaited state came (${records.length} returned)${failure === undefined ? '' : `: ${String(failure)}`}`,
        );
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  };
  return {
    records,
    messages: () => records.map((r) => r.message),
    until: (check) => waitFor(() => check(records)),
    waitFor,
    ended,
  };
}

/**
 * `n` lines a second apart from `start` (nanosecond times), `prefix-i` as messages; usable for the live log and for
 * uploads alike.
 */
export function jobLines(prefix: string, n: number, start: Date, first = 0): (LogLine & { log: string; at: Date })[] {
  return Array.from({ length: n }, (_, k) => {
    const i = first + k;
    const at = new Date(start.getTime() + i * 1000);
    const time = `${at.toISOString().slice(0, 19)}.123456789Z`;
    return { time, message: `${prefix}-${i}`, log: `${prefix}-${i}`, at };
  });
}

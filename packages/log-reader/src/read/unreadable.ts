/**
 * What a read does with an object that arrived whole but cannot be decoded (docs/design.md
 * §8): report it to the caller once and read around it, or, when strict, fail the read.
 */
import { UnreadableObjectError } from '../errors.js';
import type { UnreadableEntry } from '../layout/unreadable.js';
import type { ReadOptions, UnreadableObject } from './types.js';

export class UnreadableReport {
  // Once per key and read: a re-plan or a tail's second part meets the same object again.
  private readonly reported = new Set<string>();

  constructor(
    private readonly pod: string,
    private readonly options: Pick<ReadOptions, 'onUnreadable' | 'strict'>,
  ) {}

  /** The objects a commit recorded (a raw file among them is not read again, a merged one is). */
  recorded(entries: readonly UnreadableEntry[]): void {
    for (const u of entries) this.found(u.key, u.reason, u.foundAt);
  }

  /** An object met while reading: reported, or with `strict` thrown. */
  met(error: UnreadableObjectError): void {
    this.found(error.key, error.reason, undefined, error);
  }

  private found(key: string, reason: string, foundAt: string | undefined, cause?: UnreadableObjectError): void {
    if (this.options.strict === true)
      throw (
        cause ??
        new UnreadableObjectError(key, `${reason} (recorded by the compactor at ${foundAt ?? '?'})`, { pod: this.pod })
      );
    if (this.reported.has(key)) return;
    this.reported.add(key);
    const object: UnreadableObject = { pod: this.pod, key, reason, ...(foundAt === undefined ? {} : { foundAt }) };
    this.options.onUnreadable?.(object);
  }
}

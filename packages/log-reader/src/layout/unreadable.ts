/**
 * The compactor's metadata field `unreadable_objects` (docs/design.md §3, §8): objects of the
 * pod that arrived whole but cannot be decoded, each with its reason and when a pass found it:
 *   `"unreadable_objects":[{"key":"kube.…/202611251000_2.gz","reason":"gzip: …","found_at":"2026-…"}]`
 * A raw file listed here counts as merged (none of its records is in the merged files: none
 * can be read) and is never due for deletion: only
 * retention or an operator removes it. A merged file listed here stays in `log_files`.
 * The Python service ignores the field.
 */
import { MetadataError } from '../errors.js';
import { parseTime } from './time.js';

/** An object that arrived whole but cannot be decoded. */
export interface UnreadableEntry {
  readonly key: string;
  /** What is wrong with its body, e.g. `gzip: incorrect header check`. */
  readonly reason: string;
  /** ISO 8601 time of the commit that recorded it. */
  readonly foundAt: string;
}

export const UNREADABLE_FIELD = 'unreadable_objects';

/** Decodes the field (absent: none); throws {@link MetadataError} naming `metadataKey`. */
export function decodeUnreadable(metadataKey: string, value: unknown): UnreadableEntry[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new MetadataError(metadataKey, `${UNREADABLE_FIELD} is not a list`);
  return value.map((item: unknown, i) => {
    const where = `${UNREADABLE_FIELD}[${i}]`;
    if (typeof item !== 'object' || item === null || Array.isArray(item))
      throw new MetadataError(metadataKey, `${where} is not an object`);
    const { key, reason, found_at: foundAt } = item as Record<string, unknown>;
    if (typeof key !== 'string' || key.length === 0)
      throw new MetadataError(metadataKey, `${where}.key is not a non-empty string`);
    if (typeof reason !== 'string') throw new MetadataError(metadataKey, `${where}.reason is not a string`);
    if (typeof foundAt !== 'string' || parseTime(foundAt) === undefined)
      throw new MetadataError(metadataKey, `${where}.found_at is not an ISO 8601 time`);
    return { key, reason, foundAt };
  });
}

/** The field's JSON value; `undefined` (the field left out) when there are none. */
export function encodeUnreadable(entries: readonly UnreadableEntry[]): unknown {
  if (entries.length === 0) return undefined;
  return entries.map((e) => ({ key: e.key, reason: e.reason, found_at: e.foundAt }));
}

/** `entries` plus those of `found` not listed yet (a key is listed once, with its first finding). */
export function withUnreadable(
  entries: readonly UnreadableEntry[],
  found: readonly UnreadableEntry[],
): UnreadableEntry[] {
  const known = new Set(entries.map((e) => e.key));
  const out = [...entries];
  for (const e of found) {
    if (known.has(e.key)) continue;
    known.add(e.key);
    out.push(e);
  }
  return out;
}

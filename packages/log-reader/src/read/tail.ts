/**
 * `tail: n`: the last n records a read returns, fetching only the merged files that can hold
 * them. Pure: no I/O.
 */
import { recordsIn, type LogFileEntry } from '../layout/metadata.js';
import { surelyKept } from './archive-filter.js';
import type { ArchiveFilter } from './types.js';

/**
 * The position (records of the whole log before it) from which the merged files surely hold
 * `need` returned records: walking back from the last file, counting only what the metadata
 * guarantees is returned (a file partly before `since` or partly in a live log counts 0, so
 * the walk goes one file further rather than come short).
 */
export function tailStart(files: readonly LogFileEntry[], need: number, filter: ArchiveFilter): number {
  let start = recordsIn(files);
  let sure = 0;
  for (let i = files.length - 1; i >= 0 && sure < need; i--) {
    const file = files[i] as LogFileEntry;
    start -= file.recordsCount;
    sure += surelyKept(filter, file);
  }
  return start;
}

/** The last `capacity` items pushed, in order; memory bounded by the capacity. */
export class Ring<T> {
  private readonly items: T[] = [];
  private head = 0;

  constructor(readonly capacity: number) {}

  get size(): number {
    return this.items.length;
  }

  push(batch: readonly T[]): void {
    if (this.capacity <= 0) return;
    for (const item of batch) {
      if (this.items.length < this.capacity) this.items.push(item);
      else {
        this.items[this.head] = item;
        this.head = (this.head + 1) % this.capacity;
      }
    }
  }

  /** Oldest first. */
  toArray(): T[] {
    return [...this.items.slice(this.head), ...this.items.slice(0, this.head)];
  }
}

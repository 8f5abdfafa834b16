/**
 * Where a read is, and the walk of one plan's records against it. A read that re-plans walks
 * the new plan from its start: records before the cursor are passed over, the one at its
 * place is checked to be the last one passed (else the read seeks it further on, so nothing is
 * returned twice), and the rest advance the cursor and go through the filter. Pure: no I/O.
 */
import type { LogFileEntry } from '../layout/metadata.js';
import type { LogRecord } from '../layout/records.js';
import { dropsWholeFile, keeps } from './archive-filter.js';
import type { ArchiveFilter } from './types.js';

/** Where a read is: records of the full sequence passed (returned or filtered by `since`), and the last of them. */
export interface Cursor {
  position: number;
  last: LogRecord | undefined;
}

/** One plan's records, walked in log order from its start; `to` is the window's end. */
export class PlanWalk {
  private index = 0;
  // After a re-plan: the record passed last, until it is found again further on.
  private seeking: LogRecord | undefined;
  // The window's end is reached: nothing further is taken or fetched.
  private done = false;

  constructor(
    private readonly cursor: Cursor,
    private readonly filter: ArchiveFilter,
    private readonly to: number | undefined,
  ) {}

  /** Whether the read returns `record`, the plan's next one; past the cursor it advances the cursor. */
  take(record: LogRecord): boolean {
    const at = this.index++;
    if (this.to !== undefined && at >= this.to) {
      this.done = true;
      return false;
    }
    if (this.seeking !== undefined) {
      if (sameRecord(record, this.seeking)) this.seeking = undefined;
      return false;
    }
    if (at < this.cursor.position - 1) return false;
    if (at === this.cursor.position - 1) {
      if (this.cursor.last !== undefined && !sameRecord(record, this.cursor.last)) this.seeking = this.cursor.last;
      return false;
    }
    this.cursor.position = this.index;
    this.cursor.last = record;
    return keeps(this.filter, record);
  }

  /** The plan's next `count` records go by unread (a merged file not fetched). */
  skip(count: number): void {
    this.index += count;
    if (this.index > this.cursor.position) {
      // Passed unread (before `since`): no record to check the place by.
      this.cursor.position = this.index;
      this.cursor.last = undefined;
    }
  }

  /** A record beyond the window came: nothing further is taken or fetched. */
  get ended(): boolean {
    return this.done;
  }

  /** The walk is at the window's end. */
  get atEnd(): boolean {
    return this.to !== undefined && this.index >= this.to;
  }

  /** The record passed last was not found again after its place: the log changed under the read. */
  get lost(): boolean {
    return this.seeking !== undefined;
  }
}

/**
 * The merged files to fetch: all but those passed already (after a re-plan the one holding the
 * last record passed is read again to check it), those beyond the window, and those the filter
 * drops whole (before `since`, or all in a live log).
 */
export function filesToFetch(
  merged: readonly LogFileEntry[],
  cursor: Cursor,
  filter: ArchiveFilter,
  to: number | undefined,
): Set<LogFileEntry> {
  const fetch = new Set<LogFileEntry>();
  let end = 0;
  for (const entry of merged) {
    const start = end;
    end += entry.recordsCount;
    const passed = cursor.last === undefined ? end <= cursor.position : end < cursor.position;
    if (!passed && !(to !== undefined && start >= to) && !dropsWholeFile(filter, entry)) fetch.add(entry);
  }
  return fetch;
}

function sameRecord(a: LogRecord, b: LogRecord): boolean {
  return a.time === b.time && a.message === b.message && a.stream === b.stream && a.containerId === b.containerId;
}

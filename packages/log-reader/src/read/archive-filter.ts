/**
 * Which archived records a read returns: those at or after `since`, minus the records a live
 * log holds (a followed read takes a live container's lines from the Kubernetes API from
 * some instant on, so the archive's copies of them are left out). Pure: no I/O.
 */
import { sameContainer } from '../layout/container-id.js';
import { parseMergedKey } from '../layout/keys.js';
import { endsBefore, firstRecordNs, lastRecordNs, RANGE_MARGIN_NS, type LogFileEntry } from '../layout/metadata.js';
import type { LogRecord } from '../layout/records.js';
import { parseTime } from '../layout/time.js';
import type { ArchiveFilter } from './types.js';

/** Whether the read returns `record`. A time that cannot be read is kept: never drop what cannot be judged. */
export function keeps(filter: ArchiveFilter, record: LogRecord): boolean {
  if (filter.since === undefined && filter.exclude === undefined && filter.within === undefined) return true;
  const ns = parseTime(record.time);
  const within = filter.within;
  // A window takes only what it can place.
  if (
    within !== undefined &&
    (ns === undefined ||
      ns <= within.afterNs ||
      ns >= within.beforeNs ||
      !sameContainer(record.containerId, within.containerId))
  )
    return false;
  if (ns === undefined) return true;
  if (filter.since !== undefined && ns < filter.since) return false;
  for (const ex of filter.exclude ?? [])
    if (ns > ex.fromNs && sameContainer(record.containerId, ex.containerId)) return false;
  return true;
}

/** True when no record of the merged file is returned, judged from the metadata alone: it need not be fetched. */
export function dropsWholeFile(filter: ArchiveFilter, entry: LogFileEntry): boolean {
  if (filter.since !== undefined && endsBefore(entry, filter.since)) return true;
  const first = firstRecordNs(entry);
  const containerId = parseMergedKey(entry.key)?.containerId;
  const within = filter.within;
  if (within !== undefined) {
    if (containerId !== undefined && !sameContainer(containerId, within.containerId)) return true;
    if (endsBefore(entry, within.afterNs + 1n) || (first !== undefined && first >= within.beforeNs)) return true;
  }
  if (first === undefined || containerId === undefined) return false;
  return (filter.exclude ?? []).some((ex) => first > ex.fromNs && sameContainer(containerId, ex.containerId));
}

/** How many of the merged file's records the read surely returns, judged from the metadata alone (0 when unsure). */
export function surelyKept(filter: ArchiveFilter, entry: LogFileEntry): number {
  if (filter.within !== undefined) return 0;
  if (filter.since !== undefined) {
    const first = firstRecordNs(entry);
    if (first === undefined || first < filter.since) return 0;
  }
  if ((filter.exclude ?? []).length > 0) {
    const containerId = parseMergedKey(entry.key)?.containerId;
    const last = lastRecordNs(entry);
    if (containerId === undefined || last === undefined) return 0;
    for (const ex of filter.exclude ?? [])
      if (sameContainer(containerId, ex.containerId) && last + RANGE_MARGIN_NS > ex.fromNs) return 0;
  }
  return entry.recordsCount;
}

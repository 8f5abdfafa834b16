/**
 * `compactor inspect` as text for a terminal: one section per question (metadata, merged
 * files, what is not merged yet, unfinished lines, pending deletions, cleanup queue, lease,
 * the next pass), columns aligned, times ISO with "in 12m" / "5m ago". `--json` prints the
 * inspection (collect.ts) as it is instead.
 */
import type { PendingKind } from '../pass/deletions.js';
import { formatBytes } from '../pass/report.js';
import type { MetadataSummary, PodInspection } from './inspection.js';

const KIND_LABEL: Record<PendingKind, string> = { 'merged-raw': 'merged raw', retired: 'retired', orphan: 'orphan' };

/** One section of the text: a label, a one-line summary, and rows printed as columns below it. */
interface Section {
  readonly label: string;
  readonly summary: string;
  readonly rows?: readonly (readonly string[])[];
}

/** An ISO time as `ISO (in 12m)`; `-` for none, as it is when it is not a time. */
type At = (iso: string | null) => string;

/**
 * The inspection as text for a terminal: one section per question, columns aligned,
 * times ISO with "in 12m" / "5m ago".
 */
export function formatInspection(i: PodInspection): string {
  const nowMs = Date.parse(i.inspectedAt);
  const at: At = (iso) => {
    const ms = iso === null ? Number.NaN : Date.parse(iso);
    return Number.isNaN(ms) ? (iso ?? '-') : `${new Date(ms).toISOString()} (${relative(ms, nowMs)})`;
  };
  const where = [
    `bucket ${i.bucket}`,
    i.namespaces.length > 0 ? `namespace ${i.namespaces.join(', ')}` : 'no raw files',
    `container ${i.containerIds.join(', ') || '-'}`,
  ];
  const out: string[] = [
    `pod ${i.pod}: ${where.join(', ')}${i.namespace === null ? '' : ` (raw files of namespace ${i.namespace} only)`}`,
    `judged at ${i.inspectedAt} with cleanup interval ${duration(i.cleanupIntervalMs)}, compact interval ${duration(i.compactIntervalMs)}, quiet after ${duration(i.quietAfterMs)}`,
    '',
  ];
  for (const s of sections(i, at)) {
    out.push(`${s.label.padEnd(LABEL_WIDTH)}${s.summary}`);
    for (const line of table(s.rows ?? [])) out.push(`  ${line}`);
  }
  if (!i.found) out.push('', `no objects for pod ${i.pod} in bucket ${i.bucket}`);
  return `${out.join('\n')}\n`;
}

function sections(i: PodInspection, at: At): Section[] {
  const q = i.cleanupQueue;
  return [
    metadataSection(i.metadata, at),
    mergedSection(i),
    {
      label: 'not merged yet',
      summary:
        i.unmergedTotals.files === 0
          ? 'no raw files'
          : `${i.unmergedTotals.files} raw file(s), ${formatBytes(i.unmergedTotals.size)}`,
      rows: i.unmergedRawFiles.map((f) => [f.key, formatBytes(f.size), `uploaded ${at(f.lastModified)}`]),
    },
    unfinishedSection(i),
    ...(i.unreadableObjects.length === 0 ? [] : [unreadableSection(i, at)]),
    pendingSection(i, at),
    { label: 'cleanup queue', summary: q.present ? `${q.key} present since ${at(q.lastModified)}` : `${q.key} absent` },
    leaseSection(i, at),
    { label: 'next pass', summary: describeNextPass(i) },
    ...(i.otherContainers.length === 0
      ? []
      : [
          {
            label: 'other containers',
            summary: 'raw files never read, merged or deleted',
            rows: i.otherContainers.map((c) => [`${c.namespace}/${c.container}`, `${c.rawFiles} raw file(s)`]),
          },
        ]),
    ...(i.problems.length === 0
      ? []
      : [{ label: 'problems', summary: String(i.problems.length), rows: i.problems.map((x) => [x.code, x.message]) }]),
  ];
}

function metadataSection(m: MetadataSummary, at: At): Section {
  if (!m.exists) return { label: 'metadata', summary: `${m.key}: none (never merged)` };
  return {
    label: 'metadata',
    summary: `${m.key}, written by the ${m.writtenBy === 'compactor' ? 'compactor' : 'Python service'}`,
    rows: [
      ['last compaction', at(m.lastCompactionTime)],
      ['last merged key', m.lastMergedKey ?? '-'],
      ['commit id', m.commitId ?? '-'],
    ],
  };
}

function mergedSection(i: PodInspection): Section {
  const t = i.mergedTotals;
  if (t.files === 0) return { label: 'merged files', summary: 'none', rows: [] };
  return {
    label: 'merged files',
    summary: `${t.files} file(s), ${t.records} record(s), ${formatBytes(t.size)} NDJSON, ${formatBytes(t.storedSize)} stored`,
    rows: [
      ['KEY', 'RECORDS', 'NDJSON', 'STORED', 'FIRST RECORD', 'LAST RECORD'],
      ...i.mergedFiles.map((f) => [
        f.key,
        String(f.records),
        formatBytes(f.size),
        f.storedSize === null ? 'MISSING' : formatBytes(f.storedSize),
        f.firstRecordTime,
        f.lastRecordTime,
      ]),
    ],
  };
}

function unfinishedSection(i: PodInspection): Section {
  return {
    label: 'unfinished lines',
    summary:
      i.unfinishedLines.length === 0 ? 'none' : `${i.unfinishedLines.length}, their raw files kept until the line ends`,
    rows: i.unfinishedLines.flatMap((l) => [
      [l.stream, `starts at line ${l.line} of ${l.key}; pieces in ${l.files.length} file(s):`],
      ...l.files.map((f) => ['', `${f.key} from line ${f.line}${f.present ? '' : ': MISSING from the bucket'}`]),
    ]),
  };
}

function unreadableSection(i: PodInspection, at: At): Section {
  const u = i.unreadableObjects;
  return {
    label: 'unreadable objects',
    summary: `${u.length}, arrived whole but cannot be decoded: merged and read around, kept (see docs/operations.md)`,
    rows: u.map((o) => [o.key, o.reason, `found ${at(o.foundAt)}`, ...(o.present ? [] : ['gone from the bucket'])]),
  };
}

function pendingSection(i: PodInspection, at: At): Section {
  const p = i.pendingTotals;
  return {
    label: 'pending deletions',
    summary:
      p.objects === 0
        ? 'none'
        : `${p.objects} object(s), ${p.dueNow} due now${p.heldForUnfinishedLines > 0 ? `, ${p.heldForUnfinishedLines} kept for unfinished lines` : ''}`,
    rows: i.pendingDeletions.map((d) => [
      KIND_LABEL[d.kind],
      d.key,
      d.heldForUnfinishedLine
        ? 'kept: holds pieces of an unfinished line'
        : d.dueAt === null
          ? 'never: its time cannot be read'
          : `${d.due ? 'due since' : 'due at'} ${at(d.dueAt)}`,
    ]),
  };
}

function leaseSection(i: PodInspection, at: At): Section {
  const l = i.lease;
  const summary = !l.present
    ? 'none (no compactor is working on the pod)'
    : l.holder === null
      ? `${l.key} unreadable: the next pass takes it over`
      : l.releasedAt !== null && !l.live
        ? `released by ${l.holder} at ${at(l.releasedAt)}: the next pass takes it over`
        : `${l.live ? 'held' : 'expired, was held'} by ${l.holder} until ${at(l.expiresAt)}`;
  return { label: 'lease', summary };
}

const LABEL_WIDTH = 'pending deletions  '.length;

function describeNextPass(i: PodInspection): string {
  const n = i.nextPass;
  if (n.fails !== null) return `would fail the pod, nothing merged or deleted: ${n.fails}`;
  const what: string[] = [];
  if (!n.merge) what.push(`no merge (${n.mergeSkipReason ?? 'nothing to merge'})`);
  else if (n.mergeRawFiles > 0) what.push(`would merge ${n.mergeRawFiles} raw file(s)`);
  else what.push('would merge the unfinished line(s) as they are (quiet for longer than --quiet-after)');
  if (n.deleteObjects > 0) what.push(`would delete ${n.deleteObjects} object(s) due now`);
  if (n.deleteLater > 0) what.push(`${n.deleteLater} object(s) wait for deletion, not due yet`);
  if (n.busy)
    what.push(`not before ${i.lease.holder ?? 'another compactor'}'s lease ends: a pass now leaves the pod alone`);
  return what.join('; ');
}

/** Rows padded into columns (the last column unpadded). */
function table(rows: readonly (readonly string[])[]): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, c) => (widths[c] = Math.max(widths[c] ?? 0, cell.length)));
  return rows.map((row) =>
    row
      .map((cell, c) => (c === row.length - 1 ? cell : cell.padEnd(widths[c] ?? 0)))
      .join('  ')
      .trimEnd(),
  );
}

/** `in 12m`, `5m ago`, `now`: whole units, rounded down. */
export function relative(atMs: number, nowMs: number): string {
  const delta = atMs - nowMs;
  if (Math.abs(delta) < 1000) return 'now';
  return delta > 0 ? `in ${duration(delta)}` : `${duration(-delta)} ago`;
}

/** `45s`, `12m`, `1h30m`, `3d4h`: at most two units, rounded down. */
export function duration(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 60) return ms > 0 && s === 0 ? `${ms}ms` : `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return m % 60 === 0 ? `${h}h` : `${h}h${m % 60}m`;
  const d = Math.floor(h / 24);
  return h % 24 === 0 ? `${d}d` : `${d}d${h % 24}h`;
}

// How `compactor inspect` reads at a terminal (formatInspection).
import { duration, formatInspection, relative } from './format.js';
import type { PodInspection } from './inspection.js';

const NOW = '2026-11-25T11:00:00.000Z';
const RAW = (n: number): string => `kube.var.log.containers.job-1_jobs_job-1-0f3a.log/202611251000_${n}.gz`;
const MERGED = 'data/job-1/0f3a/202611251000_1.gz';

/** job-1 at 11:00: merged at 10:50 (cleanup 30m), one raw file since, a line open on stdout. */
const INSPECTION: PodInspection = {
  pod: 'job-1',
  bucket: 'logs',
  inspectedAt: NOW,
  cleanupIntervalMs: 30 * 60_000,
  compactIntervalMs: 55 * 60_000,
  quietAfterMs: 60 * 60_000,
  found: true,
  namespace: null,
  namespaces: ['jobs'],
  containerIds: ['0f3a'],
  otherContainers: [],
  metadata: {
    key: 'metadata/job-1.json',
    exists: true,
    writtenBy: 'compactor',
    lastCompactionTime: '2026-11-25T10:50:00.000000+00:00',
    lastMergedKey: RAW(1),
    commitId: '5d1c7a8e-4a51-4bd4-9f55-2f0e0c3d9b10',
    etag: '"e1"',
  },
  mergedFiles: [
    {
      key: MERGED,
      records: 812,
      size: 1_572_864,
      storedSize: 204_800,
      firstRecordTime: '2026-11-25T10:00:00.123456+00:00',
      lastRecordTime: '2026-11-25T10:49:58.654322+00:00',
    },
  ],
  mergedTotals: { files: 1, records: 812, size: 1_572_864, storedSize: 204_800 },
  unmergedRawFiles: [{ key: RAW(3), size: 4096, lastModified: '2026-11-25T10:55:00.000Z' }],
  unmergedTotals: { files: 1, size: 4096 },
  unfinishedLines: [{ stream: 'stdout', key: RAW(2), line: 7, files: [{ key: RAW(2), line: 7, present: true }] }],
  unreadableObjects: [],
  pendingDeletions: [
    {
      key: RAW(1),
      kind: 'merged-raw',
      since: '2026-11-25T10:50:00.000000+00:00',
      dueAt: '2026-11-25T11:20:00.000000+00:00',
      due: false,
      heldForUnfinishedLine: false,
    },
    {
      key: RAW(2),
      kind: 'merged-raw',
      since: '2026-11-25T10:50:00.000000+00:00',
      dueAt: null,
      due: false,
      heldForUnfinishedLine: true,
    },
    {
      key: 'data/job-1/0f3a/202611250950_1.gz',
      kind: 'retired',
      since: '2026-11-25T10:20:00.000000+00:00',
      dueAt: '2026-11-25T10:50:00.000000+00:00',
      due: true,
      heldForUnfinishedLine: false,
    },
  ],
  pendingTotals: { objects: 3, dueNow: 1, heldForUnfinishedLines: 1 },
  cleanupQueue: { key: 'cleanup/job-1', present: true, lastModified: '2026-11-25T09:50:00.000Z' },
  lease: { key: 'leases/job-1.json', present: false, holder: null, expiresAt: null, releasedAt: null, live: false },
  nextPass: {
    fails: null,
    busy: false,
    merge: false,
    mergeRawFiles: 0,
    mergeSkipReason: 'compacted at 2026-11-25T10:50:00.000000+00:00, less than the compact interval ago',
    deleteObjects: 1,
    deleteLater: 2,
  },
  problems: [],
};

describe('formatInspection', () => {
  it('shows one aligned section per question, sizes for people and times with how far off they are', () => {
    expect(formatInspection(INSPECTION)).toBe(
      [
        'pod job-1: bucket logs, namespace jobs, container 0f3a',
        'judged at 2026-11-25T11:00:00.000Z with cleanup interval 30m, compact interval 55m, quiet after 1h',
        '',
        'metadata           metadata/job-1.json, written by the compactor',
        '  last compaction  2026-11-25T10:50:00.000Z (10m ago)',
        `  last merged key  ${RAW(1)}`,
        '  commit id        5d1c7a8e-4a51-4bd4-9f55-2f0e0c3d9b10',
        'merged files       1 file(s), 812 record(s), 1.5 MiB NDJSON, 200.0 KiB stored',
        '  KEY                                RECORDS  NDJSON   STORED     FIRST RECORD                      LAST RECORD',
        `  ${MERGED}  812      1.5 MiB  200.0 KiB  2026-11-25T10:00:00.123456+00:00  2026-11-25T10:49:58.654322+00:00`,
        'not merged yet     1 raw file(s), 4.0 KiB',
        `  ${RAW(3)}  4.0 KiB  uploaded 2026-11-25T10:55:00.000Z (5m ago)`,
        'unfinished lines   1, their raw files kept until the line ends',
        `  stdout  starts at line 7 of ${RAW(2)}; pieces in 1 file(s):`,
        `          ${RAW(2)} from line 7`,
        'pending deletions  3 object(s), 1 due now, 1 kept for unfinished lines',
        `  merged raw  ${RAW(1)}  due at 2026-11-25T11:20:00.000Z (in 20m)`,
        `  merged raw  ${RAW(2)}  kept: holds pieces of an unfinished line`,
        `  retired     ${'data/job-1/0f3a/202611250950_1.gz'.padEnd(RAW(1).length)}  due since 2026-11-25T10:50:00.000Z (10m ago)`,
        'cleanup queue      cleanup/job-1 present since 2026-11-25T09:50:00.000Z (1h10m ago)',
        'lease              none (no compactor is working on the pod)',
        'next pass          no merge (compacted at 2026-11-25T10:50:00.000000+00:00, less than the compact interval ago); would delete 1 object(s) due now; 2 object(s) wait for deletion, not due yet',
        '',
      ].join('\n'),
    );
  });

  it.each<[string, PodInspection['lease'], string]>([
    [
      'live',
      {
        key: 'leases/job-1.json',
        present: true,
        holder: 'node-7/42/cafe',
        expiresAt: '2026-11-25T11:04:00.000Z',
        releasedAt: null,
        live: true,
      },
      'held by node-7/42/cafe until 2026-11-25T11:04:00.000Z (in 4m)',
    ],
    [
      'expired',
      {
        key: 'leases/job-1.json',
        present: true,
        holder: 'node-7/42/cafe',
        expiresAt: '2026-11-25T10:58:30.000Z',
        releasedAt: null,
        live: false,
      },
      'expired, was held by node-7/42/cafe until 2026-11-25T10:58:30.000Z (1m ago)',
    ],
    [
      'released (a store without conditional deletes keeps it)',
      {
        key: 'leases/job-1.json',
        present: true,
        holder: 'node-7/42/cafe',
        expiresAt: '1970-01-01T00:00:00.000Z',
        releasedAt: '2026-11-25T10:58:30.000Z',
        live: false,
      },
      'released by node-7/42/cafe at 2026-11-25T10:58:30.000Z (1m ago): the next pass takes it over',
    ],
    [
      'unreadable',
      { key: 'leases/job-1.json', present: true, holder: null, expiresAt: null, releasedAt: null, live: false },
      'leases/job-1.json unreadable: the next pass takes it over',
    ],
  ])('shows a %s lease', (_name, lease, line) => {
    const text = formatInspection({ ...INSPECTION, lease, nextPass: { ...INSPECTION.nextPass, busy: lease.live } });
    expect(text).toContain(`\nlease              ${line}\n`);
    if (lease.live)
      expect(text).toMatch(/^next pass .*not before node-7\/42\/cafe's lease ends: a pass now leaves the pod alone$/m);
  });

  it('says why the next pass would fail the pod, lists the problems, the other containers and a missing merged file', () => {
    const message =
      'pod job-1 has raw log files in several namespaces (team-a, team-b); refusing to guess which one is the job';
    const text = formatInspection({
      ...INSPECTION,
      namespaces: ['team-a', 'team-b'],
      otherContainers: [{ namespace: 'team-a', container: 'istio-proxy', rawFiles: 3 }],
      mergedFiles: [{ ...INSPECTION.mergedFiles[0]!, storedSize: null }],
      problems: [{ code: 'ERR_POD_NAMESPACE_CONFLICT', message }],
      nextPass: {
        ...INSPECTION.nextPass,
        fails: message,
        mergeSkipReason: 'the pass fails the pod',
        deleteObjects: 0,
        deleteLater: 3,
      },
    });
    expect(text).toMatch(/^pod job-1: bucket logs, namespace team-a, team-b, container 0f3a$/m);
    expect(text).toContain(`next pass          would fail the pod, nothing merged or deleted: ${message}\n`);
    expect(text).toContain(`problems           1\n  ERR_POD_NAMESPACE_CONFLICT  ${message}\n`);
    expect(text).toContain(
      'other containers   raw files never read, merged or deleted\n  team-a/istio-proxy  3 raw file(s)\n',
    );
    expect(text).toMatch(/^ {2}data\/job-1\/0f3a\/202611251000_1\.gz +812 +1\.5 MiB +MISSING /m);
  });

  it('lists each unreadable object with its reason, when it was found, and whether it is still there', () => {
    const text = formatInspection({
      ...INSPECTION,
      unreadableObjects: [
        {
          key: RAW(4),
          reason: 'gzip: incorrect header check',
          foundAt: '2026-11-25T10:50:00.000000+00:00',
          present: true,
        },
        {
          key: MERGED,
          reason: 'line 2 is not a merged log record',
          foundAt: '2026-11-25T10:50:00.000000+00:00',
          present: false,
        },
      ],
    });
    expect(text).toContain(
      'unreadable objects 2, arrived whole but cannot be decoded: merged and read around, kept (see docs/operations.md)\n',
    );
    expect(text).toMatch(
      new RegExp(
        `^  ${RAW(4).replace(/\./g, '\\.')} +gzip: incorrect header check +found 2026-11-25T10:50:00\\.000Z \\(10m ago\\)$`,
        'm',
      ),
    );
    expect(text).toMatch(
      /^ {2}data\/job-1\/0f3a\/202611251000_1\.gz +line 2 is not a merged log record +found .* gone from the bucket$/m,
    );
  });

  it('says when the bucket has nothing of the pod', () => {
    const text = formatInspection({
      ...INSPECTION,
      found: false,
      namespaces: [],
      containerIds: [],
      metadata: {
        ...INSPECTION.metadata,
        exists: false,
        writtenBy: null,
        lastCompactionTime: null,
        lastMergedKey: null,
        commitId: null,
        etag: null,
      },
      mergedFiles: [],
      mergedTotals: { files: 0, records: 0, size: 0, storedSize: 0 },
      unmergedRawFiles: [],
      unmergedTotals: { files: 0, size: 0 },
      unfinishedLines: [],
      unreadableObjects: [],
      pendingDeletions: [],
      pendingTotals: { objects: 0, dueNow: 0, heldForUnfinishedLines: 0 },
      cleanupQueue: { key: 'cleanup/job-1', present: false, lastModified: null },
      nextPass: {
        fails: null,
        busy: false,
        merge: false,
        mergeRawFiles: 0,
        mergeSkipReason: 'no raw files',
        deleteObjects: 0,
        deleteLater: 0,
      },
    });
    expect(text).toMatch(/^pod job-1: bucket logs, no raw files, container -$/m);
    expect(text).toContain(
      'metadata           metadata/job-1.json: none (never merged)\nmerged files       none\nnot merged yet     no raw files\n',
    );
    expect(text).toContain('next pass          no merge (no raw files)\n');
    expect(text.endsWith('\nno objects for pod job-1 in bucket logs\n')).toBe(true);
  });
});

describe('relative and duration', () => {
  const at = Date.parse(NOW);
  it.each([
    [at + 12 * 60_000 + 59_000, 'in 12m'],
    [at - 5 * 60_000, '5m ago'],
    [at + 400, 'now'],
    [at - 45_000, '45s ago'],
    [at + 90 * 60_000, 'in 1h30m'],
    [at - 50 * 3_600_000, '2d2h ago'],
    [at + 48 * 3_600_000, 'in 2d'],
  ])('%s is %s', (ms, text) => {
    expect(relative(ms, at)).toBe(text);
  });

  it.each([
    [0, '0s'],
    [500, '500ms'],
    [30 * 60_000, '30m'],
    [3_600_000, '1h'],
  ])('%d ms is %s', (ms, text) => {
    expect(duration(ms)).toBe(text);
  });
});

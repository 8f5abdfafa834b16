import { EMPTY_METADATA, type PodMetadata } from '@platform/log-reader/layout';
import {
  decideExpiry,
  isCandidate,
  markDue,
  newestTrace,
  withoutExpiryMark,
  type ExpirySnapshot,
} from './decide-expiry.js';

const DAY = 86_400_000;
const NOW = Date.parse('2026-12-01T00:00:00Z');
const OLD = '2026-11-01T00:00:00.000000+00:00';
const RECENT = '2026-11-30T12:00:00.000000+00:00';
const RAW = 'kube.var.log.containers.job-1_jobs_sidecar-0a.log/202611010000_1.gz';

const file = (last: string, exact: boolean, first = OLD): PodMetadata['logFiles'][number] => ({
  key: 'data/job-1/0a/202611010000_1.gz',
  recordsCount: 1,
  size: 10,
  firstRecordTime: first,
  lastRecordTime: last,
  ...(exact ? { exactRange: true } : {}),
});

function snapshot(overrides: Partial<ExpirySnapshot> = {}, meta: Partial<PodMetadata> = {}): ExpirySnapshot {
  return {
    metadata: { ...EMPTY_METADATA, mergedRawFiles: [], lastCompactionTime: OLD, logFiles: [file(OLD, true)], ...meta },
    metadataModified: new Date(OLD),
    raw: [{ key: RAW, lastModified: new Date(OLD) }],
    unmerged: 0,
    dataObjects: [],
    ...overrides,
  };
}

describe('decideExpiry', () => {
  it('expires a pod when every trace is older than the retention', () => {
    expect(decideExpiry(snapshot(), NOW, DAY)).toMatchObject({ expired: true });
  });

  it.each<[string, Partial<ExpirySnapshot>, Partial<PodMetadata>, string]>([
    ['a raw upload of any container', { raw: [{ key: RAW, lastModified: new Date(RECENT) }] }, {}, 'raw upload'],
    ['an exact record time', {}, { logFiles: [file(RECENT, true)] }, 'record time'],
    ['a Python-written first time (not a bound)', {}, { logFiles: [file(OLD, false, RECENT)] }, 'record time'],
    ['last_compaction_time', {}, { lastCompactionTime: RECENT }, 'last_compaction_time'],
    ['a pending commit stamp', {}, { retiredFiles: [{ key: 'data/job-1/0a/x_1.gz', since: RECENT }] }, 'commit of'],
    ['the metadata write', { metadataModified: new Date(RECENT) }, {}, 'metadata write'],
    [
      'an object under data/',
      { dataObjects: [{ key: 'data/job-1/0a/y_2.gz', lastModified: new Date(RECENT) }] },
      {},
      'object',
    ],
    ['a raw file not merged yet', { unmerged: 1 }, {}, 'not merged yet'],
  ])('keeps a pod with %s newer than the retention', (_, overrides, meta, reason) => {
    const decision = decideExpiry(snapshot(overrides, meta), NOW, DAY);
    expect(decision).toMatchObject({ expired: false, reason: expect.stringContaining(reason) });
  });

  it('does not count the write of its own mark once marked', () => {
    const marked = snapshot({ metadataModified: new Date(RECENT) }, { expiredAt: RECENT });
    expect(decideExpiry(marked, NOW, DAY)).toMatchObject({ expired: true });
    expect(newestTrace(marked)?.what).not.toBe('metadata write');
  });

  it('is exact at the limit', () => {
    const at = Date.parse(OLD) + DAY;
    expect(decideExpiry(snapshot(), at, DAY).expired).toBe(true);
    expect(decideExpiry(snapshot(), at - 1, DAY).expired).toBe(false);
  });
});

describe('markDue, isCandidate, withoutExpiryMark', () => {
  it('deletes a marked pod only once the cleanup interval has passed since the mark', () => {
    const meta = { ...EMPTY_METADATA, expiredAt: '2026-12-01T00:00:00.000000+00:00' };
    expect(markDue(meta, NOW + 3_600_000 - 1, 3_600_000)).toBe(false);
    expect(markDue(meta, NOW + 3_600_000, 3_600_000)).toBe(true);
    expect(markDue(EMPTY_METADATA, NOW, 0)).toBe(false);
  });

  it('looks only at pods committed longer ago than the retention, or queued ones idle for a cleanup interval', () => {
    const config = { retentionMs: DAY, cleanupIntervalMs: 3_600_000 };
    expect(isCandidate(new Date(NOW - DAY), false, NOW, config)).toBe(true);
    expect(isCandidate(new Date(NOW - DAY + 1), false, NOW, config)).toBe(false);
    expect(isCandidate(new Date(NOW - 3_600_000), true, NOW, config)).toBe(true);
    expect(isCandidate(new Date(NOW - 3_600_000 + 1), true, NOW, config)).toBe(false);
  });

  it('removes the mark and nothing else', () => {
    const meta = { ...EMPTY_METADATA, lastCompactionTime: OLD, expiredAt: RECENT };
    expect(withoutExpiryMark(meta)).toEqual({ ...EMPTY_METADATA, lastCompactionTime: OLD });
  });
});

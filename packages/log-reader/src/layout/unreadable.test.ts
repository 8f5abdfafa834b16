import { MetadataError } from '../errors.js';
import { parseRawKey } from './keys.js';
import { decodeMetadata, EMPTY_METADATA, encodeMetadata, mergedRawPredicate, type PodMetadata } from './metadata.js';
import { withUnreadable } from './unreadable.js';

const META_KEY = 'metadata/job-1.json';
const DIR = 'kube.var.log.containers.job-1_jobs_job-1-0f3a.log/';
const AT = '2026-11-25T11:00:02.000000+00:00';
const BAD_RAW = `${DIR}202611251000_2.gz`;
const BAD_MERGED = 'data/job-1/0f3a/202611251000_1.gz';

const withBad: PodMetadata = {
  ...EMPTY_METADATA,
  lastCompactionTime: AT,
  lastMergedKey: `${DIR}202611251000_3.gz`,
  mergedRawFiles: [{ key: `${DIR}202611251000_3.gz`, since: AT }],
  commitId: 'c1',
  unreadableObjects: [
    { key: BAD_RAW, reason: 'gzip: incorrect header check', foundAt: AT },
    { key: BAD_MERGED, reason: 'line 2 is not a merged log record', foundAt: AT },
  ],
};

describe('metadata unreadable_objects', () => {
  it('round-trips as {key, reason, found_at}', () => {
    const doc = JSON.parse(encodeMetadata(withBad)) as Record<string, unknown>;
    expect(doc['unreadable_objects']).toEqual([
      { key: BAD_RAW, reason: 'gzip: incorrect header check', found_at: AT },
      { key: BAD_MERGED, reason: 'line 2 is not a merged log record', found_at: AT },
    ]);
    expect(decodeMetadata(META_KEY, encodeMetadata(withBad))).toEqual(withBad);
  });

  it('is left out while there are none, and absent reads as none', () => {
    expect(JSON.parse(encodeMetadata({ ...withBad, unreadableObjects: [] }))).not.toHaveProperty('unreadable_objects');
    expect(decodeMetadata(META_KEY, '{"log_files":[]}').unreadableObjects).toEqual([]);
  });

  it('survives a later commit that knows nothing of it (kept by every rewrite of the document)', () => {
    const later = { ...decodeMetadata(META_KEY, encodeMetadata(withBad)), commitId: 'c2', lastCompactionTime: AT };
    expect(decodeMetadata(META_KEY, encodeMetadata(later)).unreadableObjects).toEqual(withBad.unreadableObjects);
  });

  it.each([
    ['not a list', { unreadable_objects: {} }],
    ['an entry without a key', { unreadable_objects: [{ reason: 'x', found_at: AT }] }],
    ['an entry without a reason', { unreadable_objects: [{ key: BAD_RAW, found_at: AT }] }],
    [
      'an entry whose found_at is not a time',
      { unreadable_objects: [{ key: BAD_RAW, reason: 'x', found_at: 'soon' }] },
    ],
  ])('is invalid metadata when it is %s', (_what, doc) => {
    expect(() => decodeMetadata(META_KEY, JSON.stringify(doc))).toThrow(MetadataError);
  });

  it('makes a raw file listed there count as merged (never read or merged again), nothing else', () => {
    const isMerged = mergedRawPredicate(withBad);
    expect(isMerged(parseRawKey(BAD_RAW)!)).toBe(true);
    expect(isMerged(parseRawKey(`${DIR}202611251000_4.gz`)!)).toBe(false);
    expect(mergedRawPredicate({ ...withBad, unreadableObjects: [] })(parseRawKey(BAD_RAW)!)).toBe(false);
  });

  it('lists a key once, with its first finding', () => {
    const again = withUnreadable(withBad.unreadableObjects, [
      { key: BAD_RAW, reason: 'other', foundAt: '2026-11-25T12:00:00Z' },
      { key: `${DIR}202611251000_9.gz`, reason: 'gzip: x', foundAt: '2026-11-25T12:00:00Z' },
    ]);
    expect(again.map((u) => [u.key, u.reason])).toEqual([
      [BAD_RAW, 'gzip: incorrect header check'],
      [BAD_MERGED, 'line 2 is not a merged log record'],
      [`${DIR}202611251000_9.gz`, 'gzip: x'],
    ]);
  });
});

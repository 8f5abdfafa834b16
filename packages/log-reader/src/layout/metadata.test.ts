import { MetadataError } from '../errors.js';
import { parseRawKey, rawKey, type RawKey } from './keys.js';
import { parseTime } from './time.js';
import {
  decodeMetadata,
  EMPTY_METADATA,
  encodeMetadata,
  endsBefore,
  firstRecordNs,
  lastRecordNs,
  mergedRawPredicate,
  unfinishedRange,
  type PodMetadata,
} from './metadata.js';

const META_KEY = 'metadata/job-1.json';
const DIR = 'kube.var.log.containers.job-1_jobs_job-1-0f3a.log/';

/** A document as the platform-monitoring Python service writes it. */
const PYTHON_DOC = JSON.stringify({
  log_files: [
    {
      key: 'logs/job-1/202611251000_1.gz',
      records_count: 3,
      size: 120,
      first_record_time: '2026-11-25T09:00:01.123456+00:00',
      last_record_time: '2026-11-25T09:59:58+00:00', // isoformat() drops a zero fraction
    },
  ],
  last_compaction_time: '2026-11-25T10:00:02.000000+00:00',
  last_merged_key: 'kube.var.log.containers.job-1_jobs_job-1-0f3a.log/202611250959_61.gz',
});

function raw(file: string, dir = DIR): RawKey {
  const parsed = parseRawKey(dir + file);
  if (!parsed) throw new Error(`test key does not parse: ${dir + file}`);
  return parsed;
}

describe('decodeMetadata', () => {
  it('reads a document written by the Python service', () => {
    expect(decodeMetadata(META_KEY, PYTHON_DOC)).toEqual({
      logFiles: [
        {
          key: 'logs/job-1/202611251000_1.gz',
          recordsCount: 3,
          size: 120,
          firstRecordTime: '2026-11-25T09:00:01.123456+00:00',
          lastRecordTime: '2026-11-25T09:59:58+00:00',
        },
      ],
      lastCompactionTime: '2026-11-25T10:00:02.000000+00:00',
      lastMergedKey: 'kube.var.log.containers.job-1_jobs_job-1-0f3a.log/202611250959_61.gz',
      mergedRawFiles: undefined,
      retiredFiles: [],
      unfinishedLines: [],
      commitId: null,
      unreadableObjects: [],
      extra: {},
    });
  });

  it('takes no time range from a file the Python service wrote: its times are the first and last written', () => {
    const [entry] = decodeMetadata(META_KEY, PYTHON_DOC).logFiles;
    expect(entry?.exactRange).toBeUndefined();
    expect(lastRecordNs(entry!)).toBeUndefined();
    expect(firstRecordNs(entry!)).toBeUndefined();
    expect(endsBefore(entry!, parseTime('2030-01-01T00:00:00Z')!)).toBe(false);
  });

  it('reads and writes "exact_range": true, the mark of a range that bounds every record of the file', () => {
    const doc = JSON.parse(PYTHON_DOC) as { log_files: Record<string, unknown>[] };
    doc.log_files[0]!['exact_range'] = true;
    const meta = decodeMetadata(META_KEY, JSON.stringify(doc));
    expect(meta.logFiles[0]?.exactRange).toBe(true);
    expect(JSON.parse(encodeMetadata(meta)).log_files[0].exact_range).toBe(true);
    expect(JSON.parse(encodeMetadata(decodeMetadata(META_KEY, PYTHON_DOC))).log_files[0]).not.toHaveProperty(
      'exact_range',
    );
  });

  it('reads the end of an exact file time range as an instant, with or without a fraction', () => {
    const [python] = decodeMetadata(META_KEY, PYTHON_DOC).logFiles;
    const entry = { ...python!, exactRange: true };
    expect(lastRecordNs(entry)).toBe(BigInt(Date.UTC(2026, 10, 25, 9, 59, 58)) * 1_000_000n);
    expect(firstRecordNs(entry)).toBe(BigInt(Date.UTC(2026, 10, 25, 9, 0, 1)) * 1_000_000n + 123_456_000n);
    expect(lastRecordNs({ ...entry, lastRecordTime: '2026-11-25T11:59:58.000001+02:00' })).toBe(
      BigInt(Date.UTC(2026, 10, 25, 9, 59, 58)) * 1_000_000n + 1_000n,
    );
  });

  it.each([
    // The Python service truncated …123456789 to …123456: the file still holds a record after `since`.
    [
      'since inside the microsecond after a truncated last time',
      '2026-11-25T09:59:58.123456+00:00',
      '2026-11-25T09:59:58.1234567Z',
      false,
    ],
    [
      'since at the last time plus a microsecond',
      '2026-11-25T09:59:58.123456+00:00',
      '2026-11-25T09:59:58.123457Z',
      false,
    ],
    [
      'since past the last time plus a microsecond',
      '2026-11-25T09:59:58.123456+00:00',
      '2026-11-25T09:59:58.123457001Z',
      true,
    ],
    ['since an hour later', '2026-11-25T09:59:58+00:00', '2026-11-25T10:59:58Z', true],
  ])('endsBefore, %s: %s vs since %s is %p', (_what, lastRecordTime, since, expected) => {
    const [entry] = decodeMetadata(META_KEY, PYTHON_DOC).logFiles;
    expect(endsBefore({ ...entry!, exactRange: true, lastRecordTime }, parseTime(since)!)).toBe(expected);
  });

  it('reads null for "never" in last_compaction_time and last_merged_key', () => {
    const meta = decodeMetadata(META_KEY, '{"log_files":[],"last_compaction_time":null,"last_merged_key":null}');
    expect(meta).toEqual({ ...EMPTY_METADATA });
  });

  it('reads an empty document as the empty metadata', () => {
    expect(decodeMetadata(META_KEY, '{}')).toEqual({ ...EMPTY_METADATA });
  });

  it("reads the compactor's own lists", () => {
    const meta = decodeMetadata(
      META_KEY,
      JSON.stringify({
        log_files: [],
        last_compaction_time: null,
        last_merged_key: null,
        merged_raw_files: [{ key: `${DIR}202611250959_61.gz`, committed_at: '2026-11-25T10:00:02.000000+00:00' }],
        retired_files: [{ key: 'data/job-1/0f3a/202611251000_1.gz', retired_at: '2026-11-25T11:00:03+00:00' }],
      }),
    );
    expect(meta.mergedRawFiles).toEqual([
      { key: `${DIR}202611250959_61.gz`, since: '2026-11-25T10:00:02.000000+00:00' },
    ]);
    expect(meta.retiredFiles).toEqual([
      { key: 'data/job-1/0f3a/202611251000_1.gz', since: '2026-11-25T11:00:03+00:00' },
    ]);
  });

  it("names the offending entry when a list holds another pod's object", () => {
    expect(() =>
      decodeMetadata(META_KEY, pendingDoc('merged_raw_files', 'committed_at', 'metadata/job-2.json')),
    ).toThrow(
      `metadata ${META_KEY} is invalid: merged_raw_files[0].key "metadata/job-2.json" is not a raw key of pod job-1's own container`,
    );
    expect(() =>
      decodeMetadata(META_KEY, pendingDoc('retired_files', 'retired_at', 'data/job-2/0f3a/202611251000_1.gz')),
    ).toThrow(
      `metadata ${META_KEY} is invalid: retired_files[0].key "data/job-2/0f3a/202611251000_1.gz" is not a merged key of pod job-1`,
    );
  });

  const malformed: Array<[string, string]> = [
    ['not JSON', '{"log_files":['],
    ['an empty body', ''],
    ['a list instead of an object', '[]'],
    ['JSON null', 'null'],
    ['log_files not a list', '{"log_files":{"key":"x"}}'],
    ['a log file that is not an object', '{"log_files":["data/x.gz"]}'],
    [
      'a log file without a key',
      '{"log_files":[{"records_count":1,"size":1,"first_record_time":"2026-11-25T10:00:00Z","last_record_time":"2026-11-25T10:00:00Z"}]}',
    ],
    ['a negative records_count', entryDoc({ records_count: -1 })],
    ['a fractional records_count', entryDoc({ records_count: 1.5 })],
    ['a records_count as a string', entryDoc({ records_count: '3' })],
    ['a negative size', entryDoc({ size: -120 })],
    ['a bad first_record_time', entryDoc({ first_record_time: 'yesterday' })],
    ['a missing last_record_time', entryDoc({ last_record_time: undefined })],
    ['an impossible date', entryDoc({ last_record_time: '2026-13-01T00:00:00+00:00' })],
    ['a bad last_compaction_time', '{"log_files":[],"last_compaction_time":"soon"}'],
    ['a last_merged_key that is not a string', '{"log_files":[],"last_merged_key":42}'],
    ['merged_raw_files not a list', '{"merged_raw_files":"all"}'],
    ['a merged raw file without its commit time', `{"merged_raw_files":[{"key":"${DIR}202611250959_61.gz"}]}`],
    ['retired_files not a list', '{"retired_files":{}}'],
    // The compactor deletes what these lists name: only the pod's own objects may be in them.
    [
      "a merged raw file that is another pod's metadata",
      pendingDoc('merged_raw_files', 'committed_at', 'metadata/job-2.json'),
    ],
    [
      'a merged raw file of another pod',
      pendingDoc(
        'merged_raw_files',
        'committed_at',
        'kube.var.log.containers.job-2_jobs_job-2-0f3a.log/202611250959_61.gz',
      ),
    ],
    [
      'a merged raw file of a sidecar',
      pendingDoc(
        'merged_raw_files',
        'committed_at',
        'kube.var.log.containers.job-1_jobs_istio-proxy-0f3a.log/202611250959_61.gz',
      ),
    ],
    [
      'a merged raw file outside the raw layout',
      pendingDoc('merged_raw_files', 'committed_at', `${DIR}202611250959_61.gz.tmp`),
    ],
    ['a retired file of another pod', pendingDoc('retired_files', 'retired_at', 'data/job-2/0f3a/202611251000_1.gz')],
    ['a retired file that is a raw file', pendingDoc('retired_files', 'retired_at', `${DIR}202611250959_61.gz`)],
    ['a retired file outside data/', pendingDoc('retired_files', 'retired_at', 'logs/job-1/202611251000_1.gz')],
  ];
  it.each(malformed)('throws a MetadataError naming the key for %s', (_what, text) => {
    let caught: unknown;
    try {
      decodeMetadata(META_KEY, text);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(MetadataError);
    expect((caught as MetadataError).message).toContain(META_KEY);
    expect((caught as MetadataError).key).toBe(META_KEY);
    expect((caught as MetadataError).code).toBe('ERR_BAD_METADATA');
  });
});

function pendingDoc(field: string, timeField: string, key: string): string {
  return JSON.stringify({
    log_files: [],
    merged_raw_files: [],
    [field]: [{ key, [timeField]: '2026-11-25T10:00:02+00:00' }],
  });
}

function entryDoc(override: Record<string, unknown>): string {
  return JSON.stringify({
    log_files: [
      {
        key: 'data/job-1/0f3a/202611251000_1.gz',
        records_count: 3,
        size: 120,
        first_record_time: '2026-11-25T09:00:01.123456+00:00',
        last_record_time: '2026-11-25T09:59:58+00:00',
        ...override,
      },
    ],
  });
}

describe('encodeMetadata', () => {
  it('round-trips through decodeMetadata, keeping unknown top-level fields', () => {
    const meta: PodMetadata = {
      logFiles: [
        {
          key: 'data/job-1/0f3a/202611251000_1.gz',
          recordsCount: 812,
          size: 104857,
          firstRecordTime: '2026-11-25T09:00:01.123456+00:00',
          lastRecordTime: '2026-11-25T09:59:58.654321+00:00',
        },
        {
          key: 'data/job-1/0f3a/202611251100_2.gz',
          recordsCount: 0,
          size: 0,
          firstRecordTime: '2026-11-25T10:00:00.000000+00:00',
          lastRecordTime: '2026-11-25T10:00:00.000000+00:00',
        },
      ],
      lastCompactionTime: '2026-11-25T11:00:02.000000+00:00',
      lastMergedKey: `${DIR}202611251059_80.gz`,
      mergedRawFiles: [{ key: `${DIR}202611251059_80.gz`, since: '2026-11-25T11:00:02.000000+00:00' }],
      retiredFiles: [{ key: 'data/job-1/0f3a/202611251000_0.gz', since: '2026-11-25T11:00:02.000000+00:00' }],
      unfinishedLines: [
        {
          stream: 'stderr',
          key: `${DIR}202611251059_80.gz`,
          line: 3,
          files: [{ key: `${DIR}202611251059_80.gz`, line: 3 }],
        },
      ],
      commitId: '6a1f0c2e-commit',
      unreadableObjects: [],
      extra: { writer: 'python-3.2.1', lease: { owner: 'pod-a', until: 17 }, notes: null },
    };
    expect(decodeMetadata(META_KEY, encodeMetadata(meta))).toEqual(meta);
    expect(JSON.parse(encodeMetadata(meta)).unfinished_lines).toEqual([
      {
        stream: 'stderr',
        key: `${DIR}202611251059_80.gz`,
        line: 3,
        files: [{ key: `${DIR}202611251059_80.gz`, line: 3 }],
      },
    ]);
    // Absent while no line is open: documents stay as the Python service knows them.
    expect(JSON.parse(encodeMetadata({ ...meta, unfinishedLines: [] }))).not.toHaveProperty('unfinished_lines');
  });

  it.each([
    [
      'a key not in merged_raw_files',
      {
        stream: 'stdout',
        key: `${DIR}202611251059_81.gz`,
        line: 1,
        files: [{ key: `${DIR}202611251059_81.gz`, line: 1 }],
      },
      /unfinished_lines\[0\]\.key .* is not in merged_raw_files/,
    ],
    [
      'a stream that is neither',
      {
        stream: 'both',
        key: `${DIR}202611251059_80.gz`,
        line: 1,
        files: [{ key: `${DIR}202611251059_80.gz`, line: 1 }],
      },
      /unfinished_lines\[0\]\.stream/,
    ],
    [
      'line 0',
      {
        stream: 'stdout',
        key: `${DIR}202611251059_80.gz`,
        line: 0,
        files: [{ key: `${DIR}202611251059_80.gz`, line: 0 }],
      },
      /unfinished_lines\[0\]\.line/,
    ],
    [
      'no files',
      { stream: 'stdout', key: `${DIR}202611251059_80.gz`, line: 1 },
      /unfinished_lines\[0\]\.files is not a list/,
    ],
    [
      'files not starting at its start',
      {
        stream: 'stdout',
        key: `${DIR}202611251059_80.gz`,
        line: 2,
        files: [{ key: `${DIR}202611251059_80.gz`, line: 1 }],
      },
      /files does not start with/,
    ],
    [
      'a file not in merged_raw_files',
      {
        stream: 'stdout',
        key: `${DIR}202611251059_80.gz`,
        line: 1,
        files: [
          { key: `${DIR}202611251059_80.gz`, line: 1 },
          { key: `${DIR}202611251059_99.gz`, line: 1 },
        ],
      },
      /files\[1\]\.key .* is not in merged_raw_files/,
    ],
  ])('refuses unfinished_lines with %s', (_what, entry, message) => {
    const doc = JSON.stringify({
      log_files: [],
      merged_raw_files: [{ key: `${DIR}202611251059_80.gz`, committed_at: '2026-11-25T11:00:02.000000+00:00' }],
      unfinished_lines: [entry],
    });
    expect(() => decodeMetadata(META_KEY, doc)).toThrow(message);
  });

  it('names the merged raw files that hold the pieces of unfinished lines', () => {
    const at = '2026-11-25T11:00:02.000000+00:00';
    const merged = [80, 81, 82, 83].map((i) => ({ key: `${DIR}202611251059_${i}.gz`, since: at }));
    const meta: PodMetadata = {
      ...EMPTY_METADATA,
      mergedRawFiles: merged,
      unfinishedLines: [
        { stream: 'stderr', key: merged[2]!.key, line: 1, files: [{ key: merged[2]!.key, line: 1 }] },
        {
          stream: 'stdout',
          key: merged[1]!.key,
          line: 4,
          files: [
            { key: merged[1]!.key, line: 4 },
            { key: merged[3]!.key, line: 1 },
          ],
        },
      ],
    };
    expect(unfinishedRange(meta)).toEqual(merged.slice(1));
    expect(unfinishedRange({ ...meta, unfinishedLines: meta.unfinishedLines.slice(0, 1) })).toEqual([merged[2]]);
    expect(unfinishedRange({ ...meta, unfinishedLines: [] })).toEqual([]);
  });

  it('writes the Python service field names, and unknown fields verbatim', () => {
    const doc = JSON.parse(
      encodeMetadata(decodeMetadata(META_KEY, PYTHON_DOC.replace(/^\{/, '{"future_field":[1,{"a":2}],'))),
    );
    const python = JSON.parse(PYTHON_DOC);
    expect(doc.log_files).toEqual(python.log_files);
    expect(doc.last_compaction_time).toBe(python.last_compaction_time);
    expect(doc.last_merged_key).toBe(python.last_merged_key);
    expect(doc.future_field).toEqual([1, { a: 2 }]);
  });

  it('does not add merged_raw_files to a Python document (that would change what counts as merged)', () => {
    const doc = JSON.parse(encodeMetadata(decodeMetadata(META_KEY, PYTHON_DOC)));
    expect(doc).not.toHaveProperty('merged_raw_files');
    const again = decodeMetadata(META_KEY, JSON.stringify(doc));
    expect(again.mergedRawFiles).toBeUndefined();
    expect(mergedRawPredicate(again)(raw('202611250959_61.gz'))).toBe(true);
  });

  it('keeps an empty merged_raw_files list as "nothing merged", not as a Python document', () => {
    const meta: PodMetadata = { ...EMPTY_METADATA, lastMergedKey: `${DIR}202611250959_61.gz`, mergedRawFiles: [] };
    const again = decodeMetadata(META_KEY, encodeMetadata(meta));
    expect(again.mergedRawFiles).toEqual([]);
    expect(mergedRawPredicate(again)(raw('202611250959_1.gz'))).toBe(false);
  });
});

describe('mergedRawPredicate', () => {
  const commit = '2026-11-25T10:00:02.000000+00:00';

  describe("with the compactor's merged_raw_files", () => {
    const meta: PodMetadata = {
      ...EMPTY_METADATA,
      lastMergedKey: `${DIR}202611250959_61.gz`,
      mergedRawFiles: [
        { key: `${DIR}202611250958_59.gz`, since: commit },
        { key: `${DIR}202611250959_61.gz`, since: commit },
      ],
    };
    const isMerged = mergedRawPredicate(meta);

    it.each([
      ['a listed raw file', '202611250958_59.gz', true],
      ['the last merged raw file', '202611250959_61.gz', true],
      ['a late upload whose key sorts before a merged one', '202611250959_60.gz', false],
      ['a late upload from an older minute', '202611250900_3.gz', false],
      ['a newer raw file', '202611250959_62.gz', false],
      ['the same slice and index written with two underscores', '202611250959__61.gz', false],
    ])('%s: merged is %p', (_what, file, expected) => {
      expect(isMerged(raw(file))).toBe(expected);
    });
  });

  describe('without merged_raw_files (a Python document): raw order up to last_merged_key, inclusive', () => {
    const isMerged = mergedRawPredicate(decodeMetadata(META_KEY, PYTHON_DOC));

    it.each([
      ['an older minute', '202611250958_99.gz', true],
      ['a smaller index of the same minute (7 < 61 as numbers, not as text)', '202611250959_7.gz', true],
      ['index 9 against 61 (numbers, not text)', '202611250959_9.gz', true],
      ['the last merged key itself', '202611250959_61.gz', true],
      ['the next index', '202611250959_62.gz', false],
      ['index 100 (after 61 as a number, before it as text)', '202611250959_100.gz', false],
      ['a later minute with a small index', '202611251000_1.gz', false],
    ])('%s: merged is %p', (_what, file, expected) => {
      expect(isMerged(raw(file))).toBe(expected);
    });

    it.each([
      ['uploaded before the commit', '2026-11-25T10:00:01.999Z', true],
      ['listed in whole seconds, in the second before the commit', '2026-11-25T10:00:01.000Z', true],
      // S3 lists whole seconds: this one may have been uploaded up to 10:00:02.999, after the commit.
      ['listed in whole seconds, in the commit second', '2026-11-25T10:00:02.000Z', false],
      ['uploaded after the commit (a late upload: not merged by it)', '2026-11-25T10:00:02.001Z', false],
      ['uploaded an hour after the commit', '2026-11-25T11:00:00Z', false],
    ])('a raw key before last_merged_key %s (%s): merged is %p', (_what, lastModified, expected) => {
      expect(isMerged({ ...raw('202611250959_7.gz'), lastModified: new Date(lastModified) })).toBe(expected);
    });

    it("orders the previous container's raw files with the others", () => {
      const previous = 'kube.var.log.containers.job-1_jobs_job-1-1234.log/';
      expect(isMerged(raw('202611250930_5.gz', previous))).toBe(true);
      expect(isMerged(raw('202611251005_5.gz', previous))).toBe(false);
    });
  });

  it('counts nothing as merged when last_merged_key is null', () => {
    const isMerged = mergedRawPredicate(
      decodeMetadata(META_KEY, '{"log_files":[],"last_compaction_time":null,"last_merged_key":null}'),
    );
    expect(isMerged(raw('200001010000_0.gz'))).toBe(false);
  });

  it('accepts a last_merged_key written with two underscores', () => {
    const meta: PodMetadata = { ...EMPTY_METADATA, lastMergedKey: rawKey(raw('202611250959_61.gz'), '__') };
    expect(mergedRawPredicate(meta)(raw('202611250959_10.gz'))).toBe(true);
    expect(mergedRawPredicate(meta)(raw('202611250959_62.gz'))).toBe(false);
  });
});

describe('expired_at', () => {
  it('decodes and encodes the compactor mark, and leaves documents without it alone', () => {
    const key = 'metadata/job-1.json';
    const doc = {
      log_files: [],
      last_compaction_time: null,
      last_merged_key: null,
      expired_at: '2026-12-01T00:00:00Z',
    };
    const decoded = decodeMetadata(key, JSON.stringify(doc));
    expect(decoded.expiredAt).toBe('2026-12-01T00:00:00Z');
    expect(JSON.parse(encodeMetadata(decoded))).toMatchObject({ expired_at: '2026-12-01T00:00:00Z' });
    expect(decoded.extra).toEqual({});
    const plain = decodeMetadata(key, JSON.stringify({ ...doc, expired_at: null }));
    expect(plain.expiredAt).toBeUndefined();
    expect(JSON.parse(encodeMetadata(plain))).not.toHaveProperty('expired_at');
    expect(() => decodeMetadata(key, JSON.stringify({ ...doc, expired_at: 'soon' }))).toThrow(/expired_at/);
  });
});

describe('log_id', () => {
  it('is kept as written, absent when no compactor commit wrote one', () => {
    const key = 'metadata/job-1.json';
    const doc = { log_files: [], last_compaction_time: null, last_merged_key: null, log_id: 'f00d' };
    const decoded = decodeMetadata(key, JSON.stringify(doc));
    expect(decoded.logId).toBe('f00d');
    expect(decoded.extra).toEqual({});
    expect(JSON.parse(encodeMetadata(decoded))).toMatchObject({ log_id: 'f00d' });
    const python = decodeMetadata(key, JSON.stringify({ ...doc, log_id: undefined }));
    expect(python.logId).toBeUndefined();
    expect(JSON.parse(encodeMetadata(python))).not.toHaveProperty('log_id');
    expect(() => decodeMetadata(key, JSON.stringify({ ...doc, log_id: 7 }))).toThrow(/log_id/);
  });
});

import { InvalidPodNameError } from '../errors.js';
import {
  assertPodName,
  cleanupKey,
  compareRawKeys,
  dailySurveyKey,
  isValidPodName,
  mergedKey,
  mergedPodPrefix,
  metadataKey,
  parseCleanupKey,
  parseMergedKey,
  parseMetadataKey,
  parseRawDir,
  parseRawKey,
  rawKey,
  rawPodPrefix,
  type RawKey,
} from './keys.js';

const DIR = 'kube.var.log.containers.job-1_jobs_job-1-0f3a.log/';
const LONG_ID = '9f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a0';

describe('parseRawKey', () => {
  it.each([
    {
      name: 'a single-underscore upload',
      key: `${DIR}202611250959_61.gz`,
      want: {
        pod: 'job-1',
        namespace: 'jobs',
        container: 'job-1',
        containerId: '0f3a',
        slice: '202611250959',
        index: 61,
      },
    },
    {
      name: 'a double-underscore upload (some deployments)',
      key: `${DIR}202611250959__61.gz`,
      want: {
        pod: 'job-1',
        namespace: 'jobs',
        container: 'job-1',
        containerId: '0f3a',
        slice: '202611250959',
        index: 61,
      },
    },
    {
      name: 'a container name with several dashes: the id is the hex run after the last one',
      key: `kube.var.log.containers.job-0b1c-d2e3_team-a_job-0b1c-d2e3-${LONG_ID}.log/202611251000_0.gz`,
      want: {
        pod: 'job-0b1c-d2e3',
        namespace: 'team-a',
        container: 'job-0b1c-d2e3',
        containerId: LONG_ID,
        slice: '202611251000',
        index: 0,
      },
    },
    {
      name: 'a sidecar container (parsed; the caller decides it is not ours)',
      key: 'kube.var.log.containers.job-1_jobs_istio-proxy-abcdef012345.log/202611250959_7.gz',
      want: {
        pod: 'job-1',
        namespace: 'jobs',
        container: 'istio-proxy',
        containerId: 'abcdef012345',
        slice: '202611250959',
        index: 7,
      },
    },
    {
      name: 'a pod name with dots',
      key: 'kube.var.log.containers.job.v1_jobs_job.v1-ABCDEF.log/202611250959_123456.gz',
      want: {
        pod: 'job.v1',
        namespace: 'jobs',
        container: 'job.v1',
        containerId: 'ABCDEF',
        slice: '202611250959',
        index: 123456,
      },
    },
  ])('parses $name', ({ key, want }) => {
    expect(parseRawKey(key)).toEqual({ key, ...want });
  });

  it.each([
    ['a wrong suffix', `${DIR}202611250959_61.log`],
    ['a suffix after .gz', `${DIR}202611250959_61.gz.tmp`],
    ['no index', `${DIR}202611250959.gz`],
    ['an empty index', `${DIR}202611250959_.gz`],
    ['three underscores', `${DIR}202611250959___61.gz`],
    ['a non-decimal index', `${DIR}202611250959_6a.gz`],
    ['a signed index', `${DIR}202611250959_-1.gz`],
    ['no slice', `${DIR}_61.gz`],
    ['an 11-digit slice', `${DIR}20261125095_61.gz`],
    ['a 13-digit slice', `${DIR}2026112509590_61.gz`],
    ['an extra path segment', `${DIR}x/202611250959_61.gz`],
    ['a prefix before the raw prefix', `logs/${DIR}202611250959_61.gz`],
    ['no file part at all', DIR],
    ['no directory', '202611250959_61.gz'],
    ['no namespace', 'kube.var.log.containers.job-1_job-1-0f3a.log/202611250959_61.gz'],
    ['no container id', 'kube.var.log.containers.job-1_jobs_job.log/202611250959_61.gz'],
    ['a container id that is not hex', 'kube.var.log.containers.job-1_jobs_job-1-xyz.log/202611250959_61.gz'],
    ['no .log on the directory', 'kube.var.log.containers.job-1_jobs_job-1-0f3a/202611250959_61.gz'],
    ['an uppercase pod name', 'kube.var.log.containers.Job-1_jobs_job-1-0f3a.log/202611250959_61.gz'],
    ['a unicode pod name', 'kube.var.log.containers.jöb-1_jobs_job-1-0f3a.log/202611250959_61.gz'],
    ['a pod name `..`', 'kube.var.log.containers.._jobs_job-1-0f3a.log/202611250959_61.gz'],
    ['a pod name with `..` inside', 'kube.var.log.containers.a..b_jobs_job-1-0f3a.log/202611250959_61.gz'],
    ['an empty pod name', 'kube.var.log.containers._jobs_job-1-0f3a.log/202611250959_61.gz'],
    // Namespace and container are Kubernetes names too: a stray key must not put a pod in a second namespace.
    ['a namespace `..`', 'kube.var.log.containers.job-1_.._job-1-0f3a.log/202611250959_61.gz'],
    ['an uppercase namespace', 'kube.var.log.containers.job-1_JOBS_job-1-0f3a.log/202611250959_61.gz'],
    ['a unicode namespace', 'kube.var.log.containers.job-1_jöbs_job-1-0f3a.log/202611250959_61.gz'],
    [
      'a namespace with a control character',
      'kube.var.log.containers.job-1_jo\u0001bs_job-1-0f3a.log/202611250959_61.gz',
    ],
    ['a container `..`', 'kube.var.log.containers.job-1_jobs_..-0f3a.log/202611250959_61.gz'],
    ['an uppercase container', 'kube.var.log.containers.job-1_jobs_Job-1-0f3a.log/202611250959_61.gz'],
    ['a container with a space', 'kube.var.log.containers.job-1_jobs_job 1-0f3a.log/202611250959_61.gz'],
    ['a merged key', 'data/job-1/0f3a/202611251000_1.gz'],
  ])('rejects a key with %s', (_what, key) => {
    expect(parseRawKey(key)).toBeUndefined();
  });

  it.each([
    { pod: 'job-1', namespace: 'jobs', container: 'job-1', containerId: '0f3a', slice: '202611250959', index: 61 },
    {
      pod: 'job-0b1c-d2e3',
      namespace: 'team-a',
      container: 'job-0b1c-d2e3',
      containerId: LONG_ID,
      slice: '202601010000',
      index: 0,
    },
    {
      pod: 'a.b.c',
      namespace: 'ns',
      container: 'side-car',
      containerId: 'DEAD',
      slice: '209912312359',
      index: 9007199254740991,
    },
  ])('round-trips rawKey for pod $pod with both separators', (parts) => {
    for (const separator of ['_', '__'] as const) {
      const key = rawKey(parts, separator);
      expect(key).toBe(
        `kube.var.log.containers.${parts.pod}_${parts.namespace}_${parts.container}-${parts.containerId}.log/${parts.slice}${separator}${parts.index}.gz`,
      );
      expect(parseRawKey(key)).toEqual({ key, ...parts });
    }
  });
});

describe('parseRawDir (a delimiter listing of raw "directories")', () => {
  it('parses a container directory', () => {
    expect(parseRawDir(DIR)).toEqual({ pod: 'job-1', namespace: 'jobs', container: 'job-1', containerId: '0f3a' });
  });

  it.each([
    ['no trailing slash', 'kube.var.log.containers.job-1_jobs_job-1-0f3a.log'],
    ['a slash inside the namespace', 'kube.var.log.containers.job-1_jo/bs_job-1-0f3a.log/'],
    ['a slash inside the container', 'kube.var.log.containers.job-1_jobs_jo/b-1-0f3a.log/'],
    ['an invalid pod name', 'kube.var.log.containers.Job-1_jobs_job-1-0f3a.log/'],
    ['an invalid namespace', 'kube.var.log.containers.job-1_a..b_job-1-0f3a.log/'],
    ['an invalid container name', 'kube.var.log.containers.job-1_jobs_-job-1-0f3a.log/'],
    ['a whole key', `${DIR}202611250959_61.gz`],
  ])('rejects a prefix with %s', (_what, prefix) => {
    expect(parseRawDir(prefix)).toBeUndefined();
  });
});

describe('compareRawKeys', () => {
  const raw = (file: string, dir = DIR): RawKey => {
    const parsed = parseRawKey(dir + file);
    if (!parsed) throw new Error(`test key does not parse: ${dir + file}`);
    return parsed;
  };

  it('orders by slice, then index as a number (_10 after _9), then key', () => {
    const otherContainer = 'kube.var.log.containers.job-1_jobs_job-1-ffff.log/';
    const expected = [
      raw('202611250958_99.gz'),
      raw('202611250959_2.gz'),
      raw('202611250959_9.gz'),
      raw('202611250959_10.gz'),
      raw('202611250959_10.gz', otherContainer), // same slice and index: the key decides
      raw('202611250959_100.gz'),
      raw('202611251000_1.gz'),
      raw('202611251000__3.gz'),
      raw('202611251001_0.gz'),
    ];
    const shuffled = [
      expected[6],
      expected[3],
      expected[8],
      expected[0],
      expected[5],
      expected[1],
      expected[7],
      expected[4],
      expected[2],
    ] as RawKey[];
    expect([...shuffled].sort(compareRawKeys).map((k) => k.key)).toEqual(expected.map((k) => k.key));
  });

  it.each([
    ['202611250959_9.gz', '202611250959_10.gz'],
    ['202611250959_99.gz', '202611251000_1.gz'],
    ['202611250959_1.gz', '202611250959__2.gz'],
  ])('puts %s before %s, antisymmetrically', (a, b) => {
    expect(compareRawKeys(raw(a), raw(b))).toBeLessThan(0);
    expect(compareRawKeys(raw(b), raw(a))).toBeGreaterThan(0);
  });

  it('gives 0 only for the same key', () => {
    expect(compareRawKeys(raw('202611250959_9.gz'), raw('202611250959_9.gz'))).toBe(0);
  });
});

describe('merged keys', () => {
  it.each([
    { pod: 'job-1', containerId: '0f3a', slice: '202611251000', index: 1 },
    { pod: 'job-0b1c.v2', containerId: LONG_ID, slice: '202612312359', index: 12345 },
  ])('round-trips mergedKey for pod $pod', (parts) => {
    const key = mergedKey(parts);
    expect(key).toBe(`data/${parts.pod}/${parts.containerId}/${parts.slice}_${parts.index}.gz`);
    expect(parseMergedKey(key)).toEqual({ key, ...parts });
  });

  it.each([
    ['the Python service prefix', 'logs/job-1/0f3a/202611251000_1.gz'],
    ['a missing container id', 'data/job-1/202611251000_1.gz'],
    ['an extra segment', 'data/job-1/0f3a/x/202611251000_1.gz'],
    ['a wrong suffix', 'data/job-1/0f3a/202611251000_1.json'],
    ['a non-hex container id', 'data/job-1/zz/202611251000_1.gz'],
    ['a short slice', 'data/job-1/0f3a/2026112510_1.gz'],
    ['a raw key', `${DIR}202611250959_61.gz`],
  ])('does not parse %s', (_what, key) => {
    expect(parseMergedKey(key)).toBeUndefined();
  });

  it('refuses to build a merged key for a pod name that would escape data/{pod}/', () => {
    expect(() => mergedKey({ pod: '../metadata', containerId: '0f3a', slice: '202611251000', index: 1 })).toThrow(
      InvalidPodNameError,
    );
  });

  it.each([
    ['a container id with a path', { containerId: '../../metadata/job-2.json#' }],
    ['an empty container id', { containerId: '' }],
    ['a container id that is not hex', { containerId: 'xyz' }],
    ['a slice with a slash', { slice: '2026/1125100' }],
    ['a short slice', { slice: '2026112510' }],
    ['a negative index', { index: -1 }],
    ['a fractional index', { index: 1.5 }],
    ['an index beyond 2^53', { index: 2 ** 53 }],
  ])('refuses to build a merged key from %s', (_what, override) => {
    expect(() =>
      mergedKey({ pod: 'job-1', containerId: '0f3a', slice: '202611251000', index: 1, ...override }),
    ).toThrow(RangeError);
  });
});

describe('pod names', () => {
  it.each([['job-0b1c'], ['a'], ['0'], ['job.v1.x'], ['a'.repeat(253)]])('accepts the Kubernetes name %s', (pod) => {
    expect(isValidPodName(pod)).toBe(true);
    expect(assertPodName(pod)).toBe(pod);
  });

  it.each([
    ['empty', ''],
    ['`..`', '..'],
    ['`.`', '.'],
    ['`a..b`', 'a..b'],
    ['a slash', 'a/b'],
    ['`../x`', '../x'],
    ['a unicode letter', 'jöb'],
    ['a look-alike unicode letter', 'jоb'], // Cyrillic о
    ['uppercase', 'Job-1'],
    ['an underscore', 'job_1'],
    ['a NUL', 'job\u0000'],
    ['a newline at the end', 'job\n'],
    ['an escape character', 'job\u001b'],
    ['a space', 'job 1'],
    ['a leading dash', '-job'],
    ['a trailing dash', 'job-'],
    ['a leading dot', '.job'],
    ['254 characters', 'a'.repeat(254)],
  ])('rejects a pod name with %s', (_what, pod) => {
    expect(isValidPodName(pod)).toBe(false);
    expect(() => assertPodName(pod)).toThrow(InvalidPodNameError);
    expect(() => assertPodName(pod)).toThrow(JSON.stringify(pod));
  });

  it.each([
    ['metadataKey', metadataKey],
    ['cleanupKey', cleanupKey],
    ['mergedPodPrefix', mergedPodPrefix],
    ['rawPodPrefix', rawPodPrefix],
  ])('%s refuses invalid pod names instead of building a key outside the pod', (_name, build) => {
    for (const pod of ['..', '../x', 'a/b', '', 'Job']) expect(() => build(pod)).toThrow(InvalidPodNameError);
  });
});

describe('the daily survey stamp', () => {
  it('has a key per scope (namespace, shard) under leases/, none a lease of a pod', () => {
    const keys = [
      dailySurveyKey({}),
      dailySurveyKey({ namespace: 'jobs' }),
      dailySurveyKey({ shard: { index: 0, count: 2 } }),
      dailySurveyKey({ namespace: 'jobs', shard: { index: 1, count: 2 } }),
    ];
    expect(keys).toEqual([
      'leases/.daily-survey',
      'leases/.daily-survey.namespace-jobs',
      'leases/.daily-survey.shard-0-of-2',
      'leases/.daily-survey.namespace-jobs.shard-1-of-2',
    ]);
    // A pod name never starts with a dot.
    for (const key of keys) expect(isValidPodName(key.slice('leases/'.length).replace(/\.json$/, ''))).toBe(false);
  });
});

describe('metadata and cleanup keys', () => {
  it('puts a pod metadata at metadata/{pod}.json', () => {
    expect(metadataKey('job-1')).toBe('metadata/job-1.json');
  });

  it('puts a pod cleanup marker at cleanup/{pod}', () => {
    expect(cleanupKey('job-1')).toBe('cleanup/job-1');
  });

  it('builds the prefixes under which a pod keys live', () => {
    expect(mergedPodPrefix('job-1')).toBe('data/job-1/');
    // The trailing `_` keeps job-1 from matching job-10's keys.
    expect(rawPodPrefix('job-1')).toBe('kube.var.log.containers.job-1_');
  });

  it.each(['job-1', 'a', 'job.v1'])('parseCleanupKey(cleanupKey(%s)) gives the pod back', (pod) => {
    expect(parseCleanupKey(cleanupKey(pod))).toBe(pod);
  });

  it.each(['job-1', 'a', 'job.v1', 'job.json'])('parseMetadataKey(metadataKey(%s)) gives the pod back', (pod) => {
    expect(parseMetadataKey(metadataKey(pod))).toBe(pod);
  });

  it.each([
    ['no pod', 'metadata/.json'],
    ['a nested key', 'metadata/a/b.json'],
    ['a path escape', 'metadata/../x.json'],
    ['no .json', 'metadata/job-1'],
    ['another prefix', 'cleanup/job-1'],
    ['an invalid pod name', 'metadata/Job-1.json'],
  ])('parseMetadataKey ignores %s', (_what, key) => {
    expect(parseMetadataKey(key)).toBeUndefined();
  });

  it.each([
    ['an empty pod', 'cleanup/'],
    ['a nested key', 'cleanup/a/b'],
    ['a path escape', 'cleanup/../x'],
    ['another prefix', 'metadata/job-1.json'],
    ['no prefix', 'job-1'],
    ['an invalid pod name', 'cleanup/Job-1'],
  ])('parseCleanupKey ignores %s', (_what, key) => {
    expect(parseCleanupKey(key)).toBeUndefined();
  });
});

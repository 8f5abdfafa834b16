import { UsageError } from '../errors.js';
import {
  configWarnings,
  defaultConfig,
  formatDuration,
  formatSize,
  parseCount,
  parseDuration,
  parseSize,
  validate,
  type Config,
} from './config.js';
import { shardOf } from './shard.js';

const MINUTE = 60_000;

describe('parseDuration', () => {
  it.each([
    ['90', 90_000],
    ['90s', 90_000],
    ['55m', 55 * MINUTE],
    ['1h', 60 * MINUTE],
    ['1d', 24 * 60 * MINUTE],
    ['500ms', 500],
    ['1.5s', 1_500],
    [' 2m ', 2 * MINUTE],
    ['0', 0],
    ['0s', 0],
    ['0.1ms', 0],
  ])('reads %j as %d ms', (text, ms) => {
    expect(parseDuration(text, '--x')).toBe(ms);
  });

  it.each([
    ['soon', /--cleanup-interval: invalid duration "soon"/],
    ['-5m', /--cleanup-interval: invalid duration "-5m"/],
    ['', /--cleanup-interval: invalid duration ""/],
    ['1e3', /--cleanup-interval: invalid duration "1e3"/],
    ['5 m', /--cleanup-interval: invalid duration "5 m"/],
    ['5w', /--cleanup-interval: invalid duration "5w"/],
    ['9'.repeat(400), /--cleanup-interval: duration "9+" is too large/],
  ])('refuses %j naming the flag and the value', (text, message) => {
    expect(() => parseDuration(text, '--cleanup-interval')).toThrow(UsageError);
    expect(() => parseDuration(text, '--cleanup-interval')).toThrow(message);
  });

  it.each([0, 1, 999, 1_000, 90_000, 55 * MINUTE, 60 * MINUTE, 36 * 60 * MINUTE, 1_500])(
    'formats %d ms so that parseDuration reads it back',
    (ms) => {
      expect(parseDuration(formatDuration(ms), '--x')).toBe(ms);
    },
  );
});

describe('parseSize', () => {
  it.each([
    ['1048576', 1_048_576],
    ['512KiB', 512 * 1024],
    ['10MiB', 10 * 1024 * 1024],
    ['10mib', 10 * 1024 * 1024],
    ['1GiB', 1024 ** 3],
    ['1KB', 1000],
    ['2MB', 2_000_000],
    ['1G', 1024 ** 3],
    ['64 KiB', 64 * 1024],
    ['0', 0],
  ])('reads %j as %d bytes', (text, bytes) => {
    expect(parseSize(text, '--x')).toBe(bytes);
  });

  it.each([['10 parsecs'], ['-1'], ['1.5MiB'], [''], ['MiB'], ['9'.repeat(400)]])(
    'refuses %j naming the flag and the value',
    (text) => {
      expect(() => parseSize(text, '--max-file-size')).toThrow(UsageError);
      expect(() => parseSize(text, '--max-file-size')).toThrow(/^--max-file-size: (invalid )?size "/);
    },
  );

  it.each([1, 1024, 1536, 10 * 1024 * 1024, 1024 ** 3])('formats %d bytes so that parseSize reads it back', (bytes) => {
    expect(parseSize(formatSize(bytes), '--x')).toBe(bytes);
  });
});

describe('parseCount', () => {
  it.each([
    ['4', 4],
    ['0', 0],
    [' 12 ', 12],
  ])('reads %j as %d', (text, n) => {
    expect(parseCount(text, '--x')).toBe(n);
  });

  it.each([['abc'], ['-1'], ['1.5'], [''], ['1e2'], ['0x10'], ['9'.repeat(30)]])(
    'refuses %j naming the flag and the value',
    (text) => {
      expect(() => parseCount(text, '--concurrency')).toThrow(
        new UsageError(`--concurrency: invalid number ${JSON.stringify(text)}: expected a whole number`),
      );
    },
  );
});

describe('defaultConfig', () => {
  it('gives the documented defaults, valid as they are', () => {
    const config = defaultConfig('job-logs');
    expect(config).toMatchObject({
      bucket: 'job-logs',
      compactIntervalMs: 55 * MINUTE,
      cleanupIntervalMs: 30 * MINUTE,
      maxFileSize: 10 * 1024 * 1024,
      concurrency: 4,
      leaseDurationMs: 5 * MINUTE,
      pods: [],
      dryRun: false,
      unsafeWithoutConditionalWrites: false,
    });
    expect(validate(config)).toBe(config);
    expect(configWarnings(config)).toEqual([]);
  });
});

describe('validate', () => {
  const valid = (overrides: Partial<Config>): Config => ({ ...defaultConfig('b'), ...overrides });

  it.each<[string, Partial<Config>]>([
    ['a zero compact interval (merge every pass)', { compactIntervalMs: 0 }],
    ['a zero cleanup interval (delete once committed)', { cleanupIntervalMs: 0 }],
    ['concurrency 64', { concurrency: 64 }],
    ['a max file size of 1KiB', { maxFileSize: 1024 }],
    ['a lease of 1s', { leaseDurationMs: 1000 }],
    ['S3 limits at their bounds', { s3MaxAttempts: 1, s3RequestTimeoutMs: 1, s3ConnectTimeoutMs: 1 }],
    ['20 S3 attempts', { s3MaxAttempts: 20 }],
    ['an https endpoint', { endpoint: 'https://s3.example.com' }],
    ['a namespace and pods', { namespace: 'team-a', pods: ['job-1', 'job-2'] }],
  ])('accepts %s', (_name, overrides) => {
    expect(() => validate(valid(overrides))).not.toThrow();
  });

  it.each<[string, Partial<Config>, RegExp]>([
    ['no bucket', { bucket: '' }, /--bucket is required \(or COMPACTOR_BUCKET\)/],
    ['a negative compact interval', { compactIntervalMs: -1 }, /--compact-interval must not be negative/],
    ['a negative cleanup interval', { cleanupIntervalMs: -1 }, /--cleanup-interval must not be negative/],
    ['a lease under 1s', { leaseDurationMs: 999 }, /--lease-duration must be at least 1s/],
    ['a max file size under 1KiB', { maxFileSize: 0 }, /--max-file-size must be at least 1KiB, got 0 bytes/],
    ['concurrency 0', { concurrency: 0 }, /--concurrency must be between 1 and 64, got 0/],
    ['concurrency 65', { concurrency: 65 }, /--concurrency must be between 1 and 64, got 65/],
    ['0 S3 attempts', { s3MaxAttempts: 0 }, /--s3-max-attempts must be between 1 and 20, got 0/],
    ['21 S3 attempts', { s3MaxAttempts: 21 }, /--s3-max-attempts must be between 1 and 20, got 21/],
    [
      'a zero S3 request timeout (the SDK would wait forever)',
      { s3RequestTimeoutMs: 0 },
      /--s3-request-timeout must be greater than 0/,
    ],
    ['a zero S3 connect timeout', { s3ConnectTimeoutMs: 0 }, /--s3-connect-timeout must be greater than 0/],
    ['a pod name `..`', { pods: ['..'] }, /--pod: invalid pod name "\.\."/],
    ['a pod name with a slash', { pods: ['job-1/x'] }, /--pod: invalid pod name "job-1\/x"/],
    ['a unicode pod name', { pods: ['jöb-1'] }, /--pod: invalid pod name "jöb-1"/],
    ['an uppercase pod name', { pods: ['Job-1'] }, /--pod: invalid pod name "Job-1"/],
    ['a pod name with a control character', { pods: ['job\u0001'] }, /--pod: invalid pod name "job\\u0001"/],
    ['a bad pod among good ones', { pods: ['job-1', 'job-2', '../x'] }, /--pod: invalid pod name "\.\.\/x"/],
    ['a namespace with a slash', { namespace: 'a/b' }, /--namespace: invalid namespace "a\/b"/],
    ['an endpoint that is not a URL', { endpoint: 'notaurl' }, /--endpoint: invalid URL "notaurl"/],
    ['an endpoint of another scheme', { endpoint: 'ftp://127.0.0.1:9000' }, /--endpoint: invalid URL "ftp:/],
    ['an endpoint with a space', { endpoint: 'http://local host:9000' }, /--endpoint: invalid URL/],
    ['an endpoint that only looks like a URL', { endpoint: 'http://:::' }, /--endpoint: invalid URL/],
  ])('refuses %s with a UsageError naming the flag', (_name, overrides, message) => {
    expect(() => validate(valid(overrides))).toThrow(UsageError);
    expect(() => validate(valid(overrides))).toThrow(message);
  });
});

describe('configWarnings', () => {
  it.each([
    [0, 1],
    [59_999, 1],
    [MINUTE, 0],
    [30 * MINUTE, 0],
  ])(
    'for a cleanup interval of %d ms warns %d time(s) that readers may meet deleted objects',
    (cleanupIntervalMs, count) => {
      const warnings = configWarnings({ ...defaultConfig('b'), cleanupIntervalMs });
      expect(warnings).toHaveLength(count);
      for (const w of warnings)
        expect(w).toMatch(/--cleanup-interval .* under a minute: readers .* may meet deleted objects/);
    },
  );
});

describe('configWarnings: --pod with --shard', () => {
  // `--pod job-1 --shard 1/4` with job-1 in another shard does nothing at all: without a
  // warning it would exit 0 (a success, with --pushgateway) although the pod asked for was
  // never looked at.
  it('warns that a --pod outside --shard is left alone, naming its shard', () => {
    const count = 4;
    const pod = 'job-1';
    const own = shardOf(pod, count);
    const other = (own + 1) % count;
    expect(configWarnings({ ...defaultConfig('b'), pods: [pod], shard: { index: other, count } })).toEqual([
      `--pod ${pod} is in shard ${own}/${count}, not in --shard ${other}/${count}: this pass leaves it alone`,
    ]);
    expect(configWarnings({ ...defaultConfig('b'), pods: [pod], shard: { index: own, count } })).toEqual([]);
    expect(configWarnings({ ...defaultConfig('b'), pods: [pod] })).toEqual([]);
  });
});

// S3 faults (docs/design.md §6: no loss, no duplicates, whatever S3 does): throttling, 500s, slow
// responses and dropped connections, injected by a proxy on loopback (support/fault-proxy.ts)
// in front of the real test server. The compactor and the reader talk to the proxy through
// the client both CLIs use (createS3Client), with tight retry limits so that a test stays
// within seconds; the test itself sets up and checks the bucket directly, without faults.
//
// What must hold: a fault the retries absorb changes nothing (the pass and the read succeed,
// each record exactly once, in order); a pod whose requests keep failing fails alone, with
// nothing half-committed, and a later pass completes it; a request whose answer was lost
// after the server did the work is retried without harm.
import type { S3Client } from '@aws-sdk/client-s3';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { text } from 'node:stream/consumers';
import { LogReader, createS3Client, type S3ClientSettings } from '@platform/log-reader';
import { metadataKey } from '@platform/log-reader/layout';
import { type Config, silentLogger, runPass, type PassResult } from 'compactor';
import {
  DROP_AFTER,
  DROP_BEFORE,
  INTERNAL_ERROR,
  NO_SUCH_UPLOAD,
  PASS,
  SLOW_DOWN,
  faulted,
  startFaultProxy,
  type Fault,
  type FaultProxy,
  type FaultRule,
  type ProxiedRequest,
  type ProxyLogEntry,
} from './support/fault-proxy.js';
import { listAll } from './support/s3.js';
import { HOUR, MINUTE, messages, newWorld, testConfig, type World } from './support/world.js';

const T0 = new Date('2026-11-25T10:00:00Z');

/**
 * Tight backoff, so that hundreds of faults cost milliseconds. The request timeout stays
 * well above what the test server takes, even on a loaded machine: a spurious timeout on a
 * conditional write would be a fault of its own. (Production defaults: S3_CLIENT_DEFAULTS.)
 */
const TEST_LIMITS: S3ClientSettings = {
  maxAttempts: 5,
  retryBaseDelayMs: 5,
  throttlingBaseDelayMs: 10,
  maxRetryDelayMs: 50,
  connectionTimeoutMs: 2_000,
  requestTimeoutMs: 5_000,
};

/** A World whose compactor and reader go through a fault proxy. */
interface FaultyWorld {
  readonly w: World;
  readonly proxy: FaultProxy;
  readonly client: S3Client;
  /** A pass through the proxy, on the World's clock. */
  pass(config?: Partial<Config>): Promise<PassResult>;
  /** A read through the proxy. */
  read(pod: string): Promise<string>;
  /** Closes the client and the proxy. */
  close(): Promise<void>;
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A World whose compactor and reader go through a fault proxy, closed after the test. */
async function faultyWorld(name: string, rule: FaultRule, limits: S3ClientSettings = {}): Promise<FaultyWorld> {
  const w = await newWorld(name);
  const proxy = await startFaultProxy(rule);
  const client = createS3Client({ endpoint: proxy.url, ...TEST_LIMITS, ...limits });
  const reader = new LogReader({ client, bucket: w.bucket });
  const f: FaultyWorld = {
    w,
    proxy,
    client,
    pass: (config = {}) =>
      runPass({
        store: { client, bucket: w.bucket },
        config: testConfig(w.bucket, config),
        logger: silentLogger(),
        now: w.now,
      }),
    read: (pod) => text(reader.createReadStream(pod)),
    close: async () => {
      client.destroy();
      await proxy.close();
    },
  };
  cleanups.push(f.close);
  return f;
}

/** What the bucket's uploads say each pod's log is: its messages in upload order. */
class Expected {
  private readonly lines = new Map<string, string[]>();

  /** Uploads `files` raw files of `lines` messages each for `pod`, named `{pod}.{batch}.{file}-{i}`. */
  async upload(
    w: World,
    pod: string,
    batch: string,
    files: number,
    lines: number,
    options: { containerId?: string; gzip?: boolean } = {},
  ): Promise<string[]> {
    const fb = w.container(pod, options.containerId ?? 'c0ffee', {
      gzip: options.gzip ?? false,
      firstIndex: this.of(pod).length + 1,
    });
    const keys: string[] = [];
    for (let file = 0; file < files; file += 1) {
      const batchMessages = messages(
        `${pod}.${batch}.${file}`,
        lines,
        new Date(T0.getTime() + this.of(pod).length * 1000),
      );
      keys.push(await fb.upload(batchMessages));
      this.of(pod).push(...batchMessages.map((m) => m.log));
    }
    return keys;
  }

  /** The pod's log as a read returns it (a message and `\n` per record). */
  text(pod: string): string {
    return this.of(pod)
      .map((line) => `${line}\n`)
      .join('');
  }

  get pods(): string[] {
    return [...this.lines.keys()];
  }

  private of(pod: string): string[] {
    let lines = this.lines.get(pod);
    if (lines === undefined) this.lines.set(pod, (lines = []));
    return lines;
  }
}

/** Every pod's log, read directly (no faults) and, unless told otherwise, through the proxy, is exactly the uploads. */
async function expectExactLogs(
  f: FaultyWorld,
  expected: Expected,
  options: { viaProxy?: boolean } = {},
): Promise<void> {
  for (const pod of expected.pods) {
    expect(await f.w.read(pod)).toBe(expected.text(pod));
    if (options.viaProxy ?? true) expect(await f.read(pod)).toBe(expected.text(pod));
  }
}

/** The bucket at rest after enough passes: no raw file, no cleanup entry, every merged file listed once. */
async function expectCompacted(f: FaultyWorld, expected: Expected): Promise<void> {
  expect(await f.w.keys('kube.')).toEqual([]);
  expect(await f.w.keys('cleanup/')).toEqual([]);
  const listed: string[] = [];
  for (const pod of expected.pods) {
    const meta = await f.w.metadata(pod);
    expect(meta.mergedRawFiles).toEqual([]);
    expect(meta.retiredFiles).toEqual([]);
    listed.push(...meta.logFiles.map((file) => file.key));
  }
  expect(await f.w.keys('data/')).toEqual([...listed].sort());
}

/** What both a request (for a rule) and a log entry (for an assertion) tell. */
type RequestFacts = Pick<ProxiedRequest, 'url' | 'method' | 'operation' | 'key' | 'attempt'>;

/**
 * Reads a pod with the built library (`make test` builds it first) in a child process,
 * through `endpoint`; says how the read ended and which exceptions nobody caught.
 */
async function readInChildProcess(
  endpoint: string,
  bucket: string,
  pod: string,
): Promise<{ read: string; uncaught: string[] }> {
  const library = pathToFileURL(resolve(__dirname, '../packages/log-reader/dist/index.js')).href;
  const script = `
    import { LogReader, createS3Client } from ${JSON.stringify(library)};
    const uncaught = [];
    process.on('uncaughtException', (error) => uncaught.push(String(error?.code ?? error)));
    const client = createS3Client({ endpoint: ${JSON.stringify(endpoint)}, maxAttempts: 2, retryBaseDelayMs: 1 });
    let read = 'complete';
    try {
      for await (const record of new LogReader({ client, bucket: ${JSON.stringify(bucket)} }).records(${JSON.stringify(pod)})) void record;
    } catch (error) {
      read = 'failed: ' + (error?.code ?? error?.name);
    }
    setTimeout(() => { process.stdout.write(JSON.stringify({ read, uncaught })); process.exit(0); }, 700);
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    env: process.env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [stdout] = await Promise.all([text(child.stdout), once(child, 'close')]);
  return JSON.parse(stdout) as { read: string; uncaught: string[] };
}

/** The kind of a request for fault rules: its operation and the top "directory" of its key. */
function kindOf(r: Pick<ProxiedRequest, 'operation' | 'key'>): string {
  return `${r.operation} ${r.key?.split(/[/.]/)[0] ?? '(bucket)'}`;
}

/**
 * Faults the first attempt of the 1st, 3rd, 5th… request of every kind, cycling through
 * `faults`; retries pass. So every kind of request fails at least once, and every faulted
 * request succeeds on its retry.
 */
function everyKindFailsSometimes(faults: readonly Fault[]): FaultRule {
  const seen = new Map<string, number>();
  let given = 0;
  return (r) => {
    if (r.attempt !== 1) return PASS;
    const kind = kindOf(r);
    const n = (seen.get(kind) ?? 0) + 1;
    seen.set(kind, n);
    return n % 2 === 1 ? (faults[given++ % faults.length] as Fault) : PASS;
  };
}

/** Every faulted request was retried by the client: a later attempt of the same operation exists. */
function expectAllRetried(log: readonly ProxyLogEntry[]): void {
  for (const e of faulted(log)) {
    expect(
      log.some((later) => later.n > e.n && later.invocationId === e.invocationId && later.attempt === e.attempt + 1),
    ).toBe(true);
  }
}

/** Every kind of request of the log met a fault at least once. */
function expectEveryKindFaulted(log: readonly ProxyLogEntry[]): void {
  const kinds = new Set(log.map(kindOf));
  const faultedKinds = new Set(faulted(log).map(kindOf));
  expect([...faultedKinds].sort()).toEqual([...kinds].sort());
}

/** Seven raw files of incompressible messages: over 5 MiB of gzip, a merged file of more than one 5 MiB part. */
async function uploadMultipartSized(w: World): Promise<string[]> {
  const fb = w.container('job-1', 'c0ffee');
  const lines: string[] = [];
  for (let file = 0; file < 7; file += 1) {
    const batch = Array.from({ length: 128 }, (_, i) => ({
      time: `2026-11-25T10:0${file}:00.${String(i).padStart(3, '0')}Z`,
      log: randomBytes(6_000).toString('base64'),
      at: T0,
    }));
    await fb.upload(batch);
    lines.push(...batch.map((m) => m.log));
  }
  return lines;
}

describe('S3 faults', () => {
  it('a pass succeeds despite SlowDown, 500s and dropped connections on every kind of request', async () => {
    const f = await faultyWorld('faults-pass', everyKindFailsSometimes([SLOW_DOWN, INTERNAL_ERROR, DROP_BEFORE]));
    const expected = new Expected();
    await expected.upload(f.w, 'job-a', 'one', 3, 4);
    await expected.upload(f.w, 'job-b', 'one', 2, 5, { gzip: true });
    await expected.upload(f.w, 'job-c', 'one', 2, 3);

    const first = await f.pass();
    expect(first.summary.failures).toEqual([]);
    expect(first.summary.pods.merged).toBe(3);
    await expectExactLogs(f, expected);

    // The next pass continues each pod's merged file (GETs of merged files), and the one
    // after deletes what is due (DeleteObjects, the metadata without them, the cleanup queue).
    await expected.upload(f.w, 'job-a', 'two', 2, 2);
    await expected.upload(f.w, 'job-b', 'two', 1, 2, { gzip: true });
    await expected.upload(f.w, 'job-c', 'two', 1, 2);
    f.w.advance(56 * MINUTE);
    const second = await f.pass();
    expect(second.summary.failures).toEqual([]);
    expect(second.summary.pods.merged).toBe(3);
    await expectExactLogs(f, expected);

    f.w.advance(31 * MINUTE);
    const third = await f.pass();
    expect(third.summary.failures).toEqual([]);
    expect(third.summary.pods.cleaned).toBe(3);
    await expectExactLogs(f, expected);
    await expectCompacted(f, expected);

    const kinds = new Set(f.proxy.log.map(kindOf));
    for (const kind of [
      'GetObject kube',
      'GetObject data',
      'GetObject metadata',
      'PutObject data',
      'PutObject metadata',
      'PutObject cleanup',
      'DeleteObjects (bucket)',
      'DeleteObject cleanup',
      'ListObjectsV2 (bucket)',
      'HeadBucket (bucket)',
    ]) {
      expect(kinds).toContain(kind);
    }
    expectEveryKindFaulted(f.proxy.log);
    expectAllRetried(f.proxy.log);
  });

  it('a read succeeds despite SlowDown, 500s and connections dropped before or after the server answered', async () => {
    const f = await faultyWorld('faults-read', () => PASS);
    const expected = new Expected();
    await expected.upload(f.w, 'job-a', 'merged', 3, 10);
    await expected.upload(f.w, 'job-b', 'merged', 2, 10, { gzip: true });
    await f.w.pass({ maxFileSize: 1024 }); // several merged files per pod
    await expected.upload(f.w, 'job-a', 'raw', 3, 3);
    await expected.upload(f.w, 'job-b', 'raw', 2, 2, { gzip: true });
    expect((await f.w.plan('job-a')).merged.length).toBeGreaterThan(1);
    expect((await f.w.plan('job-a')).raw).toHaveLength(3);

    f.proxy.setRule(everyKindFailsSometimes([SLOW_DOWN, INTERNAL_ERROR, DROP_BEFORE, DROP_AFTER]));
    for (let round = 0; round < 2; round += 1) {
      for (const pod of expected.pods) expect(await f.read(pod)).toBe(expected.text(pod));
    }

    expect(new Set(faulted(f.proxy.log).map((e) => e.fault))).toEqual(
      new Set(['slow-down', 'internal-error', 'drop-before', 'drop-after']),
    );
    expectEveryKindFaulted(f.proxy.log);
    expectAllRetried(f.proxy.log);
  });

  it('slow responses within the request timeout succeed without a retry', async () => {
    const f = await faultyWorld('faults-slow', () => ({ kind: 'delay', ms: 50, before: 'response' }));
    const expected = new Expected();
    await expected.upload(f.w, 'job-a', 'one', 2, 3);
    await expected.upload(f.w, 'job-b', 'one', 2, 3);

    const { summary } = await f.pass();
    expect(summary.failures).toEqual([]);
    expect(summary.pods.merged).toBe(2);
    await expectExactLogs(f, expected);

    expect(f.proxy.log.length).toBeGreaterThan(10);
    expect(f.proxy.log.every((e) => e.fault === 'delay' && e.attempt === 1)).toBe(true);
  });

  it('a response slower than the request timeout is abandoned and retried', async () => {
    let lists = 0;
    const late = (before: 'request' | 'response'): Fault => ({ kind: 'delay', ms: 3_000, before });
    const f = await faultyWorld(
      'faults-timeout',
      (r) => {
        if (r.attempt !== 1) return PASS;
        // Held before the server sees them: the first listing and the raw files' GETs.
        if (r.operation === 'ListObjectsV2' && ++lists === 1) return late('request');
        if (r.operation === 'GetObject' && r.key?.startsWith('kube.') === true) return late('request');
        // Answered late after the server stored it: the merged file (the retry meets its own
        // object: If-None-Match refuses it, and the compactor recognises the object as its own).
        if (r.operation === 'PutObject' && r.key?.startsWith('data/') === true) return late('response');
        return PASS;
      },
      { requestTimeoutMs: 1_500 },
    );
    const expected = new Expected();
    await expected.upload(f.w, 'job-a', 'one', 2, 3);

    const { summary } = await f.pass();
    expect(summary.failures).toEqual([]);
    expect(summary.pods.merged).toBe(1);
    f.proxy.setRule(() => PASS);
    await expectExactLogs(f, expected);

    const delayed = faulted(f.proxy.log);
    expect(delayed.map(kindOf).sort()).toEqual([
      'GetObject kube',
      'GetObject kube',
      'ListObjectsV2 (bucket)',
      'PutObject data',
    ]);
    expectAllRetried(f.proxy.log);
    const uploads = f.proxy.log.filter((e) => e.operation === 'PutObject' && e.key?.startsWith('data/') === true);
    expect(uploads.map((e) => [e.attempt, e.serverStatus])).toEqual([
      [1, 200],
      [2, 412],
    ]);
  });

  describe('a connection dropped after the server handled the request: retried without harm', () => {
    const targets: [string, (r: ProxiedRequest) => boolean][] = [
      ['the upload of a merged file', (r) => r.operation === 'PutObject' && r.key?.startsWith('data/') === true],
      ['the metadata commit', (r) => r.operation === 'PutObject' && r.key?.startsWith('metadata/') === true],
      ['DeleteObjects', (r) => r.operation === 'DeleteObjects'],
      ['the cleanup queue entry (put and delete)', (r) => r.key?.startsWith('cleanup/') === true],
      ['the pod lease (acquire, confirm, release)', (r) => r.key?.startsWith('leases/job-') === true],
    ];

    it.each(targets)(
      '%s: each record read exactly once after every pass, and the bucket ends compacted',
      async (_name, matches) => {
        const f = await faultyWorld('faults-drop-after', (r) => (r.attempt === 1 && matches(r) ? DROP_AFTER : PASS));
        const expected = new Expected();
        await expected.upload(f.w, 'job-1', 'one', 2, 3);
        await expected.upload(f.w, 'job-2', 'one', 1, 2);

        // Passes on the schedule of an hourly CronJob, every one of them with the fault: a merge,
        // a merge that continues the merged file, then the deletion of what became due.
        await f.pass();
        await expectExactLogs(f, expected, { viaProxy: false });
        await expected.upload(f.w, 'job-1', 'two', 1, 2);
        f.w.advance(56 * MINUTE);
        await f.pass();
        await expectExactLogs(f, expected, { viaProxy: false });
        f.w.advance(31 * MINUTE);
        await f.pass();
        await expectExactLogs(f, expected, { viaProxy: false });
        expect(faulted(f.proxy.log).length).toBeGreaterThan(0);
        expectAllRetried(f.proxy.log);
        // Whatever the passes reported, the bucket converges once the store behaves.
        f.proxy.setRule(() => PASS);
        for (let i = 0; i < 2; i += 1) {
          f.w.advance(HOUR);
          expect((await f.pass()).summary.failures).toEqual([]);
        }
        await expectExactLogs(f, expected);
        await expectCompacted(f, expected);
      },
    );

    it('the metadata commit: its first attempt landed, so the retry meets 412, yet the data is committed exactly once', async () => {
      const f = await faultyWorld('faults-commit', (r) =>
        r.attempt === 1 && r.operation === 'PutObject' && r.key === metadataKey('job-1') ? DROP_AFTER : PASS,
      );
      const expected = new Expected();
      await expected.upload(f.w, 'job-1', 'one', 2, 3);

      await f.pass();

      const commits = f.proxy.log.filter((e) => e.key === metadataKey('job-1') && e.operation === 'PutObject');
      expect(commits.map((e) => [e.attempt, e.fault, e.serverStatus])).toEqual([
        [1, 'drop-after', 200],
        [2, 'pass', 412],
      ]);
      // The first attempt's write is the commit: the metadata lists the merged file, once.
      const meta = await f.w.metadata('job-1');
      expect(meta.logFiles).toHaveLength(1);
      expect(meta.logFiles[0]!.recordsCount).toBe(6);
      expect(await f.w.keys('data/')).toEqual([meta.logFiles[0]!.key]);
      await expectExactLogs(f, expected);
    });

    // A retried commit whose first attempt landed meets 412: commitMetadata re-reads the
    // metadata and recognises its own write, so the pod is reported merged, not failed.
    it('the metadata commit: a pass whose commit landed but whose answer was lost reports the pod merged', async () => {
      const f = await faultyWorld('faults-commit-report', (r) =>
        r.attempt === 1 && r.operation === 'PutObject' && r.key === metadataKey('job-1') ? DROP_AFTER : PASS,
      );
      const expected = new Expected();
      await expected.upload(f.w, 'job-1', 'one', 2, 3);
      const { summary } = await f.pass();
      expect(summary.failures).toEqual([]);
      expect(summary.pods.merged).toBe(1);
    });
  });

  it('a merged file large enough for a multipart upload survives lost answers to each of its requests', async () => {
    const multipart = new Set(['CreateMultipartUpload', 'UploadPart', 'CompleteMultipartUpload']);
    const f = await faultyWorld('faults-multipart', (r) =>
      r.attempt === 1 && multipart.has(r.operation) ? DROP_AFTER : PASS,
    );
    const lines = await uploadMultipartSized(f.w);

    const { summary } = await f.pass();

    expect(summary.failures).toEqual([]);
    expect(summary.pods.merged).toBe(1);
    const operations = faulted(f.proxy.log).map((e) => e.operation);
    expect(operations.filter((o) => o === 'UploadPart').length).toBeGreaterThan(1);
    expect(new Set(operations)).toEqual(multipart);
    expectAllRetried(f.proxy.log);
    const meta = await f.w.metadata('job-1');
    expect(meta.logFiles).toHaveLength(1);
    expect(await f.w.keys('data/')).toEqual([meta.logFiles[0]!.key]);
    const read = await f.read('job-1');
    expect(read).toBe(lines.map((line) => `${line}\n`).join(''));
  });

  // AWS and LocalStack forget an upload id once the upload is complete: a retry of a completion
  // whose answer was lost meets 404 NoSuchUpload, not 412. The proxy answers the retry so on
  // every server; the merged file that landed is ours (its write token says so), and is kept.
  it('a completed multipart upload whose answer was lost, retried into NoSuchUpload, is recognised as ours', async () => {
    const f = await faultyWorld('faults-no-such-upload', (r) =>
      r.operation !== 'CompleteMultipartUpload' || r.key?.startsWith('data/') !== true
        ? PASS
        : r.attempt === 1
          ? DROP_AFTER
          : NO_SUCH_UPLOAD,
    );
    const lines = await uploadMultipartSized(f.w);

    const { summary } = await f.pass();

    const completions = f.proxy.log.filter(
      (e) => e.operation === 'CompleteMultipartUpload' && e.key?.startsWith('data/') === true,
    );
    expect(completions.map((e) => [e.attempt, e.fault, e.clientStatus])).toEqual([
      [1, 'drop-after', undefined],
      [2, 'answer', 404],
    ]);
    expect(summary.failures).toEqual([]);
    expect(summary.pods.merged).toBe(1);
    const meta = await f.w.metadata('job-1');
    expect(meta.logFiles).toHaveLength(1);
    expect(await f.w.keys('data/')).toEqual([meta.logFiles[0]!.key]);
    expect(await f.read('job-1')).toBe(lines.map((line) => `${line}\n`).join(''));
  });

  // One raw file per pod below: with two, the second one's GET (opened ahead) could break
  // while it waits, which today crashes the process (the test after these).
  it('a response body cut mid-way fails the read loudly and the pod cleanly; the next pass completes it', async () => {
    const cutBody: Fault = { kind: 'cut-body', afterBytes: 200 };
    const f = await faultyWorld('faults-cut-body', (r) =>
      r.operation === 'GetObject' && r.key?.startsWith('kube.') === true ? cutBody : PASS,
    );
    const expected = new Expected();
    await expected.upload(f.w, 'job-1', 'one', 1, 20);
    await expected.upload(f.w, 'job-2', 'one', 1, 2);

    // The SDK has handed the body over when it breaks, so it does not retry; but a read never
    // returns a silently short log.
    await expect(f.read('job-1')).rejects.toThrow(/aborted/);

    f.proxy.setRule((r) =>
      r.operation === 'GetObject' && r.key?.startsWith('kube.') === true && r.key.includes('job-1') ? cutBody : PASS,
    );
    const { summary } = await f.pass();
    expect(summary.failures.map((x) => x.pod)).toEqual(['job-1']);
    expect(summary.pods.merged).toBe(1);
    expect(await f.w.keys('metadata/')).toEqual([metadataKey('job-2')]);
    expect(await f.w.keys('data/job-1/')).toEqual([]);

    f.proxy.setRule(() => PASS);
    expect((await f.pass()).summary.failures).toEqual([]);
    await expectExactLogs(f, expected);
  });

  // A body that breaks after the headers is not retried by the SDK: the reader re-plans and
  // carries on from its place, as for a vanished object.
  it('a read resumes after a response body is cut mid-way', async () => {
    const cut = new Set<string>();
    const f = await faultyWorld('faults-cut-resume', (r) => {
      if (r.operation !== 'GetObject' || r.key?.startsWith('kube.') !== true || cut.has(r.key)) return PASS;
      cut.add(r.key);
      return { kind: 'cut-body', afterBytes: 200 };
    });
    const expected = new Expected();
    await expected.upload(f.w, 'job-1', 'one', 1, 20);
    expect(await f.read('job-1')).toBe(expected.text('job-1'));
  });

  // The SDK wraps a GET body in a checksum-validating stream (the store returns
  // x-amz-checksum-*), which re-emits its connection's error; a body opened ahead waits
  // unread, so without the listener store.ts adds that error would be an uncaught exception
  // that ends the process. Run in a child process, so that a crash is observed, not taken by Jest.
  it('a body opened ahead that breaks while it waits fails the read without crashing the process', async () => {
    const f = await faultyWorld('faults-read-ahead', (r) => {
      if (r.operation !== 'GetObject' || r.key?.startsWith('kube.') !== true) return PASS;
      // The first file answers late, so the reader is still waiting on it when the second one breaks.
      return r.key.endsWith('_1.gz')
        ? { kind: 'delay', ms: 500, before: 'response' }
        : { kind: 'cut-body', afterBytes: 10 };
    });
    const expected = new Expected();
    await expected.upload(f.w, 'job-1', 'one', 2, 20);

    const outcome = await readInChildProcess(f.proxy.url, f.w.bucket, 'job-1');

    expect(outcome.uncaught).toEqual([]);
    expect(outcome.read).toMatch(/^failed: /);
  });

  describe('a pod whose requests keep failing fails alone, commits nothing, and the next pass completes it', () => {
    const bad = (r: RequestFacts): boolean => r.url.includes('job-bad');
    const scenarios: [string, (r: RequestFacts) => boolean][] = [
      ['every request naming the pod', bad],
      ['reading its raw files', (r) => bad(r) && r.operation === 'GetObject' && r.key?.startsWith('kube.') === true],
      [
        'uploading its merged file',
        (r) => bad(r) && r.operation === 'PutObject' && r.key?.startsWith('data/') === true,
      ],
      [
        'committing its metadata',
        (r) => bad(r) && r.operation === 'PutObject' && r.key?.startsWith('metadata/') === true,
      ],
    ];

    it.each(scenarios)('%s', async (_name, failing) => {
      const f = await faultyWorld('faults-bad-pod', () => PASS);
      const expected = new Expected();
      const config = { cleanupIntervalMs: 2 * HOUR }; // nothing becomes due: every raw file must stay
      await expected.upload(f.w, 'job-bad', 'one', 2, 3);
      await expected.upload(f.w, 'job-ok', 'one', 1, 2);
      await f.pass(config);
      const committed = (await listAll(f.w.client, f.w.bucket, metadataKey('job-bad')))[0]!;
      const metadataBefore = await f.w.metadata('job-bad');
      const newRaw = await expected.upload(f.w, 'job-bad', 'two', 2, 2);
      await expected.upload(f.w, 'job-ok', 'two', 1, 2);
      const rawBefore = await f.w.keys('kube.');
      const readBefore = await f.w.read('job-bad');

      f.w.advance(56 * MINUTE);
      f.proxy.setRule((r) => (failing(r) ? INTERNAL_ERROR : PASS));
      const { summary } = await f.pass(config);

      expect(summary.failures.map((x) => x.pod)).toEqual(['job-bad']);
      expect(summary.failures[0]!.error).not.toBe('');
      expect(summary.pods.merged).toBe(1);
      // Retried within the limits, then given up.
      const attempts = f.proxy.log.filter(failing).map((e) => e.attempt);
      expect(Math.max(...attempts)).toBe(TEST_LIMITS.maxAttempts);
      // Nothing half-committed: the same metadata document, every raw file still there, the same log.
      expect((await listAll(f.w.client, f.w.bucket, metadataKey('job-bad')))[0]!.etag).toBe(committed.etag);
      expect(await f.w.metadata('job-bad')).toEqual(metadataBefore);
      expect(await f.w.keys('kube.')).toEqual(rawBefore);
      expect((await f.w.plan('job-bad')).raw.map((file) => file.key)).toEqual(newRaw);
      expect(await f.w.read('job-bad')).toBe(readBefore);
      expect(await f.w.read('job-ok')).toBe(expected.text('job-ok'));

      // The next pass, the store healthy again, completes it; a later one cleans up.
      f.proxy.setRule(() => PASS);
      const next = await f.pass(config);
      expect(next.summary.failures).toEqual([]);
      expect(next.reports.find((r) => r.pod === 'job-bad' && r.phase === 'merge')?.status).toBe('merged');
      await expectExactLogs(f, expected, { viaProxy: false });
      f.w.advance(3 * HOUR);
      await f.pass(config);
      await expectExactLogs(f, expected);
      await expectCompacted(f, expected);
    });
  });
});

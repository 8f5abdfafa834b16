// The metrics a pass pushes (the exact exposition text a Pushgateway receives), the group's
// URL, and the push itself against a loopback HTTP receiver.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { summarize, ZERO_COUNTS, type PodReport } from '../pass/report.js';
import {
  displayUrl,
  groupingKey,
  MetricsPushError,
  passRegistry,
  pushMetrics,
  pushUrl,
  type PassOutcome,
} from './metrics.js';

const FINISHED = new Date('2026-11-25T10:00:05Z');
const FINISHED_S = FINISHED.getTime() / 1000;

function report(pod: string, status: PodReport['status'], counts: Partial<PodReport> = {}): PodReport {
  return { pod, phase: 'merge', status, ...ZERO_COUNTS, durationMs: 10, ...counts };
}

const reports = [
  report('job-1', 'merged', {
    rawFilesRead: 3,
    rawFilesMerged: 3,
    bytesRead: 3000,
    mergedFilesWritten: 1,
    bytesWritten: 400,
    deletedRaw: 2,
  }),
  report('job-2', 'merged', {
    rawFilesRead: 2,
    rawFilesMerged: 2,
    bytesRead: 1000,
    mergedFilesWritten: 1,
    bytesWritten: 300,
    deletedMerged: 1,
    deletedOrphans: 1,
  }),
  report('job-3', 'busy'),
  report('job-4', 'skipped'),
  { ...report('job-5', 'cleaned', { deletedRaw: 4 }), phase: 'clean' as const },
  { ...report('job-6', 'expired', { expiredObjects: 6, expiredBytes: 1200 }), phase: 'expire' as const },
];

/** `name{labels} value` lines, without the HELP and TYPE comments. */
async function samples(outcome: PassOutcome): Promise<string[]> {
  return (await passRegistry(outcome).metrics()).split('\n').filter((l) => l !== '' && !l.startsWith('#'));
}

describe('passRegistry', () => {
  it('counts the unreadable objects the pass found, in a gauge of their own', async () => {
    const found = [
      report('job-1', 'merged', { unreadableObjects: 2 }),
      report('job-2', 'merged', { unreadableObjects: 1 }),
    ];
    const summary = summarize(found, false, 1000);
    expect(await samples({ summary, exitCode: 0, finishedAt: FINISHED, durationMs: 1000 })).toContain(
      'compactor_unreadable_objects_found 3',
    );
  });

  it('holds every gauge of a successful pass, last success included', async () => {
    const summary = {
      ...summarize(reports, false, 12_500),
      otherContainers: {
        surveyed: true,
        containers: 3,
        objects: 40,
        bytes: 9000,
        expiredObjects: 10,
        expiredBytes: 2000,
        failed: 0,
      },
      orphanPodsQueued: 2,
    };
    expect(await samples({ summary, exitCode: 0, finishedAt: FINISHED, durationMs: 12_500 })).toEqual([
      'compactor_pass_success 1',
      `compactor_last_run_timestamp_seconds ${FINISHED_S}`,
      `compactor_last_success_timestamp_seconds ${FINISHED_S}`,
      'compactor_pass_duration_seconds 12.5',
      'compactor_pods{result="merged"} 2',
      'compactor_pods{result="cleaned"} 1',
      'compactor_pods{result="skipped"} 1',
      'compactor_pods{result="busy"} 1',
      'compactor_pods{result="failed"} 0',
      'compactor_pods{result="expiring"} 0',
      'compactor_pods{result="expired"} 1',
      'compactor_raw_files_read 5',
      'compactor_raw_files_merged 5',
      'compactor_raw_read_bytes 4000',
      'compactor_merged_files_written 2',
      'compactor_merged_written_bytes 700',
      'compactor_objects_deleted 8',
      'compactor_orphan_pods_queued 2',
      'compactor_other_containers 3',
      'compactor_other_container_objects 40',
      'compactor_other_container_bytes 9000',
      'compactor_other_container_expired_objects 10',
      'compactor_other_container_expired_bytes 2000',
      'compactor_expired_objects 6',
      'compactor_expired_bytes 1200',
      'compactor_unreadable_objects_found 0',
    ]);
  });

  it("leaves the daily survey's gauges out of a pass that did not survey: the last survey's stay", async () => {
    const summary = summarize(reports, false, 1000);
    const pushed = await samples({ summary, exitCode: 0, finishedAt: FINISHED, durationMs: 1000 });
    expect(summary.otherContainers.surveyed).toBe(false);
    expect(pushed.filter((l) => /^compactor_(other_container|orphan_pods)/.test(l))).toEqual([]);
  });

  it('gives every gauge its HELP and TYPE gauge', async () => {
    const text = await passRegistry({
      summary: summarize(reports, false, 1),
      exitCode: 0,
      finishedAt: FINISHED,
      durationMs: 1,
    }).metrics();
    const names = [
      ...new Set(
        text
          .split('\n')
          .filter((l) => l !== '' && !l.startsWith('#'))
          .map((l) => /^[a-z_]+/.exec(l)?.[0]),
      ),
    ];
    for (const name of names) {
      expect(text).toMatch(new RegExp(`^# HELP ${name} \\S`, 'm'));
      expect(text).toContain(`# TYPE ${name} gauge\n`);
    }
  });

  it('leaves out the last success when a pod failed, and says the pass did not succeed', async () => {
    const summary = summarize([...reports, report('job-6', 'failed', { reason: 'boom' })], false, 1000);
    const lines = await samples({ summary, exitCode: 1, finishedAt: FINISHED, durationMs: 1000 });
    expect(lines).toContain('compactor_pass_success 0');
    expect(lines).toContain(`compactor_last_run_timestamp_seconds ${FINISHED_S}`);
    expect(lines).toContain('compactor_pods{result="failed"} 1');
    expect(lines.filter((l) => l.startsWith('compactor_last_success'))).toEqual([]);
  });

  it('pushes no counts for a pass that stopped before its end: the previous pass keeps its own', async () => {
    expect(await samples({ summary: undefined, exitCode: 2, finishedAt: FINISHED, durationMs: 300 })).toEqual([
      'compactor_pass_success 0',
      `compactor_last_run_timestamp_seconds ${FINISHED_S}`,
      'compactor_pass_duration_seconds 0.3',
    ]);
  });

  it('uses a registry of its own for each pass (two passes in one process do not clash)', async () => {
    const a = passRegistry({ summary: undefined, exitCode: 2, finishedAt: FINISHED, durationMs: 1 });
    const b = passRegistry({ summary: undefined, exitCode: 0, finishedAt: FINISHED, durationMs: 2 });
    expect(await a.metrics()).toContain('compactor_pass_success 0');
    expect(await b.metrics()).toContain('compactor_pass_success 1');
  });
});

describe('the grouping key and its URL', () => {
  it.each([
    [
      { bucket: 'logs', namespace: undefined, shard: undefined },
      { job: 'compactor', bucket: 'logs', shard: 'all' },
    ],
    [
      { bucket: 'logs', namespace: undefined, shard: { index: 2, count: 4 } },
      { job: 'compactor', bucket: 'logs', shard: '2/4' },
    ],
    [
      { bucket: 'logs', namespace: 'team-a', shard: undefined },
      { job: 'compactor', bucket: 'logs', shard: 'all', namespace: 'team-a' },
    ],
  ])('groups %j as %j', (source, key) => {
    expect(groupingKey(source)).toEqual(key);
  });

  it.each([
    [
      'http://gw:9091',
      { job: 'compactor', bucket: 'logs', shard: 'all' },
      'http://gw:9091/metrics/job/compactor/bucket/logs/shard/all',
    ],
    // A value with a `/` takes the Pushgateway's base64url form: "0/4" → MC80.
    ['http://gw:9091/', { job: 'compactor', shard: '0/4' }, 'http://gw:9091/metrics/job/compactor/shard@base64/MC80'],
    [
      'https://proxy.example/pushgateway/',
      { job: 'compactor', bucket: 'a.b' },
      'https://proxy.example/pushgateway/metrics/job/compactor/bucket/a.b',
    ],
    [
      'http://gw:9091?x=1#f',
      { job: 'compactor', namespace: 'a b' },
      'http://gw:9091/metrics/job/compactor/namespace/a%20b',
    ],
    ['http://gw:9091', { job: 'compactor', namespace: '' }, 'http://gw:9091/metrics/job/compactor/namespace@base64/='],
  ])('%s with %j → %s', (gateway, key, url) => {
    expect(pushUrl(gateway, key).href).toBe(url);
  });

  it('keeps credentials out of what it shows', () => {
    const url = pushUrl('https://user:s3cret@gw.example:9091/base?token=abc', { job: 'compactor' });
    expect(url.password).toBe('s3cret');
    expect(displayUrl(url)).toBe('https://gw.example:9091/base/metrics/job/compactor');
  });
});

interface Received {
  readonly method: string | undefined;
  readonly url: string | undefined;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

/** A loopback HTTP receiver that records each request and answers with `answer`. */
async function receiver(
  answer: (res: ServerResponse) => void,
): Promise<{ url: string; received: Received[]; close: () => Promise<void> }> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (s: string) => (body += s));
    req.on('end', () => {
      received.push({ method: req.method, url: req.url, headers: req.headers, body });
      answer(res);
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: async () => {
      server.closeAllConnections();
      await new Promise((ok) => server.close(ok));
    },
  };
}

describe('pushMetrics', () => {
  const registry = () =>
    passRegistry({ summary: summarize(reports, false, 1), exitCode: 0, finishedAt: FINISHED, durationMs: 1 });

  it("POSTs the exposition text to the group's URL, with userinfo as basic auth", async () => {
    const gw = await receiver((res) => res.writeHead(200).end());
    try {
      const r = registry();
      await pushMetrics(gw.url.replace('http://', 'http://ops:p%40ss@'), { job: 'compactor', shard: '1/2' }, r);
      expect(gw.received).toHaveLength(1);
      const [push] = gw.received;
      expect(push?.method).toBe('POST');
      expect(push?.url).toBe('/metrics/job/compactor/shard@base64/MS8y');
      expect(push?.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
      expect(push?.headers['authorization']).toBe(`Basic ${Buffer.from('ops:p@ss').toString('base64')}`);
      expect(push?.body).toBe(await r.metrics());
    } finally {
      await gw.close();
    }
  });

  it("rejects naming the URL, the status and the Pushgateway's reason, without credentials", async () => {
    const gw = await receiver((res) =>
      res.writeHead(400).end('pushed metrics are invalid or inconsistent with existing metrics: boom\nmore'),
    );
    try {
      const attempt = pushMetrics(gw.url.replace('http://', 'http://ops:s3cret@'), { job: 'compactor' }, registry());
      await expect(attempt).rejects.toThrow(MetricsPushError);
      await expect(attempt).rejects.toThrow(
        `metrics not pushed to ${gw.url}/metrics/job/compactor: HTTP 400: pushed metrics are invalid or inconsistent with existing metrics: boom`,
      );
      await attempt.catch((error: Error) => expect(error.message).not.toContain('s3cret'));
    } finally {
      await gw.close();
    }
  });

  it('gives up on a Pushgateway that does not answer', async () => {
    const gw = await receiver(() => undefined);
    try {
      await expect(pushMetrics(gw.url, { job: 'compactor' }, registry(), 50)).rejects.toThrow(
        `metrics not pushed to ${gw.url}/metrics/job/compactor: no answer within 0.05s`,
      );
    } finally {
      await gw.close();
    }
  });
});

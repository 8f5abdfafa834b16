// `compactor run --pushgateway URL` against the test S3 server and a loopback HTTP receiver
// standing in for the Pushgateway: what is pushed where (the grouping key), in the text
// exposition format, with the pass's real counts; last success only for a pass that
// succeeded; nothing in a dry run; and a Pushgateway that is down changes no exit code.
import { createServer as createHttpServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { main } from 'compactor';
import { captured, closedPort, jsonLines } from './support/cli.js';
import { messages, newWorld, type World } from './support/world.js';

const T0 = new Date('2026-11-25T10:00:00Z');
const PROMETHEUS_TEXT = 'text/plain; version=0.0.4; charset=utf-8';

interface Push {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

interface Gateway {
  readonly url: string;
  readonly pushes: Push[];
  close(): Promise<void>;
}

/** A loopback HTTP receiver that records every request and answers 200, as a Pushgateway does. */
async function gateway(): Promise<Gateway> {
  const pushes: Push[] = [];
  const server = createHttpServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (s: string) => (body += s));
    req.on('end', () => {
      pushes.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    pushes,
    close: async () => {
      server.closeAllConnections();
      await new Promise((ok) => server.close(ok));
    },
  };
}

interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/**
 * The Prometheus text exposition format, strictly: `# HELP name text`, `# TYPE name type`,
 * `name{label="value",...} value` lines and empty lines; anything else throws. Every sample's family must
 * have had its HELP and TYPE before it.
 */
function parseExposition(text: string): { samples: Sample[]; types: Map<string, string> } {
  const help = new Map<string, string>();
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  expect(text.endsWith('\n')).toBe(true);
  for (const line of text.split('\n')) {
    if (line === '') continue; // the format ignores empty lines
    const comment = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.+)$/.exec(line);
    if (comment) {
      (comment[1] === 'HELP' ? help : types).set(comment[2]!, comment[3]!);
      continue;
    }
    const sample =
      /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{((?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*",?)*)\})? (\S+)$/.exec(line);
    if (!sample) throw new Error(`not a line of the text exposition format: ${JSON.stringify(line)}`);
    const [, name, labelText, valueText] = sample as unknown as [string, string, string | undefined, string];
    const labels = Object.fromEntries(
      [...(labelText ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1]!, m[2]!]),
    );
    const value = Number(valueText);
    if (Number.isNaN(value)) throw new Error(`not a sample value: ${JSON.stringify(line)}`);
    if (!help.has(name) || !types.has(name))
      throw new Error(`sample before its # HELP and # TYPE: ${JSON.stringify(line)}`);
    samples.push({ name, labels, value });
  }
  return { samples, types };
}

/** The value of the one sample of `name` (with `labels`); undefined when there is none. */
function valueOf(samples: readonly Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const found = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  expect(found.length).toBeLessThanOrEqual(1);
  return found[0]?.value;
}

function runArgs(w: World, ...more: string[]): string[] {
  return ['run', '--bucket', w.bucket, '--endpoint', process.env['S3_TEST_ENDPOINT']!, ...more];
}

let gw: Gateway;
beforeEach(async () => {
  gw = await gateway();
});
afterEach(async () => {
  await gw.close();
});

describe('compactor run --pushgateway', () => {
  it("POSTs the pass's metrics once, at its end, to the group job/bucket/shard, in the text exposition format", async () => {
    const w = await newWorld('push-ok');
    await w.container('job-1', '0f3a').upload(messages('a', 3, T0));
    await w.container('job-2', '0f3b').upload(messages('b', 2, T0));
    const raw = (await w.listing()).filter((o) => o.key.startsWith('kube.var.log.containers.'));
    const before = Date.now() / 1000;

    const c = captured();
    expect(await main(runArgs(w, '--pushgateway', gw.url), c.io)).toBe(0);

    expect(gw.pushes).toHaveLength(1);
    const [push] = gw.pushes;
    expect(push?.method).toBe('POST');
    expect(push?.path).toBe(`/metrics/job/compactor/bucket/${w.bucket}/shard/all`);
    expect(push?.headers['content-type']).toBe(PROMETHEUS_TEXT);
    const { samples, types } = parseExposition(push!.body);
    expect([...types.values()].every((t) => t === 'gauge')).toBe(true);
    expect(valueOf(samples, 'compactor_pass_success')).toBe(1);
    expect(valueOf(samples, 'compactor_pods', { result: 'merged' })).toBe(2);
    expect(valueOf(samples, 'compactor_pods', { result: 'failed' })).toBe(0);
    expect(valueOf(samples, 'compactor_pods', { result: 'busy' })).toBe(0);
    expect(valueOf(samples, 'compactor_raw_files_read')).toBe(raw.length);
    expect(valueOf(samples, 'compactor_raw_files_merged')).toBe(raw.length);
    expect(valueOf(samples, 'compactor_raw_read_bytes')).toBe(raw.reduce((n, o) => n + o.size, 0));
    expect(valueOf(samples, 'compactor_merged_files_written')).toBe(2);
    expect(valueOf(samples, 'compactor_objects_deleted')).toBe(0);
    const lastSuccess = valueOf(samples, 'compactor_last_success_timestamp_seconds');
    expect(lastSuccess).toBeGreaterThanOrEqual(before);
    expect(lastSuccess).toBeLessThanOrEqual(Date.now() / 1000);
    expect(valueOf(samples, 'compactor_last_run_timestamp_seconds')).toBe(lastSuccess);
    // The summary on stdout and the pushed numbers tell the same pass.
    expect(jsonLines(c.stdout())[0]).toMatchObject({
      pods: { merged: 2 },
      rawFilesMerged: raw.length,
      bytesRead: raw.reduce((n, o) => n + o.size, 0),
    });
  });

  it('puts --shard (base64, it holds a /) and --namespace in the grouping key; COMPACTOR_PUSHGATEWAY works as the flag', async () => {
    const w = await newWorld('push-shard');
    await w.container('job-1', '0f3a', { namespace: 'team-a' }).upload(messages('a', 1, T0));
    const saved = process.env['COMPACTOR_PUSHGATEWAY'];
    process.env['COMPACTOR_PUSHGATEWAY'] = gw.url;
    try {
      expect(await main(runArgs(w, '--shard', '1/2', '--namespace', 'team-a'), captured().io)).toBe(0);
    } finally {
      if (saved === undefined) delete process.env['COMPACTOR_PUSHGATEWAY'];
      else process.env['COMPACTOR_PUSHGATEWAY'] = saved;
    }
    // "1/2" in base64url is MS8y.
    expect(gw.pushes.map((p) => p.path)).toEqual([
      `/metrics/job/compactor/bucket/${w.bucket}/shard@base64/MS8y/namespace/team-a`,
    ]);
  });

  it('pushes no last success for a pass with a failed pod, and POSTs so that the Pushgateway keeps the previous one', async () => {
    const w = await newWorld('push-failed');
    // One pod name in two namespaces: that pod fails, the other is merged.
    await w.container('job-1', '0f3a', { namespace: 'a' }).upload(messages('a', 1, T0));
    await w.container('job-1', '0f3b', { namespace: 'b' }).upload(messages('b', 1, T0));
    await w.container('job-2', '0f3c').upload(messages('c', 1, T0));

    expect(await main(runArgs(w, '--pushgateway', gw.url), captured().io)).toBe(1);

    expect(gw.pushes).toHaveLength(1);
    // PUT would replace the whole group, the last success of an earlier pass with it.
    expect(gw.pushes[0]?.method).toBe('POST');
    const { samples } = parseExposition(gw.pushes[0]!.body);
    expect(valueOf(samples, 'compactor_pass_success')).toBe(0);
    expect(valueOf(samples, 'compactor_pods', { result: 'failed' })).toBe(1);
    expect(valueOf(samples, 'compactor_pods', { result: 'merged' })).toBe(1);
    expect(valueOf(samples, 'compactor_last_run_timestamp_seconds')).toBeDefined();
    expect(valueOf(samples, 'compactor_last_success_timestamp_seconds')).toBeUndefined();
  });

  it('pushes a failure without counts for a pass that stops early (exit 2), keeping the one-line error', async () => {
    const c = captured();
    const code = await main(
      [
        'run',
        '--bucket',
        'no-such-bucket-here',
        '--endpoint',
        process.env['S3_TEST_ENDPOINT']!,
        '--pushgateway',
        gw.url,
      ],
      c.io,
    );

    expect(code).toBe(2);
    expect(c.stderr()).toMatch(/^compactor: bucket no-such-bucket-here does not exist at http:\/\/127\.0\.0\.1:\d+$/m);
    expect(gw.pushes).toHaveLength(1);
    const { samples } = parseExposition(gw.pushes[0]!.body);
    expect(samples.map((s) => s.name).sort()).toEqual([
      'compactor_last_run_timestamp_seconds',
      'compactor_pass_duration_seconds',
      'compactor_pass_success',
    ]);
    expect(valueOf(samples, 'compactor_pass_success')).toBe(0);
  });

  it('pushes nothing in a dry run, which must never look like a success', async () => {
    const w = await newWorld('push-dry');
    await w.container('job-1', '0f3a').upload(messages('a', 1, T0));

    const c = captured();
    expect(await main(runArgs(w, '--pushgateway', gw.url, '--dry-run'), c.io)).toBe(0);

    expect(gw.pushes).toEqual([]);
    expect(jsonLines(c.stderr()).find((l) => l['message'] === 'dry run: metrics not pushed')).toBeDefined();
  });

  it('keeps the exit code of the pass when the Pushgateway is down, warning with its URL and without its credentials', async () => {
    const w = await newWorld('push-down');
    await w.container('job-1', '0f3a').upload(messages('a', 1, T0));
    const port = await closedPort();

    const c = captured();
    expect(await main(runArgs(w, '--pushgateway', `http://ops:s3cret-pw@127.0.0.1:${port}/gw?token=t0ken`), c.io)).toBe(
      0,
    );

    const warnings = jsonLines(c.stderr()).filter((l) => l['level'] === 'warn');
    expect(warnings).toEqual([
      expect.objectContaining({
        message: `metrics not pushed to http://127.0.0.1:${port}/gw/metrics/job/compactor/bucket/${w.bucket}/shard/all: ECONNREFUSED`,
      }),
    ]);
    expect(c.stdout() + c.stderr()).not.toMatch(/s3cret-pw|t0ken|ops:/);
    expect(jsonLines(c.stdout())[0]).toMatchObject({ pods: { merged: 1 } });
  });

  it.each([['not a url'], ['ftp://gw:9091'], ['http://']])(
    'exits 2 with one line for --pushgateway %j, before any pass',
    async (url) => {
      const c = captured();
      expect(await main(['run', '--bucket', 'b', '--pushgateway', url], c.io)).toBe(2);
      expect(c.stderr()).toBe(
        `compactor: --pushgateway: invalid URL ${JSON.stringify(url)}: expected http://host:port or https://host\n`,
      );
      expect(c.stdout()).toBe('');
      expect(gw.pushes).toEqual([]);
    },
  );

  it('never echoes the credentials of an invalid --pushgateway URL', async () => {
    const c = captured();
    expect(await main(['run', '--bucket', 'b', '--pushgateway', 'ftp://ops:s3cret-pw@gw:9091'], c.io)).toBe(2);
    expect(c.stderr()).toBe(
      'compactor: --pushgateway: invalid URL "ftp://***@gw:9091": expected http://host:port or https://host\n',
    );
  });
});

// The Fluent Bit configuration we ship (k8s/base/fluent-bit/) writes exactly the raw layout
// the compactor and the reader read: its tail input's tag and its s3 output's key format,
// expanded as Fluent Bit expands them (test/support/fluent-bit.ts) for real container log
// paths, give keys that parseRawKey reads back with the right pod, namespace, container, id,
// minute and counter; and its cri parser's records, as the s3 output writes them, decode to
// the line the container wrote. Across restarts of Fluent Bit on a node, the counter in its
// keys only grows: seed-index.sh, run with `sh` on a temporary directory, puts it back before
// each start. Reads the files in k8s/, needs no S3 server.
import { compareRawKeys, decodeRawLine, parseRawKey, RAW_PREFIX, type RawKey } from '@platform/log-reader/layout';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { V1Container, V1DaemonSet, V1VolumeMount } from '@kubernetes/client-node';
import { parse as parseYaml } from 'yaml';
import {
  entry,
  FLUENT_BIT_DIR,
  FluentBitNode,
  isOn,
  namespacesOfJobLogPaths,
  type NodeSetup,
  pluginSection,
  readConfigFile,
  runRegexParser,
  s3ObjectKey,
  sizeInBytes,
  tailReads,
  tailTag,
  type ConfigSection,
} from './support/fluent-bit.js';

const config = readConfigFile('fluent-bit.conf');
const tail = pluginSection(config, 'INPUT', 'tail');
const s3 = pluginSection(config, 'OUTPUT', 's3');
const kubernetes = pluginSection(config, 'FILTER', 'kubernetes');

const ID_A = '0f3a9c1b2d4e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8';
const ID_B = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/** The key Fluent Bit uploads for the file at `path`, opened at `time`, as upload `index` of its node. */
function keyFor(path: string, time: Date, index: number): string {
  return s3ObjectKey({
    format: entry(s3, 's3_key_format'),
    tag: tailTag(entry(tail, 'Tag'), path),
    time,
    index,
    tagDelimiters: s3.entries.get('s3_key_format_tag_delimiters'),
    staticFilePath: isOn(s3.entries.get('static_file_path')),
  });
}

describe('Fluent Bit (k8s/base/fluent-bit/fluent-bit.conf)', () => {
  const at = new Date('2026-11-25T09:59:30.5Z');
  const samples: { what: string; file: string; expected: Omit<RawKey, 'key' | 'slice' | 'index'> }[] = [
    {
      what: 'a job pod',
      file: `job-1_team-a_job-1-${ID_A}.log`,
      expected: { pod: 'job-1', namespace: 'team-a', container: 'job-1', containerId: ID_A },
    },
    {
      what: 'a pod name with dots and dashes',
      file: `train.v2--final-7_ml-research_main-${ID_B}.log`,
      expected: { pod: 'train.v2--final-7', namespace: 'ml-research', container: 'main', containerId: ID_B },
    },
    {
      what: 'a sidecar container',
      file: `job-1_team-a_istio-proxy-${ID_B}.log`,
      expected: { pod: 'job-1', namespace: 'team-a', container: 'istio-proxy', containerId: ID_B },
    },
    {
      what: "a CronJob's pod",
      file: `nightly-29123456-abcde_batch_nightly-${ID_A}.log`,
      expected: { pod: 'nightly-29123456-abcde', namespace: 'batch', container: 'nightly', containerId: ID_A },
    },
    {
      what: "an Indexed Job's pod, container named like it",
      file: `shard-job-3-x7k2p_jobs_shard-job-3-x7k2p-${ID_B}.log`,
      expected: { pod: 'shard-job-3-x7k2p', namespace: 'jobs', container: 'shard-job-3-x7k2p', containerId: ID_B },
    },
    {
      what: 'a container whose name ends in digits',
      file: `job-9_jobs_worker-0-${ID_A}.log`,
      expected: { pod: 'job-9', namespace: 'jobs', container: 'worker-0', containerId: ID_A },
    },
  ];

  it.each(samples)('uploads the log of $what under a key parseRawKey reads back', ({ file, expected }) => {
    const path = `/var/log/containers/${file}`;
    // Read where its namespace is listed as a job namespace (an overlay's JOB_LOG_PATHS).
    const env = { ...envFile('fluent-bit.env'), JOB_LOG_PATHS: `/var/log/containers/*_${expected.namespace}_*.log` };
    expect(tailReads(tail, env, path)).toBe(true);

    const key = keyFor(path, at, 41);

    expect(key).toBe(`kube.var.log.containers.${file}/202611250959__41.gz`);
    expect(parseRawKey(key)).toEqual({ key, ...expected, slice: '202611250959', index: 41 });
  });

  it("keys a node's uploads in raw-file order: the minute, then the counter as a number (…_9 before …_10)", () => {
    const path = `/var/log/containers/job-1_team-a_job-1-${ID_A}.log`;
    const uploads = [
      { time: new Date('2026-11-25T23:58:59Z'), index: 9 },
      { time: new Date('2026-11-25T23:59:00Z'), index: 10 },
      { time: new Date('2026-11-25T23:59:59Z'), index: 11 },
      { time: new Date('2026-11-26T00:00:01Z'), index: 100 },
    ];
    const parsed = uploads.map(({ time, index }) => parseRawKey(keyFor(path, time, index)));
    expect(parsed.map((k) => k && `${k.slice}/${k.index}`)).toEqual([
      '202611252358/9',
      '202611252359/10',
      '202611252359/11',
      '202611260000/100',
    ]);
    const keys = parsed.filter((k): k is RawKey => k !== undefined);
    expect([...keys].reverse().sort(compareRawKeys)).toEqual(keys);
  });

  describe('uploads the container logs of the job namespaces only (JOB_LOG_PATHS in fluent-bit.env)', () => {
    const shipped = envFile('fluent-bit.env');
    const jobNamespaces = namespacesOfJobLogPaths(shipped['JOB_LOG_PATHS'] ?? '');
    const reads = (file: string, env: Record<string, string> = shipped): boolean =>
      tailReads(tail, env, `/var/log/containers/${file}`);
    const others = [
      { what: 'a system pod (kube-system)', file: `coredns-5d78c9869d-4xk8p_kube-system_coredns-${ID_A}.log` },
      { what: 'a Deployment pod in default', file: `web-7d9c8b-abcde_default_nginx-${ID_A}.log` },
      { what: "the pipeline's own pod (job-logs)", file: `fluent-bit-8x2kq_job-logs_fluent-bit-${ID_B}.log` },
      { what: 'a namespace whose name ends like a job one', file: `job-1_ml-jobs_job-1-${ID_A}.log` },
      { what: 'a namespace whose name starts like a job one', file: `job-1_jobs-old_job-1-${ID_A}.log` },
    ];

    it('lists namespaces, each as the one glob that selects exactly its container logs', () => {
      expect(entry(tail, 'Path')).toBe('${JOB_LOG_PATHS}');
      expect(jobNamespaces).toEqual(['jobs']);
    });

    it("reads a job's container logs, its own and its sidecars'", () => {
      expect(reads(`job-1_jobs_job-1-${ID_A}.log`)).toBe(true);
      expect(reads(`job-1_jobs_istio-proxy-${ID_B}.log`)).toBe(true);
    });

    it.each(others)('does not read $what', ({ file }) => {
      expect(reads(file)).toBe(false);
    });

    it('reads every namespace an overlay lists, and still none of the others', () => {
      const env = {
        ...shipped,
        JOB_LOG_PATHS: '/var/log/containers/*_jobs_*.log, /var/log/containers/*_ml-research_*.log',
      };
      expect(namespacesOfJobLogPaths(env.JOB_LOG_PATHS)).toEqual(['jobs', 'ml-research']);
      expect(reads(`job-1_jobs_job-1-${ID_A}.log`, env)).toBe(true);
      expect(reads(`train-7_ml-research_main-${ID_B}.log`, env)).toBe(true);
      for (const { file } of others) expect({ file, read: reads(file, env) }).toEqual({ file, read: false });
    });

    it("never reads the pipeline's own pods or the system's, even when a list names them", () => {
      const env = {
        ...shipped,
        JOB_LOG_PATHS:
          '/var/log/containers/*_kube-system_*.log,/var/log/containers/*_job-logs_*.log,/var/log/containers/*.log',
      };
      expect(reads(`coredns-5d78c9869d-4xk8p_kube-system_coredns-${ID_A}.log`, env)).toBe(false);
      expect(reads(`fluent-bit-8x2kq_job-logs_fluent-bit-${ID_B}.log`, env)).toBe(false);
      // The compactor's CronJob pods and the readers' namespace (k8s/base/namespace.yaml).
      expect(reads(`compactor-29412345-x7k2p_job-logs-compactor_compactor-${ID_A}.log`, env)).toBe(false);
    });

    it('does not start with no list (an overlay that dropped JOB_LOG_PATHS)', () => {
      const env: Record<string, string> = { ...shipped };
      delete env['JOB_LOG_PATHS'];
      expect(() => reads(`job-1_jobs_job-1-${ID_A}.log`, env)).toThrow(/no Path/);
    });
  });

  it('gives the kubernetes filter the tag prefix the raw layout starts with', () => {
    const file = `job-1_team-a_job-1-${ID_A}.log`;
    const prefix = tailTag(entry(tail, 'Tag'), `/var/log/containers/${file}`).slice(0, -file.length);
    expect(prefix).toBe(RAW_PREFIX);
    expect(entry(kubernetes, 'Kube_Tag_Prefix')).toBe(prefix);
    expect(entry(kubernetes, 'Match')).toBe(entry(s3, 'Match'));
  });

  it('uploads one gzip object per minute with PutObject, under the key as formatted (no random suffix)', () => {
    expect(entry(s3, 's3_key_format')).toBe('/$TAG/%Y%m%d%H%M__$INDEX.gz');
    expect(isOn(entry(s3, 'static_file_path'))).toBe(true);
    expect(isOn(entry(s3, 'use_put_object'))).toBe(true);
    expect(entry(s3, 'upload_timeout')).toBe('1m');
    expect(entry(s3, 'compression')).toBe('gzip');
    // Fluent Bit's minimum is 1M; larger would only delay uploads of a busy container.
    expect(sizeInBytes(entry(s3, 'total_file_size'))).toBeGreaterThanOrEqual(1e6);
    expect(sizeInBytes(entry(s3, 'total_file_size'))).toBeLessThanOrEqual(5e6);
    expect([entry(s3, 'bucket'), entry(s3, 'region'), entry(s3, 'endpoint')]).toEqual([
      '${S3_BUCKET}',
      '${AWS_REGION}',
      '${S3_ENDPOINT}',
    ]);
  });

  describe('records', () => {
    const parsers = readConfigFile('parsers.conf').filter((p) => p.name.toUpperCase() === 'PARSER');
    const parserNamed = (name: string): ConfigSection => {
      const found = parsers.find((p) => p.entries.get('name') === name);
      if (found === undefined) throw new Error(`parsers.conf has no parser ${name}`);
      return found;
    };
    const parserFilters = config.filter((s) => s.name.toUpperCase() === 'FILTER' && s.entries.get('name') === 'parser');
    /** When the tail input read the line: the time a record without `time` gets. */
    const readAt = '2026-11-25T10:05:00.000000Z';

    /**
     * One line of the uploaded object, as the shipped pipeline makes it: the tail input's record
     * (`log`: the line, or what its Parser makes of it), each parser filter (its parsers tried in
     * order, the first whose Regex matches replacing the record), then the s3 output, which adds
     * json_date_key (the time the line was read) only to a record without that key.
     */
    function uploadedLine(runtimeLine: string): string {
      let record: Record<string, string> = { log: runtimeLine };
      const tailParser = tail.entries.get('parser');
      if (tailParser !== undefined) record = runRegexParser(parserNamed(tailParser), runtimeLine)?.record ?? record;
      for (const filter of parserFilters) {
        expect(entry(filter, 'Match')).toBe(entry(s3, 'Match'));
        expect(isOn(filter.entries.get('reserve_data'))).toBe(false);
        const value = record[entry(filter, 'Key_Name')];
        for (const name of filter.values.get('parser') ?? []) {
          const parsed = value === undefined ? undefined : runRegexParser(parserNamed(name), value);
          if (parsed === undefined) continue;
          record = parsed.record;
          break;
        }
      }
      const dateKey = entry(s3, 'json_date_key');
      const withTime = dateKey in record ? record : { [dateKey]: readAt, ...record };
      return JSON.stringify({ ...withTime, kubernetes: { pod_name: 'job-1', namespace_name: 'team-a' } });
    }

    it("carry one `time`: the runtime's, kept by the parser, or else the time the line was read", () => {
      const line = uploadedLine('2026-11-25T10:00:00.5Z stdout F one time');
      expect(line.match(/"time":/g)).toHaveLength(1);
      expect(JSON.parse(line)).toMatchObject({ time: '2026-11-25T10:00:00.5Z', log: 'one time' });
      expect(JSON.parse(uploadedLine('not a runtime line'))).toMatchObject({ time: readAt, log: 'not a runtime line' });
    });

    it.each([
      {
        line: '2026-11-25T10:00:00.123456789Z stdout F epoch 1 step 100 loss=0.5 "quoted" \\ done',
        piece: {
          time: '2026-11-25T10:00:00.123456789Z',
          message: 'epoch 1 step 100 loss=0.5 "quoted" \\ done',
          stream: 'stdout',
          partial: false,
        },
      },
      {
        line: '2026-11-25T10:00:01.000000001Z stderr F WARNING: gradient norm clipped',
        piece: {
          time: '2026-11-25T10:00:01.000000001Z',
          message: 'WARNING: gradient norm clipped',
          stream: 'stderr',
          partial: false,
        },
      },
      {
        line: '2026-11-25T10:00:02.5Z stdout P first 16 KiB of a long line',
        piece: {
          time: '2026-11-25T10:00:02.5Z',
          message: 'first 16 KiB of a long line',
          stream: 'stdout',
          partial: true,
        },
      },
      {
        line: '2026-11-25T10:00:03.000000000Z stdout F ',
        piece: { time: '2026-11-25T10:00:03.000000000Z', message: '', stream: 'stdout', partial: false },
      },
      {
        // containerd's RFC3339Nano when the nanoseconds are 0: no fraction at all.
        line: '2026-11-25T10:00:04Z stdout F written on a whole second',
        piece: { time: '2026-11-25T10:00:04Z', message: 'written on a whole second', stream: 'stdout', partial: false },
      },
      {
        line: '2026-11-25T12:00:05+02:00 stderr F a runtime on local time, whole second',
        piece: {
          time: '2026-11-25T12:00:05+02:00',
          message: 'a runtime on local time, whole second',
          stream: 'stderr',
          partial: false,
        },
      },
      {
        line: '2026-11-25T12:00:06.25+02:00 stdout F a runtime on local time',
        piece: {
          time: '2026-11-25T12:00:06.25+02:00',
          message: 'a runtime on local time',
          stream: 'stdout',
          partial: false,
        },
      },
    ])("decode to what the container wrote, with the runtime's time: $line", ({ line, piece }) => {
      expect(decodeRawLine(uploadedLine(line), '2026-11-25T10:00:00Z')).toEqual({ piece, json: true });
    });
  });
});

// Fluent Bit stopped and started again on the same node, the state hostPath kept: a graceful
// stop (SIGTERM: a DaemonSet rollout, a node drain, a failed liveness probe) or a kill (OOM,
// SIGKILL, a node crash).
//
// The s3 output keeps $INDEX in {store_dir}/{bucket}/sequence/index_metadata/seq_index_0,
// and a graceful stop deletes that folder (fluent/fluent-bit#11987; seed-index.sh says where
// in Fluent Bit's source): on its own, the next start would count from 0 again, key its
// first files before its last ones of the same minute, and a second stop within about a
// minute would upload a key again (the PUT replaces the raw object: its records are lost).
// The DaemonSet runs seed-index.sh before every start; FluentBitNode runs it for real, with
// a fake clock, and these tests check the keys Fluent Bit then uploads.
describe('Fluent Bit across restarts on the same node', () => {
  const daemonSet = parseYaml(readFileSync(resolve(FLUENT_BIT_DIR, 'daemonset.yaml'), 'utf8')) as V1DaemonSet;
  const pod = daemonSet.spec?.template.spec;
  const container = pod?.containers.find((c) => c.name === 'fluent-bit');
  const installShell = pod?.initContainers?.find((c) => c.name === 'install-shell');
  const configVolume = pod?.volumes?.find((v) => v.configMap !== undefined)?.name;
  const stateVolume = pod?.volumes?.find((v) => v.hostPath?.path === '/var/lib/fluent-bit/job-logs')?.name;
  const mountOf = (c: V1Container | undefined, volume: string | undefined): V1VolumeMount | undefined =>
    c?.volumeMounts?.find((m) => m.name === volume);
  // /bin/sh -c SCRIPT NAME DIR APPLET...
  const installArgs = installShell?.command?.slice(3) ?? [];
  const setup: NodeSetup = {
    storeDir: entry(s3, 'store_dir'),
    bucket: envFile('fluent-bit.env')['S3_BUCKET'] ?? '',
    command: container?.command ?? [],
    configMount: mountOf(container, configVolume)?.mountPath ?? '(no config mount)',
    toolsMount: installArgs[1] ?? '(no tools directory)',
    applets: installArgs.slice(2),
  };
  const statePath = mountOf(container, stateVolume)?.mountPath ?? '(no state mount)';
  const path = `/var/log/containers/job-1_team-a_job-1-${ID_A}.log`;
  const seconds = (time: string): number => Date.parse(`2026-11-25T${time}Z`) / 1000;

  let nodes: FluentBitNode[] = [];
  function node(overrides: Partial<NodeSetup> = {}): FluentBitNode {
    const n = new FluentBitNode({ ...setup, ...overrides });
    nodes.push(n);
    return n;
  }
  afterEach(() => {
    for (const n of nodes) n.remove();
    nodes = [];
  });

  /**
   * Uploads job-1's file whose first record is at `firstRecord` (UTC, 2026-11-25), and `others` files of other
   * containers before it.
   */
  function uploadJob1(n: FluentBitNode, firstRecord: string, others = 0): string {
    for (let i = 0; i < others; i++) n.upload();
    return keyFor(path, new Date(`2026-11-25T${firstRecord}Z`), n.upload());
  }

  /** The keys parsed, in raw-file order (slice, index as a number, key). */
  function inRawOrder(keys: readonly string[]): string[] {
    const parsed = keys.map((k) => parseRawKey(k)).filter((k): k is RawKey => k !== undefined);
    expect(parsed).toHaveLength(keys.length);
    return [...parsed].sort(compareRawKeys).map((k) => k.key);
  }

  it('runs seed-index.sh before every start of Fluent Bit, also a restart of its container alone', () => {
    // In the container's own command: a container restarted in its pod (a failed liveness
    // probe) runs no init container again.
    expect(container?.command).toEqual([
      `${setup.toolsMount}/sh`,
      `${setup.configMount}/seed-index.sh`,
      '/fluent-bit/bin/fluent-bit',
      `--config=${setup.configMount}/fluent-bit.conf`,
    ]);
    expect(container?.env?.find((e) => e.name === 'PATH')?.value).toBe(setup.toolsMount);
    // The test knobs are never set in the pod.
    expect((container?.env ?? []).map((e) => e.name)).not.toEqual(expect.arrayContaining(['NOW_S']));
    expect((container?.env ?? []).map((e) => e.name)).not.toEqual(expect.arrayContaining(['SEED_INDEX_ROOT']));
    // The shell comes from the init container, through a pod volume only it writes.
    const tools = container?.volumeMounts?.find((m) => m.mountPath === setup.toolsMount);
    expect(tools?.readOnly).toBe(true);
    expect(pod?.volumes?.find((v) => v.name === tools?.name)?.emptyDir).toBeDefined();
    expect(mountOf(installShell, tools?.name)?.mountPath).toBe(setup.toolsMount);
    // A static busybox (the musl build), which runs in the Fluent Bit image whatever its libc.
    expect(installShell?.image).toMatch(/^busybox:\d+\.\d+\.\d+-musl$/);
    expect(installShell?.command?.slice(0, 2)).toEqual(['/bin/sh', '-c']);
    expect(setup.applets).toContain('sh');
    // The counter's file is named after the output's id: 0, the first [OUTPUT].
    expect(config.filter((s) => s.name.toUpperCase() === 'OUTPUT')[0]).toBe(s3);
  });

  it('keeps a second name for the counter on the state volume, outside the folder a graceful stop deletes', () => {
    const n = node();
    n.start(seconds('10:00:00'));
    const names = n.namesOfCounter();
    expect(names).toHaveLength(2);
    // The same volume, so the same filesystem: a hard link can be made.
    for (const name of names) expect(name.startsWith(`${statePath}/`)).toBe(true);
    expect(names.filter((name) => !name.startsWith(`${setup.storeDir}/${setup.bucket}/sequence/`))).toHaveLength(1);
  });

  it('never uploads a key it uploaded before the stop (the PUT would replace that raw object)', () => {
    // A fresh node: Fluent Bit starts at 10:00:00 and, stopping at 10:00:40, uploads what it
    // has of job-1 (first record 10:00:02). Started again at 10:00:45, it uploads job-1's
    // next file (first record 10:00:41, the same minute).
    const n = node();
    n.start(seconds('10:00:00'));
    const beforeStop = uploadJob1(n, '10:00:02');
    n.stop();
    n.start(seconds('10:00:45'));
    const afterStart = uploadJob1(n, '10:00:41');
    expect(afterStart).not.toBe(beforeStop);
  });

  it('keys the files after the restart after the files before it, in raw-file order', () => {
    const n = node();
    n.start(seconds('10:00:00'));
    const beforeStop = uploadJob1(n, '10:00:02', 40);
    n.stop();
    n.start(seconds('10:00:45'));
    const afterStart = uploadJob1(n, '10:00:41');
    expect(inRawOrder([afterStart, beforeStop])).toEqual([beforeStop, afterStart]);
  });

  it('stopped twice within a minute, uploads every key once and in upload order', () => {
    const n = node();
    n.start(seconds('10:00:00'));
    const keys = [uploadJob1(n, '10:00:05', 3)];
    n.stop();
    n.start(seconds('10:00:21'));
    keys.push(uploadJob1(n, '10:00:21'));
    n.stop();
    n.start(seconds('10:00:41'));
    keys.push(uploadJob1(n, '10:00:41'), uploadJob1(n, '10:00:50', 2));
    expect(new Set(keys).size).toBe(keys.length);
    expect(inRawOrder([...keys].reverse())).toEqual(keys);
  });

  it('killed (OOM), goes on above the counter it left, even started again within the same second', () => {
    const n = node();
    n.start(seconds('10:00:00'));
    const beforeKill = uploadJob1(n, '10:00:00', 5);
    n.kill();
    n.start(seconds('10:00:00'));
    const afterStart = uploadJob1(n, '10:00:00');
    expect(inRawOrder([afterStart, beforeKill])).toEqual([beforeKill, afterStart]);
  });

  it.each([
    { how: 'a graceful stop', halt: (n: FluentBitNode) => n.stop() },
    { how: 'a kill', halt: (n: FluentBitNode) => n.kill() },
  ])('goes on above the stored counter when the clock went back, after $how', ({ halt }) => {
    // Started with the clock at 10:00:30, then the clock is stepped back 150 s (NTP after a
    // boot with the hardware clock ahead): the stored counter is above the clock's.
    const n = node();
    n.start(seconds('10:00:30'));
    const beforeStop = uploadJob1(n, '10:00:50', 25);
    halt(n);
    n.start(seconds('09:58:00'));
    const afterStart = uploadJob1(n, '10:00:50');
    expect(inRawOrder([afterStart, beforeStop])).toEqual([beforeStop, afterStart]);
  });

  it.each([
    { what: 'empty (a kill while Fluent Bit rewrote it)', content: '', fluentBitAloneStarts: false },
    { what: 'not a number', content: 'garbage\n', fluentBitAloneStarts: false },
    { what: 'a number beyond what the reader reads exactly', content: '9'.repeat(20), fluentBitAloneStarts: true },
  ])(
    'starts, and keys after what it uploaded before, when the counter file is $what',
    ({ content, fluentBitAloneStarts }) => {
      const n = node();
      n.start(seconds('10:00:00'));
      const beforeKill = uploadJob1(n, '10:00:05', 30);
      n.kill();
      // In place, as Fluent Bit writes it: its second name holds the same.
      writeFileSync(n.counterFile, content);
      n.start(seconds('10:00:20'));
      const afterStart = uploadJob1(n, '10:00:21');
      expect(inRawOrder([afterStart, beforeKill])).toEqual([beforeKill, afterStart]);

      // What Fluent Bit does with such a file on its own (init_seq_index): no start at all.
      const alone = node({ command: ['/fluent-bit/bin/fluent-bit', `--config=${setup.configMount}/fluent-bit.conf`] });
      mkdirSync(dirname(alone.counterFile), { recursive: true });
      writeFileSync(alone.counterFile, content);
      if (fluentBitAloneStarts) alone.start(seconds('10:00:20'));
      else expect(() => alone.start(seconds('10:00:20'))).toThrow(/does not start/);
    },
  );

  it('keys after what it uploaded before when the counter file and its copy are both gone (the clock alone)', () => {
    // 50 uploads in 5 s, far more than a node makes: still below the clock's 1000 a second.
    const n = node();
    n.start(seconds('10:00:00'));
    const beforeStop = uploadJob1(n, '10:00:01', 49);
    n.stop();
    const state = resolve(n.root, `.${statePath}`);
    for (const name of readdirSync(state)) if (name.includes('seq_index')) rmSync(resolve(state, name));
    n.start(seconds('10:00:05'));
    expect(existsSync(n.counterFile)).toBe(true);
    const afterStart = uploadJob1(n, '10:00:05');
    expect(inRawOrder([afterStart, beforeStop])).toEqual([beforeStop, afterStart]);
    // Seconds x 1000 stays an index parseRawKey reads exactly.
    expect(Number.isSafeInteger(parseRawKey(afterStart)?.index)).toBe(true);
  });

  it('does not start Fluent Bit when it cannot put the counter back (no bucket)', () => {
    expect(() => node({ bucket: '' }).start(seconds('10:00:00'))).toThrow(/did not start Fluent Bit/);
  });

  it('never runs two Fluent Bits on one node at once (they would share the tail offsets, the s3 buffer and $INDEX)', () => {
    expect(daemonSet.kind).toBe('DaemonSet');
    const rolling = daemonSet.spec?.updateStrategy;
    expect(rolling?.type ?? 'RollingUpdate').toBe('RollingUpdate');
    // maxSurge > 0 would start the new pod beside the old one on the same hostPath.
    expect(rolling?.rollingUpdate?.maxSurge ?? 0).toBe(0);
  });
});

describe('Fluent Bit killed (OOM at its memory limit, SIGKILL, a node crash) or cut off from S3', () => {
  const service = config.find((s) => s.name.toUpperCase() === 'SERVICE');
  const daemonSet = parseYaml(readFileSync(resolve(FLUENT_BIT_DIR, 'daemonset.yaml'), 'utf8')) as V1DaemonSet;
  const container = daemonSet.spec?.template.spec?.containers.find((c) => c.name === 'fluent-bit');

  // The tail input moves its offset (DB) as soon as it has read the lines, not once the s3
  // output has them (fluent/fluent-bit#2846: "enable filesystem buffering in the input
  // side"). With memory buffering, a kill would lose what was read and not yet handed to
  // the s3 output's store_dir: up to a Flush interval of every container's lines, more while
  // the input is paused. Chunks on the state hostPath are read again by the next start.
  it('keeps what the tail input has read on disk until the s3 output has it', () => {
    expect(tail.entries.get('storage.type')?.toLowerCase()).toBe('filesystem');
    const storagePath = service?.entries.get('storage.path') ?? '';
    expect(storagePath.startsWith('/var/lib/fluent-bit/job-logs/')).toBe(true);
    const state = container?.volumeMounts?.find((m) => m.mountPath === '/var/lib/fluent-bit/job-logs');
    expect(daemonSet.spec?.template.spec?.volumes?.find((v) => v.name === state?.name)?.hostPath?.path).toBe(
      '/var/lib/fluent-bit/job-logs',
    );
    // Not inside the s3 output's store_dir, whose folders are its own.
    expect(`${storagePath}/`.startsWith(`${entry(s3, 'store_dir')}/`)).toBe(false);
  });

  it('keeps its chunks in memory within the container limit', () => {
    // A chunk is about 2 MB at most; the backlog of the previous run is read at start.
    const chunks =
      Number(entry(service ?? s3, 'storage.max_chunks_up')) * 2e6 +
      sizeInBytes(entry(service ?? s3, 'storage.backlog.mem_limit'));
    const limit = container?.resources?.limits?.['memory'];
    expect(limit).toMatch(/^\d+Mi$/);
    expect(chunks).toBeLessThanOrEqual((parseInt(limit ?? '0', 10) * 2 ** 20) / 2);
  });

  // Waiting out an S3 outage costs disk on the node, never data.
  it('drops no chunk: retries without limit and sets no limit that discards buffered data', () => {
    // The engine drops a chunk the s3 output could not take after Retry_Limit retries (1 by default).
    expect(entry(s3, 'Retry_Limit')).toBe('no_limits');
    // Both make room by discarding the oldest data.
    expect(s3.entries.get('storage.total_limit_size')).toBeUndefined();
    expect(s3.entries.get('store_dir_limit_size')).toBeUndefined();
  });
});

/** A KEY=VALUE file of k8s/base/fluent-bit/ (comments and blank lines skipped). */
function envFile(name: string): Record<string, string> {
  const lines = readFileSync(resolve(FLUENT_BIT_DIR, name), 'utf8').split('\n');
  return Object.fromEntries(
    lines
      .filter((l) => /^[A-Z_][A-Z0-9_]*=/.test(l))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}

/**
 * Production-like raw objects for one job's pod, as Fluent Bit uploads them (tail input with
 * the `cri` parser, the kubernetes filter, the s3 output): records of about 860 bytes, most
 * of them the `kubernetes` map the filter adds (pod_name, namespace_name, pod_id, labels,
 * annotations, host, container_name, docker_id, container_hash, container_image) that the
 * compactor drops; `time` twice (a shape the contract allows; Fluent Bit 3.2 writes the parser's
 * alone, docs/design.md §1), so the reader's harder case is measured; about 10%
 * stderr; now and then a line longer than the runtime's 16 KiB limit, split into `P…F`
 * pieces, sometimes across two uploads; gzip bodies when the node's Fluent Bit compresses.
 *
 * Deterministic: object `i` of a pod depends only on the options and `i`, so a benchmark can
 * produce any object again (to upload it, or to know its bytes) without holding the log.
 */
import { gzipSync } from 'node:zlib';
import { formatSlice, rawKey } from '@platform/log-reader/layout';
import { criPieces, CRI_MAX_LINE } from './fluent-bit.js';
import { random } from './random.js';

export interface RealisticPodOptions {
  readonly pod: string;
  /** Default `jobs`. */
  readonly namespace?: string;
  readonly seed: number;
  /** Raw objects (uploads) of the pod. */
  readonly objects: number;
  /** Records (lines, `P` pieces included) per object. */
  readonly recordsPerObject: number;
  /** Gzip bodies (Fluent Bit with `compression gzip`). Default false. */
  readonly gzip?: boolean;
  /** The minute of the first object; object `i` holds minute `i` after it. Default 2026-11-25T00:00Z. */
  readonly start?: Date;
  /** Share of stderr records. Default 0.1. */
  readonly stderrShare?: number;
  /** Share of records that start a line longer than 16 KiB (split into `P…F`). Default 0.0002. */
  readonly longLineShare?: number;
}

export interface RealisticObject {
  readonly key: string;
  /** The body as uploaded: gzip or plain NDJSON. */
  readonly body: Buffer;
  /** Bytes of NDJSON (before compression). */
  readonly bytes: number;
  readonly lines: number;
}

const DEFAULT_START = Date.UTC(2026, 10, 25, 0, 0);
const MINUTE_MS = 60_000;

/** A pod's generator: its names, and any of its raw objects by number. */
export class RealisticPod {
  readonly namespace: string;
  readonly containerId: string;
  /** The kubernetes filter's map: the same for every record of the container. */
  private readonly kubernetes: string;
  private readonly start: number;
  private readonly stderrShare: number;
  private readonly longLineShare: number;

  constructor(readonly options: RealisticPodOptions) {
    const rand = random(options.seed);
    this.namespace = options.namespace ?? 'jobs';
    this.containerId = hex(rand, 64);
    this.start = Math.floor((options.start?.getTime() ?? DEFAULT_START) / MINUTE_MS) * MINUTE_MS;
    this.stderrShare = options.stderrShare ?? 0.1;
    this.longLineShare = options.longLineShare ?? 0.0002;
    this.kubernetes = kubernetesMap(rand, options.pod, this.namespace, this.containerId);
  }

  get pod(): string {
    return this.options.pod;
  }

  /** Object `index` (0-based): its key, body and size. */
  object(index: number): RealisticObject {
    const lines = this.lines(index);
    const text = Buffer.from(lines.join('\n') + '\n');
    const minute = new Date(this.start + index * MINUTE_MS);
    const key = rawKey({
      pod: this.pod,
      namespace: this.namespace,
      container: this.pod,
      containerId: this.containerId,
      slice: formatSlice(minute),
      index: index + 1,
    });
    return { key, body: this.options.gzip ? gzipSync(text) : text, bytes: text.length, lines: lines.length };
  }

  /** The NDJSON lines of object `index`, without newlines. */
  lines(index: number): string[] {
    const rand = random(mix(this.options.seed, index));
    const count = this.options.recordsPerObject;
    const minute = this.start + index * MINUTE_MS;
    const out: string[] = [];
    // The pieces of a long line the previous upload ended inside come first.
    if (index > 0 && this.splitsAfter(index - 1)) {
      for (const piece of this.longLine(index - 1).slice(1)) out.push(piece);
    }
    let step = index * count;
    while (out.length < count) {
      step += 1;
      const ms = Math.floor((out.length / count) * MINUTE_MS);
      const time = nanoTime(minute + ms, rand);
      if (rand() < this.longLineShare && out.length + 8 < count) {
        for (const piece of criPieces({ time, log: configDump(rand, this.pod, step) }))
          out.push(this.line(time, piece.log, 'stdout', piece.logtag ?? 'F'));
        continue;
      }
      const stderr = rand() < this.stderrShare;
      out.push(
        this.line(
          time,
          stderr ? stderrMessage(rand, step) : stdoutMessage(rand, step),
          stderr ? 'stderr' : 'stdout',
          'F',
        ),
      );
    }
    // Sometimes the upload ends inside a long line: its first piece here, the rest next time.
    if (this.splitsAfter(index)) out.push(this.longLine(index)[0] as string);
    return out;
  }

  private line(time: string, log: string, stream: 'stdout' | 'stderr', logtag: 'P' | 'F'): string {
    // Two `time` keys (microseconds first, then the runtime's): the last one wins.
    return `{"time":"${time.slice(0, 26)}Z","time":"${time}","stream":"${stream}","logtag":"${logtag}","log":${JSON.stringify(log)},"kubernetes":${this.kubernetes}}`;
  }

  /** Whether object `index` ends with the first piece of a long line (about one upload in 20). */
  private splitsAfter(index: number): boolean {
    return index + 1 < this.options.objects && random(mix(this.options.seed ^ 0x5bd1e995, index))() < 0.05;
  }

  /** The pieces of the long line that straddles the end of object `index`. */
  private longLine(index: number): string[] {
    const rand = random(mix(this.options.seed ^ 0x27d4eb2f, index));
    const time = nanoTime(this.start + index * MINUTE_MS + MINUTE_MS - 1, rand);
    return criPieces({ time, log: configDump(rand, this.pod, index) }).map((p) =>
      this.line(time, p.log, 'stdout', p.logtag ?? 'F'),
    );
  }
}

function mix(seed: number, index: number): number {
  return (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(index + 1, 0xc2b2ae35)) >>> 0;
}

function hex(rand: () => number, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += Math.floor(rand() * 16).toString(16);
  return out;
}

function pick<T>(rand: () => number, items: readonly T[]): T {
  return items[Math.floor(rand() * items.length)] as T;
}

/** RFC 3339 with nanoseconds, as containerd writes it. */
function nanoTime(ms: number, rand: () => number): string {
  const iso = new Date(ms).toISOString(); // 2026-11-25T00:00:00.123Z
  return `${iso.slice(0, 23)}${String(Math.floor(rand() * 1e6)).padStart(6, '0')}Z`;
}

function kubernetesMap(rand: () => number, pod: string, namespace: string, containerId: string): string {
  const uuid = `${hex(rand, 8)}-${hex(rand, 4)}-4${hex(rand, 3)}-a${hex(rand, 3)}-${hex(rand, 12)}`;
  const digest = hex(rand, 64);
  const node = `gpu-node-${String(Math.floor(rand() * 200)).padStart(3, '0')}`;
  return JSON.stringify({
    pod_name: pod,
    namespace_name: namespace,
    pod_id: uuid,
    labels: {
      'batch.kubernetes.io/job-name': pod,
      queue: pick(rand, ['gpu-a100', 'gpu-h100', 'cpu-large']),
    },
    annotations: { 'kubectl.kubernetes.io/default-container': pod },
    host: node,
    container_name: pod,
    docker_id: containerId,
    container_hash: `ghcr.io/acme/trainer@sha256:${digest}`,
    container_image: 'ghcr.io/acme/trainer:2026.11.3',
  });
}

const LOGGERS = ['trainer.loop', 'trainer.data', 'trainer.ckpt', 'torch.distributed', 'metrics'] as const;
const SHARDS = [
  's3://datasets/imagenet-21k/train',
  's3://datasets/common-crawl/2026-44',
  's3://datasets/laion/part',
] as const;

/** A training job's stdout: progress lines, structured JSON logs, now and then a long report. */
function stdoutMessage(rand: () => number, step: number): string {
  const roll = rand();
  if (roll < 0.55) {
    const loss = (2.5 * Math.exp(-step / 40_000) + rand() * 0.05).toFixed(4);
    return `epoch ${Math.floor(step / 5000)} step ${step}/500000 loss=${loss} acc=${(0.5 + rand() * 0.4).toFixed(4)} lr=3.0e-04 grad_norm=${(rand() * 3).toFixed(3)} throughput=${(900 + rand() * 100).toFixed(1)} samples/s eta=${Math.floor(rand() * 24)}h${Math.floor(rand() * 60)}m`;
  }
  if (roll < 0.9) {
    return JSON.stringify({
      level: 'info',
      ts: 1_795_000_000 + step / 100,
      logger: pick(rand, LOGGERS),
      msg: pick(rand, ['loaded shard', 'prefetched batch', 'all-reduce finished', 'wrote metrics']),
      shard: `${pick(rand, SHARDS)}/${String(Math.floor(rand() * 100_000)).padStart(6, '0')}.tar`,
      bytes: Math.floor(rand() * 1e9),
      elapsed_ms: Math.floor(rand() * 5000),
    });
  }
  if (roll < 0.97)
    return `✓ checkpoint step ${step} saved to s3://checkpoints/run-${Math.floor(rand() * 1e6)}/step_${step}.pt (${(rand() * 20).toFixed(2)} GiB, ${(rand() * 90).toFixed(1)} s); kept last 3, pruned step_${step - 3000}.pt`;
  const metrics = Array.from(
    { length: 6 },
    (_, k) => `layer_${k}.grad_norm=${(rand() * 2).toFixed(5)} layer_${k}.weight_norm=${(10 + rand() * 5).toFixed(4)}`,
  );
  return `step ${step} diagnostics: ${metrics.join(' ')}`;
}

/** stderr: warnings and tracebacks. */
function stderrMessage(rand: () => number, step: number): string {
  const roll = rand();
  if (roll < 0.5)
    return `/opt/venv/lib/python3.11/site-packages/torch/nn/modules/module.py:1511: UserWarning: gradient norm ${(rand() * 100).toFixed(2)} clipped at step ${step}`;
  if (roll < 0.8)
    return `  File "/opt/venv/lib/python3.11/site-packages/torch/distributed/c10d.py", line ${Math.floor(rand() * 4000)}, in all_reduce: "timeout after 1800s" (rank ${Math.floor(rand() * 64)})`;
  return `W1125 ${String(Math.floor(rand() * 24)).padStart(2, '0')}:00:00.000000 ${Math.floor(rand() * 99999)} ProcessGroupNCCL.cpp:1234] [Rank ${Math.floor(rand() * 64)}] NCCL watchdog: no progress for ${Math.floor(rand() * 600)} s`;
}

/** A config dump of 20 to 40 KiB: longer than the runtime's line limit. */
function configDump(rand: () => number, pod: string, step: number): string {
  const params: string[] = [];
  const size = CRI_MAX_LINE + Math.floor(rand() * 24 * 1024) + 4096;
  let length = 0;
  for (let k = 0; length < size; k++) {
    const param = `"param_${k}": ${rand().toFixed(6)}`;
    params.push(param);
    length += param.length + 2;
  }
  return `config of ${pod} at step ${step}: {${params.join(', ')}}`;
}

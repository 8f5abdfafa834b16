// One bucket per test, the real library and compactor against the test S3 server, and a
// clock the test moves: what becomes due is decided by time, and tests should not sleep.
import { text } from 'node:stream/consumers';
import type { S3Client } from '@aws-sdk/client-s3';
import { LogReader, type LogRecord, type ReadPlan } from '@platform/log-reader';
import type { PodMetadata } from '@platform/log-reader/layout';
import { loadMetadata } from '@platform/log-reader/s3';
import { FluentBitContainer } from '@platform/testkit';
import { defaultConfig, runPass, silentLogger, type Config, type PassResult } from 'compactor';
import { createTestBucket, listAll, testS3Client, type ListedObject } from './s3.js';

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;

export interface World {
  readonly client: S3Client;
  readonly bucket: string;
  readonly reader: LogReader;
  /** The compactor's clock: real time plus what the test moved it by. */
  now(): Date;
  advance(ms: number): void;
  pass(config?: Partial<Config>): Promise<PassResult>;
  /** A pass through another client (a crashing or pausing one; see hooks.ts). */
  passWith(client: S3Client, config?: Partial<Config>): Promise<PassResult>;
  read(pod: string, options?: { since?: Date | string; timestamps?: boolean }): Promise<string>;
  records(pod: string, options?: { since?: Date | string }): Promise<LogRecord[]>;
  plan(pod: string): Promise<ReadPlan>;
  metadata(pod: string): Promise<PodMetadata>;
  keys(prefix?: string): Promise<string[]>;
  listing(): Promise<ListedObject[]>;
  container(
    pod: string,
    containerId: string,
    options?: ConstructorParameters<typeof FluentBitContainer>[4],
  ): FluentBitContainer;
}

/** `endpoint`: a proxy in front of the test server (store-clock.ts), which every request of the world goes through. */
export async function newWorld(name: string, endpoint?: string): Promise<World> {
  const client = testS3Client(endpoint);
  const bucket = await createTestBucket(name, client);
  const reader = new LogReader({ client, bucket });
  let offset = 0;
  const now = (): Date => new Date(Date.now() + offset);
  return {
    client,
    bucket,
    reader,
    now,
    advance: (ms) => {
      offset += ms;
    },
    pass: (config = {}) =>
      runPass({ store: { client, bucket }, config: testConfig(bucket, config), logger: silentLogger(), now }),
    passWith: (other, config = {}) =>
      runPass({ store: { client: other, bucket }, config: testConfig(bucket, config), logger: silentLogger(), now }),
    read: (pod, options = {}) => text(reader.createReadStream(pod, options)),
    records: async (pod, options = {}) => {
      const out: LogRecord[] = [];
      for await (const r of reader.records(pod, options)) out.push(r);
      return out;
    },
    plan: (pod) => reader.plan(pod),
    metadata: async (pod) => (await loadMetadata({ client, bucket }, pod)).metadata,
    keys: async (prefix) => (await listAll(client, bucket, prefix)).map((o) => o.key),
    listing: () => listAll(client, bucket),
    container: (pod, containerId, options) => new FluentBitContainer(client, bucket, pod, containerId, options),
  };
}

/** The CLI's defaults, pointed at the test server. */
export function testConfig(bucket: string, overrides: Partial<Config> = {}): Config {
  return { ...defaultConfig(bucket), endpoint: process.env['S3_TEST_ENDPOINT'], ...overrides };
}

/** `n` messages a second apart from `start`, `prefix-i` as text, times with nanoseconds. */
export function messages(prefix: string, n: number, start: Date): { time: string; log: string; at: Date }[] {
  return Array.from({ length: n }, (_, i) => {
    const at = new Date(start.getTime() + i * 1000);
    return { time: `${at.toISOString().slice(0, 19)}.123456789Z`, log: `${prefix}-${i}`, at };
  });
}

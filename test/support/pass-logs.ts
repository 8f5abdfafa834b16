// A pass whose JSON log lines (winston) are kept, for tests that look at what it logged.
import { Writable } from 'node:stream';
import { createLogger, runPass, type Config, type PassResult } from 'compactor';
import { testConfig, type World } from './world.js';

export async function passWithLogs(
  w: World,
  overrides: Partial<Config> = {},
): Promise<{ result: PassResult; logs: Record<string, unknown>[] }> {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  const logger = createLogger({ level: 'debug', stream });
  const result = await runPass({
    store: { client: w.client, bucket: w.bucket },
    config: testConfig(w.bucket, overrides),
    logger,
    now: w.now,
  });
  logger.close();
  return { result, logs: lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

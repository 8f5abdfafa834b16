// A pass whose JSON log lines (winston) are kept, for tests that look at what it logged.
import { Writable } from 'node:stream';
import { createLogger, runPass, type Config, type Logger, type PassResult } from 'compactor';
import { testConfig, type World } from './world.js';

/** A logger (level `debug`) whose JSON lines are kept in `lines`, one entry a line. */
export function capturingLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  return { logger: createLogger({ level: 'debug', stream }), lines };
}

export async function passWithLogs(
  w: World,
  overrides: Partial<Config> = {},
): Promise<{ result: PassResult; logs: Record<string, unknown>[] }> {
  const { logger, lines } = capturingLogger();
  const result = await runPass({
    store: { client: w.client, bucket: w.bucket },
    config: testConfig(w.bucket, overrides),
    logger,
    now: w.now,
  });
  logger.close();
  return { result, logs: lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

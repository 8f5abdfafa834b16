// `tail: n` over an archive of many merged files: the last n records, and only the merged
// files that hold them are fetched (the metadata's records_count says which).
import { LogReader, type LogRecord } from '@platform/log-reader';
import { recordRequests } from './support/requests.js';
import { testS3Client } from './support/s3.js';
import { messages, newWorld, type World } from './support/world.js';

const T0 = new Date('2026-11-25T10:00:00Z');
const POD = 'job-1';
const ID = '0f3a'.repeat(16);

/** 120 records merged into small files (1 KiB each), then 6 more in 2 raw files not merged yet. */
async function longArchive(name: string): Promise<World> {
  const w = await newWorld(name);
  const fb = w.container(POD, ID);
  const all = messages('line', 126, T0);
  for (let i = 0; i < 120; i += 20) await fb.upload(all.slice(i, i + 20));
  await w.pass({ maxFileSize: 1024 });
  await fb.upload(all.slice(120, 123));
  await fb.upload(all.slice(123, 126));
  return w;
}

async function collect(reader: LogReader, options: { tail?: number; since?: string }): Promise<string[]> {
  const out: string[] = [];
  for await (const r of reader.records(POD, options) as AsyncIterable<LogRecord>) out.push(r.message);
  return out;
}

describe('tail', () => {
  let w: World;
  let files: { key: string; first: number; end: number }[];
  const all = messages('line', 126, T0).map((m) => m.log);

  beforeAll(async () => {
    w = await longArchive('tail');
    let end = 0;
    files = (await w.metadata(POD)).logFiles.map((f) => {
      const first = end;
      end += f.recordsCount;
      return { key: f.key, first, end };
    });
    // The archive this test needs: many merged files, then raw ones.
    expect(files.length).toBeGreaterThan(5);
    expect(end).toBe(120);
  });

  /** The reader through a client that writes down what it asks for. */
  function counted(): { reader: LogReader; gets: () => string[] } {
    const client = testS3Client();
    const sent = recordRequests(client);
    return {
      reader: new LogReader({ client, bucket: w.bucket }),
      gets: () => sent.filter((r) => r.command === 'GetObject').map((r) => r.target),
    };
  }

  it.each([0, 1, 4, 6, 7, 10, 31, 125, 126, 500])('tail %i gives the last records of the whole read', async (n) => {
    expect(await collect(w.reader, { tail: n })).toEqual(n === 0 ? [] : all.slice(-n));
  });

  it('fetches no merged file when the raw files hold the tail', async () => {
    const { reader, gets } = counted();
    expect(await collect(reader, { tail: 4 })).toEqual(all.slice(-4));
    expect(gets().filter((k) => k.startsWith('data/'))).toEqual([]);
  });

  it('fetches only the merged files that hold the rest of the tail', async () => {
    for (const n of [7, 30, 61]) {
      const { reader, gets } = counted();
      expect(await collect(reader, { tail: n })).toEqual(all.slice(-n));
      // Records from position 126 - n on: 6 are raw, the rest in the last merged files.
      const from = 126 - n;
      const needed = files.filter((f) => f.end > from).map((f) => f.key);
      expect(gets().filter((k) => k.startsWith('data/'))).toEqual(needed);
      // The metadata is read once.
      expect(gets().filter((k) => k.startsWith('metadata/'))).toHaveLength(1);
    }
  });

  it('tail 0 fetches no log file at all', async () => {
    const { reader, gets } = counted();
    expect(await collect(reader, { tail: 0 })).toEqual([]);
    expect(gets().filter((k) => !k.startsWith('metadata/'))).toEqual([]);
  });

  it('takes the tail of the records at or after `since`', async () => {
    // line-115 is 115 s after T0: 11 records are at or after it.
    const since = '2026-11-25T10:01:55Z';
    expect(await collect(w.reader, { since, tail: 5 })).toEqual(all.slice(-5));
    expect(await collect(w.reader, { since, tail: 50 })).toEqual(all.slice(115));
  });

  it('rejects a tail that is not a whole number', async () => {
    await expect(collect(w.reader, { tail: -1 })).rejects.toThrow(/tail/);
    await expect(collect(w.reader, { tail: 1.5 })).rejects.toThrow(/tail/);
  });
});

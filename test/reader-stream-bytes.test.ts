// createReadStream copies merged records' bytes out of the body (read/format.ts) instead of
// decoding and encoding them: what it prints must stay exactly the records' text, for every
// kind of message and line a merged file can hold, with timestamps, since and tail.
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { gzipSync } from 'node:zlib';
import type { LogRecord, ReadStreamOptions } from '@platform/log-reader';
import { metadataKey } from '@platform/log-reader/layout';
import { HOUR, newWorld, type World } from './support/world.js';

const T0 = Date.parse('2026-11-25T10:00:00Z');

// What needs escaping in JSON, line endings the reader drops, non-ASCII, a lone surrogate.
const LOGS = [
  'plain',
  '{"level":"info","msg":"quoted \\"and\\" back\\\\slashed","path":"a/b"}',
  'tab\tand bell\u0007',
  'ends with a newline\n',
  'ends with two\n\n',
  'ends with CRLF\r\n',
  'ü 世界 🎉',
  'lone \ud800 surrogate',
  '',
];

/** The bytes a stream of `records` prints (a lone surrogate is U+FFFD's bytes, as Buffer.from makes it). */
function printed(records: readonly LogRecord[], timestamps = false): Buffer {
  return Buffer.from(records.map((r) => (timestamps ? `${r.time} ${r.message}\n` : `${r.message}\n`)).join(''));
}

async function read(w: World, pod: string, options: ReadStreamOptions = {}): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of w.reader.createReadStream(pod, options)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function mergedPod(w: World): Promise<void> {
  const fb = w.container('job-1', '0f3a', { gzip: true });
  await fb.upload(
    Array.from({ length: 3 * LOGS.length }, (_, i) => {
      const at = new Date(T0 + i * 1000);
      const log = LOGS[i % LOGS.length] as string;
      return {
        time: `${at.toISOString().slice(0, 19)}.000000001Z`,
        log,
        at,
        stream: i % 4 === 1 ? 'stderr' : 'stdout',
      };
    }),
  );
  w.advance(2 * HOUR);
  await w.pass();
  // Everything is read from the merged file.
  expect((await w.plan('job-1')).raw).toHaveLength(0);
}

describe('createReadStream of merged files', () => {
  it('prints the text of the records records() returns, with and without timestamps, since and tail', async () => {
    const w = await newWorld('stream-bytes');
    await mergedPod(w);
    const records = await w.records('job-1');
    expect(records.map((r) => r.message).slice(0, LOGS.length)).toEqual([
      'plain',
      LOGS[1],
      'tab\tand bell\u0007',
      'ends with a newline',
      'ends with two\n',
      'ends with CRLF',
      'ü 世界 🎉',
      'lone \ud800 surrogate',
      '',
    ]);
    expect(await read(w, 'job-1')).toEqual(printed(records));
    expect(await read(w, 'job-1', { timestamps: true })).toEqual(printed(records, true));
    const since = records[10]?.time as string;
    expect(await read(w, 'job-1', { since, timestamps: true })).toEqual(printed(records.slice(10), true));
    expect(await read(w, 'job-1', { tail: 5 })).toEqual(printed(records.slice(-5)));
  });

  it('prints a merged file written by the Python service byte for byte as before', async () => {
    const w = await newWorld('stream-bytes-python');
    const pod = 'job-py';
    const key = `logs/${pod}/202611251000.gz`;
    const body = Buffer.concat([
      Buffer.from('\ufeff{"time":"2026-11-25T10:00:00Z","log":"after a byte order mark"}\r\n'),
      Buffer.from('{"time": "2026-11-25T10:00:01Z", "log": "spaced, with its newline\\n"}\n\n'),
      Buffer.from('{"time":"2026-11-25T10:00:02Z","log":"\\u00fc escaped","stream":"stderr"}\n'),
      Buffer.from('{"time":"2026-11-25T10:00:03Z","log":"not UTF-8: '),
      Buffer.from([0xe2, 0x82, 0xff]),
      Buffer.from('"}\n{"time":"2026-11-25T10:00:04Z","log":"\ufeffkept mid-file","kubernetes":{}}'),
    ]);
    await w.client.send(new PutObjectCommand({ Bucket: w.bucket, Key: key, Body: gzipSync(body) }));
    const doc = {
      log_files: [
        {
          key,
          records_count: 5,
          size: body.length,
          first_record_time: '2026-11-25T10:00:00+00:00',
          last_record_time: '2026-11-25T10:00:04+00:00',
        },
      ],
      last_compaction_time: new Date(Date.now() + 1000).toISOString().replace('Z', '+00:00'),
    };
    await w.client.send(new PutObjectCommand({ Bucket: w.bucket, Key: metadataKey(pod), Body: JSON.stringify(doc) }));
    expect(await read(w, pod, { timestamps: true })).toEqual(
      Buffer.from(
        [
          '2026-11-25T10:00:00Z after a byte order mark',
          '2026-11-25T10:00:01Z spaced, with its newline',
          '2026-11-25T10:00:02Z ü escaped',
          '2026-11-25T10:00:03Z not UTF-8: \ufffd\ufffd',
          '2026-11-25T10:00:04Z \ufeffkept mid-file',
          '',
        ].join('\n'),
      ),
    );
  });
});

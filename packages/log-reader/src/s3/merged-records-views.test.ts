// The stream's byte path (merged records as views, copied out) against the text path: the same
// records, the same bytes of output, the same failure, whatever the lines and however they arrive.
import fc from 'fast-check';
import { gzipSync } from 'node:zlib';
import { UnreadableObjectError } from '../errors.js';
import type { LogRecord } from '../layout/records.js';
import { formatBatch } from '../read/format.js';
import { mergedRecordBatches } from './merged-records.js';

const KEY = 'data/job-1/0f3a/202611251000_1.gz';

interface Read {
  readonly records: LogRecord[];
  readonly text: Buffer;
  readonly stamped: Buffer;
  readonly error?: string;
}

async function read(bytes: Buffer, cuts: readonly number[], views: boolean): Promise<Read> {
  const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks = [0, ...at].map((from, i) => bytes.subarray(from, at[i] ?? bytes.length));
  async function* body(): AsyncGenerator<Uint8Array> {
    for (const chunk of chunks) yield chunk;
  }
  const records: LogRecord[] = [];
  const text: Buffer[] = [];
  const stamped: Buffer[] = [];
  const done = (error?: string): Read => ({
    records,
    text: Buffer.concat(text),
    stamped: Buffer.concat(stamped),
    ...(error === undefined ? {} : { error }),
  });
  try {
    for await (const batch of mergedRecordBatches(
      KEY,
      { body: body(), length: bytes.length },
      undefined,
      'job-1',
      views,
    )) {
      text.push(Buffer.from(formatBatch(batch, false, '')));
      stamped.push(Buffer.from(formatBatch(batch, true, '')));
      for (const r of batch)
        records.push({ time: r.time, message: r.message, stream: r.stream, containerId: r.containerId });
    }
  } catch (error) {
    if (!(error instanceof UnreadableObjectError)) throw error;
    return done(error.message);
  }
  return done();
}

// Messages with what needs escaping, line endings, non-ASCII and lone surrogates.
const message = fc.oneof(
  fc.string({ unit: fc.constantFrom('a', ' ', 'é', '世', '🎉', '"', '\\', '/', '\n', '\r', '\t', '\u0001', '\ud800') }),
  fc.string({ unit: 'binary', maxLength: 20 }),
);
const time = fc.constantFrom('2026-11-25T10:00:00.123456789Z', '2026-11-25T10:00:01Z', '', 'not a time', 'ü');
// A line as the compactor writes it, as the Python service wrote it, or damaged.
const line = fc.oneof(
  fc
    .record({ time, log: message, stderr: fc.boolean() })
    .map(({ time: t, log, stderr }) =>
      Buffer.from(JSON.stringify(stderr ? { time: t, log, stream: 'stderr' } : { time: t, log })),
    ),
  fc.record({ time, log: message }).map((r) => Buffer.from(JSON.stringify(r, null, 1).replaceAll('\n', ''))),
  fc
    .constantFrom(
      '{"time":"t","log":"\\x"}',
      '{"time":"t","log":"a"} ',
      '{"time":"t","log":"a\tb"}',
      '{"time":"t","log":"a"]',
      'oops',
      '',
    )
    .map((s) => Buffer.from(s)),
  fc
    .uint8Array({ maxLength: 12 })
    .map((b) => Buffer.concat([Buffer.from('{"time":"t","log":"'), b, Buffer.from('"}')])),
);
const body = fc
  .record({
    bom: fc.boolean(),
    lines: fc.array(fc.record({ line, crlf: fc.boolean() }), { maxLength: 12 }),
    lastEnded: fc.boolean(),
    gzip: fc.boolean(),
  })
  .map(({ bom, lines, lastEnded, gzip }) => {
    const parts = lines.map(({ line: l, crlf }, i) =>
      i < lines.length - 1 || lastEnded ? Buffer.concat([l, Buffer.from(crlf ? '\r\n' : '\n')]) : l,
    );
    const plain = Buffer.concat([Buffer.from(bom ? '\ufeff' : ''), ...parts]);
    return gzip ? gzipSync(plain) : plain;
  });

describe('mergedRecordBatches with views (the stream)', () => {
  it('gives the records, the output bytes and the failure the text path gives', async () => {
    await fc.assert(
      fc.asyncProperty(body, fc.array(fc.nat(), { maxLength: 6 }), async (bytes, cuts) => {
        const text = await read(bytes, cuts, false);
        const views = await read(bytes, cuts, true);
        expect(views).toEqual(text);
      }),
      { numRuns: 400 },
    );
  });

  it('copies the bytes of the compactor-shaped lines, escapes undone and the line ending dropped', async () => {
    const lines = [
      '{"time":"2026-11-25T10:00:00Z","log":"plain ü 世界"}',
      '{"time":"2026-11-25T10:00:01Z","log":"{\\"a\\":\\"b\\\\n\\"}\\r\\n","stream":"stderr"}',
      '{"time": "2026-11-25T10:00:02Z", "log": "python\\n"}',
    ];
    const out = await read(Buffer.from(`\ufeff${lines.join('\n')}\n`), [5, 70], true);
    expect(out.stamped.toString()).toBe(
      '2026-11-25T10:00:00Z plain ü 世界\n2026-11-25T10:00:01Z {"a":"b\\n"}\n2026-11-25T10:00:02Z python\n',
    );
    expect(out.records.map((r) => r.stream)).toEqual(['stdout', 'stderr', 'stdout']);
  });

  it('replaces bytes that are not UTF-8 as the text path does', async () => {
    const bytes = Buffer.concat([Buffer.from('{"time":"t","log":"a'), Buffer.from([0xe2, 0x82]), Buffer.from('b"}\n')]);
    const out = await read(bytes, [], true);
    expect(out.text.toString()).toBe('a\ufffdb\n');
  });
});

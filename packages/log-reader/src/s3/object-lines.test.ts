import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { BodyCutShortError, isBrokenBody, UnreadableObjectError } from '../errors.js';
import { objectLines, type ByteCounter } from './object-lines.js';

const KEY = 'kube.var.log.containers.job-1_jobs_job-1-0f3a.log/202611250959_61.gz';

async function* body(...chunks: Array<Uint8Array | string>): AsyncGenerator<Uint8Array> {
  for (const chunk of chunks) yield typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
}

/** The bytes cut into chunks of `size` bytes (the last one shorter). */
function chunked(bytes: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(bytes.subarray(i, i + size));
  return out;
}

async function lines(source: AsyncIterable<Uint8Array>, counter?: ByteCounter, key = KEY): Promise<string[]> {
  const out: string[] = [];
  for await (const line of objectLines(key, source, counter)) out.push(line);
  return out;
}

async function failure(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the read to fail');
}

const NDJSON = [
  '{"time":"2026-11-25T10:00:00.123456789Z","stream":"stdout","logtag":"F","log":"first"}',
  '{"time":"2026-11-25T10:00:01Z","stream":"stderr","logtag":"F","log":"zweite Zeile – ü 世界 🎉"}',
  '{"time":"2026-11-25T10:00:02Z","stream":"stdout","logtag":"F","log":"third"}',
];
const TEXT = NDJSON.map((l) => `${l}\n`).join('');

describe('objectLines', () => {
  it('reads a plain-text body (the usual case despite the .gz suffix)', async () => {
    expect(await lines(body(TEXT))).toEqual(NDJSON);
  });

  it('reads a gzip body to the same lines', async () => {
    expect(await lines(body(gzipSync(Buffer.from(TEXT))))).toEqual(NDJSON);
  });

  it('reads a body of several gzip members (concatenated uploads)', async () => {
    const two = Buffer.concat([
      gzipSync(Buffer.from(`${NDJSON[0]}\n`)),
      gzipSync(Buffer.from(`${NDJSON[1]}\n${NDJSON[2]}`)),
    ]);
    expect(await lines(body(two))).toEqual(NDJSON);
  });

  it.each([1, 2, 3, 7, 64])(
    'gives the same lines when the body arrives in %i-byte chunks, plain and gzip',
    async (size) => {
      // Chunks this small split lines, and the multi-byte characters of line 2, at every byte.
      expect(await lines(body(...chunked(Buffer.from(TEXT), size)))).toEqual(NDJSON);
      expect(await lines(body(...chunked(gzipSync(Buffer.from(TEXT)), size)))).toEqual(NDJSON);
    },
  );

  it('joins a character whose UTF-8 bytes are split between chunks', async () => {
    const euro = Buffer.from('€', 'utf8'); // e2 82 ac
    const result = await lines(
      body(
        Buffer.from('price: '),
        euro.subarray(0, 1),
        euro.subarray(1, 2),
        Buffer.concat([euro.subarray(2), Buffer.from('5\n')]),
      ),
    );
    expect(result).toEqual(['price: €5']);
  });

  it('recognises gzip by its magic bytes only, even when they arrive in two chunks', async () => {
    const gz = gzipSync(Buffer.from('a\nb\n'));
    expect(await lines(body(gz.subarray(0, 1), gz.subarray(1)), undefined, 'no-suffix-at-all')).toEqual(['a', 'b']);
  });

  it.each([
    ['a plain body whose key ends in .gz', Buffer.from('{"log":"x"}\n'), ['{"log":"x"}']],
    ['a body starting with 1f but not 8b', Buffer.from([0x1f, 0x41, 0x42, 0x0a]), ['\u001fAB']],
    ['a one-byte body 1f', Buffer.from([0x1f]), ['\u001f']],
    ['a body starting with 8b 1f', Buffer.from([0x8b, 0x1f, 0x0a]), ['\ufffd\u001f']],
  ])('reads %s as text', async (_what, bytes, expected) => {
    expect(await lines(body(bytes))).toEqual(expected);
  });

  it.each([
    ['a lone continuation byte', Buffer.from([0x61, 0x80, 0x62, 0x0a]), ['a\ufffdb']],
    ['a truncated sequence before the newline', Buffer.from([0x61, 0xe2, 0x82, 0x0a, 0x62, 0x0a]), ['a\ufffd', 'b']],
    ['an invalid byte at the very end', Buffer.from([0x61, 0x0a, 0x62, 0xff]), ['a', 'b\ufffd']],
    ['an unfinished sequence at the very end', Buffer.from([0x61, 0x0a, 0x62, 0xf0, 0x9f]), ['a', 'b\ufffd']],
  ])('turns invalid UTF-8 into U+FFFD: %s', async (_what, bytes, expected) => {
    expect(await lines(body(bytes))).toEqual(expected);
    expect(await lines(body(gzipSync(bytes)))).toEqual(expected);
  });

  it.each([
    ['CRLF endings', 'a\r\nb\r\n', ['a', 'b']],
    ['no final newline', 'a\nb', ['a', 'b']],
    ['no final newline after CRLF lines', 'a\r\nb\r', ['a', 'b']],
    ['empty lines', '\n\na\n\n\nb\n\n', ['a', 'b']],
    ['blank CRLF lines', 'a\r\n\r\n\r\nb\r\n', ['a', 'b']],
    ['a lone CR line at the end', 'a\n\r', ['a']],
    ['a CR inside a line', 'a\rb\n', ['a\rb']],
    ['spaces kept', '  a  \n', ['  a  ']],
  ])('splits lines: %s', async (_what, text, expected) => {
    expect(await lines(body(text))).toEqual(expected);
    expect(await lines(body(gzipSync(Buffer.from(text))))).toEqual(expected);
  });

  it.each([
    ['no chunks', [] as Uint8Array[]],
    ['one empty chunk', [new Uint8Array(0)]],
    ['only newlines', [Buffer.from('\n\n\n')]],
    ['an empty gzip', [gzipSync(Buffer.alloc(0))]],
  ])('gives no lines for %s', async (_what, chunks) => {
    expect(await lines(body(...chunks))).toEqual([]);
  });

  it('keeps a long line whole across many chunks', async () => {
    const long = 'x'.repeat(200_000);
    const chunks = chunked(Buffer.from(`${long}\nshort\n`), 1000);
    expect(await lines(body(...chunks))).toEqual([long, 'short']);
  });

  describe('corrupt gzip', () => {
    const gz = gzipSync(Buffer.from(TEXT.repeat(20)));
    it.each([
      ['only the magic bytes', 2],
      ['in the header', 8],
      ['in the middle', Math.floor(gz.length / 2)],
      ['inside the trailer', gz.length - 3],
    ])('throws UnreadableObjectError naming the key when the body was stored cut %s', async (_what, length) => {
      const error = await failure(lines(body(gz.subarray(0, length))));
      expect(error).toBeInstanceOf(UnreadableObjectError);
      expect((error as UnreadableObjectError).key).toBe(KEY);
      expect((error as UnreadableObjectError).message).toContain(KEY);
      expect((error as UnreadableObjectError).code).toBe('ERR_UNREADABLE_OBJECT');
      expect((error as UnreadableObjectError).reason).toMatch(/^gzip: /);
    });

    it.each([
      ['only the magic bytes', 2],
      ['in the middle', Math.floor(gz.length / 2)],
      ['inside the trailer', gz.length - 3],
    ])(
      'throws BodyCutShortError, a broken body to read again, when fewer bytes than announced came (%s)',
      async (_what, length) => {
        const source = body(gz.subarray(0, length));
        const error = await failure(
          (async () => {
            for await (const _line of objectLines(KEY, source, undefined, 'job-1', { length: gz.length })) void _line;
          })(),
        );
        expect(error).toBeInstanceOf(BodyCutShortError);
        expect(error).not.toBeInstanceOf(UnreadableObjectError);
        expect(isBrokenBody(error)).toBe(true);
        expect(error).toMatchObject({ key: KEY, pod: 'job-1', received: length, expected: gz.length });
        expect((error as Error).message).toBe(
          `pod job-1: object ${KEY}: the body ended after ${length} of ${gz.length} bytes (cut in transit)`,
        );
      },
    );

    it('reads a whole body as usual when its announced length came', async () => {
      const whole = gzipSync(Buffer.from(TEXT));
      const out: string[] = [];
      for await (const line of objectLines(KEY, body(whole), undefined, 'job-1', { length: whole.length }))
        out.push(line);
      expect(out).toEqual(NDJSON);
    });

    it('names the pod too when the caller gives it', async () => {
      const error = await failure(
        (async () => {
          for await (const _line of objectLines(KEY, body(gz.subarray(0, 40)), undefined, 'job-1')) void _line;
        })(),
      );
      expect(error).toMatchObject({ code: 'ERR_UNREADABLE_OBJECT', key: KEY, pod: 'job-1' });
      expect((error as Error).message).toMatch(
        new RegExp(`^pod job-1: object ${KEY.replace(/\./g, '\\.')} is unreadable: gzip: `),
      );
    });

    it.each([1000, 16 * 1024, 64 * 1024, 7777])(
      'with checkFirst, gives no line of a gzip damaged in the middle, however the bytes arrive (chunks of %d)',
      async (size) => {
        const big = gzipSync(Buffer.from(TEXT.repeat(5000)));
        const damaged = Buffer.from(big);
        for (let i = Math.floor(big.length / 2); i < Math.floor(big.length / 2) + 40; i += 1) damaged[i] = 0xff;
        const out: string[] = [];
        const error = await failure(
          (async () => {
            for await (const line of objectLines(KEY, body(...chunked(damaged, size)), undefined, 'job-1', {
              checkFirst: true,
            }))
              out.push(line);
          })(),
        );
        expect(error).toBeInstanceOf(UnreadableObjectError);
        expect(out).toEqual([]);
      },
    );

    it('with checkFirst, reads a whole gzip as usual', async () => {
      const whole = gzipSync(Buffer.from(TEXT));
      const out: string[] = [];
      for await (const line of objectLines(KEY, body(...chunked(whole, 7)), undefined, 'job-1', { checkFirst: true }))
        out.push(line);
      expect(out).toEqual(NDJSON);
    });

    it('throws UnreadableObjectError for damaged compressed data', async () => {
      const damaged = Buffer.from(gz);
      for (let i = 20; i < 60; i += 1) damaged[i] = 0xff;
      expect(await failure(lines(body(damaged)))).toBeInstanceOf(UnreadableObjectError);
    });
  });

  describe('a body that fails while it is read (e.g. a dropped connection)', () => {
    async function* failing(first: Uint8Array): AsyncGenerator<Uint8Array> {
      yield first;
      throw new Error('socket hang up');
    }

    it('passes the error on for a plain body', async () => {
      const error = await failure(lines(failing(Buffer.from('a\nb'))));
      expect((error as Error).message).toBe('socket hang up');
    });

    it('passes the error on for a gzip body instead of hanging', async () => {
      const gz = gzipSync(Buffer.from(TEXT.repeat(50)));
      const error = await failure(lines(failing(gz.subarray(0, 100))));
      expect(error).not.toBeInstanceOf(UnreadableObjectError);
      expect((error as Error).message).toBe('socket hang up');
    }, 5000);
  });

  // 4 MiB of random hex: far more than the streams buffer, gzip or not.
  const big = Buffer.from(`${NDJSON[0]}\n${randomBytes(2 * 1024 * 1024).toString('hex')}\n`);
  it.each([
    ['plain', big],
    ['gzip', gzipSync(big)],
  ])('releases a %s body when the caller stops reading early', async (_what, bytes) => {
    let closed = false;
    let served = 0;
    async function* tracked(): AsyncGenerator<Uint8Array> {
      try {
        for (const chunk of chunked(bytes, 16 * 1024)) {
          served += chunk.length;
          yield chunk;
        }
      } finally {
        closed = true;
      }
    }
    for await (const line of objectLines(KEY, tracked())) {
      expect(line).toBe(NDJSON[0]);
      break;
    }
    // The gzip path closes the body through stream teardown: give it a moment.
    for (let waited = 0; !closed && waited < 2000; waited += 10)
      await new Promise((resolve) => setTimeout(resolve, 10));
    expect(closed).toBe(true);
    expect(served).toBeLessThan(bytes.length);
  });

  describe('ByteCounter', () => {
    it.each([
      ['plain', Buffer.from(TEXT)],
      ['gzip (compressed bytes, not the text)', gzipSync(Buffer.from(TEXT.repeat(30)))],
    ])('counts the bytes of a %s body as read', async (_what, bytes) => {
      const counter: ByteCounter = { bytes: 5 };
      await lines(body(...chunked(bytes, 100)), counter);
      expect(counter.bytes).toBe(5 + bytes.length);
    });
  });

  describe('lines cut from the bytes', () => {
    /** What the lines are by definition: the whole body decoded as text, then split at `\n`. */
    function reference(bytes: Uint8Array): string[] {
      return new TextDecoder('utf-8', { fatal: false })
        .decode(bytes)
        .split('\n')
        .map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line))
        .filter((line) => line.length > 0);
    }

    // Bytes that make lines, line endings, byte order marks, valid and broken UTF-8 sequences.
    const piece = fc.oneof(
      fc.constantFrom('a', '{"log":"x"}', '\n', '\r', '\r\n', 'é', '€', '🎉', '\ufeff').map((t) => Buffer.from(t)),
      fc.constantFrom([0xef], [0xef, 0xbb], [0xe2, 0x82], [0xf0, 0x9f, 0x98], [0x80], [0xbf], [0xc0, 0xaf], [0xff]),
      fc.constantFrom([0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xe0, 0x80, 0x80]),
    );
    const bodies = fc.array(piece, { maxLength: 40 }).map((parts) => Buffer.concat(parts.map((p) => Buffer.from(p))));

    it('gives what decoding the whole body and splitting the text gives, however the bytes arrive', async () => {
      await fc.assert(
        fc.asyncProperty(bodies, fc.integer({ min: 1, max: 9 }), async (bytes, size) => {
          expect(await lines(body(...chunked(bytes, size)))).toEqual(reference(bytes));
        }),
        { numRuns: 3000 },
      );
    });

    it('gives the same for a gzip body, checked first or not', async () => {
      await fc.assert(
        fc.asyncProperty(bodies, fc.boolean(), async (bytes, checkFirst) => {
          const out: string[] = [];
          for await (const line of objectLines(KEY, body(gzipSync(bytes)), undefined, 'job-1', { checkFirst }))
            out.push(line);
          expect(out).toEqual(reference(bytes));
        }),
        { numRuns: 500 },
      );
    });
  });

  describe('a gzip body checked first', () => {
    it('is read the same when it inflates to more than is inflated at once (8 MiB)', async () => {
      const line = `{"log":"${'x'.repeat(1000)}"}`;
      const text = `${line}\n`.repeat(9 * 1024);
      const gz = gzipSync(Buffer.from(text));
      let count = 0;
      for await (const got of objectLines(KEY, body(gz), undefined, 'job-1', { checkFirst: true })) {
        expect(got).toBe(line);
        count += 1;
      }
      expect(count).toBe(9 * 1024);
    });

    it('still gives no line of a damaged body larger than that', async () => {
      const big = gzipSync(Buffer.from(`{"log":"${'y'.repeat(1000)}"}\n`.repeat(9 * 1024)));
      const damaged = Buffer.from(big);
      for (let i = big.length - 200; i < big.length - 100; i += 1) damaged[i] = 0xff;
      const out: string[] = [];
      const error = await failure(
        (async () => {
          for await (const got of objectLines(KEY, body(damaged), undefined, 'job-1', { checkFirst: true }))
            out.push(got);
        })(),
      );
      expect(error).toBeInstanceOf(UnreadableObjectError);
      expect(out).toEqual([]);
    });
  });
});

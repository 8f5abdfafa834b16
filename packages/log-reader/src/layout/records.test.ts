import fc from 'fast-check';
import {
  decodeMergedLine,
  decodeRawLine,
  decodeRawLineGeneral,
  encodeMergedLine,
  LineJoiner,
  type LogRecord,
  type RawPiece,
} from './records.js';

const FALLBACK = '2026-11-25T09:59:00Z';
const K8S = '"kubernetes":{"pod_name":"job-1","namespace_name":"jobs","labels":{"app":"x"}}';

describe('decodeRawLine', () => {
  it.each([
    {
      name: 'a full stdout record',
      line: `{"time":"2026-11-25T10:00:00.123456789Z","stream":"stdout","logtag":"F","log":"hello",${K8S}}`,
      piece: { time: '2026-11-25T10:00:00.123456789Z', message: 'hello', stream: 'stdout', partial: false },
    },
    {
      name: 'duplicate time keys: the last one wins',
      line: `{"time":"2026-11-25T10:00:00.123456Z","time":"2026-11-25T10:00:00.123456789Z","stream":"stdout","logtag":"F","log":"m"}`,
      piece: { time: '2026-11-25T10:00:00.123456789Z', message: 'm', stream: 'stdout', partial: false },
    },
    {
      name: 'duplicate time keys in the other order',
      line: `{"time":"2026-11-25T10:00:00.123456789Z","log":"m","time":"2026-11-25T10:00:00.123456Z"}`,
      piece: { time: '2026-11-25T10:00:00.123456Z', message: 'm', stream: 'stdout', partial: false },
    },
    {
      name: 'a `message` key instead of `log`',
      line: `{"time":"2026-11-25T10:00:00Z","stream":"stdout","logtag":"F","message":"from message"}`,
      piece: { time: '2026-11-25T10:00:00Z', message: 'from message', stream: 'stdout', partial: false },
    },
    {
      name: 'a stderr record',
      line: `{"time":"2026-11-25T10:00:00Z","stream":"stderr","logtag":"F","log":"oops"}`,
      piece: { time: '2026-11-25T10:00:00Z', message: 'oops', stream: 'stderr', partial: false },
    },
    {
      name: 'a partial (P) piece',
      line: `{"time":"2026-11-25T10:00:00Z","stream":"stdout","logtag":"P","log":"first half "}`,
      piece: { time: '2026-11-25T10:00:00Z', message: 'first half ', stream: 'stdout', partial: true },
    },
    {
      name: 'a record without stream or logtag (stdout, full line)',
      line: `{"time":"2026-11-25T10:00:00Z","log":"plain"}`,
      piece: { time: '2026-11-25T10:00:00Z', message: 'plain', stream: 'stdout', partial: false },
    },
    {
      name: 'a time with an offset (kept verbatim)',
      line: `{"time":"2026-11-25T12:00:00.5+02:00","log":"x"}`,
      piece: { time: '2026-11-25T12:00:00.5+02:00', message: 'x', stream: 'stdout', partial: false },
    },
    {
      name: 'a docker message with its newline (kept until the line is complete)',
      line: `{"time":"2026-11-25T10:00:00Z","stream":"stdout","log":"docker line\\n"}`,
      piece: { time: '2026-11-25T10:00:00Z', message: 'docker line\n', stream: 'stdout', partial: false },
    },
    {
      name: 'an unparsed runtime line: time, stream, tag and message taken from `log`',
      line: `{"log":"2026-11-25T10:00:00.1Z stderr P hello",${K8S}}`,
      piece: { time: '2026-11-25T10:00:00.1Z', message: 'hello', stream: 'stderr', partial: true },
    },
    {
      name: 'an unparsed full runtime line keeping its message spaces',
      line: `{"log":"2026-11-25T10:00:00.123456789Z stdout F  two  spaces "}`,
      piece: { time: '2026-11-25T10:00:00.123456789Z', message: ' two  spaces ', stream: 'stdout', partial: false },
    },
    {
      name: 'an unparsed runtime line with an empty message',
      line: `{"log":"2026-11-25T10:00:00Z stdout F"}`,
      piece: { time: '2026-11-25T10:00:00Z', message: '', stream: 'stdout', partial: false },
    },
  ])('decodes $name', ({ line, piece }) => {
    expect(decodeRawLine(line, FALLBACK)).toEqual({ piece, json: true });
  });

  it.each([
    ['no time and a `log` that is not a runtime line', `{"log":"just text","stream":"stderr"}`, 'just text', 'stderr'],
    ['a time that is not a time', `{"time":"yesterday","log":"m"}`, 'm', 'stdout'],
    ['a time that is not a string', `{"time":1764064800,"log":"m"}`, 'm', 'stdout'],
    ['an invalid calendar date', `{"time":"2026-13-01T00:00:00Z","log":"m"}`, 'm', 'stdout'],
    [
      'a runtime line whose time is invalid',
      `{"log":"2026-13-01T00:00:00Z stdout F hi"}`,
      '2026-13-01T00:00:00Z stdout F hi',
      'stdout',
    ],
  ])('uses the fallback time for %s', (_what, line, message, stream) => {
    expect(decodeRawLine(line, FALLBACK)).toEqual({
      piece: { time: FALLBACK, message, stream, partial: false },
      json: true,
    });
  });

  it.each([
    ['text that is not JSON', 'panic: runtime error: index out of range'],
    ['truncated JSON', '{"time":"2026-11-25T10:00:00Z","log":"cut'],
    ['a JSON number', '42'],
    ['a JSON string', '"a string"'],
    ['a JSON array', '[{"time":"2026-11-25T10:00:00Z","log":"x"}]'],
    ['JSON null', 'null'],
  ])('keeps %s whole as a stdout message with the fallback time (json false)', (_what, line) => {
    expect(decodeRawLine(line, FALLBACK)).toEqual({
      piece: { time: FALLBACK, message: line, stream: 'stdout', partial: false },
      json: false,
    });
  });
});

describe('decodeRawLine without the kubernetes map', () => {
  // Members a raw record has, and some that make the line's end look like the map's.
  const text = fc.string({
    unit: fc.constantFrom('a', ' ', '"', '\\', '}', '{', ',', ':', 'é', '\n', ',"kubernetes":', 'kubernetes'),
    maxLength: 12,
  });
  const value: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
    any: fc.oneof(
      { maxDepth: 3 },
      text,
      fc.integer(),
      fc.constant(null),
      tie('object'),
      fc.array(tie('any'), { maxLength: 2 }),
    ),
    object: fc.dictionary(fc.constantFrom('kubernetes', 'labels', 'a'), tie('any'), { maxKeys: 3 }),
  })).any;
  const member = fc.oneof(
    fc.constantFrom('"time":"2026-11-25T10:00:00.123456789Z"', '"time":"x"', '"stream":"stderr"', '"logtag":"P"'),
    fc
      .tuple(fc.constantFrom('log', 'message', 'time', 'kubernetes', 'other'), value)
      .map(([key, v]) => `${JSON.stringify(key)}:${JSON.stringify(v)}`),
  );
  const space = fc.constantFrom('', '', ' ', '\t');
  const kubernetes = fc.oneof(
    fc.constant('{"pod_name":"job-1","labels":{"app":"x"}}'),
    value.map((v) => JSON.stringify(v)),
    text,
  );
  // `{members,"kubernetes":V}`, as Fluent Bit writes it, with spaces, nothing or anything for V.
  const shaped = fc
    .tuple(fc.array(member, { maxLength: 4 }), space, kubernetes, space, fc.constantFrom('}', '}', '} ', '}}', ''))
    .map(([members, s1, k8s, s2, end]) => `{${members.join(',')}${s1},"kubernetes":${s2}${k8s}${end}`);
  const mutated = fc
    .tuple(shaped, fc.nat(), fc.constantFrom('', '"', '}', ',', '{', '\\', ':'), fc.nat(2))
    .map(([line, at, insert, remove]) => {
      const i = at % (line.length + 1);
      return line.slice(0, i) + insert + line.slice(i + remove);
    });

  it('decodes every line as JSON.parse of the whole line does', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(shaped, mutated), { minLength: 1, maxLength: 12 }), (lines) => {
        // A sequence: a tail seen before is not parsed again.
        for (const line of lines) expect(decodeRawLine(line, FALLBACK)).toEqual(decodeRawLineGeneral(line, FALLBACK));
      }),
      { numRuns: 2000 },
    );
  });

  it.each([
    ['an empty object before the map', '{,"kubernetes":{}}'],
    ['only spaces before the map', '{ ,"kubernetes":{}}'],
    ['an invalid map', '{"log":"m","kubernetes":{"a":}}'],
    ['a map nested in another member', '{"log":"m","x":{"a":1,"kubernetes":{}}}'],
    ['a member cut before the map', '{"log":"m,"kubernetes":{}}'],
  ])('decodes %s as JSON.parse of the whole line does', (_what, line) => {
    expect(decodeRawLine(line, FALLBACK)).toEqual(decodeRawLineGeneral(line, FALLBACK));
  });
});

describe('LineJoiner', () => {
  const piece = (stream: 'stdout' | 'stderr', tag: 'P' | 'F', time: string, message: string): RawPiece => ({
    stream,
    partial: tag === 'P',
    time,
    message,
  });
  const T1 = '2026-11-25T10:00:00.000000001Z';
  const T2 = '2026-11-25T10:00:00.000000002Z';
  const T3 = '2026-11-25T10:00:00.000000003Z';

  it('passes a full line through with its own time and container id', () => {
    const joiner = new LineJoiner('0f3a');
    expect(joiner.push(piece('stdout', 'F', T1, 'whole'))).toEqual({
      time: T1,
      message: 'whole',
      stream: 'stdout',
      containerId: '0f3a',
    });
    expect(joiner.hasPending).toBe(false);
  });

  it.each([
    ['\n', 'line'],
    ['\r\n', 'line'],
    ['\n\n', 'line\n'],
  ])('drops one line ending %j of a raw line, as of a merged one', (ending, message) => {
    const joiner = new LineJoiner('0f3a');
    expect(joiner.push(piece('stdout', 'F', T1, `line${ending}`))?.message).toBe(message);
  });

  it('joins P, P, F of one stream into one line with the first piece time', () => {
    const joiner = new LineJoiner('0f3a');
    expect(joiner.push(piece('stdout', 'P', T1, 'aaa'))).toBeUndefined();
    expect(joiner.push(piece('stdout', 'P', T2, 'bbb'))).toBeUndefined();
    expect(joiner.push(piece('stdout', 'F', T3, 'ccc'))).toEqual({
      time: T1,
      message: 'aaabbbccc',
      stream: 'stdout',
      containerId: '0f3a',
    });
    expect(joiner.hasPending).toBe(false);
    expect(joiner.flush()).toEqual([]);
  });

  it('gives an interleaved stderr line first, then the stdout line it interrupted', () => {
    const joiner = new LineJoiner('0f3a');
    const out: LogRecord[] = [];
    for (const p of [
      piece('stdout', 'P', T1, 'out-1 '),
      piece('stderr', 'F', T2, 'err'),
      piece('stdout', 'F', T3, 'out-2'),
    ]) {
      const record = joiner.push(p);
      if (record) out.push(record);
    }
    expect(out).toEqual([
      { time: T2, message: 'err', stream: 'stderr', containerId: '0f3a' },
      { time: T1, message: 'out-1 out-2', stream: 'stdout', containerId: '0f3a' },
    ]);
  });

  it('does not let one stream complete the other stream line', () => {
    const joiner = new LineJoiner('0f3a');
    joiner.push(piece('stdout', 'P', T1, 'half'));
    expect(joiner.push(piece('stderr', 'F', T2, 'e'))?.message).toBe('e');
    expect(joiner.hasPending).toBe(true);
    expect(joiner.flush()).toEqual([{ time: T1, message: 'half', stream: 'stdout', containerId: '0f3a' }]);
  });

  it.each([
    ['a full line', ['line\n'], 'line'],
    ['only one of two newlines', ['line\n\n'], 'line\n'],
    ['a joined line', ['aa', 'bb\n'], 'aabb'],
    ['a newline-only message', ['\n'], ''],
    ['no newline', ['line'], 'line'],
    ['a newline inside a piece', ['a\n', 'b'], 'a\nb'],
  ])("drops the docker runtime's trailing newline: %s", (_what, parts, expected) => {
    const joiner = new LineJoiner('0f3a');
    const pieces = parts.map((text, i) => piece('stdout', i === parts.length - 1 ? 'F' : 'P', T1, text));
    const records = pieces.map((p) => joiner.push(p)).filter((r) => r !== undefined);
    expect(records.map((r) => r.message)).toEqual([expected]);
  });

  it('flushes unfinished lines as they are, in the order they started, and is empty after', () => {
    const joiner = new LineJoiner('0f3a');
    joiner.push(piece('stderr', 'P', T1, 'err-a'));
    joiner.push(piece('stdout', 'P', T2, 'out-a'));
    joiner.push(piece('stderr', 'P', T3, 'err-b\n'));
    expect(joiner.hasPending).toBe(true);
    expect(joiner.flush()).toEqual([
      { time: T1, message: 'err-aerr-b', stream: 'stderr', containerId: '0f3a' },
      { time: T2, message: 'out-a', stream: 'stdout', containerId: '0f3a' },
    ]);
    expect(joiner.hasPending).toBe(false);
    expect(joiner.flush()).toEqual([]);
  });

  it('orders flushed lines by start even when the later-started stream was used before', () => {
    const joiner = new LineJoiner('0f3a');
    joiner.push(piece('stdout', 'P', T1, 'x'));
    joiner.push(piece('stdout', 'F', T1, 'y')); // stdout line done
    joiner.push(piece('stderr', 'P', T2, 'err'));
    joiner.push(piece('stdout', 'P', T3, 'out'));
    expect(joiner.flush().map((r) => r.stream)).toEqual(['stderr', 'stdout']);
  });

  it('reports pending while any stream is inside a line', () => {
    const joiner = new LineJoiner('0f3a');
    expect(joiner.hasPending).toBe(false);
    joiner.push(piece('stdout', 'P', T1, 'a'));
    expect(joiner.hasPending).toBe(true);
    joiner.push(piece('stderr', 'P', T2, 'b'));
    joiner.push(piece('stdout', 'F', T3, 'c'));
    expect(joiner.hasPending).toBe(true);
    joiner.push(piece('stderr', 'F', T3, 'd'));
    expect(joiner.hasPending).toBe(false);
  });
});

describe('merged lines', () => {
  const TIME = '2026-11-25T10:00:00.123456789Z';

  it('encodes a stdout record as {"time","log"} with the time verbatim', () => {
    expect(encodeMergedLine({ time: TIME, message: 'hello', stream: 'stdout', containerId: '0f3a' })).toBe(
      '{"time":"2026-11-25T10:00:00.123456789Z","log":"hello"}',
    );
  });

  it('adds "stream":"stderr" only for stderr', () => {
    expect(encodeMergedLine({ time: TIME, message: 'e', stream: 'stderr', containerId: '0f3a' })).toBe(
      '{"time":"2026-11-25T10:00:00.123456789Z","log":"e","stream":"stderr"}',
    );
  });

  it.each([
    ['plain text', 'hello world'],
    ['quotes and backslashes', 'say "hi" \\ C:\\path'],
    ['newlines, CR and tabs', 'a\nb\r\nc\td'],
    ['control characters', '\u0000\u0001\u001b[31mred\u001b[0m\u007f'],
    ['unicode', 'héllo 世界 🎉 \u2028\u2029'],
    ['a lone surrogate', 'bad \ud800 half'],
    ['an empty message', ''],
    ['something that looks like JSON', '{"time":"x","log":"y"}'],
  ])('round-trips %s through one NDJSON line', (_what, message) => {
    for (const stream of ['stdout', 'stderr'] as const) {
      const record: LogRecord = { time: '2026-11-25T12:00:00.1+02:00', message, stream, containerId: '0f3a' };
      const line = encodeMergedLine(record);
      expect(line).not.toMatch(/[\n\r]/);
      expect(JSON.parse(line)).toEqual(
        stream === 'stdout' ? { time: record.time, log: message } : { time: record.time, log: message, stream },
      );
      expect(decodeMergedLine(line, '0f3a')).toEqual(record);
    }
  });

  it('decodes a merged line with the container id of its file', () => {
    expect(decodeMergedLine('{"time":"2026-11-25T10:00:00Z","log":"x"}', 'beef')).toEqual({
      time: '2026-11-25T10:00:00Z',
      message: 'x',
      stream: 'stdout',
      containerId: 'beef',
    });
  });

  it.each([
    ['a docker newline', 'text\n', 'text'],
    ['a CRLF line ending', 'text\r\n', 'text'],
    ['only one of two newlines', 'text\n\n', 'text\n'],
    ['a newline alone (an empty docker line)', '\n', ''],
    ['a CR that is not a line ending', 'progress\r', 'progress\r'],
    ['a newline inside the message', 'a\nb', 'a\nb'],
  ])('drops the line ending of a merged log as the Python service wrote it: %s', (_what, log, message) => {
    const line = JSON.stringify({ time: TIME, log, stream: 'stderr' });
    expect(decodeMergedLine(line, '0f3a')).toEqual({ time: TIME, message, stream: 'stderr', containerId: '0f3a' });
  });

  it.each([
    ['a trailing newline', 'x\n'],
    ['a trailing CRLF', 'x\r\n'],
    ['a trailing CR', 'x\r'],
    ['only newlines', '\n\n'],
  ])('round-trips a message ending in %s (a continued file must read as before)', (_what, message) => {
    const record: LogRecord = { time: TIME, message, stream: 'stdout', containerId: '0f3a' };
    expect(decodeMergedLine(encodeMergedLine(record), '0f3a')).toEqual(record);
  });

  it.each([
    ['not JSON', 'hello'],
    ['an array', '["2026-11-25T10:00:00Z","x"]'],
    ['no time', '{"log":"x"}'],
    ['a time that is not a string', '{"time":5,"log":"x"}'],
    ['null', 'null'],
  ])('does not take %s for a merged line', (_what, line) => {
    expect(decodeMergedLine(line, '0f3a')).toBeUndefined();
  });
});

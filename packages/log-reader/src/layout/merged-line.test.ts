import { decodeMergedLineFast } from './merged-line.js';
import { decodeMergedLine, encodeMergedLine, type LogRecord, type Stream } from './records.js';

const T = '2026-11-25T10:00:00.123456789Z';

describe('decodeMergedLineFast', () => {
  it.each([
    ['a stdout line as the compactor writes it', `{"time":"${T}","log":"hello"}`],
    ['a stderr line as the compactor writes it', `{"time":"${T}","log":"oops","stream":"stderr"}`],
    ['an empty log', `{"time":"${T}","log":""}`],
    ['an empty time', `{"time":"","log":"x"}`],
    ['unicode and DEL', `{"time":"${T}","log":"zweite Zeile – ü 世界 🎉 \u007f \u2028"}`],
    ['an escaped quote', `{"time":"${T}","log":"say \\"hi\\""}`],
    ['an escaped backslash at the end', `{"time":"${T}","log":"C:\\\\"}`],
    [
      'an escaped quote before what looks like the stderr suffix',
      `{"time":"${T}","log":"a\\",\\"stream\\":\\"stderr"}`,
    ],
    ['a message that ends with \\n (kept once)', `{"time":"${T}","log":"a\\n\\n"}`],
    ['a line ending (the Python service kept it)', `{"time":"${T}","log":"a\\r\\n"}`],
    ['a unicode escape', `{"time":"${T}","log":"\\u00fc\\ud83c\\udf89"}`],
    ['an explicit stdout stream', `{"time":"${T}","log":"x","stream":"stdout"}`],
    ['the stream first', `{"stream":"stderr","time":"${T}","log":"x"}`],
    ['spaces, as json.dumps writes', `{"time": "${T}", "log": "x\\n", "stream": "stderr"}`],
    ['a `message` key instead of `log`', `{"time":"${T}","message":"m"}`],
    ['both `log` and `message`', `{"time":"${T}","message":"m","log":"l"}`],
    ['a duplicate log key', `{"time":"${T}","log":"a","log":"b"}`],
    ['a duplicate time key', `{"time":"${T}","log":"a","time":"2026-11-25T10:00:01Z"}`],
    ['a number as log', `{"time":"${T}","log":42}`],
    ['a null log', `{"time":"${T}","log":null}`],
    ['an object as log', `{"time":"${T}","log":{"a":[1,2]}}`],
    ['another key', `{"time":"${T}","log":"x","kubernetes":{"pod_name":"p"}}`],
    ['a time that is not a string', `{"time":1764064800,"log":"x"}`],
    ['no time', `{"log":"x"}`],
    ['a raw tab in the log (not JSON)', `{"time":"${T}","log":"a\tb"}`],
    ['a raw CR at the end of the log (not JSON)', `{"time":"${T}","log":"a\r"}`],
    ['a raw control character in the time (not JSON)', `{"time":"2026\u0001","log":"a"}`],
    ['trailing garbage', `{"time":"${T}","log":"x"}x`],
    ['a trailing comma', `{"time":"${T}","log":"x",}`],
    ['a stream that is not stderr', `{"time":"${T}","log":"x","stream":"stderrr"}`],
    ['cut short', `{"time":"${T}","log":"x`],
    ['not JSON at all', 'not a record'],
    ['an array', `["${T}","x"]`],
  ])('decodes %s as decodeMergedLine does', (_what, line) => {
    expect(decodeMergedLineFast(line, '0f3a')).toEqual(decodeMergedLine(line, '0f3a'));
  });

  it('reads back every record the compactor encodes, as decodeMergedLine does', () => {
    const pieces = [
      '',
      'a',
      ' ',
      '"',
      '\\',
      '\n',
      '\r\n',
      '\r',
      '\t',
      '\u0000',
      '\u001f',
      '€',
      '🎉',
      '\u2028',
      '","stream":"stderr',
      '"}',
      'x'.repeat(300),
    ];
    const streams: Stream[] = ['stdout', 'stderr'];
    let n = 0;
    for (const a of pieces) {
      for (const b of pieces) {
        for (const stream of streams) {
          const record: LogRecord = { time: T, message: `${a}m${b}`, stream, containerId: '0f3a' };
          const line = encodeMergedLine(record);
          const fast = decodeMergedLineFast(line, '0f3a');
          expect(fast).toEqual(decodeMergedLine(line, '0f3a'));
          expect(fast).toEqual(record);
          n += 1;
        }
      }
    }
    expect(n).toBe(pieces.length * pieces.length * 2);
  });
});

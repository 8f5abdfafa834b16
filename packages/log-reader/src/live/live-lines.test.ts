import { liveLines, parseLiveLine, Resume, type LiveLine } from './live-lines.js';
import { parseTime } from '../layout/time.js';

const line = (time: string, message: string): LiveLine => ({ time, ns: parseTime(time), message });

async function* chunks(...parts: string[]): AsyncGenerator<Buffer> {
  for (const p of parts) yield Buffer.from(p);
}

async function all(body: AsyncIterable<Buffer>, keepUnfinished: boolean): Promise<string[]> {
  const out: string[] = [];
  for await (const batch of liveLines(body, keepUnfinished)) out.push(...batch.map((l) => `${l.time}|${l.message}`));
  return out;
}

describe('parseLiveLine', () => {
  it('splits the timestamp the API puts first from the message, keeping the message as it is', () => {
    expect(parseLiveLine('2026-11-25T10:00:00.12Z  two spaces ')).toEqual({
      time: '2026-11-25T10:00:00.12Z',
      ns: parseTime('2026-11-25T10:00:00.12Z'),
      message: ' two spaces ',
    });
    expect(parseLiveLine('2026-11-25T10:00:00Z')).toEqual({
      time: '2026-11-25T10:00:00Z',
      ns: parseTime('2026-11-25T10:00:00Z'),
      message: '',
    });
  });

  it('keeps a line without a timestamp whole, with no time', () => {
    expect(parseLiveLine('no time here')).toEqual({ time: '', ns: undefined, message: 'no time here' });
  });
});

describe('liveLines', () => {
  it('joins lines split across chunks, including a multi-byte character', () => {
    const euro = Buffer.from('€');
    async function* split(): AsyncGenerator<Buffer> {
      yield Buffer.concat([Buffer.from('2026-11-25T10:00:00Z a'), euro.subarray(0, 1)]);
      yield Buffer.concat([euro.subarray(1), Buffer.from('\n2026-11-25T10:00:01Z b\n')]);
    }
    return expect(all(split(), false)).resolves.toEqual(['2026-11-25T10:00:00Z|a€', '2026-11-25T10:00:01Z|b']);
  });

  it('returns a last line without its newline only when asked to (the container has ended)', async () => {
    expect(await all(chunks('2026-11-25T10:00:00Z a\n2026-11-25T10:00:01Z cut sh'), false)).toEqual([
      '2026-11-25T10:00:00Z|a',
    ]);
    expect(await all(chunks('2026-11-25T10:00:00Z a\n2026-11-25T10:00:01Z last'), true)).toEqual([
      '2026-11-25T10:00:00Z|a',
      '2026-11-25T10:00:01Z|last',
    ]);
  });
});

describe('Resume', () => {
  const t = (s: number, ns = 0): string => `2026-11-25T10:00:0${s}.${String(ns).padStart(9, '0')}Z`;

  it('asks for the place rounded down to the second, as the API filters', () => {
    expect(new Resume(parseTime(t(5, 999_999_999))).sinceTime()).toBe('2026-11-25T10:00:05Z');
    expect(new Resume().sinceTime()).toBeUndefined();
  });

  it('skips what a reconnected stream repeats, including lines that share the last time', () => {
    const resume = new Resume();
    resume.restart();
    for (const l of [line(t(1), 'a'), line(t(2, 5), 'b'), line(t(2, 5), 'c')]) expect(resume.admit(l)).toBe(true);
    // The stream broke after "c"; the new one starts at second 2 and repeats "b" and "c".
    expect(resume.sinceTime()).toBe('2026-11-25T10:00:02Z');
    resume.restart();
    const again = [
      line(t(2, 1), 'x-earlier'),
      line(t(2, 5), 'b'),
      line(t(2, 5), 'c'),
      line(t(2, 5), 'd'),
      line(t(3), 'e'),
    ];
    expect(again.filter((l) => resume.admit(l)).map((l) => l.message)).toEqual(['d', 'e']);
  });

  it('from a boundary: lines before it are skipped, lines at it are new, and `seen` of them are not', () => {
    const boundary = parseTime(t(4)) as bigint;
    const fresh = new Resume(boundary);
    fresh.restart();
    expect(
      [line(t(3), 'old'), line(t(4), 'at'), line(t(5), 'new')].filter((l) => fresh.admit(l)).map((l) => l.message),
    ).toEqual(['at', 'new']);
    const seen = new Resume(boundary, 1);
    seen.restart();
    expect([line(t(4), 'at-1'), line(t(4), 'at-2')].filter((l) => seen.admit(l)).map((l) => l.message)).toEqual([
      'at-2',
    ]);
  });

  it('filters only the start of a stream: once a line is new, later ones are too (clocks may step back)', () => {
    const resume = new Resume(parseTime(t(5)));
    resume.restart();
    expect([line(t(6), 'a'), line(t(4), 'stepped back')].filter((l) => resume.admit(l)).map((l) => l.message)).toEqual([
      'a',
      'stepped back',
    ]);
  });
});

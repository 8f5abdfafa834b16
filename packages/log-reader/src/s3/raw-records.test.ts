// readRawFiles over an in-memory bucket: the S3 client is a stub that serves object bodies.
import type { S3Client } from '@aws-sdk/client-s3';
import { parseRawKey } from '../layout/keys.js';
import { readRawFiles, type RawEvent } from './raw-records.js';
import type { Bucket, RawFile } from './store.js';

function bucketOf(objects: Record<string, string>): Bucket {
  const client = {
    async send(command: { input: { Key?: string } }) {
      const text = objects[command.input.Key ?? ''];
      if (text === undefined) throw Object.assign(new Error('NoSuchKey'), { name: 'NoSuchKey' });
      return {
        Body: (async function* () {
          yield Buffer.from(text, 'utf8');
        })(),
      };
    },
  };
  return { client: client as unknown as S3Client, bucket: 'test' };
}

function rawFile(id: string, file: string): RawFile {
  const parsed = parseRawKey(`kube.var.log.containers.job-1_jobs_job-1-${id}.log/${file}`);
  if (!parsed) throw new Error(`test key does not parse: ${file}`);
  return { ...parsed, size: 0, lastModified: new Date(0) };
}

const rec = (time: string, stream: string, tag: string, log: string) =>
  JSON.stringify({ time, stream, logtag: tag, log, kubernetes: { pod_name: 'job-1' } });
const ndjson = (...lines: string[]) => lines.map((l) => `${l}\n`).join('');

/**
 * The events in a compact form: `record time|stream|message@id`, `end file invalid=…`,
 * `open stream@file:line` (lines left open).
 */
async function events(store: Bucket, files: RawFile[]): Promise<string[]> {
  const out: string[] = [];
  for await (const e of readRawFiles(store, files))
    if (e.kind !== 'open-lines' || e.unfinished.length > 0) out.push(...show(e));
  return out;
}

function show(e: RawEvent): string[] {
  if (e.kind === 'records') return e.records.map((r) => `record ${r.time}|${r.stream}|${r.message}@${r.containerId}`);
  if (e.kind === 'open-lines')
    return [
      `open ${e.unfinished.map((u) => `${u.stream}@${u.key.split('/')[1]?.replace('.gz', '')}:${u.line}`).join(' ')}`,
    ];
  if (e.kind === 'unreadable') return [`unreadable ${e.file.slice}_${e.file.index}`];
  return [`end ${e.file.slice}_${e.file.index} invalid=${e.invalidLines}`];
}

describe('readRawFiles', () => {
  it('joins a line whose pieces are in two raw files, and says the first file ended inside it', async () => {
    const a = rawFile('0f3a', '202611250959_9.gz');
    const b = rawFile('0f3a', '202611250959_10.gz');
    const store = bucketOf({
      [a.key]: ndjson(
        rec('2026-11-25T09:59:58Z', 'stdout', 'F', 'one'),
        rec('2026-11-25T09:59:59Z', 'stdout', 'P', 'two-a '),
      ),
      [b.key]: ndjson(
        rec('2026-11-25T10:00:00Z', 'stdout', 'P', 'two-b '),
        rec('2026-11-25T10:00:01Z', 'stdout', 'F', 'two-c'),
      ),
    });
    expect(await events(store, [a, b])).toEqual([
      'record 2026-11-25T09:59:58Z|stdout|one@0f3a',
      'end 202611250959_9 invalid=0',
      'record 2026-11-25T09:59:59Z|stdout|two-a two-b two-c@0f3a',
      'end 202611250959_10 invalid=0',
    ]);
  });

  it('gives an unfinished last line as it is, after the last file', async () => {
    const a = rawFile('0f3a', '202611250959_1.gz');
    const store = bucketOf({ [a.key]: ndjson(rec('2026-11-25T09:59:58Z', 'stderr', 'P', 'no final newline yet')) });
    expect(await events(store, [a])).toEqual([
      'end 202611250959_1 invalid=0',
      'open stderr@202611250959_1:1',
      'record 2026-11-25T09:59:58Z|stderr|no final newline yet@0f3a',
    ]);
  });

  it("ends the previous container's unfinished line when the container restarts", async () => {
    const a = rawFile('0f3a', '202611250959_1.gz');
    const b = rawFile('beef', '202611251000_2.gz');
    const store = bucketOf({
      [a.key]: ndjson(rec('2026-11-25T09:59:58Z', 'stdout', 'P', 'killed mid-line')),
      [b.key]: ndjson(rec('2026-11-25T10:00:05Z', 'stdout', 'F', 'restarted')),
    });
    expect(await events(store, [a, b])).toEqual([
      'end 202611250959_1 invalid=0',
      'record 2026-11-25T09:59:58Z|stdout|killed mid-line@0f3a',
      'record 2026-11-25T10:00:05Z|stdout|restarted@beef',
      'end 202611251000_2 invalid=0',
    ]);
  });

  it("gives a record without a time the previous record's time string, else the file's minute", async () => {
    const a = rawFile('0f3a', '202611250959_1.gz');
    const b = rawFile('0f3a', '202611251003_2.gz');
    const store = bucketOf({
      [a.key]: ndjson(
        '{"log":"untimed first"}',
        rec('2026-11-25T12:00:00.123456789+02:00', 'stdout', 'F', 'timed'),
        '{"log":"untimed after"}',
      ),
      [b.key]: ndjson('{"log":"first of the next file"}'),
    });
    expect(await events(store, [a, b])).toEqual([
      'record 2026-11-25T09:59:00Z|stdout|untimed first@0f3a',
      'record 2026-11-25T12:00:00.123456789+02:00|stdout|timed@0f3a',
      'record 2026-11-25T12:00:00.123456789+02:00|stdout|untimed after@0f3a',
      'end 202611250959_1 invalid=0',
      'record 2026-11-25T10:03:00Z|stdout|first of the next file@0f3a',
      'end 202611251003_2 invalid=0',
    ]);
  });

  it('reads unparsed runtime lines in `log` like parsed ones, joining their P pieces', async () => {
    const a = rawFile('0f3a', '202611250959_1.gz');
    const store = bucketOf({
      [a.key]: ndjson('{"log":"2026-11-25T10:00:00.1Z stderr P hel"}', '{"log":"2026-11-25T10:00:00.2Z stderr F lo"}'),
    });
    expect(await events(store, [a])).toEqual([
      'record 2026-11-25T10:00:00.1Z|stderr|hello@0f3a',
      'end 202611250959_1 invalid=0',
    ]);
  });

  it('keeps lines that are not JSON as whole messages, counts them, and never lets them complete a partial line', async () => {
    const a = rawFile('0f3a', '202611250959_1.gz');
    const store = bucketOf({
      [a.key]: ndjson(
        rec('2026-11-25T10:00:00Z', 'stdout', 'P', 'half '),
        'garbage {',
        rec('2026-11-25T10:00:01Z', 'stdout', 'F', 'rest'),
        'more garbage',
      ),
    });
    expect(await events(store, [a])).toEqual([
      'record 2026-11-25T10:00:00Z|stdout|garbage {@0f3a',
      'record 2026-11-25T10:00:00Z|stdout|half rest@0f3a',
      'record 2026-11-25T10:00:01Z|stdout|more garbage@0f3a',
      'end 202611250959_1 invalid=2',
    ]);
  });

  it('picks up a line a commit left unfinished: only its pieces are read again, and it ends where its last piece is', async () => {
    const a = rawFile('0f3a', '202611250959_9.gz');
    const b = rawFile('0f3a', '202611250959_10.gz');
    const c = rawFile('0f3a', '202611251000_11.gz');
    const store = bucketOf({
      [a.key]: ndjson(
        rec('2026-11-25T09:59:57Z', 'stderr', 'F', 'merged before'),
        rec('2026-11-25T09:59:58Z', 'stdout', 'F', 'merged'),
        rec('2026-11-25T09:59:59Z', 'stderr', 'P', 'bar-a '),
      ),
      [b.key]: ndjson(
        rec('2026-11-25T10:00:00Z', 'stdout', 'F', 'merged too'),
        rec('2026-11-25T10:00:01Z', 'stderr', 'P', 'bar-b '),
      ),
      [c.key]: ndjson(
        rec('2026-11-25T10:00:02Z', 'stdout', 'F', 'new'),
        rec('2026-11-25T10:00:03Z', 'stderr', 'F', 'bar-c'),
      ),
    });
    const out: string[] = [];
    const unfinished = {
      lines: [
        {
          stream: 'stderr' as const,
          key: a.key,
          line: 3,
          files: [
            { key: a.key, line: 3 },
            { key: b.key, line: 2 },
          ],
        },
      ],
      files: [a, b],
    };
    for await (const e of readRawFiles(store, [c], { unfinished })) out.push(...show(e));
    expect(out).toEqual([
      'record 2026-11-25T10:00:02Z|stdout|new@0f3a',
      'record 2026-11-25T09:59:59Z|stderr|bar-a bar-b bar-c@0f3a',
      'end 202611251000_11 invalid=0',
      'open ',
    ]);
  });

  it('reads a late file in raw order with the pieces of the lines left open: before them, among them', async () => {
    const a = rawFile('0f3a', '202611250959_5.gz');
    const late = rawFile('0f3a', '202611250959_6.gz');
    const b = rawFile('0f3a', '202611250959_7.gz');
    const c = rawFile('0f3a', '202611250959_8.gz');
    const store = bucketOf({
      // Merged: stdout opened a line in _5, stderr in _7.
      [a.key]: ndjson(
        rec('2026-11-25T09:59:50Z', 'stdout', 'F', 'merged'),
        rec('2026-11-25T09:59:51Z', 'stdout', 'P', 'out-a '),
      ),
      [b.key]: ndjson(
        rec('2026-11-25T09:59:57Z', 'stdout', 'P', 'out-b '),
        rec('2026-11-25T09:59:58Z', 'stderr', 'P', 'err-a '),
      ),
      // Late, keyed between: its stdout piece belongs to the stdout line, its stderr line comes before the stderr one.
      [late.key]: ndjson(
        rec('2026-11-25T09:59:54Z', 'stdout', 'P', 'out-late '),
        rec('2026-11-25T09:59:55Z', 'stderr', 'F', 'late-err'),
      ),
      [c.key]: ndjson(
        rec('2026-11-25T10:00:00Z', 'stderr', 'F', 'err-b'),
        rec('2026-11-25T10:00:01Z', 'stdout', 'F', 'out-c'),
      ),
    });
    const unfinished = {
      lines: [
        {
          stream: 'stdout' as const,
          key: a.key,
          line: 2,
          files: [
            { key: a.key, line: 2 },
            { key: b.key, line: 1 },
          ],
        },
        { stream: 'stderr' as const, key: b.key, line: 2, files: [{ key: b.key, line: 2 }] },
      ],
      files: [a, b],
    };
    const out: string[] = [];
    for await (const e of readRawFiles(store, [late, c], { unfinished })) out.push(...show(e));
    expect(out).toEqual([
      'record 2026-11-25T09:59:55Z|stderr|late-err@0f3a',
      'end 202611250959_6 invalid=0',
      'record 2026-11-25T09:59:58Z|stderr|err-a err-b@0f3a',
      'record 2026-11-25T09:59:51Z|stdout|out-a out-late out-b out-c@0f3a',
      'end 202611250959_8 invalid=0',
      'open ',
    ]);
  });

  it('says where each line still open after the last file started, and which files hold its pieces', async () => {
    const a = rawFile('0f3a', '202611250959_9.gz');
    const b = rawFile('0f3a', '202611250959_10.gz');
    const store = bucketOf({
      [a.key]: ndjson(
        rec('2026-11-25T09:59:58Z', 'stdout', 'F', 'one'),
        rec('2026-11-25T09:59:59Z', 'stderr', 'P', 'err-a '),
      ),
      [b.key]: ndjson(
        rec('2026-11-25T10:00:00Z', 'stdout', 'P', 'out-a '),
        rec('2026-11-25T10:00:01Z', 'stderr', 'P', 'err-b '),
      ),
    });
    let open: unknown;
    for await (const e of readRawFiles(store, [a, b])) if (e.kind === 'open-lines') open = e.unfinished;
    expect(open).toEqual([
      {
        stream: 'stderr',
        key: a.key,
        line: 2,
        files: [
          { key: a.key, line: 2 },
          { key: b.key, line: 2 },
        ],
      },
      { stream: 'stdout', key: b.key, line: 1, files: [{ key: b.key, line: 1 }] },
    ]);
  });
});

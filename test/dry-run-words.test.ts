// A dry run says what it would do, in its JSON too: the summary line and the log lines name
// what a real pass would delete, write and merge (`objectsToDelete`, `would clean pod`), and a
// real pass keeps its names (`objectsDeleted`, `pod cleaned`) for the metrics and their readers.
import { COMPACTOR_BIN, jsonLines, runCli, s3Env } from './support/cli.js';
import { messages, newWorld } from './support/world.js';

const T0 = new Date('2026-11-25T10:00:00Z');
/** Every pass merges and deletes what is due at once: what a dry run would do shows without moving a clock. */
const NOW = ['--compact-interval', '0', '--cleanup-interval', '0'];

describe('compactor run --dry-run', () => {
  it('says in its summary and its log lines what it would merge and delete; the real pass then does it', async () => {
    const w = await newWorld('dry-words');
    await w.container('job-1', '0f3a').upload(messages('a', 2, T0));
    await w.container('job-2', '0f3b').upload(messages('b', 2, T0));
    // job-1 merged: its raw file is due for deletion. job-2 not merged yet.
    expect(
      (await runCli(COMPACTOR_BIN, ['run', '--bucket', w.bucket, '--pod', 'job-1', ...NOW], s3Env())).exitCode,
    ).toBe(0);
    const before = await w.listing();

    const dry = await runCli(COMPACTOR_BIN, ['run', '--bucket', w.bucket, '--dry-run', ...NOW], s3Env());

    expect(dry.exitCode).toBe(0);
    const summary = JSON.parse(dry.stdout.trimEnd().split('\n').at(-1)!) as Record<string, unknown>;
    expect(summary).toMatchObject({
      dryRun: true,
      pods: { wouldMerge: 1, wouldClean: 1, failed: 0 },
      rawFilesRead: 1,
      rawFilesToMerge: 1,
      mergedFilesToWrite: 1,
      objectsToDelete: 1,
    });
    for (const done of ['objectsDeleted', 'rawFilesMerged', 'mergedFilesWritten', 'bytesWritten'])
      expect(summary).not.toHaveProperty(done);
    expect(summary['pods']).not.toHaveProperty('merged');
    const logs = jsonLines(dry.stderr);
    const messagesOf = logs.map((l) => l['message']);
    expect(messagesOf).toEqual(expect.arrayContaining(['would merge pod', 'would clean pod']));
    expect(messagesOf).not.toEqual(expect.arrayContaining([expect.stringMatching(/^pod (merged|cleaned)$/)]));
    expect(logs.find((l) => l['message'] === 'would clean pod')).toMatchObject({
      pod: 'job-1',
      status: 'wouldClean',
      rawToDelete: 1,
    });
    expect(logs.find((l) => l['message'] === 'pass finished')).toMatchObject({ objectsToDelete: 1 });
    expect(await w.listing()).toEqual(before);

    const real = await runCli(COMPACTOR_BIN, ['run', '--bucket', w.bucket, ...NOW], s3Env());

    expect(real.exitCode).toBe(0);
    expect(jsonLines(real.stdout)[0]).toMatchObject({
      dryRun: false,
      pods: { merged: 1, cleaned: 1 },
      rawFilesMerged: 1,
      mergedFilesWritten: 1,
      objectsDeleted: 1,
    });
    expect(jsonLines(real.stderr).map((l) => l['message'])).toEqual(
      expect.arrayContaining(['pod merged', 'pod cleaned']),
    );
  });
});

// `--shard I/N` (an Indexed Job's completions): shards split the pods between them, both
// phases, and N compactors running at once merge every pod exactly once.
import { shardOf } from 'compactor';
import { COMPACTOR_BIN, runCli, s3Env } from './support/cli.js';
import { HOUR, MINUTE, messages, newWorld, type World } from './support/world.js';

const T0 = new Date('2026-11-25T10:00:00Z');
const PODS = Array.from({ length: 12 }, (_, i) => `job-${i}`);

async function seed(w: World): Promise<Map<string, string>> {
  w.advance(-HOUR); // uploads look an hour old to the pass: nothing is quiet or recent
  const logs = new Map<string, string>();
  for (const pod of PODS) {
    const fb = w.container(pod, `0f3a${PODS.indexOf(pod).toString(16)}`);
    await fb.upload(messages(`${pod}-a`, 3, T0));
    await fb.upload(messages(`${pod}-b`, 2, new Date(T0.getTime() + MINUTE)));
    logs.set(pod, await w.read(pod, { timestamps: true }));
  }
  w.advance(HOUR);
  return logs;
}

describe('--shard', () => {
  it('lets N compactors run at once and merges every pod exactly once, in the shard its name hashes to', async () => {
    const w = await newWorld('shard-all');
    const logs = await seed(w);
    const count = 3;

    const results = await Promise.all(Array.from({ length: count }, (_, index) => w.pass({ shard: { index, count } })));

    const mergedBy = new Map<string, number[]>();
    results.forEach((result, index) => {
      expect(result.summary.pods.failed).toBe(0);
      for (const r of result.reports.filter((report) => report.status === 'merged'))
        mergedBy.set(r.pod, [...(mergedBy.get(r.pod) ?? []), index]);
    });
    expect([...mergedBy.keys()].sort()).toEqual([...PODS].sort());
    for (const pod of PODS) {
      expect(mergedBy.get(pod)).toEqual([shardOf(pod, count)]);
      expect((await w.metadata(pod)).logFiles.map((f) => f.recordsCount)).toEqual([5]);
      expect(await w.read(pod, { timestamps: true })).toBe(logs.get(pod));
    }
  });

  it("keeps out of the other shards' pods in the clean phase too", async () => {
    const w = await newWorld('shard-clean');
    await seed(w);
    await w.pass();
    const rawBefore = await w.keys('kube.');
    w.advance(HOUR); // past the cleanup interval: every merged raw file is due

    const { reports } = await w.pass({ shard: { index: 0, count: 2 } });

    const mine = PODS.filter((pod) => shardOf(pod, 2) === 0);
    expect(mine.length).toBeGreaterThan(0);
    expect(mine.length).toBeLessThan(PODS.length);
    expect(reports.map((r) => r.pod).sort()).toEqual([...mine].sort());
    const rawAfter = await w.keys('kube.');
    const podOf = (key: string): string => /containers\.([^_]+)_/.exec(key)![1]!;
    expect(rawAfter).toEqual(rawBefore.filter((key) => !mine.includes(podOf(key))));
  });

  it('takes the shard from COMPACTOR_SHARD, and refuses an index outside the count with exit 2', async () => {
    const w = await newWorld('shard-cli');
    await seed(w);

    const ok = await runCli(COMPACTOR_BIN, ['run', '--bucket', w.bucket], { ...s3Env(), COMPACTOR_SHARD: '1/2' });
    expect(ok.stderr).not.toMatch(/error/i);
    expect(ok.exitCode).toBe(0);
    const merged = PODS.filter((pod) => shardOf(pod, 2) === 1);
    expect(JSON.parse(ok.stdout.trim().split('\n').pop()!).pods.merged).toBe(merged.length);
    for (const pod of merged) expect((await w.metadata(pod)).logFiles).toHaveLength(1);

    const bad = await runCli(COMPACTOR_BIN, ['run', '--bucket', w.bucket, '--shard', '2/2'], s3Env());
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr.trim()).toBe('compactor: --shard: shard index 2 is out of range for 2 shard(s): expected 0 to 1');
  });
});

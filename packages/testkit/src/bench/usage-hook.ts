/**
 * Loaded with `node --import` before a CLI the bench runs: as the process exits, writes its
 * CPU time and peak RSS to `$BENCH_USAGE_FILE` (the parent cannot read a child's rusage).
 */
import { writeFileSync } from 'node:fs';

const file = process.env['BENCH_USAGE_FILE'];
if (file) {
  process.on('exit', () => {
    const usage = process.resourceUsage();
    // maxRSS is in kilobytes; CPU times in microseconds.
    writeFileSync(
      file,
      JSON.stringify({ cpuMs: (usage.userCPUTime + usage.systemCPUTime) / 1000, maxRssBytes: usage.maxRSS * 1024 }),
    );
  });
}

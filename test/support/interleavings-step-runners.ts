// How a run of the interleavings properties carries out its steps (one function per step
// kind, a dispatcher), and the final passes and checks that end every run.
import { formatSlice, leaseKey, metadataKey } from '@platform/log-reader/layout';
import type { PassSummary } from 'compactor';
import { crashingAt, pausingAt, stallingAt, takingTurns } from './hooks.js';
import { uploadingAt } from './interleavings-clients.js';
import { short, show } from './interleavings-model.js';
import { outcome, showJumps, showShape, type Totals } from './interleavings-report.js';
import { Run } from './interleavings-run.js';
import {
  CLEANUP_INTERVAL,
  LEASE_DURATION,
  PODS,
  RETENTION,
  type PassShape,
  type Step,
  type UploadStep,
} from './interleavings-steps.js';
import { testS3Client } from './s3.js';
import { HOUR, MINUTE } from './world.js';

const MAX_SLOW_READS = 3;
/** Also upload inside the window the known race (interleavings.test.ts, at the end) shows. */
const KNOWN_RACES = process.env['INTERLEAVINGS_KNOWN_RACES'] !== undefined;

type StepOf<K extends Step['kind']> = Extract<Step, { kind: K }>;

/** Runs `steps` in a fresh world, checking the log after each, then the final passes. */
export async function runSteps(run: number, steps: readonly Step[], totals: Totals): Promise<void> {
  const r = await Run.start(run, totals);
  try {
    for (const step of steps) {
      totals.steps += 1;
      await runStep(r, step);
    }
    await finish(r, run);
  } finally {
    await r.close();
  }
}

function runStep(r: Run, step: Step): Promise<void> {
  switch (step.kind) {
    case 'upload':
      return step.duringPass > 0 ? uploadDuringPass(r, step) : r.upload(step, '');
    case 'pass':
      return pass(r, step);
    case 'crashed-pass':
      return crashedPass(r, step);
    case 'stalled-pass':
      return stalledPass(r, step);
    case 'two-passes':
      return twoPasses(r, step);
    case 'advance':
      r.w.advance(step.ms);
      r.trace.push(`advance ${step.ms / MINUTE} min`);
      return Promise.resolve();
    case 'read':
      r.trace.push(`read ${PODS[step.pod]}`);
      return r.readNow(r.models[step.pod]!, 'a read');
    case 'start-slow-read':
      return startSlowRead(r, step);
    case 'pull':
      return pull(r, step);
    case 'expire':
      return expire(r, step);
  }
}

/** A pass's outcome in the trace; a pass that failed fails the run; then the checks after a pass. */
async function passEnded(r: Run, summary: PassSummary): Promise<void> {
  r.trace.push(`pass: ${outcome(summary)}, expiring ${summary.pods.expiring}, expired ${summary.pods.expired}`);
  if (summary.failures.length > 0) r.fail(`a pass failed: ${JSON.stringify(summary.failures)}`);
  await r.observePasses();
}

async function uploadDuringPass(r: Run, step: StepOf<'upload'>): Promise<void> {
  // Inside a pass, on time: a late file the pass did not list would not be the
  // first of the raw files not merged yet, which observe() checks of a commit. A
  // read right after it, before the pass commits. Not while the pod is between its
  // last listing and its commit (the window of the known race at the end): so only
  // at one of the pod's own requests (the other pod's run alongside, and may come
  // while this one is in its window), and not at its lease confirmation or commit.
  let done = false;
  const pod = r.models[step.pod]!.pod;
  const window = (command: string, key: string): boolean =>
    !KNOWN_RACES &&
    (!key.includes(pod) || (command === 'PutObjectCommand' && (key === metadataKey(pod) || key === leaseKey(pod))));
  const client = uploadingAt(
    step.duringPass,
    window,
    (request) =>
      r.inHook(async () => {
        done = true;
        r.totals.uploadsInsidePasses += 1;
        await r.observePasses();
        await r.upload({ ...step, late: false }, ` inside a pass, before its request ${request}`);
        await r.readNow(r.models[step.pod]!, 'a read inside a pass');
      }),
    r.watchPass(testS3Client()),
  );
  const { summary } = await r.w.passWith(client, r.intervals());
  client.destroy();
  r.rethrowHookFailure();
  await passEnded(r, summary);
  if (!done) await r.upload({ ...step, late: false }, ' after a pass');
}

async function pass(r: Run, step: StepOf<'pass'>): Promise<void> {
  const { w, totals } = r;
  totals.passes += 1;
  w.advance(step.advance);
  const jumps = step.jumps ?? [];
  const before = w.now().getTime();
  let summary: PassSummary;
  if (jumps.length === 0) {
    summary = (await w.pass({ ...r.intervals(), maxFileSize: step.maxFileSize })).summary;
  } else {
    const client = r.passClient(jumps);
    summary = (await w.passWith(client, { ...r.intervals(), maxFileSize: step.maxFileSize })).summary;
    client.destroy();
  }
  const took = w.now().getTime() - before;
  if (took >= 30_000) totals.longPasses += 1;
  r.trace.push(
    `${step.advance > 0 ? `advance ${step.advance / MINUTE} min, ` : ''}pass (max file ${step.maxFileSize}` +
      `${jumps.length > 0 ? `, slow requests ${showJumps(jumps)}: took ${took / 1000} s` : ''}): ${outcome(summary)}`,
  );
  if (summary.failures.length > 0) r.fail(`a pass failed: ${JSON.stringify(summary.failures)}`);
  await r.observePasses();
}

async function crashedPass(r: Run, step: StepOf<'crashed-pass'>): Promise<void> {
  r.totals.crashedPasses += 1;
  const client = crashingAt(step.atRequest, r.watchPass(testS3Client()));
  const result = await r.w.passWith(client, r.intervals()).then(
    () => 'ran to the end',
    (error: unknown) => String(error),
  );
  client.destroy();
  r.trace.push(`pass dying at request ${step.atRequest}: ${result}`);
  await r.observePasses();
}

/** What happened while pass A of a stalled-pass step stalled. */
interface Stall {
  bStart?: Date;
  stalledAt: string;
  uploadsAfter: readonly UploadStep[];
  bSummary?: PassSummary;
}

/** While pass A stalls: the clock moves, uploads (unless in A's window), a read, and pass B. */
async function whileAStalls(r: Run, step: StepOf<'stalled-pass'>, stall: Stall, request: string): Promise<void> {
  stall.stalledAt = request;
  await r.observePasses();
  r.w.advance(step.stallMs);
  const inWindow = !KNOWN_RACES && step.stallMs <= step.first.leaseMs;
  stall.uploadsAfter = inWindow ? step.uploads : [];
  if (!inWindow) for (const u of step.uploads) await r.upload(u, ' while pass A stalls');
  if (step.readDuring) await r.readNow(r.models[0]!, 'a read while pass A stalls');
  stall.bStart = r.w.now();
  const client = r.passClient(step.second.jumps);
  const bSummary = (await r.w.passWith(client, r.passConfig(step.second))).summary;
  stall.bSummary = bSummary;
  client.destroy();
  r.trace.push(
    `  while pass A stalls: ${step.stallMs / 1000} s later, pass B (${showShape(step.second)}): ${outcome(bSummary)}`,
  );
  if (bSummary.failures.length > 0) r.fail(`pass B failed: ${JSON.stringify(bSummary.failures)}`);
  await r.observePasses();
  if (step.bCleans) await bCleans(r);
}

/** Merged files pass A left that no commit lists, of pods out of the queue: the final passes must still find them. */
async function countOrphans(r: Run): Promise<void> {
  const queued = new Set(await r.w.keys('cleanup/'));
  for (const pod of PODS) {
    if (queued.has(`cleanup/${pod}`)) continue;
    const listed = new Set((await r.w.metadata(pod)).logFiles.map((f) => f.key));
    const orphans = (await r.w.keys(`data/${pod}/`)).filter((key) => !listed.has(key));
    if (orphans.length === 0) continue;
    r.totals.orphansAfterCleaning += 1;
    r.trace.push(`  pass A left ${orphans.map(short).join(', ')} under data/, ${pod} out of the queue`);
  }
}

/** B's compactor passes again past the cleanup interval: the pods it cleans leave the queue while A stalls. */
async function bCleans(r: Run): Promise<void> {
  r.w.advance(CLEANUP_INTERVAL + MINUTE);
  const client = r.passClient([]);
  const { summary } = await r.w.passWith(
    client,
    r.passConfig({ maxFileSize: 10 * 1024 * 1024, leaseMs: LEASE_DURATION, jumps: [] }),
  );
  client.destroy();
  r.trace.push(`  while pass A stalls: pass B again, past the cleanup interval: ${outcome(summary)}`);
  if (summary.failures.length > 0) r.fail(`pass B (cleaning) failed: ${JSON.stringify(summary.failures)}`);
  await r.observePasses();
}

async function stalledPass(r: Run, step: StepOf<'stalled-pass'>): Promise<void> {
  // Pass A stalls before a request; B runs meanwhile. Not right before a commit: a
  // process paused between reading the clock for a commit and writing it would write
  // a commit time older than the commit, which no compactor can prevent. Uploads
  // during the stall wait for A's end unless the stall outlasts A's lease: A may
  // then be between a pod's last listing and its commit (the window of the known
  // race at the end), but B takes every pod with raw files over, so A commits none.
  const { totals } = r;
  totals.stalledPasses += 1;
  const aStart = r.w.now();
  const stall: Stall = { stalledAt: '', uploadsAfter: [] };
  const isCommit = (command: string, key: string): boolean =>
    command === 'PutObjectCommand' && key.startsWith('metadata/');
  const during = (request: string): Promise<void> => r.inHook(() => whileAStalls(r, step, stall, request));
  // When B cleans while A stalls, A stalls right before it writes a merged file: it lands after B's cleaning.
  const notDataWrite = (command: string, key: string): boolean =>
    !key.startsWith('data/') || command === 'GetObjectCommand';
  const skip = step.bCleans ? notDataWrite : isCommit;
  const client = stallingAt(step.atRequest, during, { skip, client: r.passClient(step.first.jumps) });
  const a = await r.w.passWith(client, r.passConfig(step.first)).then(
    ({ summary }) => summary,
    (error: unknown) => String(error),
  );
  client.destroy();
  r.rethrowHookFailure();
  const { bSummary, bStart } = stall;
  const took =
    bSummary === undefined
      ? 'did not stall (fewer requests)'
      : `stalled before its request ${step.atRequest} (${stall.stalledAt})`;
  r.trace.push(`pass A (${showShape(step.first)}) ${took}: ${typeof a === 'string' ? a : outcome(a)}`);
  if (typeof a !== 'string') totals.failuresAllowed += a.failures.length;
  if (
    bSummary !== undefined &&
    bSummary.pods.merged + bSummary.pods.cleaned > 0 &&
    typeof a !== 'string' &&
    (a.pods.busy > 0 || a.failures.length > 0)
  ) {
    totals.takeovers += 1;
    if (bStart !== undefined && formatSlice(bStart) === formatSlice(aStart)) totals.takeoversInTheSameMinute += 1;
  }
  await r.observePasses();
  if (step.bCleans) await countOrphans(r);
  for (const model of r.models) await r.readNow(model, 'a read after a stalled pass');
  for (const u of stall.uploadsAfter) await r.upload(u, ' after pass A');
  for (const u of bSummary === undefined ? step.uploads : []) await r.upload(u, ' after pass A');
}

async function twoPasses(r: Run, step: StepOf<'two-passes'>): Promise<void> {
  r.totals.overlappingPasses += 1;
  const turns = takingTurns(step.turns, [r.passClient(step.first.jumps), r.passClient(step.second.jumps)]);
  const run = (i: 0 | 1, shape: PassShape): Promise<PassSummary | string> =>
    r.w
      .passWith(turns.clients[i], r.passConfig(shape))
      .then(
        ({ summary }) => summary,
        (error: unknown) => String(error),
      )
      .finally(() => turns.finished(i));
  const [a, b] = await Promise.all([run(0, step.first), run(1, step.second)]);
  for (const c of turns.clients) c.destroy();
  for (const [name, result, shape] of [
    ['A', a, step.first],
    ['B', b, step.second],
  ] as const) {
    r.trace.push(
      `${name === 'A' ? `two passes in the same minute, taking turns ${step.turns.join(', ')}: ` : '  '}pass ${name} (${showShape(shape)}): ${typeof result === 'string' ? result : outcome(result)}`,
    );
    if (typeof result !== 'string') r.totals.failuresAllowed += result.failures.length;
  }
  await r.observePasses();
  for (const model of r.models) await r.readNow(model, 'a read after two passes');
}

async function startSlowRead(r: Run, step: StepOf<'start-slow-read'>): Promise<void> {
  if (r.slow.filter((s) => !s.done).length >= MAX_SLOW_READS) return;
  r.totals.slowReads += 1;
  const model = r.models[step.pod]!;
  const start = async (where: string): Promise<void> => {
    const read = r.openSlowRead(model, step.readAhead);
    const merged = step.pastMerged ? model.mergedRecords() : 0;
    await r.pull(read, merged + step.pull);
    r.trace.push(
      `slow read #${read.id} of ${read.pod} (read-ahead ${step.readAhead}) starts${where}: ${show(read.got)}`,
    );
  };
  if (step.duringPass === 0) {
    await start('');
    return;
  }
  // Inside a pass.
  let started = false;
  const client = pausingAt(
    step.duringPass,
    () =>
      r.inHook(async () => {
        started = true;
        r.totals.readsStartedInsidePasses += 1;
        await r.observePasses();
        await start(` inside a pass, before its request ${step.duringPass}`);
      }),
    r.watchPass(testS3Client()),
  );
  const { summary } = await r.w.passWith(client, r.intervals());
  client.destroy();
  r.rethrowHookFailure();
  await passEnded(r, summary);
  if (!started) await start(' after a pass');
}

async function pull(r: Run, step: StepOf<'pull'>): Promise<void> {
  const open = r.slow.filter((s) => !s.done);
  const read = open[step.reader % Math.max(open.length, 1)];
  if (read === undefined) return;
  const before = read.got.length;
  const plans = read.watch.plans;
  await r.pull(read, step.pull, step.passAfter, step.untilNextFile ?? false);
  const replanned = read.watch.plans > plans ? ` (re-planned: plan ${read.watch.plans})` : '';
  r.trace.push(
    `slow read #${read.id}${step.untilNextFile ? ', on to its next object' : ''}: ${show(read.got.slice(before))}${replanned}${read.done ? ' (end)' : ''}`,
  );
}

/**
 * Retention (the `expire` step): the clock moves past the retention and a pass marks the logs
 * with nothing newer; reads of them fail. Maybe a raw file of job-a then (the next pass
 * merges it: the mark goes, and it is not lost); with `deleteAfter`, a pass past the cleanup
 * interval deletes the logs still marked. Every later pass of the run has the retention too.
 */
async function expire(r: Run, step: StepOf<'expire'>): Promise<void> {
  r.totals.expireSteps += 1;
  r.retention = true;
  const job = (duringPass: number): UploadStep => ({
    kind: 'upload',
    pod: 0,
    pieces: ['out'],
    late: false,
    gzip: false,
    doubleUnderscore: false,
    sameMinute: false,
    restart: false,
    duringPass,
  });
  const run = async (advance: number, what: string, last: boolean): Promise<void> => {
    r.w.advance(advance);
    r.totals.passes += 1;
    r.trace.push(`advance ${advance / MINUTE} min, ${what}:`);
    if (last && step.uploadInside > 0) await uploadDuringPass(r, job(step.uploadInside));
    else await passEnded(r, (await r.w.pass(r.intervals())).summary);
    for (const model of r.models) await r.readNow(model, `a read after the ${what}`);
  };
  await run(RETENTION + MINUTE, 'pass past the retention', !step.deleteAfter);
  if (step.uploadBetween) await r.upload(job(0), ' after the mark');
  if (step.deleteAfter) await run(CLEANUP_INTERVAL + MINUTE, 'pass past the cleanup interval', true);
}

/**
 * Passes until everything is merged and due (past leases, unfinished lines and the
 * cleanup interval), under the slow reads still open: they then end, and meet deleted
 * objects on the way when they had not opened them yet. The same log, and nothing left
 * in the bucket but what the metadata lists.
 */
async function finish(r: Run, run: number): Promise<void> {
  const { w, models } = r;
  for (const model of models) await r.readNow(model, 'the read after the steps');
  // Two passes; with retention, more while a log is marked expired (deleted a cleanup interval later).
  for (let i = 0; i < 2 || (i < 4 && models.some((m) => m.markedAt !== undefined)); i++) {
    w.advance(HOUR);
    const { summary } = await w.pass(r.intervals());
    r.trace.push(
      `final pass ${i + 1}: merged ${summary.pods.merged}, cleaned ${summary.pods.cleaned}, expiring ${summary.pods.expiring}, expired ${summary.pods.expired}, deleted ${summary.objectsDeleted}`,
    );
    if (summary.failures.length > 0) r.fail(`a final pass failed: ${JSON.stringify(summary.failures)}`);
    await r.observePasses();
  }
  for (const s of r.slow.filter((s) => !s.done)) {
    while (!s.done) await r.pull(s, 10);
  }
  for (const model of models) await r.readNow(model, 'the read after the final passes');
  if (process.env['INTERLEAVINGS_DEBUG']) process.stderr.write(`run ${run}\n    ${r.trace.join('\n    ')}\n`);
  const left = await w.keys('kube.');
  if (left.length > 0) r.fail(`raw files left after the final passes: ${left.map(short).join(', ')}`);
  if ((await w.keys('cleanup/')).length > 0)
    r.fail(`cleanup queue not empty after the final passes: ${(await w.keys('cleanup/')).join(', ')}`);
  const listed = (await Promise.all(models.map(async (m) => (await w.metadata(m.pod)).logFiles.map((f) => f.key))))
    .flat()
    .sort();
  const data = (await w.keys('data/')).sort();
  if (data.join('\n') !== listed.join('\n'))
    r.fail(`data/ holds [${data.join(', ')}], the metadata lists [${listed.join(', ')}]`);
}

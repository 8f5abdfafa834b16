// The look before the lease: what the clean phase decides from what waits for deletion.
import { EMPTY_METADATA, toEpochNs, type PodMetadata } from '@platform/log-reader/layout';
import { cleanLook, waitingOf, type Waiting } from './triage.js';

const RAW = (n: number): string => `kube.var.log.containers.job-1_jobs_job-1-0f3a.log/202611251000_${n}.gz`;
const MINUTE = 60_000;
const clock = (iso: string) => (): Date => new Date(iso);

describe('waitingOf', () => {
  const meta: PodMetadata = {
    ...EMPTY_METADATA,
    mergedRawFiles: [
      { key: RAW(1), since: '2026-11-25T10:20:00Z' },
      { key: RAW(2), since: '2026-11-25T10:10:00Z' },
    ],
    retiredFiles: [{ key: 'data/job-1/0f3a/202611250900_1.gz', since: '2026-11-25T10:30:00Z' }],
  };

  it('counts every object the metadata names as waiting and is due when the first of them is', () => {
    const waiting = waitingOf(meta, 30 * MINUTE);
    expect(waiting).toEqual({ objects: 3, nextDueAt: toEpochNs(new Date('2026-11-25T10:40:00Z')), exact: true });
  });

  it('gives no due time for raw files that hold pieces of an unfinished line', () => {
    const open: PodMetadata = {
      ...EMPTY_METADATA,
      mergedRawFiles: [{ key: RAW(1), since: '2026-11-25T10:20:00Z' }],
      unfinishedLines: [{ stream: 'stdout', key: RAW(1), line: 3, files: [{ key: RAW(1), line: 3 }] }],
    };
    expect(waitingOf(open, 30 * MINUTE)).toEqual({ objects: 1, nextDueAt: undefined, exact: true });
  });

  it('is not exact for a Python service document: which raw files it merged takes a listing', () => {
    const python = { ...EMPTY_METADATA, lastMergedKey: RAW(4) };
    expect(waitingOf(python, 30 * MINUTE)).toMatchObject({ objects: 0, exact: false });
  });
});

describe('cleanLook', () => {
  const dueAt = toEpochNs(new Date('2026-11-25T10:40:00Z'));
  const waiting = (fields: Partial<Waiting>): Waiting => ({ objects: 2, nextDueAt: dueAt, exact: true, ...fields });

  it('leaves a pod alone, without a lease, while nothing it waits for is due', () => {
    const look = cleanLook(waiting({}), clock('2026-11-25T10:39:59Z'));
    expect(look).toEqual({ work: false, reason: '2 object(s) not due yet' });
  });

  it('works on the pod once the first object is due', () => {
    expect(cleanLook(waiting({}), clock('2026-11-25T10:40:00Z'))).toEqual({ work: true });
  });

  it.each([
    ['nothing waits (the pod may leave the queue)', { objects: 0, nextDueAt: undefined }],
    ['what waits is held by an unfinished line (only a snapshot finds orphans due)', { nextDueAt: undefined }],
    ["the document is the Python service's (a listing tells what it merged)", { exact: false }],
  ])('works on the pod when %s', (_, fields) => {
    expect(cleanLook(waiting(fields), clock('2026-11-25T10:00:00Z'))).toEqual({ work: true });
  });

  it('reads the clock only when the decision depends on it', () => {
    const never = (): Date => {
      throw new Error('clock read');
    };
    expect(cleanLook(waiting({ objects: 0 }), never)).toEqual({ work: true });
  });
});

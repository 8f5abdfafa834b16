import { EMPTY_METADATA, mergedKey, parseMergedKey } from '@platform/log-reader/layout';
import { keyAllocator } from './merge.js';

describe('keyAllocator', () => {
  const clock = (): Date => new Date('2026-11-25T10:07:30Z');

  it('allocates increasing indexes above every merged key the pod has, in the minute of the allocation', () => {
    const next = keyAllocator(
      {
        pod: 'job-1',
        metadata: {
          ...EMPTY_METADATA,
          logFiles: [
            {
              key: 'data/job-1/0a/202611250900_7.gz',
              recordsCount: 1,
              size: 1,
              firstRecordTime: '2026-11-25T09:00:00Z',
              lastRecordTime: '2026-11-25T09:00:00Z',
            },
          ],
        },
        dataObjects: [{ key: 'data/job-1/0a/202611250930_9.gz', size: 1, lastModified: new Date(0), etag: undefined }],
      },
      clock,
    );
    expect(next('0a')).toBe('data/job-1/0a/202611251007_10.gz');
    expect(parseMergedKey(next('0b'))).toMatchObject({ containerId: '0b', index: 11, slice: '202611251007' });
  });

  it('copes with a pod of months of merged objects (no argument-list limit)', () => {
    const dataObjects = Array.from({ length: 300_000 }, (_, i) => ({
      key: mergedKey({ pod: 'job-1', containerId: '0a', slice: '202611250000', index: i + 1 }),
      size: 1,
      lastModified: new Date(0),
      etag: undefined,
    }));
    expect(keyAllocator({ pod: 'job-1', metadata: EMPTY_METADATA, dataObjects }, clock)('0a')).toBe(
      'data/job-1/0a/202611251007_300001.gz',
    );
  });
});

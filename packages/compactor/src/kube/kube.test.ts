import type { V1Pod } from '@kubernetes/client-node';
import { containerEnded } from './kube.js';

const NOW = new Date('2026-11-25T12:00:00Z');
const SETTLE = 120_000;
const ago = (ms: number): Date => new Date(NOW.getTime() - ms);
const ID = '0f3a'.repeat(16);

describe('containerEnded', () => {
  const failed = (conditions: { lastTransitionTime?: Date }[]): V1Pod => ({
    status: { phase: 'Failed', conditions: conditions.map((c) => ({ type: 'Ready', status: 'False', ...c })) },
  });

  it.each([
    [
      'a Failed pod without container statuses, settled',
      failed([{ lastTransitionTime: ago(10 * 60_000) }, { lastTransitionTime: ago(5 * 60_000) }]),
      true,
    ],
    [
      'a Failed pod without container statuses, failed just now',
      failed([{ lastTransitionTime: ago(10 * 60_000) }, { lastTransitionTime: ago(30_000) }]),
      false,
    ],
    ['a Failed pod without any time', failed([]), true],
    ['a Running pod without container statuses', { status: { phase: 'Running' } }, false],
    ['a pod without a status', {}, false],
  ] satisfies [string, V1Pod, boolean][])('%s', (_, pod, expected) => {
    expect(containerEnded(pod, 'job-1', ID, NOW, SETTLE)).toBe(expected);
  });

  it('reads the id of a terminated state from the status when the state has none', () => {
    const pod: V1Pod = {
      status: {
        phase: 'Running',
        containerStatuses: [
          {
            name: 'sidecar',
            containerID: 'containerd://ffff',
            image: 'x',
            imageID: 'x',
            ready: true,
            restartCount: 0,
            state: { running: {} },
          },
          {
            name: 'job-1',
            containerID: `containerd://${ID}`,
            image: 'x',
            imageID: 'x',
            ready: false,
            restartCount: 0,
            state: { terminated: { exitCode: 0, finishedAt: ago(SETTLE) } },
          },
        ],
      },
    };
    expect(containerEnded(pod, 'job-1', ID, NOW, SETTLE)).toBe(true);
    expect(containerEnded(pod, 'job-1', ID, ago(1000), SETTLE)).toBe(false);
  });
});

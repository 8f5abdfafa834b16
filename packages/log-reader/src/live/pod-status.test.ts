import { parseTime } from '../layout/time.js';
import { decodePod, isDone } from './pod-status.js';

const OLD = '0f3a'.repeat(16);
const NEW = '1b2c'.repeat(16);

/** A pod as the API returns it, with the job container's status. */
function pod(phase: string, status: Record<string, unknown>, restartPolicy = 'OnFailure'): unknown {
  return {
    kind: 'Pod',
    metadata: { name: 'job-1', namespace: 'jobs', uid: 'u-1' },
    spec: { restartPolicy, containers: [{ name: 'job-1' }] },
    status: {
      phase,
      containerStatuses: [
        { name: 'sidecar', containerID: 'containerd://ffff', state: { running: {} } },
        { name: 'job-1', restartCount: 0, ...status },
      ],
    },
  };
}

describe('decodePod', () => {
  it('reads a running container: its id without the runtime scheme, its start', () => {
    const p = decodePod(
      pod('Running', { containerID: `containerd://${OLD}`, state: { running: { startedAt: '2026-11-25T10:00:00Z' } } }),
      'job-1',
    );
    expect(p).toEqual({
      uid: 'u-1',
      phase: 'Running',
      restartPolicy: 'OnFailure',
      current: { id: OLD, startedAt: parseTime('2026-11-25T10:00:00Z'), running: true, exitCode: undefined },
      previous: undefined,
      waitingReason: undefined,
      hasContainer: true,
    });
    expect(isDone(p)).toBe(false);
  });

  it('reads a restarted container: the new instance current, the one before previous', () => {
    const p = decodePod(
      pod('Running', {
        containerID: `containerd://${NEW}`,
        state: { running: { startedAt: '2026-11-25T10:05:00Z' } },
        lastState: {
          terminated: {
            containerID: `containerd://${OLD}`,
            exitCode: 137,
            startedAt: '2026-11-25T10:00:00Z',
            finishedAt: '2026-11-25T10:04:59Z',
          },
        },
      }),
      'job-1',
    );
    expect(p.current?.id).toBe(NEW);
    expect(p.previous).toEqual({
      id: OLD,
      startedAt: parseTime('2026-11-25T10:00:00Z'),
      running: false,
      exitCode: 137,
    });
  });

  it('reads a container waiting to restart (CrashLoopBackOff): no current instance, the crashed one previous', () => {
    const p = decodePod(
      pod('Running', {
        containerID: `containerd://${OLD}`,
        state: { waiting: { reason: 'CrashLoopBackOff' } },
        lastState: { terminated: { containerID: `containerd://${OLD}`, exitCode: 1 } },
      }),
      'job-1',
    );
    expect(p.current).toBeUndefined();
    expect(p.previous?.id).toBe(OLD);
    expect(p.waitingReason).toBe('CrashLoopBackOff');
    expect(isDone(p)).toBe(false);
  });

  it('reads a pending pod: no instance at all', () => {
    const p = decodePod({ metadata: { uid: 'u' }, spec: {}, status: { phase: 'Pending' } }, 'job-1');
    expect(p).toMatchObject({ phase: 'Pending', restartPolicy: 'Always', current: undefined, previous: undefined });
  });
});

describe('hasContainer', () => {
  it('is false only when the spec lists containers and none is named like the pod', () => {
    expect(decodePod(pod('Running', {}), 'job-1').hasContainer).toBe(true);
    expect(decodePod(pod('Running', {}), 'job-2').hasContainer).toBe(false);
    expect(decodePod({ spec: {} }, 'job-2').hasContainer).toBe(true);
  });
});

describe('isDone', () => {
  const terminated = (exitCode: number, phase: string, policy: string): boolean =>
    isDone(
      decodePod(
        pod(
          phase,
          {
            containerID: `containerd://${OLD}`,
            state: { terminated: { containerID: `containerd://${OLD}`, exitCode } },
          },
          policy,
        ),
        'job-1',
      ),
    );

  it('is done when the phase is final, or the exited container may not restart', () => {
    expect(terminated(0, 'Succeeded', 'OnFailure')).toBe(true);
    expect(terminated(1, 'Failed', 'Never')).toBe(true);
    // The phase may lag behind the container's state.
    expect(terminated(0, 'Running', 'OnFailure')).toBe(true);
    expect(terminated(1, 'Running', 'Never')).toBe(true);
  });

  it('is not done while the policy brings the container back', () => {
    expect(terminated(1, 'Running', 'OnFailure')).toBe(false);
    expect(terminated(0, 'Running', 'Always')).toBe(false);
  });
});

import { rawDir } from './keys.js';
import { podContainersOf } from './pod-containers.js';

const ID_A = '0f3a9c1b';
const ID_B = 'e3b0c442';

describe('podContainersOf', () => {
  it("names a Deployment pod's containers, none of them its own", () => {
    const dirs = [
      rawDir({ pod: 'web-7d9c8b-abcde', namespace: 'default', container: 'istio-proxy', containerId: ID_A }),
      rawDir({ pod: 'web-7d9c8b-abcde', namespace: 'default', container: 'nginx', containerId: ID_A }),
      rawDir({ pod: 'web-7d9c8b-abcde', namespace: 'default', container: 'nginx', containerId: ID_B }),
    ];
    expect(podContainersOf('web-7d9c8b-abcde', dirs)).toEqual({
      hasOwn: false,
      others: ['istio-proxy', 'nginx'],
      namespaces: ['default'],
    });
  });

  it("sees the pod's own container beside a sidecar", () => {
    const dirs = [
      rawDir({ pod: 'job-1', namespace: 'jobs', container: 'istio-proxy', containerId: ID_A }),
      rawDir({ pod: 'job-1', namespace: 'jobs', container: 'job-1', containerId: ID_B }),
    ];
    expect(podContainersOf('job-1', dirs)).toEqual({ hasOwn: true, others: ['istio-proxy'], namespaces: ['jobs'] });
  });

  it("leaves out what is not a raw directory of the pod: another pod's, a stray key", () => {
    const dirs = [
      rawDir({ pod: 'job-10', namespace: 'jobs', container: 'job-10', containerId: ID_A }),
      'kube.var.log.containers.job-1_.._job-1-0f3a.log/',
      'kube.var.log.containers.job-1_jobs_Sidecar-0f3a.log/',
    ];
    expect(podContainersOf('job-1', dirs)).toEqual({ hasOwn: false, others: [], namespaces: [] });
  });
});

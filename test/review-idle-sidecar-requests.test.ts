// Review of issue 15: "an idle pod still costs at most 2 requests a pass". A job pod with a
// sidecar (istio-proxy, a log shipper…) is the common case; its other container's raw
// directory is listed in full on every pass (pass/other-containers.ts), on top of the pod's
// own look, so an idle job pod with a sidecar costs 3 requests a pass, and one request more
// per 1000 sidecar uploads, for as long as the sidecar's files are kept (90 days in production).
import { byPod, recordRequests } from './support/requests.js';
import { testS3Client } from './support/s3.js';
import { HOUR, MINUTE, messages, newWorld } from './support/world.js';

const T0 = new Date('2026-11-25T10:00:00Z');
const CONFIG = { compactIntervalMs: 10 * MINUTE, cleanupIntervalMs: HOUR };

describe('review: an idle job pod with a sidecar', () => {
  it('costs at most two requests a pass', async () => {
    const w = await newWorld('review-idle-sidecar');
    w.advance(-HOUR);
    await w.container('job-a', '0c1').upload(messages('job', 3, T0));
    await w.container('job-a', '0c2', { container: 'istio-proxy' }).upload(messages('proxy', 3, T0));
    w.advance(HOUR);
    const client = testS3Client();
    const sent = recordRequests(client);
    await w.passWith(client, CONFIG); // merged
    // Past the compact interval, nothing new, nothing due: idle.
    w.advance(20 * MINUTE);
    sent.length = 0;
    const { summary } = await w.passWith(client, CONFIG);
    expect(summary.pods.failed).toBe(0);
    const requests = Object.values(byPod(sent).get('job-a') ?? {}).reduce((n, c) => n + c, 0);
    expect(requests).toBeLessThanOrEqual(2);
  });
});

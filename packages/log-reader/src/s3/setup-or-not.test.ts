// isNotFound and describeSetupProblem where an answer cannot show it is S3's: a HEAD's bodiless
// 404, a gateway's 5xx page.
import { describeSetupProblem } from './setup-problem.js';
import { isNotFound } from './store.js';

/** An SDK error as a HEAD's answer leaves it: no body, so no code; status, request id, headers. */
function headAnswer(requestId: string | undefined, type: string | undefined): Error {
  const error = Object.assign(new Error('UnknownError'), {
    name: 'NotFound',
    $metadata: { httpStatusCode: 404, requestId },
  });
  Object.defineProperty(error, '$response', {
    value: { statusCode: 404, headers: type === undefined ? {} : { 'content-type': type } },
  });
  return error;
}

describe('isNotFound of a HEAD of a missing key', () => {
  it("is true for moto's own answer (text/html, with a request id)", () => {
    expect(isNotFound(headAnswer('AXijQ7nh77OESRSUWAcZ', 'text/html; charset=utf-8'))).toBe(true);
  });

  // A HEAD answer has no body: nothing in it can say "this is not S3". moto sends text/html on a
  // HEAD 404; a store that sends no x-amz-request-id (Cloudflare R2 answers with an empty request
  // id) and such a content type would have every missing metadata/lease/merged key taken for a
  // set-up failure: the compactor's HEADs (pod-state, commit, merge-writer, daily-survey) and the
  // reader's pod-containers then throw instead of reading "not there".
  it('is true for the same answer without a request id (a store that sends none)', () => {
    expect(isNotFound(headAnswer(undefined, 'text/html; charset=utf-8'))).toBe(true);
  });
});

describe('describeSetupProblem of a gateway error in the middle of a read', () => {
  // What a load balancer or reverse proxy in front of the store (nginx, an ELB, an ingress)
  // answers while the store restarts or is overloaded: 502/503/504 with an HTML page and no
  // request id. It is transient (the client retries 5xx), not "the endpoint is not S3": the
  // log-reader would end a read that printed half the log with exit 2 and "check the endpoint
  // URL", and the compactor a pass that had merged pods with exit 2 (set-up) instead of 1.
  it.each([502, 503, 504])('is not a set-up problem for HTTP %i (text/html, no request id)', (status) => {
    const error = Object.assign(new Error('Unknown'), {
      name: 'Unknown',
      $metadata: { httpStatusCode: status, requestId: undefined },
    });
    Object.defineProperty(error, '$response', {
      value: { statusCode: status, headers: { 'content-type': 'text/html' } },
    });
    expect(describeSetupProblem(error, { endpoint: 'http://s3.local:9000', bucket: 'logs' })).toBeUndefined();
  });
});

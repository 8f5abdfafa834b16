import { bucketNameProblem, describeSetupProblem, isSetupFailure, notS3Answer, safeEndpoint } from './setup-problem.js';
import { isNotFound } from './store.js';

const where = { endpoint: 'http://s3.local:9000', bucket: 'logs' };

/** An SDK error as a request's answer leaves it: status, request id, the raw response's headers. */
function answered(name: string, status: number, requestId: string | undefined, type?: string, message = name): Error {
  const error = Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status, requestId } });
  Object.defineProperty(error, '$response', {
    value: { statusCode: status, headers: type === undefined ? {} : { 'content-type': type } },
  });
  return error;
}

function transport(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

describe('describeSetupProblem', () => {
  it.each([
    [
      "an HTML page the SDK could not parse (its 'XML parse error')",
      answered(
        'Error',
        404,
        undefined,
        undefined,
        '@aws-sdk XML parse error: mismatched tags.\n  Deserialization error: to see the raw response, inspect the hidden field {error}.$response on this object.',
      ),
    ],
  ])('says an endpoint is not S3 for %s', (_what, error) => {
    const message = describeSetupProblem(error, where)?.message ?? '';
    expect(message).toMatch(
      /^http:\/\/s3\.local:9000 does not answer as S3 does \(a request for bucket logs got HTTP 404/,
    );
    expect(message).not.toMatch(/\$response|XML|Deserialization/);
    expect(isSetupFailure(error)).toBe(true);
    expect(isNotFound(error)).toBe(false);
  });

  // A HEAD's 404 has no body: when it ends a pass or a read, it is described as not S3's, but
  // it is no reason to doubt a missing key (setup-or-not.test.ts: a store without request ids).
  it('says an endpoint is not S3 for a HEAD 404 from a web server, yet takes it for a missing key', () => {
    const error = answered('NotFound', 404, undefined, 'text/html');
    expect(describeSetupProblem(error, where)?.message).toMatch(/^http:\/\/s3\.local:9000 does not answer as S3 does/);
    expect(isSetupFailure(error)).toBe(false);
    expect(isNotFound(error)).toBe(true);
  });

  it.each([
    ['moto (x-amzn-requestid, text/html on a HEAD)', answered('NotFound', 404, 'abc', 'text/html')],
    ['an S3 error without a body type', answered('NotFound', 404, undefined)],
    ['an S3 XML error', answered('NoSuchKey', 404, undefined, 'application/xml')],
  ])('takes a 404 from %s for a missing key', (_what, error) => {
    expect(notS3Answer(error)).toBeUndefined();
    expect(isNotFound(error)).toBe(true);
  });

  it("takes versitygw's 404 XAdminUserNotFound for an unknown access key, not a missing key or bucket", () => {
    const error = answered('XAdminUserNotFound', 404, 'id', 'application/xml');
    expect(describeSetupProblem(error, where)?.message).toBe(
      'S3 at http://s3.local:9000 does not know the access key ID (XAdminUserNotFound): check AWS_ACCESS_KEY_ID',
    );
    expect(isNotFound(error)).toBe(false);
  });

  it.each([
    [
      transport(
        'EPROTO',
        'write EPROTO 4088:error:0A00010B:SSL routines:tls_validate_record_header:wrong version number:../deps/x.c:77:',
      ),
      'cannot speak TLS to https://s3.local:9000: the server answered without TLS (wrong version number); use http:// if it serves plain HTTP',
    ],
    [
      transport('DEPTH_ZERO_SELF_SIGNED_CERT', 'self-signed certificate'),
      "the TLS certificate of https://s3.local:9000 is not trusted (DEPTH_ZERO_SELF_SIGNED_CERT): NODE_EXTRA_CA_CERTS can name the CA's certificate file",
    ],
    [
      Object.assign(new Error('GET k: connect'), { cause: transport('ECONNREFUSED', 'connect ECONNREFUSED') }),
      'cannot reach S3 at https://s3.local:9000: ECONNREFUSED',
    ],
  ])('names a transport failure in one line: %s', (error, message) => {
    expect(describeSetupProblem(error, { endpoint: 'https://s3.local:9000', bucket: 'logs' })?.message).toBe(message);
  });

  it('never shows the endpoint’s user info or query', () => {
    const error = transport('ECONNREFUSED', 'connect ECONNREFUSED');
    const message = describeSetupProblem(error, { endpoint: 'http://key:secret@s3.local:9000/?token=t', bucket: 'b' });
    expect(message?.message).toBe('cannot reach S3 at http://s3.local:9000: ECONNREFUSED');
    expect(safeEndpoint('not a url://user:pw@host')).not.toContain('pw');
  });
});

describe('bucketNameProblem', () => {
  it.each([
    ['s3://logs', `"s3://logs" is a URL: give the bucket's name alone, e.g. logs`],
    [
      'https://s3.amazonaws.com/logs',
      `"https://s3.amazonaws.com/logs" is a URL: give the bucket's name alone, e.g. s3.amazonaws.com`,
    ],
    ['logs/prefix', expect.stringMatching(/^"logs\/prefix" is not a bucket name: .*no '\/'/)],
    ['my logs', expect.stringMatching(/is not a bucket name/)],
    [' ', 'the bucket name is empty'],
  ])('refuses %j', (name, problem) => {
    expect(bucketNameProblem(name)).toEqual(problem);
  });

  it.each([['logs'], ['job-logs.example'], ['Legacy_Bucket']])('takes %j', (name) => {
    expect(bucketNameProblem(name)).toBeUndefined();
  });
});

/**
 * Goal: SigV2 verification matches AWS (the form the AWS CLI v1 and boto3 still use for
 * presigned URLs with a custom endpoint, and older tools for headers). Method: the worked
 * examples of the S3 Developer Guide ("Signing and authenticating REST requests": GET
 * /photos/puppy.jpg on bucket johnsmith, header and query-string forms) run through
 * authenticateRequest, then negative cases (tampering, expiry, skew, bad dates, malformed
 * header, unknown key), x-amz-* headers and sub-resources in the string to sign, and the
 * path-style bucket resource signed with or without its trailing slash.
 */
import { createHmac } from 'node:crypto';
import { ManualClock } from '@tessera/common';
import { StaticCredentialStore, rootPrincipal } from '../src/auth/credential-store';
import { authenticateRequest } from '../src/auth/verify-request';
import type { AuthRequestView } from '../src/auth/verify-request';
import { S3Error } from '../src/s3-errors';
import { parseRawQuery } from '../src/uri';

const exampleKeyId = 'AKIAIOSFODNN7EXAMPLE';
const exampleSecret = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const credentials = new StaticCredentialStore([{ accessKeyId: exampleKeyId, secretAccessKey: exampleSecret }]);
const exampleDate = 'Tue, 27 Mar 2007 19:36:42 +0000';
const exampleTimeMs = Date.parse(exampleDate);

function view(method: string, url: string, headers: Record<string, string>, virtualHostBucket: string | undefined): AuthRequestView {
  const [rawPath = '/', rawQuery = ''] = url.split('?', 2);
  const lower = new Map(Object.entries(headers).map(([n, v]) => [n.toLowerCase(), [v]]));
  return { method, rawPath, query: parseRawQuery(rawQuery), headerValues: (name) => lower.get(name) ?? [], headerNames: [...lower.keys()], virtualHostBucket };
}

/** An independent signer written from the Developer Guide, for the cases beyond the examples. */
function signV2(stringToSign: string): string {
  return createHmac('sha1', exampleSecret).update(stringToSign, 'utf8').digest('base64');
}

async function authError(request: AuthRequestView, nowMs: number): Promise<string> {
  try {
    await authenticateRequest(request, { credentials, region: 'us-east-1', clock: new ManualClock(nowMs) });
  } catch (error) {
    if (error instanceof S3Error) return error.code;
    throw error;
  }
  throw new Error('expected an S3Error');
}

const puppyHeader = (overrides: Record<string, string> = {}): AuthRequestView =>
  view('GET', '/photos/puppy.jpg', { Host: 'johnsmith.s3.amazonaws.com', Date: exampleDate, Authorization: `AWS ${exampleKeyId}:bWq2s1WEIj+Ydj0vQ697zp+IXMU=`, ...overrides }, 'johnsmith');

const puppyPresigned = (path = '/photos/puppy.jpg'): AuthRequestView =>
  view('GET', `${path}?AWSAccessKeyId=${exampleKeyId}&Expires=1175139620&Signature=NpgCjnDzrM%2BWFzoENXmpNDUsSn8%3D`, { Host: 'johnsmith.s3.amazonaws.com' }, 'johnsmith');

describe('Authorization: AWS (Developer Guide example: GET /photos/puppy.jpg)', () => {
  test('the documented signature is accepted, payload unsigned', async () => {
    const result = await authenticateRequest(puppyHeader(), { credentials, region: 'us-east-1', clock: new ManualClock(exampleTimeMs + 60_000) });
    expect(result).toEqual({ principal: rootPrincipal(exampleKeyId), payload: { kind: 'unsigned' } });
  });

  test('a tampered path, an added x-amz header or another bucket is SignatureDoesNotMatch', async () => {
    const tampered = { ...puppyHeader(), rawPath: '/photos/kitten.jpg' };
    expect(await authError(tampered, exampleTimeMs)).toBe('SignatureDoesNotMatch');
    expect(await authError(puppyHeader({ 'x-amz-meta-added': 'x' }), exampleTimeMs)).toBe('SignatureDoesNotMatch');
    expect(await authError({ ...puppyHeader(), virtualHostBucket: 'otherbucket' }, exampleTimeMs)).toBe('SignatureDoesNotMatch');
  });

  test('skew over 15 minutes is RequestTimeTooSkewed; a missing, bad or pre-epoch date is AccessDenied', async () => {
    expect(await authError(puppyHeader(), exampleTimeMs + 16 * 60_000)).toBe('RequestTimeTooSkewed');
    expect(await authError(puppyHeader(), exampleTimeMs - 16 * 60_000)).toBe('RequestTimeTooSkewed');
    expect(await authError(puppyHeader({ 'x-amz-date': 'Bad Date' }), exampleTimeMs)).toBe('AccessDenied');
    expect(await authError(puppyHeader({ 'x-amz-date': '' }), exampleTimeMs)).toBe('AccessDenied');
    expect(await authError(puppyHeader({ 'x-amz-date': 'Tue, 07 Jul 1950 21:53:04 GMT' }), exampleTimeMs)).toBe('AccessDenied');
    expect(await authError(puppyHeader({ Date: '' }), exampleTimeMs)).toBe('AccessDenied');
  });

  test('a malformed header is InvalidArgument; an unknown key is InvalidAccessKeyId', async () => {
    expect(await authError(puppyHeader({ Authorization: 'AWS HAHAHA' }), exampleTimeMs)).toBe('InvalidArgument');
    expect(await authError(puppyHeader({ Authorization: 'AWS AKIDUNKNOWN:bWq2s1WEIj+Ydj0vQ697zp+IXMU=' }), exampleTimeMs)).toBe('InvalidAccessKeyId');
  });

  test('x-amz-date replaces Date (signed as an empty Date line); x-amz-* headers and sub-resources are signed', async () => {
    const amzDate = exampleDate;
    const toSign = `PUT\n1B2M2Y8AsgTpgAmY7PhCfg==\ntext/plain\n\nx-amz-date:${amzDate}\nx-amz-meta-a:one,two\n/johnsmith/photos/puppy.jpg?acl&versionId=null`;
    const request = view(
      'PUT',
      '/photos/puppy.jpg?versionId=null&acl&prefix=ignored',
      {
        Host: 'johnsmith.s3.amazonaws.com',
        'Content-MD5': '1B2M2Y8AsgTpgAmY7PhCfg==',
        'Content-Type': 'text/plain',
        'X-Amz-Date': amzDate,
        'X-Amz-Meta-A': 'one',
        Authorization: `AWS ${exampleKeyId}:${signV2(toSign)}`,
      },
      'johnsmith',
    );
    // Repeated header values are joined with ',' as the guide says.
    const repeated: AuthRequestView = { ...request, headerValues: (name) => (name === 'x-amz-meta-a' ? ['one', ' two '] : request.headerValues(name)) };
    await expect(authenticateRequest(repeated, { credentials, region: 'us-east-1', clock: new ManualClock(exampleTimeMs) })).resolves.toMatchObject({ principal: { accessKeyId: exampleKeyId } });
    expect(await authError(request, exampleTimeMs)).toBe('SignatureDoesNotMatch');
  });

  test('a path-style bucket request is accepted signed as /bucket or /bucket/', async () => {
    for (const resource of ['/johnsmith', '/johnsmith/']) {
      const request = view('GET', '/johnsmith?prefix=photos', { Host: 's3.amazonaws.com', Date: exampleDate, Authorization: `AWS ${exampleKeyId}:${signV2(`GET\n\n\n${exampleDate}\n${resource}`)}` }, undefined);
      await expect(authenticateRequest(request, { credentials, region: 'us-east-1', clock: new ManualClock(exampleTimeMs) })).resolves.toMatchObject({ principal: { accessKeyId: exampleKeyId } });
    }
    const objectWithSlash = view('GET', '/johnsmith/k', { Host: 's3.amazonaws.com', Date: exampleDate, Authorization: `AWS ${exampleKeyId}:${signV2(`GET\n\n\n${exampleDate}\n/johnsmith/k/`)}` }, undefined);
    expect(await authError(objectWithSlash, exampleTimeMs)).toBe('SignatureDoesNotMatch');
  });
});

describe('query-string authentication (Developer Guide example)', () => {
  test('the documented presigned URL is accepted before Expires and AccessDenied after', async () => {
    const result = await authenticateRequest(puppyPresigned(), { credentials, region: 'us-east-1', clock: new ManualClock(1175139620 * 1000 - 1000) });
    expect(result).toEqual({ principal: rootPrincipal(exampleKeyId), payload: { kind: 'unsigned' } });
    expect(await authError(puppyPresigned(), 1175139620 * 1000 + 1000)).toBe('AccessDenied');
    // Valid for more than the SigV4 maximum of 7 days from now: refused.
    expect(await authError(puppyPresigned(), 1175139620 * 1000 - 604_801_000)).toBe('AccessDenied');
  });

  test('another path is SignatureDoesNotMatch; missing parameters are AccessDenied', async () => {
    expect(await authError(puppyPresigned('/photos/kitten.jpg'), 1175139620 * 1000 - 1000)).toBe('SignatureDoesNotMatch');
    const noExpires = view('GET', `/photos/puppy.jpg?AWSAccessKeyId=${exampleKeyId}&Signature=x`, { Host: 'johnsmith.s3.amazonaws.com' }, 'johnsmith');
    expect(await authError(noExpires, 0)).toBe('AccessDenied');
  });
});

/**
 * Goal: SigV4 verification matches AWS exactly. Method: the worked examples from the S3 API
 * reference ("Examples: Signature Calculations", GET object with a header signature, a presigned
 * URL, and the aws-chunked PUT with chained chunk signatures), run through our canonicalisation,
 * authenticateRequest and AwsChunkedDecoder; plus negative cases (skew, expiry, wrong region,
 * unknown key, tampered chunk) and canonicalisation rules.
 */
import { Readable } from 'node:stream';
import { ManualClock } from '@tessera/common';
import { AwsChunkedDecoder } from '../src/auth/aws-chunked-decoder';
import { StaticCredentialStore } from '../src/auth/credential-store';
import { canonicalQuery, canonicalUri, deriveSigningKey } from '../src/auth/sigv4';
import { authenticateRequest } from '../src/auth/verify-request';
import type { AuthRequestView, ChunkSigningContext } from '../src/auth/verify-request';
import { S3Error } from '../src/s3-errors';
import { parseRawQuery } from '../src/uri';

const exampleKeyId = 'AKIAIOSFODNN7EXAMPLE';
const exampleSecret = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const credentials = new StaticCredentialStore([{ accessKeyId: exampleKeyId, secretAccessKey: exampleSecret }]);
const exampleTimeMs = Date.UTC(2013, 4, 24, 0, 0, 0);
const emptyHash = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

function view(method: string, url: string, headers: Record<string, string>): AuthRequestView {
  const [rawPath = '/', rawQuery = ''] = url.split('?', 2);
  const lower = new Map(Object.entries(headers).map(([n, v]) => [n.toLowerCase(), [v]]));
  return { method, rawPath, query: parseRawQuery(rawQuery), headerValues: (name) => lower.get(name) ?? [], headerNames: [...lower.keys()], virtualHostBucket: undefined };
}

async function authError(request: AuthRequestView, clock: ManualClock, region = 'us-east-1'): Promise<string> {
  try {
    await authenticateRequest(request, { credentials, region, clock });
  } catch (error) {
    if (error instanceof S3Error) return error.code;
    throw error;
  }
  throw new Error('expected an S3Error');
}

const getObjectExample = (): AuthRequestView =>
  view('GET', '/test.txt', {
    Host: 'examplebucket.s3.amazonaws.com',
    Range: 'bytes=0-9',
    'x-amz-content-sha256': emptyHash,
    'x-amz-date': '20130524T000000Z',
    Authorization:
      'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41',
  });

describe('Authorization header (AWS example: GET /test.txt)', () => {
  test('the documented signature verifies and the payload is the signed empty hash', async () => {
    const result = await authenticateRequest(getObjectExample(), { credentials, region: 'us-east-1', clock: new ManualClock(exampleTimeMs + 60_000) });
    expect(result.principal.accessKeyId).toBe(exampleKeyId);
    expect(result.payload).toEqual({ kind: 'sha256', sha256Hex: emptyHash });
  });

  test('a different header value is SignatureDoesNotMatch', async () => {
    const request = getObjectExample();
    const tampered: AuthRequestView = { ...request, headerValues: (name) => (name === 'range' ? ['bytes=0-10'] : request.headerValues(name)) };
    expect(await authError(tampered, new ManualClock(exampleTimeMs))).toBe('SignatureDoesNotMatch');
  });

  test('more than 15 minutes of skew either way is RequestTimeTooSkewed; 14 minutes is fine', async () => {
    expect(await authError(getObjectExample(), new ManualClock(exampleTimeMs + 16 * 60_000))).toBe('RequestTimeTooSkewed');
    expect(await authError(getObjectExample(), new ManualClock(exampleTimeMs - 16 * 60_000))).toBe('RequestTimeTooSkewed');
    await expect(authenticateRequest(getObjectExample(), { credentials, region: 'us-east-1', clock: new ManualClock(exampleTimeMs - 14 * 60_000) })).resolves.toBeDefined();
  });

  test('another region is AuthorizationHeaderMalformed; an unknown key is InvalidAccessKeyId', async () => {
    expect(await authError(getObjectExample(), new ManualClock(exampleTimeMs), 'eu-west-1')).toBe('AuthorizationHeaderMalformed');
    const request = getObjectExample();
    const unknown: AuthRequestView = {
      ...request,
      headerValues: (name) => (name === 'authorization' ? [(request.headerValues(name)[0] ?? '').replace(exampleKeyId, 'AKIDUNKNOWN')] : request.headerValues(name)),
    };
    expect(await authError(unknown, new ManualClock(exampleTimeMs))).toBe('InvalidAccessKeyId');
  });

  test('malformed headers and missing pieces', async () => {
    const clock = new ManualClock(exampleTimeMs);
    const base = { Host: 'h', 'x-amz-date': '20130524T000000Z', 'x-amz-content-sha256': emptyHash };
    expect(await authError(view('GET', '/', base), clock)).toBe('AccessDenied');
    // "AWS <key>:<sig>" is SigV2 now (sigv2.test.ts); an unknown mechanism stays InvalidRequest.
    expect(await authError(view('GET', '/', { ...base, Authorization: 'Bearer token' }), clock)).toBe('InvalidRequest');
    expect(await authError(view('GET', '/', { ...base, Authorization: 'AWS4-HMAC-SHA256 Credential=a/b' }), clock)).toBe('AuthorizationHeaderMalformed');
    expect(
      await authError(view('GET', '/', { ...base, Authorization: `AWS4-HMAC-SHA256 Credential=${exampleKeyId}/20130524/us-east-1/s3/aws4_request,SignedHeaders=x-amz-date,Signature=00` }), clock),
    ).toBe('AccessDenied');
    const noHash = { Host: 'h', 'x-amz-date': '20130524T000000Z', Authorization: `AWS4-HMAC-SHA256 Credential=${exampleKeyId}/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;x-amz-date,Signature=00` };
    expect(await authError(view('GET', '/', noHash), clock)).toBe('InvalidRequest');
    const both = view('GET', '/?X-Amz-Algorithm=AWS4-HMAC-SHA256', { ...base, Authorization: noHash.Authorization });
    expect(await authError(both, clock)).toBe('InvalidArgument');
  });
});

describe('presigned URL (AWS example)', () => {
  const url =
    '/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404';
  const request = (): AuthRequestView => view('GET', url, { Host: 'examplebucket.s3.amazonaws.com' });

  test('verifies within its lifetime, as UNSIGNED-PAYLOAD', async () => {
    const result = await authenticateRequest(request(), { credentials, region: 'us-east-1', clock: new ManualClock(exampleTimeMs + 3_600_000) });
    expect(result.payload).toEqual({ kind: 'unsigned' });
  });

  test('after X-Amz-Expires it is AccessDenied (Request has expired)', async () => {
    expect(await authError(request(), new ManualClock(exampleTimeMs + 86_401_000))).toBe('AccessDenied');
  });

  test('X-Amz-Expires beyond 7 days, or missing parameters, are AuthorizationQueryParametersError', async () => {
    const clock = new ManualClock(exampleTimeMs);
    expect(await authError(view('GET', url.replace('X-Amz-Expires=86400', 'X-Amz-Expires=604801'), { Host: 'h' }), clock)).toBe('AuthorizationQueryParametersError');
    expect(await authError(view('GET', url.replace(/&X-Amz-Date=[^&]+/, ''), { Host: 'h' }), clock)).toBe('AuthorizationQueryParametersError');
  });

  test('a negative X-Amz-Expires (a URL presigned with a negative lifetime) is AuthorizationQueryParametersError, in S3\'s words', async () => {
    const negative = view('GET', url.replace('X-Amz-Expires=86400', 'X-Amz-Expires=-1000'), { Host: 'h' });
    await expect(authenticateRequest(negative, { credentials, region: 'us-east-1', clock: new ManualClock(exampleTimeMs) })).rejects.toMatchObject({
      code: 'AuthorizationQueryParametersError',
      message: 'X-Amz-Expires must be non-negative',
    });
  });
});

describe('aws-chunked with chunk signatures (AWS example: 64 KiB + 1 KiB of "a")', () => {
  const signing: ChunkSigningContext = {
    signingKey: deriveSigningKey(exampleSecret, { date: '20130524', region: 'us-east-1', service: 's3' }),
    scope: { date: '20130524', region: 'us-east-1', service: 's3' },
    amzDate: '20130524T000000Z',
    seedSignature: '4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9',
  };
  const chunk1 = '10000;chunk-signature=ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648';
  const chunk2 = '400;chunk-signature=0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497';
  const final = '0;chunk-signature=b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9';
  const body = (first = chunk1): Buffer =>
    Buffer.concat([Buffer.from(`${first}\r\n`), Buffer.alloc(65536, 'a'), Buffer.from(`\r\n${chunk2}\r\n`), Buffer.alloc(1024, 'a'), Buffer.from(`\r\n${final}\r\n\r\n`)]);

  async function decode(bytes: Buffer, splitEveryBytes: number): Promise<Buffer> {
    const pieces: Buffer[] = [];
    for (let offset = 0; offset < bytes.length; offset += splitEveryBytes) pieces.push(bytes.subarray(offset, offset + splitEveryBytes));
    const decoder = new AwsChunkedDecoder({ signing, trailer: false, declaredTrailers: [], chunkSizeBytesMax: 1 << 20 });
    const out: Buffer[] = [];
    for await (const part of Readable.from(pieces).pipe(decoder)) out.push(part as Buffer);
    return Buffer.concat(out);
  }

  test.each([1, 7, 1000, 1 << 20])('decodes the documented body (input split every %i bytes)', async (split) => {
    const decoded = await decode(body(), split);
    expect(decoded.equals(Buffer.alloc(66560, 'a'))).toBe(true);
  });

  test('a tampered chunk signature is SignatureDoesNotMatch', async () => {
    await expect(decode(body(chunk1.replace('ad80', 'ad81')), 4096)).rejects.toMatchObject({ code: 'SignatureDoesNotMatch' });
  });

  test('a truncated body is IncompleteBody', async () => {
    await expect(decode(body().subarray(0, 66_000), 4096)).rejects.toMatchObject({ code: 'IncompleteBody' });
  });
});

describe('canonicalisation rules', () => {
  test('URI: each segment re-encoded; encoded slashes stay encoded; unreserved characters decoded', () => {
    expect(canonicalUri('/bucket/a%2Fb')).toBe('/bucket/a%2Fb');
    expect(canonicalUri('/bucket/%7Etilde%2Dx')).toBe('/bucket/~tilde-x');
    expect(canonicalUri('/bucket/a b(c)!')).toBe('/bucket/a%20b%28c%29%21');
    expect(canonicalUri('/bucket//double/../dots')).toBe('/bucket//double/../dots');
    expect(canonicalUri('/bucket/%c3%bc')).toBe('/bucket/%C3%BC');
  });

  test('query: sorted by name then value, empty values kept, excluded names dropped', () => {
    const query = parseRawQuery('b=2&a=&c=x%2Fy&a=1&X-Amz-Signature=s&uploads');
    expect(canonicalQuery(query, new Set(['X-Amz-Signature']))).toBe('a=&a=1&b=2&c=x%2Fy&uploads=');
  });
});

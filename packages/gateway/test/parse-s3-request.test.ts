/**
 * Goal: the pure router maps every S3 request shape to the right operation, path-style and
 * virtual-hosted-style alike, decodes keys exactly (keys are opaque), and refuses what S3
 * refuses before storage. Method: table tests; each row is run in both addressing styles.
 */
import { parseS3Request, resolveVirtualHostBucket } from '../src/parse-s3-request';
import type { S3RequestInput } from '../src/parse-s3-request';
import { S3Error } from '../src/s3-errors';
import type { S3Operation } from '../src/s3-operation';
import { s3OperationKinds } from '../src/s3-operation';
import { parseRawQuery } from '../src/uri';

type Style = 'path' | 'vhost';

/** Builds the request for `bucket` and raw (encoded) key in the given addressing style. */
function requestFor(style: Style, method: string, bucket: string | undefined, rawKey: string | undefined, rawQuery = '', headers: Record<string, string> = {}): S3RequestInput {
  const keyPart = rawKey === undefined ? '' : `/${rawKey}`;
  if (style === 'vhost' && bucket !== undefined) {
    return { method, path: keyPart === '' ? '/' : keyPart, query: parseRawQuery(rawQuery), headers, virtualHostBucket: bucket };
  }
  return { method, path: bucket === undefined ? '/' : `/${bucket}${keyPart}`, query: parseRawQuery(rawQuery), headers, virtualHostBucket: undefined };
}

function parseError(input: S3RequestInput): string {
  try {
    parseS3Request(input);
  } catch (error) {
    if (error instanceof S3Error) return error.code;
    throw error;
  }
  throw new Error('expected an S3Error');
}

const cases: [string, string | undefined, string | undefined, string, Record<string, string>, Partial<S3Operation> & { kind: S3Operation['kind'] }][] = [
  ['PUT', 'bkt', undefined, '', {}, { kind: 'CreateBucket', bucket: 'bkt' }],
  ['DELETE', 'bkt', undefined, '', {}, { kind: 'DeleteBucket', bucket: 'bkt' }],
  ['HEAD', 'bkt', undefined, '', {}, { kind: 'HeadBucket', bucket: 'bkt' }],
  ['GET', 'bkt', undefined, 'location', {}, { kind: 'GetBucketLocation', bucket: 'bkt' }],
  ['GET', 'bkt', undefined, 'versioning', {}, { kind: 'GetBucketVersioning', bucket: 'bkt' }],
  ['GET', 'bkt', undefined, 'acl', {}, { kind: 'GetBucketAcl', bucket: 'bkt' }],
  ['GET', 'bkt', undefined, 'policy', {}, { kind: 'GetBucketPolicy', bucket: 'bkt' }],
  ['DELETE', 'bkt', undefined, 'policy', {}, { kind: 'DeleteBucketPolicy', bucket: 'bkt' }],
  ['GET', 'bkt', undefined, 'cors', {}, { kind: 'GetBucketCors', bucket: 'bkt' }],
  ['PUT', 'bkt', undefined, 'cors', {}, { kind: 'PutBucketCors', bucket: 'bkt' }],
  ['DELETE', 'bkt', undefined, 'cors', {}, { kind: 'DeleteBucketCors', bucket: 'bkt' }],
  ['OPTIONS', 'bkt', undefined, '', {}, { kind: 'CorsPreflight', bucket: 'bkt', key: undefined }],
  ['OPTIONS', 'bkt', 'a/b.txt', '', {}, { kind: 'CorsPreflight', bucket: 'bkt', key: 'a/b.txt' }],
  ['GET', 'bkt', undefined, 'lifecycle', {}, { kind: 'GetBucketLifecycleConfiguration', bucket: 'bkt' }],
  ['PUT', 'bkt', undefined, 'lifecycle', {}, { kind: 'PutBucketLifecycleConfiguration', bucket: 'bkt' }],
  ['GET', 'bkt', undefined, 'object-lock', {}, { kind: 'GetObjectLockConfiguration', bucket: 'bkt' }],
  ['PUT', 'bkt', undefined, 'object-lock', {}, { kind: 'PutObjectLockConfiguration', bucket: 'bkt' }],
  ['GET', 'bkt', 'k', 'retention&versionId=v1', {}, { kind: 'GetObjectRetention', bucket: 'bkt', key: 'k', versionId: 'v1' }],
  ['PUT', 'bkt', 'k', 'retention', {}, { kind: 'PutObjectRetention', bucket: 'bkt', key: 'k', versionId: undefined }],
  ['GET', 'bkt', 'k', 'legal-hold', {}, { kind: 'GetObjectLegalHold', bucket: 'bkt', key: 'k', versionId: undefined }],
  ['PUT', 'bkt', 'k', 'legal-hold&versionId=v2', {}, { kind: 'PutObjectLegalHold', bucket: 'bkt', key: 'k', versionId: 'v2' }],
  ['DELETE', 'bkt', undefined, 'lifecycle', {}, { kind: 'DeleteBucketLifecycle', bucket: 'bkt' }],
  ['GET', 'bkt', undefined, 'tagging', {}, { kind: 'GetBucketTagging', bucket: 'bkt' }],
  ['PUT', 'bkt', undefined, 'tagging', {}, { kind: 'PutBucketTagging', bucket: 'bkt' }],
  ['DELETE', 'bkt', undefined, 'tagging', {}, { kind: 'DeleteBucketTagging', bucket: 'bkt' }],
  ['GET', 'bkt', undefined, 'encryption', {}, { kind: 'GetBucketEncryption', bucket: 'bkt' }],
  ['PUT', 'bkt', undefined, 'encryption', {}, { kind: 'PutBucketEncryption', bucket: 'bkt' }],
  ['DELETE', 'bkt', undefined, 'encryption', {}, { kind: 'DeleteBucketEncryption', bucket: 'bkt' }],
  ['GET', 'bkt', undefined, 'website', {}, { kind: 'GetBucketConfiguration', bucket: 'bkt', configuration: 'website' }],
  ['GET', 'bkt', undefined, 'policyStatus', {}, { kind: 'GetBucketPolicyStatus', bucket: 'bkt' }],
  ['GET', 'bkt', undefined, 'requestPayment', {}, { kind: 'GetBucketConfiguration', bucket: 'bkt', configuration: 'requestPayment' }],
  ['GET', 'bkt', undefined, 'analytics', {}, { kind: 'NotImplemented', bucket: 'bkt', feature: 'GET ?analytics' }],
  ['PUT', 'bkt', undefined, 'website', {}, { kind: 'NotImplemented', bucket: 'bkt', feature: 'PUT ?website' }],
  ['PUT', 'bkt', undefined, 'policy', {}, { kind: 'PutBucketPolicy', bucket: 'bkt' }],
  ['PUT', 'bkt', undefined, 'replication', {}, { kind: 'NotImplemented', bucket: 'bkt' }],
  ['GET', 'bkt', undefined, 'publicAccessBlock', {}, { kind: 'GetPublicAccessBlock', bucket: 'bkt' }],
  ['GET', 'bkt', undefined, 'ownershipControls', {}, { kind: 'GetBucketOwnershipControls', bucket: 'bkt' }],
  ['PUT', 'bkt', undefined, 'ownershipControls', {}, { kind: 'PutBucketOwnershipControls', bucket: 'bkt' }],
  ['DELETE', 'bkt', undefined, 'ownershipControls', {}, { kind: 'DeleteBucketOwnershipControls', bucket: 'bkt' }],
  ['PUT', 'bkt', undefined, 'publicAccessBlock', {}, { kind: 'PutPublicAccessBlock', bucket: 'bkt' }],
  ['DELETE', 'bkt', undefined, 'publicAccessBlock', {}, { kind: 'DeletePublicAccessBlock', bucket: 'bkt' }],
  ['GET', 'bkt', undefined, 'uploads&prefix=a&max-uploads=5', {}, { kind: 'ListMultipartUploads', bucket: 'bkt' }],
  ['GET', 'bkt', undefined, 'versions&prefix=a&key-marker=k&version-id-marker=null', {}, { kind: 'ListObjectVersions', bucket: 'bkt' }],
  ['GET', 'bkt', undefined, 'list-type=2&prefix=a%2Fb&delimiter=%2F&max-keys=10&start-after=x&fetch-owner=true&encoding-type=url', {}, { kind: 'ListObjectsV2', bucket: 'bkt' }],
  ['GET', 'bkt', undefined, 'prefix=p&marker=m', {}, { kind: 'ListObjects', bucket: 'bkt' }],
  ['GET', 'bkt', undefined, '', {}, { kind: 'ListObjects', bucket: 'bkt' }],
  ['POST', 'bkt', undefined, 'delete', {}, { kind: 'DeleteObjects', bucket: 'bkt' }],
  ['POST', 'bkt', undefined, '', {}, { kind: 'PostObject', bucket: 'bkt' }],
  ['POST', 'bkt', undefined, 'lifecycle', {}, { kind: 'NotImplemented', bucket: 'bkt' }],
  ['PUT', 'bkt', 'k', '', {}, { kind: 'PutObject', bucket: 'bkt', key: 'k' }],
  ['PUT', 'bkt', 'k', '', { 'x-amz-copy-source': '/src/some%20key' }, { kind: 'CopyObject', bucket: 'bkt', key: 'k', source: { bucket: 'src', key: 'some key', versionId: undefined } }],
  ['PUT', 'bkt', 'k', '', { 'x-amz-copy-source': 'src/a/b?versionId=null' }, { kind: 'CopyObject', bucket: 'bkt', key: 'k', source: { bucket: 'src', key: 'a/b', versionId: 'null' } }],
  ['GET', 'bkt', 'k', '', {}, { kind: 'GetObject', bucket: 'bkt', key: 'k', partNumber: undefined }],
  ['GET', 'bkt', 'k', 'partNumber=3', {}, { kind: 'GetObject', bucket: 'bkt', key: 'k', partNumber: 3 }],
  ['GET', 'bkt', 'k', 'versionId=null', {}, { kind: 'GetObject', bucket: 'bkt', key: 'k', versionId: 'null' }],
  ['GET', 'bkt', 'k', 'versionId=00000000000000a1Xy', {}, { kind: 'GetObject', bucket: 'bkt', key: 'k', versionId: '00000000000000a1Xy' }],
  ['DELETE', 'bkt', 'k', 'versionId=00000000000000a1Xy', {}, { kind: 'DeleteObject', bucket: 'bkt', key: 'k', versionId: '00000000000000a1Xy' }],
  ['PUT', 'bkt', undefined, 'versioning', {}, { kind: 'PutBucketVersioning', bucket: 'bkt' }],
  ['GET', 'bkt', 'k', 'response-content-type=text%2Fplain', {}, { kind: 'GetObject', bucket: 'bkt', key: 'k' }],
  ['HEAD', 'bkt', 'k', '', {}, { kind: 'HeadObject', bucket: 'bkt', key: 'k' }],
  ['GET', 'bkt', 'k', 'tagging', {}, { kind: 'GetObjectTagging', bucket: 'bkt', key: 'k' }],
  ['PUT', 'bkt', 'k', 'tagging', {}, { kind: 'PutObjectTagging', bucket: 'bkt', key: 'k' }],
  ['DELETE', 'bkt', 'k', 'tagging', {}, { kind: 'DeleteObjectTagging', bucket: 'bkt', key: 'k' }],
  ['GET', 'bkt', 'k', 'acl', {}, { kind: 'GetObjectAcl', bucket: 'bkt', key: 'k' }],
  ['PUT', 'bkt', 'k', 'acl', {}, { kind: 'PutObjectAcl', bucket: 'bkt', key: 'k' }],
  ['GET', 'bkt', 'k', 'attributes', {}, { kind: 'GetObjectAttributes', bucket: 'bkt', key: 'k' }],
  ['PUT', 'bkt', undefined, 'acl', {}, { kind: 'PutBucketAcl', bucket: 'bkt' }],
  ['DELETE', 'bkt', 'k', '', {}, { kind: 'DeleteObject', bucket: 'bkt', key: 'k' }],
  ['POST', 'bkt', 'k', 'uploads', {}, { kind: 'CreateMultipartUpload', bucket: 'bkt', key: 'k' }],
  ['PUT', 'bkt', 'k', 'partNumber=2&uploadId=u1', {}, { kind: 'UploadPart', bucket: 'bkt', key: 'k', uploadId: 'u1', partNumber: 2 }],
  ['PUT', 'bkt', 'k', 'partNumber=10000&uploadId=u1', { 'x-amz-copy-source': '/src/obj' }, { kind: 'UploadPartCopy', bucket: 'bkt', key: 'k', uploadId: 'u1', partNumber: 10000 }],
  ['POST', 'bkt', 'k', 'uploadId=u1', {}, { kind: 'CompleteMultipartUpload', bucket: 'bkt', key: 'k', uploadId: 'u1' }],
  ['DELETE', 'bkt', 'k', 'uploadId=u1', {}, { kind: 'AbortMultipartUpload', bucket: 'bkt', key: 'k', uploadId: 'u1' }],
  ['GET', 'bkt', 'k', 'uploadId=u1&max-parts=5&part-number-marker=2', {}, { kind: 'ListParts', bucket: 'bkt', key: 'k', uploadId: 'u1' }],
  ['POST', 'bkt', 'k', 'restore', {}, { kind: 'NotImplemented', bucket: 'bkt', key: 'k' }],
];

describe.each(['path', 'vhost'] as const)('%s-style', (style) => {
  test.each(cases)('%s %s/%s ?%s', (method, bucket, key, query, headers, expected) => {
    expect(parseS3Request(requestFor(style, method, bucket, key, query, headers))).toMatchObject(expected);
  });

  test('keys are opaque and decoded exactly', () => {
    const keys: [string, string][] = [
      ['..', '..'],
      ['../../etc/passwd', '../../etc/passwd'],
      ['a//b', 'a//b'],
      ['/leading', '/leading'],
      ['a%2Fb', 'a/b'],
      ['a%252F', 'a%2F'],
      ['%C3%BC%E6%97%A5%F0%9F%8E%89', 'ü日🎉'],
      ['ctrl%01%0D%0A', 'ctrl\u0001\r\n'],
      ['sp%20ace+plus', 'sp ace+plus'],
      ['dir/', 'dir/'],
      ['.', '.'],
      // A leading byte-order mark is part of the key (a default TextDecoder drops it).
      ['%EF%BB%BFab', '\uFEFFab'],
      ['%EF%BB%BF%EF%BB%BF', '\uFEFF\uFEFF'],
    ];
    for (const [raw, decoded] of keys) expect(parseS3Request(requestFor(style, 'GET', 'bkt', raw))).toMatchObject({ kind: 'GetObject', key: decoded });
  });

  test('a key of 1024 UTF-8 bytes is accepted; 1025 is KeyTooLongError', () => {
    expect(parseS3Request(requestFor(style, 'PUT', 'bkt', 'k'.repeat(1024)))).toMatchObject({ kind: 'PutObject' });
    expect(parseError(requestFor(style, 'PUT', 'bkt', 'k'.repeat(1025)))).toBe('KeyTooLongError');
    // 342 three-byte characters = 1026 bytes although only 342 UTF-16 units.
    expect(parseError(requestFor(style, 'PUT', 'bkt', '%E6%97%A5'.repeat(342)))).toBe('KeyTooLongError');
  });

  test('invalid percent-encoding and invalid UTF-8 are InvalidURI', () => {
    expect(parseError(requestFor(style, 'GET', 'bkt', 'bad%zz'))).toBe('InvalidURI');
    expect(parseError(requestFor(style, 'GET', 'bkt', 'trunc%4'))).toBe('InvalidURI');
    expect(parseError(requestFor(style, 'GET', 'bkt', 'overlong%C0%AF'))).toBe('InvalidURI');
    expect(parseError(requestFor(style, 'GET', 'bkt', 'lone%FF'))).toBe('InvalidURI');
    expect(parseError(requestFor(style, 'GET', 'bkt', 'surrogate%ED%A0%80'))).toBe('InvalidURI');
  });

  test('bad part numbers, max-keys and encoding types are InvalidArgument', () => {
    expect(parseError(requestFor(style, 'PUT', 'bkt', 'k', 'partNumber=0&uploadId=u'))).toBe('InvalidArgument');
    expect(parseError(requestFor(style, 'PUT', 'bkt', 'k', 'partNumber=10001&uploadId=u'))).toBe('InvalidArgument');
    expect(parseError(requestFor(style, 'PUT', 'bkt', 'k', 'partNumber=x&uploadId=u'))).toBe('InvalidArgument');
    expect(parseError(requestFor(style, 'PUT', 'bkt', 'k', 'partNumber=1&uploadId='))).toBe('InvalidArgument');
    expect(parseError(requestFor(style, 'GET', 'bkt', undefined, 'list-type=2&max-keys=-1'))).toBe('InvalidArgument');
    expect(parseError(requestFor(style, 'GET', 'bkt', undefined, 'list-type=2&encoding-type=base64'))).toBe('InvalidArgument');
    expect(parseError(requestFor(style, 'GET', 'bkt', undefined, 'list-type=3'))).toBe('InvalidArgument');
  });

  test('list parameters are parsed and max-keys is capped at 1000', () => {
    const op = parseS3Request(requestFor(style, 'GET', 'bkt', undefined, 'list-type=2&prefix=a%2Fb&delimiter=%2F&max-keys=5000&start-after=x&fetch-owner=true&encoding-type=url&continuation-token=tok'));
    expect(op).toEqual({
      kind: 'ListObjectsV2',
      bucket: 'bkt',
      params: { prefix: 'a/b', delimiter: '/', maxKeys: 1000, continuationToken: 'tok', startAfter: 'x', fetchOwner: true, encodingType: 'url' },
    });
  });

  test('an empty version id is InvalidArgument', () => {
    expect(parseError(requestFor(style, 'GET', 'bkt', 'k', 'versionId='))).toBe('InvalidArgument');
    expect(parseError(requestFor(style, 'PUT', 'bkt', 'k', '', { 'x-amz-copy-source': 'src/k?versionId=' }))).toBe('InvalidArgument');
  });

  test('malformed copy sources are InvalidArgument', () => {
    expect(parseError(requestFor(style, 'PUT', 'bkt', 'k', '', { 'x-amz-copy-source': 'just-a-bucket' }))).toBe('InvalidArgument');
    expect(parseError(requestFor(style, 'PUT', 'bkt', 'k', '', { 'x-amz-copy-source': '/bkt/' }))).toBe('InvalidArgument');
  });

  test('unsupported methods are MethodNotAllowed', () => {
    expect(parseError(requestFor(style, 'PATCH', 'bkt', 'k'))).toBe('MethodNotAllowed');
    expect(parseError(requestFor(style, 'TRACE', 'bkt', undefined))).toBe('MethodNotAllowed');
  });
});

describe('path-style only', () => {
  test('GET / is ListBuckets; other methods on / are MethodNotAllowed', () => {
    expect(parseS3Request(requestFor('path', 'GET', undefined, undefined))).toEqual({ kind: 'ListBuckets' });
    expect(parseError(requestFor('path', 'PUT', undefined, undefined))).toBe('MethodNotAllowed');
  });

  test('a trailing slash after the bucket is the bucket itself', () => {
    expect(parseS3Request({ method: 'GET', path: '/bkt/', query: [], headers: {}, virtualHostBucket: undefined })).toMatchObject({ kind: 'ListObjects', bucket: 'bkt' });
  });

  test.each([
    ['ab', 'too short'],
    ['a'.repeat(64), 'too long'],
    ['UpperCase', 'upper case'],
    ['under_score', 'underscore'],
    ['-leading', 'leading hyphen'],
    ['trailing-', 'trailing hyphen'],
    ['dot..dot', 'adjacent dots'],
    ['dot.-dash', 'hyphen after a period'],
    ['dash-.dot', 'hyphen before a period'],
    ['192.168.1.1', 'IP address'],
    ['xn--punycode', 'reserved prefix'],
    ['bucket-s3alias', 'reserved suffix'],
  ])('bucket name %s (%s) is InvalidBucketName', (name) => {
    expect(parseError(requestFor('path', 'PUT', name, undefined))).toBe('InvalidBucketName');
  });

  test.each(['abc', 'a'.repeat(63), 'my.bucket.name', 'b-1-2', '1bucket'])('bucket name %s is valid', (name) => {
    expect(parseS3Request(requestFor('path', 'PUT', name, undefined))).toEqual({ kind: 'CreateBucket', bucket: name });
  });
});

describe('virtual-host resolution', () => {
  const bases = ['s3.localhost', 'localhost'];
  test.each([
    ['bkt.s3.localhost:9000', 'bkt'],
    ['my.dotted.bucket.s3.localhost', 'my.dotted.bucket'],
    ['bkt.localhost', 'bkt'],
    ['BKT.S3.LOCALHOST', 'bkt'],
    ['s3.localhost:9000', undefined],
    ['localhost', undefined],
    ['127.0.0.1:9000', undefined],
    ['example.com', undefined],
  ])('%s -> %s', (host, bucket) => {
    expect(resolveVirtualHostBucket(host, bases)).toBe(bucket);
  });
});

test('every operation kind is reachable from some request', () => {
  const reached = new Set(cases.map((row) => row[5].kind));
  reached.add('ListBuckets');
  expect([...s3OperationKinds].sort()).toEqual([...reached].sort());
});

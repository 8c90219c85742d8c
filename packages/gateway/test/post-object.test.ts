/**
 * Goal: browser-form uploads (POST Object) work as S3's do and refuse what S3 refuses, storing
 * nothing then. Signed forms in both versions (SigV4 as `@aws-sdk/s3-presigned-post` and boto3
 * write them, SigV2 as s3-tests and older SDKs do) store the file with the form's Content-Type,
 * metadata and tags; `${filename}` names the key; `success_action_status` 200/201/204 and
 * `success_action_redirect` answer as S3; fields after the file are ignored. Refused: a bad
 * signature, an unknown key, a key without write access to the bucket, anonymous forms, an expired policy, a field the policy does not
 * name, a file outside content-length-range, no file, too many bytes before the file, a
 * non-form POST, a body cut short. A page from an origin the bucket's CORS rules allow can
 * read the answer.
 * Method: a real gateway on loopback over the in-memory backend; forms encoded by Node's own
 * fetch and FormData (undici), policies signed here with node:crypto; the SDK reads back.
 */
import { createHash, createHmac } from 'node:crypto';
import { connect } from 'node:net';
import {
  CreateBucketCommand, GetObjectCommand, GetObjectTaggingCommand, HeadObjectCommand, PutBucketAclCommand, PutBucketCorsCommand, S3Client, S3ServiceException,
} from '@aws-sdk/client-s3';
import { signingKeyOf } from './support/sigv4-test-signer';
import { startTestGateway, testAccessKeyId, testRegion, testSecretAccessKey } from './support/test-gateway';
import type { TestGateway } from './support/test-gateway';

let gateway: TestGateway;
let client: S3Client;
const bucket = 'forms';

/** A key other than root (access-policy.ts): it may write only where the bucket grants it. */
const guest = { accessKeyId: 'TKGUEST0000000000001', secretAccessKey: 'guest-secret-0123456789abcdefghij' };

beforeAll(async () => {
  gateway = await startTestGateway({ moreKeys: [{ ...guest, principal: { accessKeyId: guest.accessKeyId, isRoot: false, canCreateBuckets: false } }] });
  client = new S3Client({ endpoint: gateway.endpoint, region: testRegion, forcePathStyle: true, credentials: { accessKeyId: testAccessKeyId, secretAccessKey: testSecretAccessKey } });
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
});

afterAll(async () => {
  client.destroy();
  await gateway.stop();
});

const sha256 = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');
const inAnHour = (): string => new Date(Date.now() + 3_600_000).toISOString();

function amzDate(date: Date): string {
  return date.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

/** The fields of a SigV4-signed form (as @aws-sdk/s3-presigned-post builds them). */
function signedV4(conditions: unknown[], fields: Record<string, string>, options: { expiration?: string; secret?: string; accessKeyId?: string } = {}): Record<string, string> {
  const now = new Date();
  const date = amzDate(now);
  const credential = `${options.accessKeyId ?? testAccessKeyId}/${date.slice(0, 8)}/${testRegion}/s3/aws4_request`;
  const signing = { 'X-Amz-Algorithm': 'AWS4-HMAC-SHA256', 'X-Amz-Credential': credential, 'X-Amz-Date': date };
  const policyDocument = {
    expiration: options.expiration ?? inAnHour(),
    conditions: [{ bucket }, ...conditions, ...Object.entries(signing).map(([name, value]) => ({ [name.toLowerCase()]: value }))],
  };
  const policy = Buffer.from(JSON.stringify(policyDocument)).toString('base64');
  const signature = createHmac('sha256', signingKeyOf(options.secret ?? testSecretAccessKey, date.slice(0, 8), testRegion)).update(policy).digest('hex');
  return { ...fields, ...signing, Policy: policy, 'X-Amz-Signature': signature };
}

/** The fields of a SigV2-signed form (as s3-tests builds them). */
function signedV2(conditions: unknown[], fields: Record<string, string>, expiration = inAnHour()): Record<string, string> {
  const policy = Buffer.from(JSON.stringify({ expiration, conditions: [{ bucket }, ...conditions] })).toString('base64');
  const signature = createHmac('sha1', testSecretAccessKey).update(policy).digest('base64');
  return { ...fields, AWSAccessKeyId: testAccessKeyId, policy, signature };
}

async function post(fields: Record<string, string>, file: { bytes: Buffer; name?: string } | undefined, options: { after?: Record<string, string>; headers?: Record<string, string> } = {}): Promise<Response> {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  if (file !== undefined) form.append('file', new Blob([file.bytes]), file.name ?? 'upload.bin');
  for (const [name, value] of Object.entries(options.after ?? {})) form.append(name, value);
  return fetch(`${gateway.endpoint}/${bucket}`, { method: 'POST', body: form, redirect: 'manual', headers: options.headers });
}

async function errorCode(response: Response): Promise<[number, string | undefined]> {
  return [response.status, /<Code>([^<]*)<\/Code>/.exec(await response.text())?.[1]];
}

async function exists(key: string): Promise<boolean> {
  try {
    await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return true;
  } catch (error) {
    if (error instanceof S3ServiceException && error.$metadata.httpStatusCode === 404) return false;
    throw error;
  }
}

test('a SigV4 form stores the file with its Content-Type, metadata and tags; 204 with ETag and Location', async () => {
  const bytes = Buffer.from('x'.repeat(300_000) + 'end');
  const tagging = '<Tagging><TagSet><Tag><Key>source</Key><Value>browser</Value></Tag></TagSet></Tagging>';
  const fields = signedV4(
    [['starts-with', '$key', 'user/'], ['starts-with', '$Content-Type', 'text/'], { 'x-amz-meta-owner': 'ana' }, { tagging }, ['content-length-range', 1, 1_000_000]],
    { key: 'user/notes ü.txt', 'Content-Type': 'text/plain', 'x-amz-meta-owner': 'ana', tagging },
  );
  const response = await post(fields, { bytes });
  expect(response.status).toBe(204);
  const md5 = createHash('md5').update(bytes).digest('hex');
  expect(response.headers.get('etag')).toBe(`"${md5}"`);
  expect(response.headers.get('location')).toBe(`${gateway.endpoint}/${bucket}/user/notes%20%C3%BC.txt`);

  const object = await client.send(new GetObjectCommand({ Bucket: bucket, Key: 'user/notes ü.txt' }));
  expect(sha256(await object.Body!.transformToByteArray())).toBe(sha256(bytes));
  expect([object.ContentType, object.Metadata, object.ETag]).toEqual(['text/plain', { owner: 'ana' }, `"${md5}"`]);
  const tags = await client.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'user/notes ü.txt' }));
  expect(tags.TagSet).toEqual([{ Key: 'source', Value: 'browser' }]);
});

test('a SigV2 form; ${filename} in the key; 201 answers a PostResponse document; fields after the file are ignored', async () => {
  const fields = signedV2([['starts-with', '$key', 'in/'], { success_action_status: '201' }], { key: 'in/${filename}', success_action_status: '201' });
  const response = await post(fields, { bytes: Buffer.from('bar'), name: 'report.csv' }, { after: { 'x-amz-meta-late': 'never checked' } });
  expect(response.status).toBe(201);
  const xml = await response.text();
  expect(xml).toContain('<Key>in/report.csv</Key>');
  expect(xml).toContain(`<Bucket>${bucket}</Bucket>`);
  const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: 'in/report.csv' }));
  expect([head.ContentLength, head.ContentType, head.Metadata]).toEqual([3, 'binary/octet-stream', {}]);
});

test('success_action_status 200 and other values, and success_action_redirect', async () => {
  const ok = await post(signedV4([{ key: 'status-200' }, { success_action_status: '200' }], { key: 'status-200', success_action_status: '200' }), { bytes: Buffer.from('a') });
  expect([ok.status, await ok.text()]).toEqual([200, '']);
  const other = await post(signedV4([{ key: 'status-404' }, { success_action_status: '404' }], { key: 'status-404', success_action_status: '404' }), { bytes: Buffer.from('a') });
  expect(other.status).toBe(204);

  const target = 'https://app.example/done?from=upload';
  const redirected = await post(signedV4([{ key: 'redirected' }, { success_action_redirect: target }], { key: 'redirected', success_action_redirect: target }), { bytes: Buffer.from('abc') });
  expect(redirected.status).toBe(303);
  const etag = createHash('md5').update('abc').digest('hex');
  expect(redirected.headers.get('location')).toBe(`${target}&bucket=${bucket}&key=redirected&etag=%22${etag}%22`);
});

test('signatures, keys and policies that do not hold are refused and store nothing', async () => {
  const conditions = [{ key: 'refused' }];
  const badSignature = { ...signedV4(conditions, { key: 'refused' }), 'X-Amz-Signature': '0'.repeat(64) };
  expect(await errorCode(await post(badSignature, { bytes: Buffer.from('a') }))).toEqual([403, 'SignatureDoesNotMatch']);
  const otherSecret = signedV4(conditions, { key: 'refused' }, { secret: 'not the secret' });
  expect(await errorCode(await post(otherSecret, { bytes: Buffer.from('a') }))).toEqual([403, 'SignatureDoesNotMatch']);
  const unknownKey = signedV4(conditions, { key: 'refused' }, { accessKeyId: 'AKIAUNKNOWN000000000' });
  expect(await errorCode(await post(unknownKey, { bytes: Buffer.from('a') }))).toEqual([403, 'InvalidAccessKeyId']);
  const v2Tampered = { ...signedV2(conditions, { key: 'refused' }), signature: 'AAAAAAAAAAAAAAAAAAAAAAAAAAA=' };
  expect(await errorCode(await post(v2Tampered, { bytes: Buffer.from('a') }))).toEqual([403, 'SignatureDoesNotMatch']);
  expect(await errorCode(await post({ key: 'refused' }, { bytes: Buffer.from('a') }))).toEqual([403, 'AccessDenied']);
  const { signature: _dropped, ...noSignature } = signedV2(conditions, { key: 'refused' });
  expect(await errorCode(await post(noSignature, { bytes: Buffer.from('a') }))).toEqual([400, 'InvalidArgument']);

  const expired = signedV4(conditions, { key: 'refused' }, { expiration: new Date(Date.now() - 60_000).toISOString() });
  expect(await errorCode(await post(expired, { bytes: Buffer.from('a') }))).toEqual([403, 'AccessDenied']);
  const extraField = signedV4(conditions, { key: 'refused', 'x-amz-meta-sneaky': '1' });
  expect(await errorCode(await post(extraField, { bytes: Buffer.from('a') }))).toEqual([403, 'AccessDenied']);
  const wrongKey = signedV4([['starts-with', '$key', 'user/']], { key: 'admin/refused' });
  expect(await errorCode(await post(wrongKey, { bytes: Buffer.from('a') }))).toEqual([403, 'AccessDenied']);
  const policyWithoutExpiration = Buffer.from('{"conditions":[]}').toString('base64');
  const badPolicy = { ...signedV2(conditions, { key: 'refused' }), policy: policyWithoutExpiration, signature: createHmac('sha1', testSecretAccessKey).update(policyWithoutExpiration).digest('base64') };
  expect(await errorCode(await post(badPolicy, { bytes: Buffer.from('a') }))).toEqual([400, 'InvalidPolicyDocument']);
  expect(await errorCode(await post(signedV4([], {}), { bytes: Buffer.from('a') }))).toEqual([400, 'InvalidArgument']);
  expect(await exists('refused')).toBe(false);
  expect(await exists('admin/refused')).toBe(false);
});

test('a form signed by a key without write access to the bucket is refused and stores nothing; with a write grant it is stored', async () => {
  const conditions = [{ key: 'from-guest' }];
  const form = (): Record<string, string> => signedV4(conditions, { key: 'from-guest' }, { accessKeyId: guest.accessKeyId, secret: guest.secretAccessKey });
  expect(await errorCode(await post(form(), { bytes: Buffer.from('guest') }))).toEqual([403, 'AccessDenied']);
  expect(await exists('from-guest')).toBe(false);
  // The owner grants write with a bucket ACL, through the gateway (which then reads the bucket again).
  await client.send(new PutBucketAclCommand({ Bucket: bucket, GrantWrite: `id="${guest.accessKeyId}"` }));
  try {
    expect((await post(form(), { bytes: Buffer.from('guest') })).status).toBe(204);
    expect(await exists('from-guest')).toBe(true);
  } finally {
    await client.send(new PutBucketAclCommand({ Bucket: bucket, ACL: 'private' }));
  }
});

test('a file outside content-length-range, no file, or too many bytes before the file: nothing stored', async () => {
  const limited = signedV4([{ key: 'sized' }, ['content-length-range', 10, 100]], { key: 'sized' });
  expect(await errorCode(await post(limited, { bytes: Buffer.alloc(101) }))).toEqual([400, 'EntityTooLarge']);
  expect(await errorCode(await post(limited, { bytes: Buffer.alloc(9) }))).toEqual([400, 'EntityTooSmall']);
  // Far beyond the limit: refused as the bytes pass the limit, not after reading them all.
  expect(await errorCode(await post(limited, { bytes: Buffer.alloc(8 * 1024 * 1024) }))).toEqual([400, 'EntityTooLarge']);
  expect(await exists('sized')).toBe(false);
  expect((await post(limited, { bytes: Buffer.alloc(100) })).status).toBe(204);

  expect(await errorCode(await post(signedV4([{ key: 'no-file' }], { key: 'no-file' }), undefined))).toEqual([400, 'IncorrectNumberOfFilesInPostRequest']);
  const padded = signedV4([{ key: 'padded' }, ['starts-with', '$x-amz-meta-pad', '']], { key: 'padded', 'x-amz-meta-pad': 'p'.repeat(21 * 1024) });
  expect(await errorCode(await post(padded, { bytes: Buffer.from('a') }))).toEqual([400, 'MaxPostPreDataLengthExceeded']);
  expect(await exists('padded')).toBe(false);

  const plain = await fetch(`${gateway.endpoint}/${bucket}`, { method: 'POST', body: 'key=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  expect(await errorCode(plain)).toEqual([412, 'PreconditionFailed']);
});

test('a form whose body is cut short stores nothing', async () => {
  const fields = signedV4([{ key: 'cut-short' }], { key: 'cut-short' });
  const boundary = 'CutShortBoundary';
  const head = Object.entries(fields).map(([name, value]) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`).join('');
  const fileHead = `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="f"\r\n\r\n`;
  const sent = Buffer.concat([Buffer.from(head + fileHead), Buffer.alloc(200_000, 1)]);
  // Content-Length promises more than is sent; the connection then closes mid-file.
  const request = `POST /${bucket} HTTP/1.1\r\nHost: 127.0.0.1:${gateway.port}\r\nContent-Type: multipart/form-data; boundary=${boundary}\r\nContent-Length: ${sent.length + 500_000}\r\n\r\n`;
  await new Promise<void>((resolve, reject) => {
    const socket = connect(gateway.port, '127.0.0.1', () => {
      socket.write(request);
      socket.end(sent);
    });
    socket.on('error', reject);
    socket.on('close', () => resolve());
    socket.resume();
  });
  // A body that ends without its closing delimiter (complete by Content-Length) is refused too.
  const unterminated = Buffer.concat([Buffer.from(head + fileHead), Buffer.from('no closing delimiter')]);
  const response = await fetch(`${gateway.endpoint}/${bucket}`, { method: 'POST', body: unterminated, headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } });
  expect(await errorCode(response)).toEqual([400, 'MalformedPOSTRequest']);
  expect(await exists('cut-short')).toBe(false);
});

test('a page from an origin the CORS rules allow can read the answer, errors included', async () => {
  await client.send(new PutBucketCorsCommand({ Bucket: bucket, CORSConfiguration: { CORSRules: [{ AllowedOrigins: ['https://app.example'], AllowedMethods: ['POST'], ExposeHeaders: ['ETag'] }] } }));
  const origin = { origin: 'https://app.example' };
  const ok = await post(signedV4([{ key: 'from-page' }], { key: 'from-page' }), { bytes: Buffer.from('a') }, { headers: origin });
  expect([ok.status, ok.headers.get('access-control-allow-origin'), ok.headers.get('access-control-expose-headers')]).toEqual([204, 'https://app.example', 'ETag']);
  const refused = await post({ key: 'from-page' }, { bytes: Buffer.from('a') }, { headers: origin });
  expect([refused.status, refused.headers.get('access-control-allow-origin')]).toEqual([403, 'https://app.example']);
  const otherOrigin = await post(signedV4([{ key: 'from-page' }], { key: 'from-page' }), { bytes: Buffer.from('a') }, { headers: { origin: 'https://evil.example' } });
  expect([otherOrigin.status, otherOrigin.headers.get('access-control-allow-origin')]).toEqual([204, null]);
});

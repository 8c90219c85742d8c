/**
 * Goal: behaviours that independent S3 conformance suites (ceph/s3-tests, minio mint) and real
 * clients (boto3, s3cmd) check, and where the gateway once differed from S3: XML timestamps at
 * whole seconds like Last-Modified, ListObjects v1 returning Prefix unencoded with
 * encoding-type=url, the InvalidRange body, UTF-8 metadata signed as the bytes on the wire,
 * object/bucket ACLs (owner FULL_CONTROL only; anything wider NotImplemented), SigV2 header and
 * presigned requests end to end, browser-form POSTs without a signed policy (post-object.test.ts
 * has the signed ones), Expect values other than 100-continue, an empty Authorization header, and copies
 * in place that change the storage class, object tagging (the s3-tests `*_tags` cases), bucket tagging.
 * Method: a real gateway on loopback over the in-memory backend, driven by @aws-sdk/client-s3
 * and by raw requests from the independent test signer, responses checked field by field.
 */
import { createHash, createHmac } from 'node:crypto';
import {
  AbortMultipartUploadCommand,
  CopyObjectCommand,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  GetBucketAclCommand,
  DeleteBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectAttributesCommand,
  HeadBucketCommand,
  GetBucketAccelerateConfigurationCommand,
  GetBucketCorsCommand,
  GetBucketEncryptionCommand,
  GetBucketLifecycleConfigurationCommand,
  GetBucketLoggingCommand,
  GetBucketNotificationConfigurationCommand,
  GetBucketOwnershipControlsCommand,
  GetBucketPolicyCommand,
  GetBucketPolicyStatusCommand,
  GetBucketReplicationCommand,
  GetBucketRequestPaymentCommand,
  GetBucketWebsiteCommand,
  GetObjectLockConfigurationCommand,
  GetPublicAccessBlockCommand,
  UploadPartCommand,
  GetObjectCommand,
  GetObjectAclCommand,
  HeadObjectCommand,
  DeleteObjectCommand,
  DeleteBucketTaggingCommand,
  DeleteObjectTaggingCommand,
  GetBucketTaggingCommand,
  GetObjectTaggingCommand,
  PutBucketTaggingCommand,
  PutObjectTaggingCommand,
  ListBucketsCommand,
  ListObjectVersionsCommand,
  ListPartsCommand,
  ListObjectsV2Command,
  ListObjectsCommand,
  PutBucketAclCommand,
  PutObjectAclCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { XMLParser } from 'fast-xml-parser';
import type { Clock } from '@tessera/common';
import { sendRaw, signRequest } from './support/sigv4-test-signer';
import type { RawResponse } from './support/sigv4-test-signer';
import { startTestGateway, testAccessKeyId, testRegion, testSecretAccessKey } from './support/test-gateway';
import type { TestGateway } from './support/test-gateway';

const creds = { accessKeyId: testAccessKeyId, secretAccessKey: testSecretAccessKey, region: testRegion };
const sha256Hex = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');
// The bucket's owner: the key that created it.
const owner = { id: testAccessKeyId, displayName: testAccessKeyId };
const bucket = 'conformance';
const parser = new XMLParser({ ignoreAttributes: true, parseTagValue: false, processEntities: true, htmlEntities: true });

// Real time, but always 123 ms past a whole second, so any millisecond leak shows while clients
// still sign with their own (real) clocks.
const clock: Clock = { nowMs: () => Math.floor(Date.now() / 1000) * 1000 + 123, monotonicMs: () => performance.now() };
let gateway: TestGateway;
let client: S3Client;

async function signedSend(method: string, path: string, options: { body?: Buffer; headers?: Record<string, string>; query?: [string, string][] } = {}): Promise<RawResponse> {
  const body = options.body ?? Buffer.alloc(0);
  const signed = signRequest(creds, { method, path, query: options.query ?? [], headers: { host: `127.0.0.1:${gateway.port}`, ...options.headers }, payloadHash: sha256Hex(body), date: new Date() });
  return sendRaw(gateway.port, method, signed.path, signed.headers, body);
}

function errorCode(response: RawResponse): string | undefined {
  return /<Code>([^<]+)<\/Code>/.exec(response.body.toString('utf8'))?.[1];
}

async function sdkError(promise: Promise<unknown>): Promise<{ status: number | undefined; code: string }> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof S3ServiceException) return { status: error.$metadata.httpStatusCode, code: error.name };
    throw error;
  }
  throw new Error('expected an S3 error');
}

beforeAll(async () => {
  // Keys a bucket ACL can name (their grants must name existing keys).
  const grantee = (accessKeyId: string) => ({ accessKeyId, secretAccessKey: `${accessKeyId}/secret/0123456789`, principal: { accessKeyId, isRoot: false, canCreateBuckets: false } });
  gateway = await startTestGateway({ clock, moreKeys: ['TKREADER01', 'TKBOTH01', 'TKWRITER01'].map(grantee) });
  client = new S3Client({
    endpoint: gateway.endpoint,
    region: testRegion,
    forcePathStyle: true,
    credentials: { accessKeyId: testAccessKeyId, secretAccessKey: testSecretAccessKey },
    maxAttempts: 1,
  });
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
});

afterAll(async () => {
  client.destroy();
  await gateway.stop();
});

describe('timestamps', () => {
  test('a listing entry carries the same LastModified as HEAD (whole seconds, .000Z)', async () => {
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'time/a', Body: 'x' }));
    const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: 'time/a' }));
    const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'time/' }));
    expect(listed.Contents?.[0]?.LastModified?.getTime()).toBe(head.LastModified?.getTime());
    const raw = await signedSend('GET', `/${bucket}`, { query: [['list-type', '2'], ['prefix', 'time/']] });
    const lastModified = /<LastModified>([^<]+)<\/LastModified>/.exec(raw.body.toString('utf8'))?.[1];
    expect(lastModified).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$/);
    expect(Date.parse(lastModified ?? '')).toBe(head.LastModified?.getTime());
  });
});

describe('encoding-type=url', () => {
  beforeAll(async () => {
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'enc\n/x y', Body: 'x' }));
  });

  test('v1 returns Prefix as sent and encodes Marker, Delimiter and keys', async () => {
    const response = await signedSend('GET', `/${bucket}`, { query: [['encoding-type', 'url'], ['prefix', 'enc\n'], ['marker', 'enc\n'], ['delimiter', ' ']] });
    expect(response.status).toBe(200);
    const result = (parser.parse(response.body.toString('utf8')) as { ListBucketResult: Record<string, unknown> }).ListBucketResult;
    expect(result['Prefix']).toBe('enc\n');
    expect(result['Marker']).toBe('enc%0A');
    expect(result['Delimiter']).toBe('%20');
    expect(result['CommonPrefixes']).toEqual({ Prefix: 'enc%0A/x%20' });
    // And through the SDK, which decodes what S3 encodes.
    const sdk = await client.send(new ListObjectsCommand({ Bucket: bucket, Prefix: 'enc\n', EncodingType: 'url' }));
    expect(sdk.Prefix).toBe('enc\n');
  });

  test('v2 encodes Prefix, StartAfter, Delimiter and keys', async () => {
    const response = await signedSend('GET', `/${bucket}`, { query: [['list-type', '2'], ['encoding-type', 'url'], ['prefix', 'enc\n'], ['start-after', 'enc\n']] });
    const result = (parser.parse(response.body.toString('utf8')) as { ListBucketResult: Record<string, unknown> }).ListBucketResult;
    expect(result['Prefix']).toBe('enc%0A');
    expect(result['StartAfter']).toBe('enc%0A');
    expect(result['Contents']).toMatchObject({ Key: 'enc%0A/x%20y' });
  });

  test('v2 with an empty continuation-token lists from the start and echoes it empty', async () => {
    const response = await signedSend('GET', `/${bucket}`, { query: [['list-type', '2'], ['continuation-token', ''], ['prefix', 'enc\n']] });
    expect(response.status).toBe(200);
    const xml = response.body.toString('utf8');
    expect(xml).toMatch(/<ContinuationToken><\/ContinuationToken>|<ContinuationToken\/>/);
    const sdk = await client.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: '', Prefix: 'enc\n' }));
    expect([sdk.ContinuationToken, sdk.KeyCount, sdk.IsTruncated]).toEqual(['', 1, false]);
  });
});

test('an unsatisfiable Range names the range and the size in the InvalidRange body', async () => {
  await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'range', Body: 'abc' }));
  const response = await signedSend('GET', `/${bucket}/range`, { headers: { range: 'bytes=10-20' } });
  expect(response.status).toBe(416);
  expect(response.headers['content-range']).toBe('bytes */3');
  const error = (parser.parse(response.body.toString('utf8')) as { Error: Record<string, string> }).Error;
  expect(error).toMatchObject({ Code: 'InvalidRange', RangeRequested: 'bytes=10-20', ActualObjectSize: '3' });
});

test('UTF-8 metadata is signed as the bytes on the wire and returned byte for byte', async () => {
  // boto3 sends a non-ASCII metadata value as raw UTF-8 and signs those bytes. Node's HTTP
  // client writes header strings as latin1, so the UTF-8 bytes are passed as their latin1 reading.
  const value = 'Grüße, 東京';
  const wire = Buffer.from(value, 'utf8').toString('latin1');
  const body = Buffer.from('x');
  const signed = signRequest(creds, {
    method: 'PUT',
    path: `/${bucket}/utf8-meta`,
    headers: { host: `127.0.0.1:${gateway.port}`, 'x-amz-meta-city': value },
    payloadHash: sha256Hex(body),
    date: new Date(),
  });
  const put = await sendRaw(gateway.port, 'PUT', signed.path, { ...signed.headers, 'x-amz-meta-city': wire }, body);
  expect(put.status).toBe(200);
  const head = await signedSend('HEAD', `/${bucket}/utf8-meta`);
  const returned = head.headers['x-amz-meta-city'];
  expect(typeof returned).toBe('string');
  expect(Buffer.from(returned as string, 'latin1').toString('utf8')).toBe(value);
  // The JS SDK signs and sends a latin1-range value as UTF-8 too.
  await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'utf8-meta-sdk', Body: 'x', Metadata: { city: 'Grüße' } }));
  const sdkHead = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: 'utf8-meta-sdk' }));
  expect(Buffer.from(sdkHead.Metadata?.['city'] ?? '', 'latin1').toString('utf8')).toBe('Grüße');
});

describe('ACLs: the owner has FULL_CONTROL; a bucket ACL grants READ / WRITE to access keys; nothing wider is accepted', () => {
  beforeAll(async () => {
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'acl', Body: 'x' }));
  });

  test('GetObjectAcl answers the owner with FULL_CONTROL; a missing key is NoSuchKey', async () => {
    const acl = await client.send(new GetObjectAclCommand({ Bucket: bucket, Key: 'acl' }));
    expect(acl.Owner?.ID).toBe(owner.id);
    expect(acl.Grants).toEqual([{ Grantee: { ID: owner.id, DisplayName: owner.displayName, Type: 'CanonicalUser' }, Permission: 'FULL_CONTROL' }]);
    expect(await sdkError(client.send(new GetObjectAclCommand({ Bucket: bucket, Key: 'no-such-key' })))).toEqual({ status: 404, code: 'NoSuchKey' });
  });

  test('canned private (and bucket-owner-full-control) is accepted on ?acl PUTs and writes', async () => {
    await client.send(new PutObjectAclCommand({ Bucket: bucket, Key: 'acl', ACL: 'private' }));
    await client.send(new PutBucketAclCommand({ Bucket: bucket, ACL: 'private' }));
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'acl-private', Body: 'x', ACL: 'bucket-owner-full-control' }));
    await client.send(new CreateBucketCommand({ Bucket: 'conformance-private', ACL: 'private' }));
  });

  test('CreateBucket with x-amz-grant-* headers starts the bucket with those grants; an unknown key creates nothing', async () => {
    await client.send(new CreateBucketCommand({ Bucket: 'conformance-granted', GrantRead: 'id="TKREADER01"', GrantFullControl: 'id="TKBOTH01"' }));
    const grants = (await client.send(new GetBucketAclCommand({ Bucket: 'conformance-granted' }))).Grants ?? [];
    // As in S3, the grant headers are the whole ACL shown (the owner keeps every permission anyway).
    expect(grants.map((grant) => `${grant.Grantee?.ID}:${grant.Permission}`).sort()).toEqual(['TKBOTH01:FULL_CONTROL', 'TKREADER01:READ']);
    expect(await sdkError(client.send(new CreateBucketCommand({ Bucket: 'conformance-unknown-grantee', GrantRead: 'id="TKNOSUCHKEY1"' })))).toEqual({ status: 400, code: 'InvalidArgument' });
    expect(await sdkError(client.send(new HeadBucketCommand({ Bucket: 'conformance-unknown-grantee' })))).toEqual({ status: 404, code: 'NotFound' });
  });

  test('an AccessControlPolicy body granting only the owner FULL_CONTROL is accepted', async () => {
    await client.send(
      new PutObjectAclCommand({
        Bucket: bucket,
        Key: 'acl',
        AccessControlPolicy: { Owner: { ID: owner.id }, Grants: [{ Grantee: { Type: 'CanonicalUser', ID: owner.id }, Permission: 'FULL_CONTROL' }] },
      }),
    );
  });

  test('a bucket ACL is the bucket\'s grants: READ, WRITE, READ_ACP, WRITE_ACP, FULL_CONTROL to access keys by id, set by headers or a body, shown by GetBucketAcl as stated', async () => {
    const ownerGrant = { Grantee: { ID: owner.id, DisplayName: owner.displayName, Type: 'CanonicalUser' }, Permission: 'FULL_CONTROL' };
    const grantOf = (id: string, permission: string): object => ({ Grantee: { ID: id, DisplayName: id, Type: 'CanonicalUser' }, Permission: permission });
    const shown = async (): Promise<string[]> => ((await client.send(new GetBucketAclCommand({ Bucket: bucket }))).Grants ?? []).map((grant) => `${grant.Grantee?.ID}:${grant.Permission}`).sort();
    await client.send(new PutBucketAclCommand({ Bucket: bucket, GrantRead: 'id="TKREADER01", id="TKBOTH01"', GrantWrite: 'id=TKBOTH01', GrantFullControl: `id="${owner.id}"` }));
    expect(await shown()).toEqual(['TKBOTH01:READ', 'TKBOTH01:WRITE', 'TKREADER01:READ', `${owner.id}:FULL_CONTROL`].sort());
    await client.send(new PutBucketAclCommand({
      Bucket: bucket,
      AccessControlPolicy: {
        Owner: { ID: owner.id },
        Grants: [{ Grantee: { Type: 'CanonicalUser', ID: owner.id }, Permission: 'FULL_CONTROL' }, { Grantee: { Type: 'CanonicalUser', ID: 'TKWRITER01' }, Permission: 'WRITE' }],
      },
    }));
    expect((await client.send(new GetBucketAclCommand({ Bucket: bucket }))).Grants).toEqual([ownerGrant, grantOf('TKWRITER01', 'WRITE')]);
    // The ACL permissions, and FULL_CONTROL; an ACL need not name its owner.
    await client.send(new PutBucketAclCommand({ Bucket: bucket, GrantReadACP: 'id="TKREADER01"', GrantWriteACP: 'id="TKBOTH01"', GrantFullControl: 'id="TKWRITER01"' }));
    expect(await shown()).toEqual(['TKBOTH01:WRITE_ACP', 'TKREADER01:READ_ACP', 'TKWRITER01:FULL_CONTROL']);
    // One key with all five permissions stays five grants.
    const everything = ['READ', 'WRITE', 'READ_ACP', 'WRITE_ACP', 'FULL_CONTROL'].map((Permission) => ({ Grantee: { Type: 'CanonicalUser' as const, ID: 'TKBOTH01' }, Permission: Permission as 'READ' }));
    await client.send(new PutBucketAclCommand({ Bucket: bucket, AccessControlPolicy: { Owner: { ID: owner.id }, Grants: everything } }));
    expect((await client.send(new GetBucketAclCommand({ Bucket: bucket }))).Grants).toEqual(['READ', 'WRITE', 'READ_ACP', 'WRITE_ACP', 'FULL_CONTROL'].map((permission) => grantOf('TKBOTH01', permission)));
    // Revoking everything, the owner's grant included: the owner still reads and replaces the ACL, and writes.
    await client.send(new PutBucketAclCommand({ Bucket: bucket, AccessControlPolicy: { Owner: { ID: owner.id }, Grants: [] } }));
    expect(await shown()).toEqual([]);
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'after-revoke', Body: 'x' }));
    await client.send(new PutBucketAclCommand({ Bucket: bucket, AccessControlPolicy: { Owner: { ID: owner.id }, Grants: [{ Grantee: { Type: 'CanonicalUser', ID: 'TKWRITER01' }, Permission: 'WRITE' }] } }));
    expect((await client.send(new GetBucketAclCommand({ Bucket: bucket }))).Grants).toEqual([grantOf('TKWRITER01', 'WRITE')]);
    // What a grant cannot express, or a key that does not exist, is refused and changes nothing.
    expect(await sdkError(client.send(new PutBucketAclCommand({ Bucket: bucket, GrantRead: 'id="TKNOSUCHKEY1"' })))).toEqual({ status: 400, code: 'InvalidArgument' });
    expect(await sdkError(client.send(new PutBucketAclCommand({ Bucket: bucket, GrantRead: 'uri="http://acs.amazonaws.com/groups/global/AllUsers"' })))).toEqual({ status: 501, code: 'NotImplemented' });
    expect(await sdkError(client.send(new PutBucketAclCommand({ Bucket: bucket, ACL: 'private', GrantRead: 'id="TKREADER01"' })))).toEqual({ status: 400, code: 'InvalidRequest' });
    expect(await sdkError(client.send(new PutBucketAclCommand({ Bucket: bucket, GrantRead: 'nonsense' })))).toEqual({ status: 400, code: 'InvalidArgument' });
    // Access keys have no e-mail addresses: S3's answer for one that matches no account.
    expect(await sdkError(client.send(new PutBucketAclCommand({ Bucket: bucket, GrantRead: 'emailAddress="someone@example.com"' })))).toEqual({ status: 400, code: 'UnresolvableGrantByEmailAddress' });
    expect(await sdkError(client.send(new PutBucketAclCommand({
      Bucket: bucket, AccessControlPolicy: { Owner: { ID: owner.id }, Grants: [{ Grantee: { Type: 'AmazonCustomerByEmail', EmailAddress: 'someone@example.com' }, Permission: 'READ' }] },
    })))).toEqual({ status: 400, code: 'UnresolvableGrantByEmailAddress' });
    // A grantee naming nobody, or an Owner without an ID, is a malformed ACL.
    expect(await sdkError(client.send(new PutBucketAclCommand({
      Bucket: bucket, AccessControlPolicy: { Owner: { ID: owner.id }, Grants: [{ Grantee: { Type: 'CanonicalUser', DisplayName: 'nobody' }, Permission: 'READ' }] },
    })))).toEqual({ status: 400, code: 'MalformedACLError' });
    expect(await sdkError(client.send(new PutBucketAclCommand({ Bucket: bucket, AccessControlPolicy: { Owner: {}, Grants: [] } })))).toEqual({ status: 400, code: 'MalformedACLError' });
    expect((await client.send(new GetBucketAclCommand({ Bucket: bucket }))).Grants).toEqual([grantOf('TKWRITER01', 'WRITE')]);
    // The canned ACL private leaves the owner alone.
    await client.send(new PutBucketAclCommand({ Bucket: bucket, ACL: 'private' }));
    expect((await client.send(new GetBucketAclCommand({ Bucket: bucket }))).Grants).toEqual([ownerGrant]);
  });

  test('public or shared ACLs are NotImplemented, never silently stored', async () => {
    expect(await sdkError(client.send(new PutObjectAclCommand({ Bucket: bucket, Key: 'acl', ACL: 'public-read' })))).toEqual({ status: 501, code: 'NotImplemented' });
    expect(await sdkError(client.send(new PutBucketAclCommand({ Bucket: bucket, ACL: 'public-read-write' })))).toEqual({ status: 501, code: 'NotImplemented' });
    expect(await sdkError(client.send(new PutObjectCommand({ Bucket: bucket, Key: 'acl-public', Body: 'x', ACL: 'public-read' })))).toEqual({ status: 501, code: 'NotImplemented' });
    expect(await sdkError(client.send(new CreateBucketCommand({ Bucket: 'conformance-public', ACL: 'public-read' })))).toEqual({ status: 501, code: 'NotImplemented' });
    expect(await sdkError(client.send(new PutObjectCommand({ Bucket: bucket, Key: 'acl-grant', Body: 'x', GrantRead: 'uri="http://acs.amazonaws.com/groups/global/AllUsers"' })))).toEqual({
      status: 501,
      code: 'NotImplemented',
    });
    const groupGrant = new PutObjectAclCommand({
      Bucket: bucket,
      Key: 'acl',
      AccessControlPolicy: {
        Owner: { ID: owner.id },
        Grants: [
          { Grantee: { Type: 'CanonicalUser', ID: owner.id }, Permission: 'FULL_CONTROL' },
          { Grantee: { Type: 'Group', URI: 'http://acs.amazonaws.com/groups/global/AllUsers' }, Permission: 'READ' },
        ],
      },
    });
    expect(await sdkError(client.send(groupGrant))).toEqual({ status: 501, code: 'NotImplemented' });
    // Nothing was written by the refused requests.
    expect(await sdkError(client.send(new HeadObjectCommand({ Bucket: bucket, Key: 'acl-public' })))).toMatchObject({ status: 404 });
    expect(await sdkError(client.send(new HeadObjectCommand({ Bucket: bucket, Key: 'acl-grant' })))).toMatchObject({ status: 404 });
  });

  test('an unknown canned ACL is InvalidArgument; headers and a body together are InvalidRequest', async () => {
    const unknown = await signedSend('PUT', `/${bucket}/acl`, { query: [['acl', '']], headers: { 'x-amz-acl': 'world-writable' } });
    expect([unknown.status, errorCode(unknown)]).toEqual([400, 'InvalidArgument']);
    const policy = Buffer.from(`<AccessControlPolicy><Owner><ID>${owner.id}</ID></Owner><AccessControlList><Grant><Grantee><ID>${owner.id}</ID></Grantee><Permission>FULL_CONTROL</Permission></Grant></AccessControlList></AccessControlPolicy>`);
    const both = await signedSend('PUT', `/${bucket}/acl`, { query: [['acl', '']], headers: { 'x-amz-acl': 'private', 'content-length': String(policy.length) }, body: policy });
    expect([both.status, errorCode(both)]).toEqual([400, 'InvalidRequest']);
  });
});

describe('Signature Version 2 (AWS CLI v1 `s3 presign`, boto3 presigned URLs, s3cmd signature_v2)', () => {
  const signV2 = (stringToSign: string): string => createHmac('sha1', testSecretAccessKey).update(stringToSign, 'utf8').digest('base64');

  test('a header-signed PUT and a presigned GET round-trip an object', async () => {
    const date = new Date().toUTCString();
    const body = Buffer.from('signed with v2');
    const toSign = `PUT\n\ntext/plain\n${date}\nx-amz-meta-v:2\n/${bucket}/v2%20key`;
    const put = await sendRaw(
      gateway.port,
      'PUT',
      `/${bucket}/v2%20key`,
      { host: `127.0.0.1:${gateway.port}`, date, 'content-type': 'text/plain', 'x-amz-meta-v': '2', authorization: `AWS ${testAccessKeyId}:${signV2(toSign)}`, 'content-length': String(body.length) },
      body,
    );
    expect(put.status).toBe(200);
    const expires = String(Math.floor(Date.now() / 1000) + 60);
    const signature = encodeURIComponent(signV2(`GET\n\n\n${expires}\n/${bucket}/v2%20key?response-content-type=a/b`));
    const response = await fetch(`${gateway.endpoint}/${bucket}/v2%20key?AWSAccessKeyId=${testAccessKeyId}&Expires=${expires}&Signature=${signature}&response-content-type=a%2Fb`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('a/b');
    expect(response.headers.get('x-amz-meta-v')).toBe('2');
    expect(await response.text()).toBe('signed with v2');
  });

  test('an expired or tampered presigned URL is refused', async () => {
    const past = String(Math.floor(Date.now() / 1000) - 1);
    const expired = await fetch(`${gateway.endpoint}/${bucket}/v2%20key?AWSAccessKeyId=${testAccessKeyId}&Expires=${past}&Signature=${encodeURIComponent(signV2(`GET\n\n\n${past}\n/${bucket}/v2%20key`))}`);
    expect(expired.status).toBe(403);
    expect(await expired.text()).toContain('Request has expired');
    const future = String(Math.floor(Date.now() / 1000) + 60);
    const tampered = await fetch(`${gateway.endpoint}/${bucket}/other?AWSAccessKeyId=${testAccessKeyId}&Expires=${future}&Signature=${encodeURIComponent(signV2(`GET\n\n\n${future}\n/${bucket}/v2%20key`))}`);
    expect(tampered.status).toBe(403);
    expect(await tampered.text()).toContain('<Code>SignatureDoesNotMatch</Code>');
  });
});

test('a browser-form POST without a signed policy is AccessDenied (no bucket is publicly writable); without a file, 400', async () => {
  const send = (form: Buffer): Promise<RawResponse> =>
    sendRaw(gateway.port, 'POST', `/${bucket}`, { host: `127.0.0.1:${gateway.port}`, 'content-type': 'multipart/form-data; boundary=b', 'content-length': String(form.length) }, form);
  const anonymous = await send(Buffer.from('--b\r\nContent-Disposition: form-data; name="key"\r\n\r\nk\r\n--b\r\nContent-Disposition: form-data; name="file"; filename="f"\r\n\r\nbar\r\n--b--\r\n'));
  expect([anonymous.status, errorCode(anonymous)]).toEqual([403, 'AccessDenied']);
  const noFile = await send(Buffer.from('--b\r\nContent-Disposition: form-data; name="key"\r\n\r\nk\r\n--b--\r\n'));
  expect([noFile.status, errorCode(noFile)]).toEqual([400, 'IncorrectNumberOfFilesInPostRequest']);
});

test('an Expect header other than 100-continue is ignored, as S3 does, instead of 417', async () => {
  const response = await signedSend('PUT', '/conformance-expect', { headers: { expect: '200', 'content-length': '0' } });
  expect(response.status).toBe(200);
  const put = await signedSend('PUT', `/${bucket}/expect`, { headers: { expect: '', 'content-length': '3' }, body: Buffer.from('abc') });
  expect(put.status).toBe(200);
});

test('an empty Authorization header is anonymous: 403 AccessDenied', async () => {
  const response = await sendRaw(gateway.port, 'PUT', '/conformance-empty-auth', { host: `127.0.0.1:${gateway.port}`, authorization: '' });
  expect([response.status, errorCode(response)]).toEqual([403, 'AccessDenied']);
});

test('a copy in place naming a storage class is a rewrite (rclone settier); without one it is InvalidRequest', async () => {
  await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'in-place', Body: 'same bytes', Metadata: { kept: 'yes' } }));
  const copySource = `${bucket}/in-place`;
  expect(await sdkError(client.send(new CopyObjectCommand({ Bucket: bucket, Key: 'in-place', CopySource: copySource })))).toEqual({ status: 400, code: 'InvalidRequest' });
  await client.send(new CopyObjectCommand({ Bucket: bucket, Key: 'in-place', CopySource: copySource, StorageClass: 'STANDARD' }));
  const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: 'in-place' }));
  expect(await got.Body?.transformToString()).toBe('same bytes');
  expect(got.Metadata).toEqual({ kept: 'yes' });
});

describe('GetObjectAttributes', () => {
  test('ETag, Checksum, StorageClass and ObjectSize of a single-part object; no ObjectParts', async () => {
    const put = await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'attributes', Body: 'attribute body', ChecksumAlgorithm: 'CRC32' }));
    const got = await client.send(new GetObjectAttributesCommand({ Bucket: bucket, Key: 'attributes', ObjectAttributes: ['ETag', 'Checksum', 'ObjectParts', 'StorageClass', 'ObjectSize'] }));
    expect(got.ETag).toBe(put.ETag?.replace(/"/g, ''));
    expect(got.Checksum).toEqual({ ChecksumCRC32: put.ChecksumCRC32, ChecksumType: 'FULL_OBJECT' });
    expect(got.StorageClass).toBe('STANDARD');
    expect(got.ObjectSize).toBe('attribute body'.length);
    expect(got.ObjectParts).toBeUndefined();
    const sizeOnly = await client.send(new GetObjectAttributesCommand({ Bucket: bucket, Key: 'attributes', ObjectAttributes: ['ObjectSize'] }));
    expect([sizeOnly.ObjectSize, sizeOnly.ETag, sizeOnly.Checksum]).toEqual(['attribute body'.length, undefined, undefined]);
  });

  test('parts uploaded with checksums: ObjectParts names each part\'s, and GET/HEAD ?partNumber return it (the SDK checks the part against it)', async () => {
    const key = 'attributes-part-checksums';
    const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ChecksumAlgorithm: 'SHA256' }));
    const bodies = [Buffer.alloc(5 * 1024 * 1024, 1), Buffer.from('the last part')];
    const parts = [];
    for (const [index, body] of bodies.entries()) {
      const uploaded = await client.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: index + 1, Body: body, ChecksumAlgorithm: 'SHA256' }));
      parts.push({ PartNumber: index + 1, ETag: uploaded.ETag, ChecksumSHA256: uploaded.ChecksumSHA256 });
    }
    await client.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId, MultipartUpload: { Parts: parts } }));
    const sha256Of = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('base64');
    const attributes = await client.send(new GetObjectAttributesCommand({ Bucket: bucket, Key: key, ObjectAttributes: ['ObjectParts', 'Checksum'] }));
    expect(attributes.Checksum?.ChecksumType).toBe('COMPOSITE');
    expect(attributes.ObjectParts?.Parts?.map((part) => [part.PartNumber, part.Size, part.ChecksumSHA256])).toEqual(bodies.map((body, index) => [index + 1, body.length, sha256Of(body)]));
    const second = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key, PartNumber: 2, ChecksumMode: 'ENABLED' }));
    expect(second.ChecksumSHA256).toBe(sha256Of(bodies[1]!));
    expect(await second.Body?.transformToString()).toBe('the last part');
    expect((await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key, PartNumber: 1, ChecksumMode: 'ENABLED' }))).ChecksumSHA256).toBe(sha256Of(bodies[0]!));
    // The whole object still answers with its composite checksum.
    expect((await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key, ChecksumMode: 'ENABLED' }))).ChecksumSHA256).toMatch(/-2$/);
  });

  test('ObjectParts of a multipart object, paged by MaxParts / PartNumberMarker', async () => {
    const key = 'attributes-multipart';
    const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
    const sizes = [5 * 1024 * 1024, 5 * 1024 * 1024, 7];
    const parts = [];
    for (const [index, sizeBytes] of sizes.entries()) {
      const uploaded = await client.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: index + 1, Body: Buffer.alloc(sizeBytes, index) }));
      parts.push({ PartNumber: index + 1, ETag: uploaded.ETag });
    }
    // x-amz-mp-object-size must be the object's size: another is InvalidRequest and commits nothing.
    const objectSizeBytes = sizes.reduce((total, sizeBytes) => total + sizeBytes, 0);
    expect(await sdkError(client.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId, MultipartUpload: { Parts: parts }, MpuObjectSize: objectSizeBytes + 1 }))))
      .toEqual({ status: 400, code: 'InvalidRequest' });
    expect(await sdkError(client.send(new HeadObjectCommand({ Bucket: bucket, Key: key })))).toMatchObject({ status: 404 });
    const completed = await client.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId, MultipartUpload: { Parts: parts }, MpuObjectSize: objectSizeBytes }));
    // A retried completion of the same parts gets the same answer (s3-tests completes twice); other parts do not.
    expect((await client.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId, MultipartUpload: { Parts: parts } }))).ETag).toBe(completed.ETag);
    expect(await sdkError(client.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId, MultipartUpload: { Parts: parts.slice(0, 2) } }))))
      .toEqual({ status: 404, code: 'NoSuchUpload' });
    const first = await client.send(new GetObjectAttributesCommand({ Bucket: bucket, Key: key, ObjectAttributes: ['ObjectParts'], MaxParts: 2 }));
    expect(first.ObjectParts).toMatchObject({ TotalPartsCount: 3, IsTruncated: true, MaxParts: 2, NextPartNumberMarker: '2', PartNumberMarker: '0' });
    expect(first.ObjectParts?.Parts?.map((part) => [part.PartNumber, part.Size])).toEqual([[1, sizes[0]], [2, sizes[1]]]);
    const rest = await client.send(new GetObjectAttributesCommand({ Bucket: bucket, Key: key, ObjectAttributes: ['ObjectParts'], PartNumberMarker: '2' }));
    expect(rest.ObjectParts).toMatchObject({ TotalPartsCount: 3, IsTruncated: false });
    expect(rest.ObjectParts?.Parts?.map((part) => [part.PartNumber, part.Size])).toEqual([[3, 7]]);
  });

  test('a missing or unknown attribute name is InvalidArgument; a missing key is NoSuchKey', async () => {
    const missing = await signedSend('GET', `/${bucket}/attributes`, { query: [['attributes', '']] });
    expect([missing.status, errorCode(missing)]).toEqual([400, 'InvalidArgument']);
    const unknown = await signedSend('GET', `/${bucket}/attributes`, { query: [['attributes', '']], headers: { 'x-amz-object-attributes': 'ETag,Colour' } });
    expect([unknown.status, errorCode(unknown)]).toEqual([400, 'InvalidArgument']);
    expect(await sdkError(client.send(new GetObjectAttributesCommand({ Bucket: bucket, Key: 'nope', ObjectAttributes: ['ETag'] })))).toEqual({ status: 404, code: 'NoSuchKey' });
  });
});

test('ListBuckets pages by prefix, max-buckets and continuation-token, with BucketRegion', async () => {
  for (const name of ['paging-a', 'paging-b', 'paging-c']) await client.send(new CreateBucketCommand({ Bucket: name }));
  const first = await client.send(new ListBucketsCommand({ Prefix: 'paging-', MaxBuckets: 2 }));
  expect(first.Buckets?.map((b) => [b.Name, b.BucketRegion])).toEqual([['paging-a', testRegion], ['paging-b', testRegion]]);
  expect(first.Prefix).toBe('paging-');
  expect(first.ContinuationToken).toBeDefined();
  const second = await client.send(new ListBucketsCommand({ Prefix: 'paging-', MaxBuckets: 2, ContinuationToken: first.ContinuationToken }));
  expect(second.Buckets?.map((b) => b.Name)).toEqual(['paging-c']);
  expect(second.ContinuationToken).toBeUndefined();
  const all = await client.send(new ListBucketsCommand({}));
  expect(all.Buckets?.map((b) => b.Name)).toEqual(expect.arrayContaining(['conformance', 'paging-a', 'paging-b', 'paging-c']));
  expect(all.ContinuationToken).toBeUndefined();
  const bad = await signedSend('GET', '/', { query: [['max-buckets', '0']] });
  expect([bad.status, errorCode(bad)]).toEqual([400, 'InvalidArgument']);
});

test('Object Lock headers on a bucket without Object Lock are InvalidRequest, malformed ones InvalidArgument; website redirects and appends NotImplemented; nothing stored', async () => {
  const locked = client.send(new PutObjectCommand({ Bucket: bucket, Key: 'locked', Body: 'x', ObjectLockMode: 'COMPLIANCE', ObjectLockRetainUntilDate: new Date(Date.now() + 86_400_000) }));
  expect(await sdkError(locked)).toEqual({ status: 400, code: 'InvalidRequest' });
  expect(await sdkError(client.send(new PutObjectCommand({ Bucket: bucket, Key: 'locked', Body: 'x', ObjectLockLegalHoldStatus: 'ON' })))).toEqual({ status: 400, code: 'InvalidRequest' });
  expect(await sdkError(client.send(new PutObjectCommand({ Bucket: bucket, Key: 'locked', Body: 'x', ObjectLockMode: 'COMPLIANCE' })))).toEqual({ status: 400, code: 'InvalidArgument' });
  const past = client.send(new PutObjectCommand({ Bucket: bucket, Key: 'locked', Body: 'x', ObjectLockMode: 'GOVERNANCE', ObjectLockRetainUntilDate: new Date(Date.now() - 1000) }));
  expect(await sdkError(past)).toEqual({ status: 400, code: 'InvalidArgument' });
  expect(await sdkError(client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'locked', WebsiteRedirectLocation: '/elsewhere' })))).toEqual({ status: 501, code: 'NotImplemented' });
  // A checksum Tessera does not compute is refused, not skipped.
  const sha512 = createHash('sha512').update('x').digest('base64');
  expect(await sdkError(client.send(new PutObjectCommand({ Bucket: bucket, Key: 'locked', Body: 'x', ChecksumSHA512: sha512 })))).toEqual({ status: 501, code: 'NotImplemented' });
  // An append must not become an overwrite, nor a conditional abort an unconditional one.
  expect(await sdkError(client.send(new PutObjectCommand({ Bucket: bucket, Key: 'locked', Body: 'x', WriteOffsetBytes: 0 })))).toEqual({ status: 501, code: 'NotImplemented' });
  const upload = await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'kept-upload' }));
  expect(await sdkError(client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: 'kept-upload', UploadId: upload.UploadId, IfMatchInitiatedTime: new Date() })))).toEqual({ status: 501, code: 'NotImplemented' });
  expect((await client.send(new ListPartsCommand({ Bucket: bucket, Key: 'kept-upload', UploadId: upload.UploadId }))).UploadId).toBe(upload.UploadId);
  await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: 'kept-upload', UploadId: upload.UploadId }));
  expect(await sdkError(client.send(new HeadObjectCommand({ Bucket: bucket, Key: 'locked' })))).toMatchObject({ status: 404 });
});

describe('ListObjectVersions on an unversioned bucket (how s3-tests and backup tools empty buckets)', () => {
  const versionsBucket = 'conformance-versions';
  beforeAll(async () => {
    await client.send(new CreateBucketCommand({ Bucket: versionsBucket }));
    for (const key of ['a/1', 'a/2', 'b', 'c d']) await client.send(new PutObjectCommand({ Bucket: versionsBucket, Key: key, Body: key }));
  });

  test('every object is version "null", the latest; delimiter rolls up; no delete markers', async () => {
    const listed = await client.send(new ListObjectVersionsCommand({ Bucket: versionsBucket }));
    expect(listed.Versions?.map((v) => [v.Key, v.VersionId, v.IsLatest, v.Size])).toEqual([
      ['a/1', 'null', true, 3],
      ['a/2', 'null', true, 3],
      ['b', 'null', true, 1],
      ['c d', 'null', true, 3],
    ]);
    expect(listed.DeleteMarkers).toBeUndefined();
    const rolled = await client.send(new ListObjectVersionsCommand({ Bucket: versionsBucket, Delimiter: '/' }));
    expect(rolled.Versions?.map((v) => v.Key)).toEqual(['b', 'c d']);
    expect(rolled.CommonPrefixes?.map((p) => p.Prefix)).toEqual(['a/']);
  });

  test('pages by key-marker / version-id-marker, then every version deletes by VersionId', async () => {
    const first = await client.send(new ListObjectVersionsCommand({ Bucket: versionsBucket, MaxKeys: 3 }));
    expect([first.IsTruncated, first.NextKeyMarker, first.NextVersionIdMarker]).toEqual([true, 'b', 'null']);
    const rest = await client.send(new ListObjectVersionsCommand({ Bucket: versionsBucket, KeyMarker: first.NextKeyMarker, VersionIdMarker: first.NextVersionIdMarker }));
    expect(rest.Versions?.map((v) => v.Key)).toEqual(['c d']);
    const badMarker = await signedSend('GET', `/${versionsBucket}`, { query: [['versions', ''], ['version-id-marker', 'null']] });
    expect([badMarker.status, errorCode(badMarker)]).toEqual([400, 'InvalidArgument']);
    for (const version of [...(first.Versions ?? []), ...(rest.Versions ?? [])]) {
      await client.send(new DeleteObjectCommand({ Bucket: versionsBucket, Key: version.Key, VersionId: version.VersionId }));
    }
    expect((await client.send(new ListObjectVersionsCommand({ Bucket: versionsBucket }))).Versions).toBeUndefined();
  });
});

describe('bucket configurations never set (read by Terraform, the AWS CLI and SDK helpers before acting)', () => {
  test('each answers as S3 does for a bucket that never had one: its own 404 code, or the default document', async () => {
    const absent = [
      [new GetBucketPolicyCommand({ Bucket: bucket }), 'NoSuchBucketPolicy'],
      [new GetBucketPolicyStatusCommand({ Bucket: bucket }), 'NoSuchBucketPolicy'],
      [new GetBucketCorsCommand({ Bucket: bucket }), 'NoSuchCORSConfiguration'],
      [new GetBucketLifecycleConfigurationCommand({ Bucket: bucket }), 'NoSuchLifecycleConfiguration'],
      [new GetBucketEncryptionCommand({ Bucket: bucket }), 'ServerSideEncryptionConfigurationNotFoundError'],
      [new GetBucketWebsiteCommand({ Bucket: bucket }), 'NoSuchWebsiteConfiguration'],
      [new GetObjectLockConfigurationCommand({ Bucket: bucket }), 'ObjectLockConfigurationNotFoundError'],
      [new GetBucketOwnershipControlsCommand({ Bucket: bucket }), 'OwnershipControlsNotFoundError'],
      [new GetBucketReplicationCommand({ Bucket: bucket }), 'ReplicationConfigurationNotFoundError'],
      [new GetPublicAccessBlockCommand({ Bucket: bucket }), 'NoSuchPublicAccessBlockConfiguration'],
    ] as const;
    for (const [command, code] of absent) {
      // The SDK's Command types differ per operation; send each through the same client.
      expect([command.constructor.name, await sdkError(client.send(command as Parameters<S3Client['send']>[0]))]).toEqual([command.constructor.name, { status: 404, code }]);
    }
    const logging = await client.send(new GetBucketLoggingCommand({ Bucket: bucket }));
    expect([logging.$metadata.httpStatusCode, logging.LoggingEnabled]).toEqual([200, undefined]);
    const accelerate = await client.send(new GetBucketAccelerateConfigurationCommand({ Bucket: bucket }));
    expect([accelerate.$metadata.httpStatusCode, accelerate.Status]).toEqual([200, undefined]);
    const payment = await client.send(new GetBucketRequestPaymentCommand({ Bucket: bucket }));
    expect([payment.$metadata.httpStatusCode, payment.Payer]).toEqual([200, 'BucketOwner']);
    const notification = await client.send(new GetBucketNotificationConfigurationCommand({ Bucket: bucket }));
    expect([notification.$metadata.httpStatusCode, notification.TopicConfigurations, notification.QueueConfigurations, notification.LambdaFunctionConfigurations]).toEqual([200, undefined, undefined, undefined]);
  });

  test('a missing bucket is NoSuchBucket for every one of them; writing one is still NotImplemented', async () => {
    expect(await sdkError(client.send(new GetBucketWebsiteCommand({ Bucket: 'conformance-missing' })))).toEqual({ status: 404, code: 'NoSuchBucket' });
    expect(await sdkError(client.send(new GetBucketLoggingCommand({ Bucket: 'conformance-missing' })))).toEqual({ status: 404, code: 'NoSuchBucket' });
    const putWebsite = await signedSend('PUT', `/${bucket}`, { body: Buffer.from('<WebsiteConfiguration/>'), query: [['website', '']] });
    expect([putWebsite.status, errorCode(putWebsite)]).toEqual([501, 'NotImplemented']);
  });
});

test('a failed copy-source condition names the header that failed', async () => {
  const put = await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'copy-condition', Body: 'x' }));
  const copy = (headers: Record<string, string>): Promise<RawResponse> =>
    signedSend('PUT', `/${bucket}/copy-condition-target`, { headers: { 'x-amz-copy-source': `/${bucket}/copy-condition`, ...headers } });
  const condition = (response: RawResponse): string | undefined => /<Condition>([^<]+)<\/Condition>/.exec(response.body.toString('utf8'))?.[1];
  const wrongMatch = await copy({ 'x-amz-copy-source-if-match': '"0000"' });
  expect([wrongMatch.status, condition(wrongMatch)]).toEqual([412, 'x-amz-copy-source-If-Match']);
  const sameEtag = await copy({ 'x-amz-copy-source-if-none-match': put.ETag ?? '' });
  expect([sameEtag.status, condition(sameEtag)]).toEqual([412, 'x-amz-copy-source-If-None-Match']);
  const notModified = await copy({ 'x-amz-copy-source-if-modified-since': new Date(Date.now() + 3_600_000).toUTCString() });
  expect([notModified.status, condition(notModified)]).toEqual([412, 'x-amz-copy-source-If-Modified-Since']);
});

/** `count` distinct tags with keys and values of the given lengths (for S3's tag limits). */
const tagSet = (count: number, keyLength = 3, valueLength = 5): { Key: string; Value: string }[] =>
  Array.from({ length: count }, (_, index) => ({ Key: `${index}`.padStart(keyLength, 'k'), Value: `${index}`.padStart(valueLength, 'v') }));

/** Tag sets S3 refuses with InvalidTag: one tag too many, a key or value too long, a key twice, a reserved key, an empty key. */
const refusedTagSets = (countMax: number, reservedKey: string): { Key: string; Value: string }[][] => [
  tagSet(countMax + 1),
  tagSet(1, 129),
  tagSet(1, 3, 257),
  [{ Key: 'same', Value: '1' }, { Key: 'same', Value: '2' }],
  [{ Key: reservedKey, Value: 'x' }],
  [{ Key: '', Value: 'x' }],
];

describe('object tagging (ceph/s3-tests test_*_tags)', () => {

  test('PutObjectTagging replaces the set, GetObjectTagging returns it in order, DeleteObjectTagging empties it; data and ETag stay', async () => {
    const put = await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'tags/a', Body: 'tagged' }));
    expect((await client.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'tags/a' }))).TagSet).toEqual([]);
    const tags = [{ Key: 'zeta', Value: 'last?' }, { Key: 'alpha', Value: '' }, { Key: 'ключ 🙂', Value: 'a&b <c> "d"' }];
    await client.send(new PutObjectTaggingCommand({ Bucket: bucket, Key: 'tags/a', Tagging: { TagSet: tags } }));
    expect((await client.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'tags/a' }))).TagSet).toEqual(tags);
    const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: 'tags/a' }));
    expect(head.ETag).toBe(put.ETag);
    const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: 'tags/a' }));
    expect([got.TagCount, await got.Body?.transformToString()]).toEqual([3, 'tagged']);
    const deleted = await client.send(new DeleteObjectTaggingCommand({ Bucket: bucket, Key: 'tags/a' }));
    expect(deleted.$metadata.httpStatusCode).toBe(204);
    expect((await client.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'tags/a' }))).TagSet).toEqual([]);
    expect((await client.send(new HeadObjectCommand({ Bucket: bucket, Key: 'tags/a' }))).ETag).toBe(put.ETag);
  });

  test('x-amz-tagging on PutObject and CreateMultipartUpload; HEAD carries x-amz-tagging-count', async () => {
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'tags/header', Body: 'x', Tagging: 'a=1&b=two%20words&c=' }));
    expect((await client.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'tags/header' }))).TagSet).toEqual([
      { Key: 'a', Value: '1' }, { Key: 'b', Value: 'two words' }, { Key: 'c', Value: '' },
    ]);
    const raw = await signedSend('HEAD', `/${bucket}/tags/header`);
    expect(raw.headers['x-amz-tagging-count']).toBe('3');
    const plain = await signedSend('HEAD', `/${bucket}/time/a`);
    expect(plain.headers['x-amz-tagging-count']).toBeUndefined();

    const upload = await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'tags/multipart', Tagging: 'stage=upload' }));
    const part = await client.send(new UploadPartCommand({ Bucket: bucket, Key: 'tags/multipart', UploadId: upload.UploadId, PartNumber: 1, Body: 'only part' }));
    await client.send(new CompleteMultipartUploadCommand({
      Bucket: bucket, Key: 'tags/multipart', UploadId: upload.UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
    }));
    expect((await client.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'tags/multipart' }))).TagSet).toEqual([{ Key: 'stage', Value: 'upload' }]);
  });

  test('CopyObject copies the tags unless x-amz-tagging-directive is REPLACE', async () => {
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'tags/source', Body: 'x', Tagging: 'from=source' }));
    await client.send(new CopyObjectCommand({ Bucket: bucket, Key: 'tags/copied', CopySource: `${bucket}/tags/source` }));
    expect((await client.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'tags/copied' }))).TagSet).toEqual([{ Key: 'from', Value: 'source' }]);
    await client.send(new CopyObjectCommand({ Bucket: bucket, Key: 'tags/replaced', CopySource: `${bucket}/tags/source`, TaggingDirective: 'REPLACE', Tagging: 'new=tag' }));
    expect((await client.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'tags/replaced' }))).TagSet).toEqual([{ Key: 'new', Value: 'tag' }]);
    await client.send(new CopyObjectCommand({ Bucket: bucket, Key: 'tags/cleared', CopySource: `${bucket}/tags/source`, TaggingDirective: 'REPLACE' }));
    expect((await client.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'tags/cleared' }))).TagSet).toEqual([]);
    const bad = await signedSend('PUT', `/${bucket}/tags/bad-copy`, { headers: { 'x-amz-copy-source': `/${bucket}/tags/source`, 'x-amz-tagging-directive': 'MERGE' } });
    expect([bad.status, errorCode(bad)]).toEqual([400, 'InvalidArgument']);
  });

  test('10 tags of 128 + 256 characters are the limit; beyond it, duplicates and aws: keys are InvalidTag and change nothing', async () => {
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'tags/limits', Body: 'x' }));
    const largest = tagSet(10, 128, 256);
    await client.send(new PutObjectTaggingCommand({ Bucket: bucket, Key: 'tags/limits', Tagging: { TagSet: largest } }));
    for (const TagSet of refusedTagSets(10, 'aws:reserved')) {
      expect(await sdkError(client.send(new PutObjectTaggingCommand({ Bucket: bucket, Key: 'tags/limits', Tagging: { TagSet } })))).toEqual({ status: 400, code: 'InvalidTag' });
    }
    expect((await client.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'tags/limits' }))).TagSet).toEqual(largest);
    const tooMany = Array.from({ length: 11 }, (_, index) => `k${index}=v`).join('&');
    expect(await sdkError(client.send(new PutObjectCommand({ Bucket: bucket, Key: 'tags/too-many', Body: 'x', Tagging: tooMany })))).toEqual({ status: 400, code: 'InvalidTag' });
    expect(await sdkError(client.send(new HeadObjectCommand({ Bucket: bucket, Key: 'tags/too-many' })))).toEqual({ status: 404, code: 'NotFound' });
  });

  test('a malformed Tagging document is MalformedXML; a missing key is NoSuchKey; a version other than "null" is NoSuchVersion', async () => {
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'tags/xml', Body: 'x' }));
    const malformed = await signedSend('PUT', `/${bucket}/tags/xml`, { query: [['tagging', '']], body: Buffer.from('<Tagging><TagSet><Tag><Key>k</Key></Tag></TagSet></Tagging>') });
    expect([malformed.status, errorCode(malformed)]).toEqual([400, 'MalformedXML']);
    const notXml = await signedSend('PUT', `/${bucket}/tags/xml`, { query: [['tagging', '']], body: Buffer.from('k=v') });
    expect([notXml.status, errorCode(notXml)]).toEqual([400, 'MalformedXML']);
    expect(await sdkError(client.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'tags/missing' })))).toEqual({ status: 404, code: 'NoSuchKey' });
    expect(await sdkError(client.send(new PutObjectTaggingCommand({ Bucket: bucket, Key: 'tags/missing', Tagging: { TagSet: [] } })))).toEqual({ status: 404, code: 'NoSuchKey' });
    expect(await sdkError(client.send(new DeleteObjectTaggingCommand({ Bucket: bucket, Key: 'tags/missing' })))).toEqual({ status: 404, code: 'NoSuchKey' });
    expect(await sdkError(client.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'tags/xml', VersionId: 'v2' })))).toEqual({ status: 404, code: 'NoSuchVersion' });
  });
});

describe('bucket tagging (ceph/s3-tests test_set_bucket_tagging and AWS limits)', () => {
  const taggedBucket = 'conformance-tagged';

  beforeAll(async () => {
    await client.send(new CreateBucketCommand({ Bucket: taggedBucket }));
  });

  test('a bucket without tags is NoSuchTagSet; Put replaces the set (kept in order), Delete removes it', async () => {
    expect(await sdkError(client.send(new GetBucketTaggingCommand({ Bucket: taggedBucket })))).toEqual({ status: 404, code: 'NoSuchTagSet' });
    const tags = [{ Key: 'team', Value: 'storage' }, { Key: 'cost-centre', Value: '' }, { Key: 'émoji 🚀', Value: 'ü' }];
    const put = await client.send(new PutBucketTaggingCommand({ Bucket: taggedBucket, Tagging: { TagSet: tags } }));
    expect(put.$metadata.httpStatusCode).toBe(204);
    expect((await client.send(new GetBucketTaggingCommand({ Bucket: taggedBucket }))).TagSet).toEqual(tags);
    await client.send(new PutBucketTaggingCommand({ Bucket: taggedBucket, Tagging: { TagSet: [{ Key: 'only', Value: 'one' }] } }));
    expect((await client.send(new GetBucketTaggingCommand({ Bucket: taggedBucket }))).TagSet).toEqual([{ Key: 'only', Value: 'one' }]);
    const deleted = await client.send(new DeleteBucketTaggingCommand({ Bucket: taggedBucket }));
    expect(deleted.$metadata.httpStatusCode).toBe(204);
    expect(await sdkError(client.send(new GetBucketTaggingCommand({ Bucket: taggedBucket })))).toEqual({ status: 404, code: 'NoSuchTagSet' });
    // Bucket tags are the bucket's own: objects and listings do not change.
    await client.send(new PutObjectCommand({ Bucket: taggedBucket, Key: 'k', Body: 'x' }));
    expect((await client.send(new GetObjectTaggingCommand({ Bucket: taggedBucket, Key: 'k' }))).TagSet).toEqual([]);
    await client.send(new DeleteObjectCommand({ Bucket: taggedBucket, Key: 'k' }));
  });

  test('50 tags of 128 + 256 characters are the limit; beyond it, duplicates, aws: and empty keys are InvalidTag and change nothing', async () => {
    const largest = tagSet(50, 128, 256);
    await client.send(new PutBucketTaggingCommand({ Bucket: taggedBucket, Tagging: { TagSet: largest } }));
    for (const TagSet of refusedTagSets(50, 'aws:cloudformation:stack-name')) {
      expect(await sdkError(client.send(new PutBucketTaggingCommand({ Bucket: taggedBucket, Tagging: { TagSet } })))).toEqual({ status: 400, code: 'InvalidTag' });
    }
    expect((await client.send(new GetBucketTaggingCommand({ Bucket: taggedBucket }))).TagSet).toEqual(largest);
  });

  test('a missing bucket is NoSuchBucket; a malformed document is MalformedXML; a deleted and re-created bucket has no tags', async () => {
    expect(await sdkError(client.send(new GetBucketTaggingCommand({ Bucket: 'no-such-bucket-here' })))).toEqual({ status: 404, code: 'NoSuchBucket' });
    expect(await sdkError(client.send(new PutBucketTaggingCommand({ Bucket: 'no-such-bucket-here', Tagging: { TagSet: [] } })))).toEqual({ status: 404, code: 'NoSuchBucket' });
    expect(await sdkError(client.send(new DeleteBucketTaggingCommand({ Bucket: 'no-such-bucket-here' })))).toEqual({ status: 404, code: 'NoSuchBucket' });
    const malformed = await signedSend('PUT', `/${taggedBucket}`, { query: [['tagging', '']], body: Buffer.from('<Tagging><TagSet><Tag><Value>v</Value></Tag></TagSet></Tagging>') });
    expect([malformed.status, errorCode(malformed)]).toEqual([400, 'MalformedXML']);
    await client.send(new PutBucketTaggingCommand({ Bucket: taggedBucket, Tagging: { TagSet: [{ Key: 'a', Value: 'b' }] } }));
    await client.send(new DeleteBucketCommand({ Bucket: taggedBucket }));
    await client.send(new CreateBucketCommand({ Bucket: taggedBucket }));
    expect(await sdkError(client.send(new GetBucketTaggingCommand({ Bucket: taggedBucket })))).toEqual({ status: 404, code: 'NoSuchTagSet' });
  });
});

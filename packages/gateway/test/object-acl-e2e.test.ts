/**
 * Goal: object ACLs as S3 clients use them. Grants to access keys by id on PutObject, CopyObject,
 * CreateMultipartUpload (x-amz-grant-* headers) and PutObjectAcl (headers or an
 * AccessControlPolicy body) are kept with the object version exactly as given (an ACL may name
 * one key five times, or be empty): READ lets a key without any bucket grant read (and copy
 * from) that one object, READ_ACP read its ACL, WRITE_ACP replace it; a copy starts without its
 * source's grants; tagging changes keep them; a bucket policy's Deny still wins; a grant naming a
 * key that does not exist is InvalidArgument and nothing is written (a lower-cased key id names
 * the key); public grants stay NotImplemented. Objects belong to the key that wrote them (copies
 * and multipart uploads too): it reads them and their ACL, the bucket's owner may not read that
 * ACL unless granted (bucket-owner-read / -full-control), but still reads and deletes the data;
 * listings name each object's owner.
 * Method: a real gateway over the in-memory backend with three non-root access keys, driven by
 * @aws-sdk/client-s3 (one client per key) and @aws-sdk/lib-storage for a multipart upload;
 * bodies compared by SHA-256.
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  CopyObjectCommand, CreateBucketCommand, DeleteObjectCommand, GetObjectAclCommand, GetObjectCommand, ListObjectVersionsCommand, ListObjectsV2Command,
  PutBucketAclCommand, PutBucketPolicyCommand, PutObjectAclCommand, PutObjectCommand, PutObjectTaggingCommand, S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { s3StatusAndName } from './support/s3-error-of';
import { nonRootKey, startTestGateway, testRegion } from './support/test-gateway';
import type { TestGateway } from './support/test-gateway';

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');
const ownerKey = nonRootKey('TKOBJACLOWNER0000001');
const bobKey = nonRootKey('TKOBJACLBOB000000001');
const carolKey = nonRootKey('TKOBJACLCAROL0000001');
const bucket = 'object-acl-e2e';
const body = randomBytes(200 * 1024);

let gateway: TestGateway;
let owner: S3Client;
let bob: S3Client;
let carol: S3Client;

const clientOf = (key: { accessKeyId: string; secretAccessKey: string }): S3Client =>
  new S3Client({ endpoint: gateway.endpoint, region: testRegion, forcePathStyle: true, credentials: key, maxAttempts: 1 });

beforeAll(async () => {
  gateway = await startTestGateway({ moreKeys: [ownerKey, bobKey, carolKey] });
  [owner, bob, carol] = [clientOf(ownerKey), clientOf(bobKey), clientOf(carolKey)];
  await owner.send(new CreateBucketCommand({ Bucket: bucket }));
});
afterAll(async () => {
  for (const client of [owner, bob, carol]) client.destroy();
  await gateway.stop();
});

/** The body's SHA-256, or the S3 error as [status, name]. */
async function read(client: S3Client, key: string): Promise<string | [number | undefined, string]> {
  const got = client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const response = await got.catch(() => undefined);
  return response === undefined ? s3StatusAndName(got) : sha256(await response.Body!.transformToByteArray());
}

async function aclOf(client: S3Client, key: string): Promise<string[]> {
  const acl = await client.send(new GetObjectAclCommand({ Bucket: bucket, Key: key }));
  return (acl.Grants ?? []).map((grant) => `${grant.Grantee?.ID}:${grant.Permission}`);
}

test('a READ grant on PutObject lets that key read that object only; READ_ACP and WRITE_ACP govern the ACL itself', async () => {
  await owner.send(new PutObjectCommand({ Bucket: bucket, Key: 'shared.bin', Body: body, GrantRead: `id="${bobKey.accessKeyId}"` }));
  await owner.send(new PutObjectCommand({ Bucket: bucket, Key: 'private.bin', Body: body }));
  expect(await read(bob, 'shared.bin')).toBe(sha256(body));
  expect(await read(carol, 'shared.bin')).toEqual([403, 'AccessDenied']);
  expect(await read(bob, 'private.bin')).toEqual([403, 'AccessDenied']);
  expect(await s3StatusAndName(bob.send(new ListObjectsV2Command({ Bucket: bucket })))).toEqual([403, 'AccessDenied']);
  // Grant headers are the whole ACL, as in S3 (the owner keeps its own access to the ACL).
  expect(await aclOf(owner, 'shared.bin')).toEqual([`${bobKey.accessKeyId}:READ`]);
  // READ is not READ_ACP.
  expect(await s3StatusAndName(bob.send(new GetObjectAclCommand({ Bucket: bucket, Key: 'shared.bin' })))).toEqual([403, 'AccessDenied']);

  await owner.send(new PutObjectAclCommand({
    Bucket: bucket,
    Key: 'shared.bin',
    AccessControlPolicy: {
      Owner: { ID: ownerKey.accessKeyId },
      Grants: [
        { Grantee: { Type: 'CanonicalUser', ID: ownerKey.accessKeyId }, Permission: 'FULL_CONTROL' },
        { Grantee: { Type: 'CanonicalUser', ID: bobKey.accessKeyId }, Permission: 'READ' },
        { Grantee: { Type: 'CanonicalUser', ID: bobKey.accessKeyId }, Permission: 'READ_ACP' },
        { Grantee: { Type: 'CanonicalUser', ID: carolKey.accessKeyId }, Permission: 'WRITE_ACP' },
      ],
    },
  }));
  expect(await aclOf(bob, 'shared.bin')).toEqual([`${ownerKey.accessKeyId}:FULL_CONTROL`, `${bobKey.accessKeyId}:READ`, `${bobKey.accessKeyId}:READ_ACP`, `${carolKey.accessKeyId}:WRITE_ACP`]);
  expect(await s3StatusAndName(bob.send(new PutObjectAclCommand({ Bucket: bucket, Key: 'shared.bin', ACL: 'private' })))).toEqual([403, 'AccessDenied']);
  // WRITE_ACP replaces the whole ACL: carol makes it private again, and bob's read is gone.
  expect(await read(carol, 'shared.bin')).toEqual([403, 'AccessDenied']);
  await carol.send(new PutObjectAclCommand({ Bucket: bucket, Key: 'shared.bin', ACL: 'private' }));
  expect(await aclOf(owner, 'shared.bin')).toEqual([`${ownerKey.accessKeyId}:FULL_CONTROL`]);
  expect(await read(bob, 'shared.bin')).toEqual([403, 'AccessDenied']);
  expect(await read(owner, 'shared.bin')).toBe(sha256(body));
});

test('grants stay through tagging changes; a copy starts without its source\'s grants; a multipart upload keeps those it started with', async () => {
  await owner.send(new PutObjectCommand({ Bucket: bucket, Key: 'tagged.bin', Body: body, GrantFullControl: `id="${bobKey.accessKeyId}"` }));
  await owner.send(new PutObjectTaggingCommand({ Bucket: bucket, Key: 'tagged.bin', Tagging: { TagSet: [{ Key: 'k', Value: 'v' }] } }));
  expect(await aclOf(owner, 'tagged.bin')).toEqual([`${bobKey.accessKeyId}:FULL_CONTROL`]);
  expect(await read(bob, 'tagged.bin')).toBe(sha256(body));

  // A copy: private unless its own request grants; READ on the source is enough to be copied from.
  await owner.send(new CopyObjectCommand({ Bucket: bucket, Key: 'copy.bin', CopySource: `${bucket}/tagged.bin` }));
  expect(await aclOf(owner, 'copy.bin')).toEqual([`${ownerKey.accessKeyId}:FULL_CONTROL`]);
  expect(await read(bob, 'copy.bin')).toEqual([403, 'AccessDenied']);
  await owner.send(new CopyObjectCommand({ Bucket: bucket, Key: 'copy-for-carol.bin', CopySource: `${bucket}/tagged.bin`, GrantRead: `id="${carolKey.accessKeyId}"` }));
  expect(await read(carol, 'copy-for-carol.bin')).toBe(sha256(body));

  const big = randomBytes(11 * 1024 * 1024);
  const upload = new Upload({ client: owner, params: { Bucket: bucket, Key: 'multipart.bin', Body: big, GrantRead: `id="${carolKey.accessKeyId}"` }, partSize: 5 * 1024 * 1024, queueSize: 2 });
  await upload.done();
  expect(await read(carol, 'multipart.bin')).toBe(sha256(big));
  expect(await read(bob, 'multipart.bin')).toEqual([403, 'AccessDenied']);
});

test('a policy Deny beats an object grant; unknown grantees and public grants write nothing', async () => {
  await owner.send(new PutObjectCommand({ Bucket: bucket, Key: 'denied.bin', Body: body, GrantRead: `id="${bobKey.accessKeyId}"` }));
  expect(await read(bob, 'denied.bin')).toBe(sha256(body));
  await owner.send(new PutBucketPolicyCommand({
    Bucket: bucket,
    Policy: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Deny', Principal: { AWS: bobKey.accessKeyId }, Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/denied.bin` }] }),
  }));
  expect(await read(bob, 'denied.bin')).toEqual([403, 'AccessDenied']);

  expect(await s3StatusAndName(owner.send(new PutObjectCommand({ Bucket: bucket, Key: 'nobody.bin', Body: body, GrantRead: 'id="TKNOSUCHKEY000000001"' })))).toEqual([400, 'InvalidArgument']);
  expect(await read(owner, 'nobody.bin')).toEqual([404, 'NoSuchKey']);
  const allUsers = 'uri="http://acs.amazonaws.com/groups/global/AllUsers"';
  expect(await s3StatusAndName(owner.send(new PutObjectCommand({ Bucket: bucket, Key: 'public.bin', Body: body, GrantRead: allUsers })))).toEqual([501, 'NotImplemented']);
  expect(await s3StatusAndName(owner.send(new PutObjectAclCommand({ Bucket: bucket, Key: 'denied.bin', GrantRead: 'id="TKNOSUCHKEY000000001"' })))).toEqual([400, 'InvalidArgument']);
  expect(await aclOf(owner, 'denied.bin')).toEqual([`${bobKey.accessKeyId}:READ`]);
  // A lower-cased id (s3cmd writes canonical ids so) names the key, and one key twice is one grant.
  await owner.send(new PutObjectAclCommand({
    Bucket: bucket, Key: 'denied.bin', GrantRead: `id="${carolKey.accessKeyId.toLowerCase()}", id="${carolKey.accessKeyId}"`, GrantFullControl: `id="${ownerKey.accessKeyId.toLowerCase()}"`,
  }));
  expect(await aclOf(owner, 'denied.bin')).toEqual([`${carolKey.accessKeyId}:READ`, `${ownerKey.accessKeyId}:FULL_CONTROL`]);
});

test('the ACL is kept exactly as given: one key may hold all five permissions, and an ACL may leave its owner out', async () => {
  const everything = `id="${bobKey.accessKeyId}"`;
  await owner.send(new PutObjectCommand({ Bucket: bucket, Key: 'five.bin', Body: body }));
  await owner.send(new PutObjectAclCommand({
    Bucket: bucket, Key: 'five.bin', GrantRead: everything, GrantWrite: everything, GrantReadACP: everything, GrantWriteACP: everything, GrantFullControl: everything,
  }));
  expect((await aclOf(owner, 'five.bin')).sort()).toEqual(['READ', 'READ_ACP', 'WRITE', 'WRITE_ACP', 'FULL_CONTROL'].map((permission) => `${bobKey.accessKeyId}:${permission}`).sort());
  // Revoking everything leaves an empty ACL; the owner may still read and replace it.
  await owner.send(new PutObjectAclCommand({ Bucket: bucket, Key: 'five.bin', AccessControlPolicy: { Owner: { ID: ownerKey.accessKeyId }, Grants: [] } }));
  expect(await aclOf(owner, 'five.bin')).toEqual([]);
  expect(await read(bob, 'five.bin')).toEqual([403, 'AccessDenied']);
  await owner.send(new PutObjectAclCommand({ Bucket: bucket, Key: 'five.bin', ACL: 'private' }));
  expect(await aclOf(owner, 'five.bin')).toEqual([`${ownerKey.accessKeyId}:FULL_CONTROL`]);
});

describe('objects belong to the key that wrote them (ObjectWriter, the default)', () => {
  const shared = 'object-acl-writers';
  let writerOwned: string;

  beforeAll(async () => {
    await owner.send(new CreateBucketCommand({ Bucket: shared }));
    // bob may write here, and nothing else: no read, no ACL access.
    await owner.send(new PutBucketAclCommand({ Bucket: shared, GrantWrite: `id="${bobKey.accessKeyId}"` }));
    writerOwned = 'by-bob.bin';
    await bob.send(new PutObjectCommand({ Bucket: shared, Key: writerOwned, Body: body }));
  });

  const aclIn = async (client: S3Client, key: string): Promise<{ owner: string | undefined; grants: string[] }> => {
    const acl = await client.send(new GetObjectAclCommand({ Bucket: shared, Key: key }));
    return { owner: acl.Owner?.ID, grants: (acl.Grants ?? []).map((grant) => `${grant.Grantee?.ID}:${grant.Permission}`) };
  };
  const readIn = async (client: S3Client, key: string): Promise<string | [number | undefined, string]> => {
    const got = client.send(new GetObjectCommand({ Bucket: shared, Key: key }));
    const response = await got.catch(() => undefined);
    return response === undefined ? s3StatusAndName(got) : sha256(await response.Body!.transformToByteArray());
  };

  test('the writer owns it: reads it and its ACL, which the bucket owner may not (but may still read and delete the data)', async () => {
    expect(await aclIn(bob, writerOwned)).toEqual({ owner: bobKey.accessKeyId, grants: [`${bobKey.accessKeyId}:FULL_CONTROL`] });
    expect(await readIn(bob, writerOwned)).toBe(sha256(body));
    expect(await s3StatusAndName(owner.send(new GetObjectAclCommand({ Bucket: shared, Key: writerOwned })))).toEqual([403, 'AccessDenied']);
    expect(await s3StatusAndName(owner.send(new PutObjectAclCommand({ Bucket: shared, Key: writerOwned, ACL: 'private' })))).toEqual([403, 'AccessDenied']);
    expect(await readIn(owner, writerOwned)).toBe(sha256(body));
    // Listings name each object's owner.
    await owner.send(new PutObjectCommand({ Bucket: shared, Key: 'by-owner.bin', Body: body }));
    const listed = await owner.send(new ListObjectsV2Command({ Bucket: shared, FetchOwner: true }));
    expect(listed.Contents?.map((entry) => `${entry.Key}:${entry.Owner?.ID}`)).toEqual([`by-bob.bin:${bobKey.accessKeyId}`, `by-owner.bin:${ownerKey.accessKeyId}`]);
    const versions = await owner.send(new ListObjectVersionsCommand({ Bucket: shared }));
    expect(versions.Versions?.map((entry) => `${entry.Key}:${entry.Owner?.ID}`)).toEqual([`by-bob.bin:${bobKey.accessKeyId}`, `by-owner.bin:${ownerKey.accessKeyId}`]);
    // The writer's ACL is its own to give: a grant lets the bucket owner read it.
    await bob.send(new PutObjectAclCommand({ Bucket: shared, Key: writerOwned, GrantFullControl: `id="${bobKey.accessKeyId}"`, GrantReadACP: `id="${ownerKey.accessKeyId}"` }));
    const granted = await aclIn(owner, writerOwned);
    expect([granted.owner, ...granted.grants.sort()]).toEqual([bobKey.accessKeyId, `${bobKey.accessKeyId}:FULL_CONTROL`, `${ownerKey.accessKeyId}:READ_ACP`]);
    await owner.send(new DeleteObjectCommand({ Bucket: shared, Key: writerOwned }));
    expect(await readIn(owner, writerOwned)).toEqual([404, 'NoSuchKey']);
  });

  test('bucket-owner-read and bucket-owner-full-control name both owners; the owner of a copy or an upload is who made it', async () => {
    await bob.send(new PutObjectCommand({ Bucket: shared, Key: 'owner-read.bin', Body: body, ACL: 'bucket-owner-read' }));
    expect(await aclIn(bob, 'owner-read.bin')).toEqual({ owner: bobKey.accessKeyId, grants: [`${bobKey.accessKeyId}:FULL_CONTROL`, `${ownerKey.accessKeyId}:READ`] });
    expect(await s3StatusAndName(owner.send(new GetObjectAclCommand({ Bucket: shared, Key: 'owner-read.bin' })))).toEqual([403, 'AccessDenied']);
    await bob.send(new PutObjectCommand({ Bucket: shared, Key: 'owner-full.bin', Body: body, ACL: 'bucket-owner-full-control' }));
    expect(await aclIn(owner, 'owner-full.bin')).toEqual({ owner: bobKey.accessKeyId, grants: [`${bobKey.accessKeyId}:FULL_CONTROL`, `${ownerKey.accessKeyId}:FULL_CONTROL`] });
    // The bucket owner's own bucket-owner-* ACL is just its FULL_CONTROL.
    await owner.send(new PutObjectCommand({ Bucket: shared, Key: 'owner-own.bin', Body: body, ACL: 'bucket-owner-read' }));
    expect(await aclIn(owner, 'owner-own.bin')).toEqual({ owner: ownerKey.accessKeyId, grants: [`${ownerKey.accessKeyId}:FULL_CONTROL`] });

    // bob copies the owner's object (it may read it through a grant): bob owns the copy.
    await owner.send(new PutObjectAclCommand({ Bucket: shared, Key: 'owner-own.bin', GrantRead: `id="${bobKey.accessKeyId}"` }));
    await bob.send(new CopyObjectCommand({ Bucket: shared, Key: 'bob-copy.bin', CopySource: `${shared}/owner-own.bin` }));
    expect((await aclIn(bob, 'bob-copy.bin')).owner).toBe(bobKey.accessKeyId);
    expect(await readIn(bob, 'bob-copy.bin')).toBe(sha256(body));

    const big = randomBytes(6 * 1024 * 1024);
    await new Upload({ client: bob, params: { Bucket: shared, Key: 'bob-multipart.bin', Body: big }, partSize: 5 * 1024 * 1024, queueSize: 1 }).done();
    expect(await aclIn(bob, 'bob-multipart.bin')).toEqual({ owner: bobKey.accessKeyId, grants: [`${bobKey.accessKeyId}:FULL_CONTROL`] });
    expect(await readIn(bob, 'bob-multipart.bin')).toBe(sha256(big));
  });
});

/**
 * Goal: access keys other than root work end to end on a real cluster, as a team sharing one
 * store needs them: a key owns the buckets it creates and sees only those (and buckets it was
 * granted) in ListBuckets, while root sees all; another key's bucket name is BucketAlreadyExists;
 * a key without a grant is refused (403) on reads, writes and copies; a read grant allows GET,
 * listings and presigned URLs but no writes; a write grant allows writes but no bucket settings;
 * a key made without bucket creation cannot create one; a deleted key stops working;
 * x-amz-expected-bucket-owner is checked; an owner shares a bucket with PutBucketAcl too, and
 * with a bucket policy, stored in the Raft catalogue; a policy's `s3:ExistingObjectTag` reads the
 * tags of the version a request names from the catalogue (a delete marker has none); object ACL
 * grants are kept with the version (multipart, tagging changes) and decide reads of that object;
 * objects belong to the key that wrote (or copied) them, whose ACL the bucket's owner reads only
 * when granted, and an empty ACL stays empty.
 * Method: the in-process cluster fixture (3 metadata nodes, 9 storage nodes, the real gateway)
 * with keys created through the metadata service as `tessera key` does, driven by
 * @aws-sdk/client-s3 clients signing with each key; bodies compared by SHA-256. Grants reach the
 * gateway within its bucket cache TTL (5 s): the tests poll for them.
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  AbortMultipartUploadCommand, CopyObjectCommand, CreateBucketCommand, DeleteBucketOwnershipControlsCommand, DeleteBucketPolicyCommand, DeletePublicAccessBlockCommand, PutBucketOwnershipControlsCommand, GetBucketPolicyCommand, PutBucketPolicyCommand, PutPublicAccessBlockCommand, CreateMultipartUploadCommand, ListMultipartUploadsCommand, ListPartsCommand, DeleteBucketCommand, DeleteObjectCommand, GetBucketAclCommand, GetObjectCommand, PutBucketAclCommand, ListBucketsCommand, ListObjectsV2Command, PutBucketVersioningCommand,
  PutObjectCommand, S3Client, UploadPartCommand, CompleteMultipartUploadCommand, GetObjectAclCommand, PutObjectAclCommand, PutObjectTaggingCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { s3ErrorOf, s3StatusAndName } from '../support/s3-error-of';
import { startTestCluster, waitFor } from './cluster-fixture';
import type { TestCluster } from './cluster-fixture';

jest.setTimeout(120_000);

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');
let cluster: TestCluster;
let alice: { client: S3Client; accessKeyId: string };
let bob: { client: S3Client; accessKeyId: string };
const body = randomBytes(300 * 1024);

function clientFor(accessKeyId: string, secretAccessKey: string): S3Client {
  return new S3Client({ endpoint: cluster.gateway.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId, secretAccessKey } });
}

const errorOf = s3StatusAndName;

/** The body's SHA-256 (read whole) or the S3 error's name. */
async function outcomeOfGet(client: S3Client, bucketName: string, key: string): Promise<string> {
  try {
    const response = await client.send(new GetObjectCommand({ Bucket: bucketName, Key: key }));
    return sha256(await response.Body!.transformToByteArray());
  } catch (error) {
    return (error as Error).name;
  }
}

/** Retries `call` until it succeeds: a grant reaches the gateway within its bucket cache TTL. */
async function once<T>(what: string, call: () => Promise<T>): Promise<T> {
  return waitFor(what, async () => call().catch(() => undefined), 15_000);
}

beforeAll(async () => {
  cluster = await startTestCluster();
  const a = await cluster.metadata.createAccessKey({ name: 'alice', canCreateBuckets: true, accessKeyId: '', secretAccessKey: '' });
  const b = await cluster.metadata.createAccessKey({ name: 'bob', canCreateBuckets: false, accessKeyId: '', secretAccessKey: '' });
  alice = { client: clientFor(a.accessKeyId, a.secretAccessKey), accessKeyId: a.accessKeyId };
  bob = { client: clientFor(b.accessKeyId, b.secretAccessKey), accessKeyId: b.accessKeyId };
  await cluster.s3.send(new CreateBucketCommand({ Bucket: 'root-private' }));
  await cluster.s3.send(new PutObjectCommand({ Bucket: 'root-private', Key: 'secret', Body: body }));
  await alice.client.send(new CreateBucketCommand({ Bucket: 'alice-data' }));
  await alice.client.send(new PutObjectCommand({ Bucket: 'alice-data', Key: 'report.bin', Body: body }));
  await alice.client.send(new CreateBucketCommand({ Bucket: 'alice-drop' }));
});

afterAll(async () => {
  alice?.client.destroy();
  bob?.client.destroy();
  await cluster?.stop();
});

test('a key owns what it creates and lists only that; root lists everything; names are shared', async () => {
  const names = async (client: S3Client): Promise<string[]> => ((await client.send(new ListBucketsCommand({}))).Buckets ?? []).map((b) => b.Name ?? '');
  expect(await names(alice.client)).toEqual(['alice-data', 'alice-drop']);
  expect(await names(cluster.s3)).toEqual(['alice-data', 'alice-drop', 'root-private']);
  expect(await names(bob.client)).toEqual([]);
  expect(await errorOf(alice.client.send(new CreateBucketCommand({ Bucket: 'root-private' })))).toEqual([409, 'BucketAlreadyExists']);
  expect(await errorOf(cluster.s3.send(new CreateBucketCommand({ Bucket: 'alice-data' })))).toEqual([409, 'BucketAlreadyExists']);
  expect(await errorOf(bob.client.send(new CreateBucketCommand({ Bucket: 'bob-wants-one' })))).toEqual([403, 'AccessDenied']);
  // The owner is the key, in listings as in the catalogue; root reads every bucket.
  const listed = await cluster.s3.send(new ListObjectsV2Command({ Bucket: 'alice-data', FetchOwner: true }));
  expect(listed.Contents?.map((c) => [c.Key, c.Owner?.ID])).toEqual([['report.bin', alice.accessKeyId]]);
  expect((await cluster.metadata.headBucket('alice-data')).owner).toBe(alice.accessKeyId);
  expect(await errorOf(alice.client.send(new GetObjectCommand({ Bucket: 'root-private', Key: 'secret' })))).toEqual([403, 'AccessDenied']);
  expect(await errorOf(alice.client.send(new ListObjectsV2Command({ Bucket: 'root-private' })))).toEqual([403, 'AccessDenied']);
  // x-amz-expected-bucket-owner: the owner a client expects, else 403 (for root too).
  expect((await cluster.s3.send(new ListObjectsV2Command({ Bucket: 'alice-data', ExpectedBucketOwner: alice.accessKeyId }))).KeyCount).toBe(1);
  expect(await errorOf(cluster.s3.send(new ListObjectsV2Command({ Bucket: 'alice-data', ExpectedBucketOwner: 'TKSOMEONEELSE' })))).toEqual([403, 'AccessDenied']);
  expect(await errorOf(alice.client.send(new CopyObjectCommand({
    Bucket: 'alice-drop', Key: 'c', CopySource: 'alice-data/report.bin', ExpectedSourceBucketOwner: 'TKSOMEONEELSE',
  })))).toEqual([403, 'AccessDenied']);
  // A bucket that does not exist is still NoSuchBucket.
  expect(await errorOf(alice.client.send(new GetObjectCommand({ Bucket: 'nobody-has-this', Key: 'k' })))).toEqual([404, 'NoSuchBucket']);
});

test('a read grant allows GET, listings and presigned URLs, not writes; a write grant allows writes and copies from readable sources only', async () => {
  expect(await errorOf(bob.client.send(new GetObjectCommand({ Bucket: 'alice-data', Key: 'report.bin' })))).toEqual([403, 'AccessDenied']);
  await cluster.metadata.setBucketGrant('alice-data', bob.accessKeyId, { read: true, write: false });
  const got = await once('bob reads alice-data', () => bob.client.send(new GetObjectCommand({ Bucket: 'alice-data', Key: 'report.bin' })));
  expect(sha256(await got.Body!.transformToByteArray())).toBe(sha256(body));
  expect((await bob.client.send(new ListObjectsV2Command({ Bucket: 'alice-data' }))).KeyCount).toBe(1);
  expect(((await bob.client.send(new ListBucketsCommand({}))).Buckets ?? []).map((b) => b.Name)).toEqual(['alice-data']);
  const url = await getSignedUrl(bob.client, new GetObjectCommand({ Bucket: 'alice-data', Key: 'report.bin' }), { expiresIn: 300 });
  const fetched = await fetch(url);
  expect([fetched.status, sha256(new Uint8Array(await fetched.arrayBuffer()))]).toEqual([200, sha256(body)]);
  expect(await errorOf(bob.client.send(new PutObjectCommand({ Bucket: 'alice-data', Key: 'by-bob', Body: 'x' })))).toEqual([403, 'AccessDenied']);

  await cluster.metadata.setBucketGrant('alice-drop', bob.accessKeyId, { read: false, write: true });
  await once('bob writes alice-drop', () => bob.client.send(new PutObjectCommand({ Bucket: 'alice-drop', Key: 'probe', Body: 'x' })));
  await bob.client.send(new PutObjectCommand({ Bucket: 'alice-drop', Key: 'by-bob', Body: body }));
  // Write only: bob reads back what it wrote (it owns that), nothing else, and changes no bucket settings.
  expect(await outcomeOfGet(bob.client, 'alice-drop', 'by-bob')).toBe(sha256(body));
  await alice.client.send(new PutObjectCommand({ Bucket: 'alice-drop', Key: 'by-alice', Body: body }));
  expect(await errorOf(bob.client.send(new GetObjectCommand({ Bucket: 'alice-drop', Key: 'by-alice' })))).toEqual([403, 'AccessDenied']);
  expect(await errorOf(bob.client.send(new PutBucketVersioningCommand({ Bucket: 'alice-drop', VersioningConfiguration: { Status: 'Enabled' } })))).toEqual([403, 'AccessDenied']);
  expect(await errorOf(bob.client.send(new DeleteBucketCommand({ Bucket: 'alice-drop' })))).toEqual([403, 'AccessDenied']);
  // A server-side copy needs read on its source as well as write on its target.
  await bob.client.send(new CopyObjectCommand({ Bucket: 'alice-drop', Key: 'copied', CopySource: 'alice-data/report.bin' }));
  const copied = await alice.client.send(new GetObjectCommand({ Bucket: 'alice-drop', Key: 'copied' }));
  expect(sha256(await copied.Body!.transformToByteArray())).toBe(sha256(body));
  expect(await errorOf(bob.client.send(new CopyObjectCommand({ Bucket: 'alice-drop', Key: 'stolen', CopySource: 'root-private/secret' })))).toEqual([403, 'AccessDenied']);
  const mine = await alice.client.send(new GetObjectCommand({ Bucket: 'alice-drop', Key: 'by-bob' }));
  expect(sha256(await mine.Body!.transformToByteArray())).toBe(sha256(body));
  // A multipart upload names the key that started it as Initiator and Owner, not the bucket's owner.
  const started = await bob.client.send(new CreateMultipartUploadCommand({ Bucket: 'alice-drop', Key: 'mp-by-bob' }));
  const listed = (await alice.client.send(new ListMultipartUploadsCommand({ Bucket: 'alice-drop' }))).Uploads?.find((u) => u.UploadId === started.UploadId);
  expect([listed?.Initiator?.ID, listed?.Owner?.ID]).toEqual([bob.accessKeyId, bob.accessKeyId]);
  const parts = await alice.client.send(new ListPartsCommand({ Bucket: 'alice-drop', Key: 'mp-by-bob', UploadId: started.UploadId }));
  expect([parts.Initiator?.ID, parts.Owner?.ID]).toEqual([bob.accessKeyId, bob.accessKeyId]);
  await bob.client.send(new AbortMultipartUploadCommand({ Bucket: 'alice-drop', Key: 'mp-by-bob', UploadId: started.UploadId }));

  // Taking the grant back closes the door again.
  await cluster.metadata.setBucketGrant('alice-data', bob.accessKeyId, { read: false, write: false });
  await waitFor('bob refused again', async () => ((await outcomeOfGet(bob.client, 'alice-data', 'report.bin')) === 'AccessDenied' ? true : undefined), 15_000);
});

test('the owner shares a bucket with PutBucketAcl (READ, then READ_ACP and WRITE_ACP to a key id) and sees it in GetBucketAcl; unknown ids are InvalidArgument', async () => {
  expect(await outcomeOfGet(bob.client, 'alice-data', 'report.bin')).toBe('AccessDenied');
  await alice.client.send(new PutBucketAclCommand({ Bucket: 'alice-data', GrantRead: `id="${bob.accessKeyId}"` }));
  // Set through this gateway: it applies at once.
  expect(await outcomeOfGet(bob.client, 'alice-data', 'report.bin')).toBe(sha256(body));
  const acl = await alice.client.send(new GetBucketAclCommand({ Bucket: 'alice-data' }));
  // The ACL as stated (the catalogue keeps it with the grants); the owner keeps every permission.
  expect([acl.Owner?.ID, ...(acl.Grants ?? []).map((grant) => `${grant.Grantee?.ID}:${grant.Permission}`)]).toEqual([alice.accessKeyId, `${bob.accessKeyId}:READ`]);
  expect((await cluster.metadata.headBucket('alice-data')).exactAcl?.grants).toEqual([{ accessKeyId: bob.accessKeyId, permission: 'READ' }]);
  expect((await cluster.metadata.headBucket('alice-data')).grants).toEqual([{ accessKeyId: bob.accessKeyId, read: true, write: false, readAcp: false, writeAcp: false }]);
  expect(await errorOf(alice.client.send(new PutBucketAclCommand({ Bucket: 'alice-data', GrantRead: 'id="TKNOSUCHKEY"' })))).toEqual([400, 'InvalidArgument']);
  // READ is not READ_ACP: the ACL itself is read with READ_ACP and changed with WRITE_ACP (or by the owner).
  expect(await errorOf(bob.client.send(new GetBucketAclCommand({ Bucket: 'alice-data' })))).toEqual([403, 'AccessDenied']);
  expect(await errorOf(bob.client.send(new PutBucketAclCommand({ Bucket: 'alice-data', ACL: 'private' })))).toEqual([403, 'AccessDenied']);
  await alice.client.send(new PutBucketAclCommand({ Bucket: 'alice-data', GrantRead: `id="${bob.accessKeyId}"`, GrantReadACP: `id="${bob.accessKeyId}"` }));
  const seenByBob = await bob.client.send(new GetBucketAclCommand({ Bucket: 'alice-data' }));
  expect(seenByBob.Grants?.map((grant) => `${grant.Grantee?.ID}:${grant.Permission}`).sort()).toEqual([`${bob.accessKeyId}:READ`, `${bob.accessKeyId}:READ_ACP`]);
  // A grant changed another way (tessera key allow) drops the stated ACL: GetBucketAcl shows the grants.
  await cluster.metadata.setBucketGrant('alice-data', bob.accessKeyId, { read: true, write: false, readAcp: true });
  expect((await cluster.metadata.headBucket('alice-data')).exactAcl).toBeNull();
  expect(await errorOf(bob.client.send(new PutBucketAclCommand({ Bucket: 'alice-data', ACL: 'private' })))).toEqual([403, 'AccessDenied']);
  await alice.client.send(new PutBucketAclCommand({ Bucket: 'alice-data', GrantWriteACP: `id="${bob.accessKeyId}"` }));
  expect((await cluster.metadata.headBucket('alice-data')).grants).toEqual([{ accessKeyId: bob.accessKeyId, read: false, write: false, readAcp: false, writeAcp: true }]);
  // WRITE_ACP replaces the whole ACL, as in S3: here bob gives the bucket back to its owner alone.
  await bob.client.send(new PutBucketAclCommand({ Bucket: 'alice-data', ACL: 'private' }));
  expect((await cluster.metadata.headBucket('alice-data')).grants).toEqual([]);
  expect(await errorOf(bob.client.send(new PutBucketAclCommand({ Bucket: 'alice-data', ACL: 'private' })))).toEqual([403, 'AccessDenied']);
  expect(await outcomeOfGet(bob.client, 'alice-data', 'report.bin')).toBe('AccessDenied');
});

test('a bucket policy lets a key read without a grant, lives in the catalogue with the public access block and ownership controls, names only existing keys', async () => {
  const policy = JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: { AWS: [bob.accessKeyId] }, Action: 's3:GetObject', Resource: 'arn:aws:s3:::alice-data/report*' }],
  });
  expect(await outcomeOfGet(bob.client, 'alice-data', 'report.bin')).toBe('AccessDenied');
  await alice.client.send(new PutBucketPolicyCommand({ Bucket: 'alice-data', Policy: policy }));
  expect(await outcomeOfGet(bob.client, 'alice-data', 'report.bin')).toBe(sha256(body));
  expect((await cluster.metadata.headBucket('alice-data')).policy).toBe(policy);
  expect((await alice.client.send(new GetBucketPolicyCommand({ Bucket: 'alice-data' }))).Policy).toBe(policy);
  // The Allow names GetObject on report* only: no writes, no other keys, no listing.
  expect(await errorOf(bob.client.send(new PutObjectCommand({ Bucket: 'alice-data', Key: 'report.bin', Body: 'x' })))).toEqual([403, 'AccessDenied']);
  expect(await errorOf(bob.client.send(new ListObjectsV2Command({ Bucket: 'alice-data' })))).toEqual([403, 'AccessDenied']);
  const unknownKey = policy.replace(bob.accessKeyId, 'TKNOSUCHKEY000000001');
  expect(await errorOf(alice.client.send(new PutBucketPolicyCommand({ Bucket: 'alice-data', Policy: unknownKey })))).toEqual([400, 'MalformedPolicy']);
  await alice.client.send(new DeleteBucketPolicyCommand({ Bucket: 'alice-data' }));
  expect(await outcomeOfGet(bob.client, 'alice-data', 'report.bin')).toBe('AccessDenied');
  expect((await cluster.metadata.headBucket('alice-data')).policy).toBe('');
  // A public access block lives in the catalogue too, and refuses a public policy.
  const block = { BlockPublicAcls: false, IgnorePublicAcls: false, BlockPublicPolicy: true, RestrictPublicBuckets: false };
  await alice.client.send(new PutPublicAccessBlockCommand({ Bucket: 'alice-data', PublicAccessBlockConfiguration: block }));
  expect((await cluster.metadata.headBucket('alice-data')).publicAccessBlock).toEqual({ blockPublicAcls: false, ignorePublicAcls: false, blockPublicPolicy: true, restrictPublicBuckets: false });
  expect(await errorOf(alice.client.send(new PutBucketPolicyCommand({ Bucket: 'alice-data', Policy: policy.replace(`["${bob.accessKeyId}"]`, '"*"') })))).toEqual([403, 'AccessDenied']);
  await alice.client.send(new DeletePublicAccessBlockCommand({ Bucket: 'alice-data' }));
  expect((await cluster.metadata.headBucket('alice-data')).publicAccessBlock).toBeNull();
  // ACLs disabled (BucketOwnerEnforced): no grant through S3 nor as \`tessera key allow\` makes one.
  await alice.client.send(new PutBucketOwnershipControlsCommand({ Bucket: 'alice-data', OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] } }));
  expect((await cluster.metadata.headBucket('alice-data')).objectOwnership).toBe('BucketOwnerEnforced');
  expect(await errorOf(alice.client.send(new PutBucketAclCommand({ Bucket: 'alice-data', GrantRead: `id="${bob.accessKeyId}"` })))).toEqual([400, 'AccessControlListNotSupported']);
  await expect(cluster.metadata.setBucketGrant('alice-data', bob.accessKeyId, { read: true, write: false })).rejects.toThrow(/ACLs disabled/);
  await alice.client.send(new DeleteBucketOwnershipControlsCommand({ Bucket: 'alice-data' }));
  expect((await cluster.metadata.headBucket('alice-data')).objectOwnership).toBe('');
});

test('a policy on object tags reads them from the catalogue: the current version, a named one, a delete marker', async () => {
  await alice.client.send(new CreateBucketCommand({ Bucket: 'alice-tagged' }));
  await alice.client.send(new PutBucketVersioningCommand({ Bucket: 'alice-tagged', VersioningConfiguration: { Status: 'Enabled' } }));
  const first = await alice.client.send(new PutObjectCommand({ Bucket: 'alice-tagged', Key: 'doc', Body: body, Tagging: 'security=public' }));
  await alice.client.send(new PutObjectCommand({ Bucket: 'alice-tagged', Key: 'doc', Body: 'second', Tagging: 'security=private' }));
  await alice.client.send(new PutBucketPolicyCommand({
    Bucket: 'alice-tagged',
    Policy: JSON.stringify({
      Version: '2012-10-17',
      Statement: [{
        Effect: 'Allow', Principal: { AWS: bob.accessKeyId }, Action: ['s3:GetObject', 's3:GetObjectVersion'], Resource: 'arn:aws:s3:::alice-tagged/*',
        Condition: { StringEquals: { 's3:ExistingObjectTag/security': 'public' } },
      }],
    }),
  }));
  // The current version is tagged private; the first one, named by its id, public.
  expect(await outcomeOfGet(bob.client, 'alice-tagged', 'doc')).toBe('AccessDenied');
  const named = await bob.client.send(new GetObjectCommand({ Bucket: 'alice-tagged', Key: 'doc', VersionId: first.VersionId }));
  expect(sha256(await named.Body!.transformToByteArray())).toBe(sha256(body));
  // Behind a delete marker there are no tags to match: refused, not NoSuchKey.
  await alice.client.send(new PutObjectCommand({ Bucket: 'alice-tagged', Key: 'doc', Body: 'third', Tagging: 'security=public' }));
  expect(await outcomeOfGet(bob.client, 'alice-tagged', 'doc')).toBe(sha256(Buffer.from('third')));
  await alice.client.send(new DeleteObjectCommand({ Bucket: 'alice-tagged', Key: 'doc' }));
  expect(await outcomeOfGet(bob.client, 'alice-tagged', 'doc')).toBe('AccessDenied');
  expect(await outcomeOfGet(alice.client, 'alice-tagged', 'doc')).toBe('NoSuchKey');
});

test('object ACL grants live with the version in the catalogue: a multipart upload, a tagging change and PutObjectAcl keep or change them', async () => {
  await alice.client.send(new CreateBucketCommand({ Bucket: 'alice-objects' }));
  const upload = await alice.client.send(new CreateMultipartUploadCommand({ Bucket: 'alice-objects', Key: 'shared', GrantRead: `id="${bob.accessKeyId}"` }));
  const parts = [randomBytes(5 * 1024 * 1024), body];
  const etags: string[] = [];
  for (const [index, part] of parts.entries()) {
    etags.push((await alice.client.send(new UploadPartCommand({ Bucket: 'alice-objects', Key: 'shared', UploadId: upload.UploadId, PartNumber: index + 1, Body: part }))).ETag ?? '');
  }
  await alice.client.send(new CompleteMultipartUploadCommand({
    Bucket: 'alice-objects', Key: 'shared', UploadId: upload.UploadId, MultipartUpload: { Parts: etags.map((ETag, index) => ({ ETag, PartNumber: index + 1 })) },
  }));
  expect(await outcomeOfGet(bob.client, 'alice-objects', 'shared')).toBe(sha256(Buffer.concat(parts)));
  await alice.client.send(new PutObjectTaggingCommand({ Bucket: 'alice-objects', Key: 'shared', Tagging: { TagSet: [{ Key: 'team', Value: 'a' }] } }));
  const acl = await alice.client.send(new GetObjectAclCommand({ Bucket: 'alice-objects', Key: 'shared' }));
  // Grant headers are the whole ACL, as in S3.
  expect(acl.Grants?.map((grant) => [grant.Grantee?.ID, grant.Permission])).toEqual([[bob.accessKeyId, 'READ']]);
  expect(await outcomeOfGet(bob.client, 'alice-objects', 'shared')).toBe(sha256(Buffer.concat(parts)));
  // The grant is the object's, not the bucket's: nothing else in the bucket, and no listing.
  await alice.client.send(new PutObjectCommand({ Bucket: 'alice-objects', Key: 'other', Body: 'x' }));
  expect(await outcomeOfGet(bob.client, 'alice-objects', 'other')).toBe('AccessDenied');
  expect(await errorOf(bob.client.send(new ListObjectsV2Command({ Bucket: 'alice-objects' })))).toEqual([403, 'AccessDenied']);
  await alice.client.send(new PutObjectAclCommand({ Bucket: 'alice-objects', Key: 'shared', ACL: 'private' }));
  expect(await outcomeOfGet(bob.client, 'alice-objects', 'shared')).toBe('AccessDenied');
});

test('objects belong to their writer in the catalogue (s3-tests\' bucket policy cases): a grant header lets the bucket owner read the ACL, without one it may not; a copy is its copier\'s', async () => {
  const grantPolicy = (bucketName: string, condition?: Record<string, unknown>): string => JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: { AWS: '*' }, Action: 's3:PutObject', Resource: `arn:aws:s3:::${bucketName}/*`, ...(condition === undefined ? {} : { Condition: condition }) }],
  });
  await alice.client.send(new CreateBucketCommand({ Bucket: 'alice-grant-needed' }));
  await alice.client.send(new CreateBucketCommand({ Bucket: 'alice-open' }));
  await alice.client.send(new PutBucketPolicyCommand({
    Bucket: 'alice-grant-needed', Policy: grantPolicy('alice-grant-needed', { StringEquals: { 's3:x-amz-grant-full-control': `id=${alice.accessKeyId}` } }),
  }));
  await alice.client.send(new PutBucketPolicyCommand({ Bucket: 'alice-open', Policy: grantPolicy('alice-open') }));
  expect(await errorOf(bob.client.send(new PutObjectCommand({ Bucket: 'alice-grant-needed', Key: 'key1', Body: body })))).toEqual([403, 'AccessDenied']);
  await bob.client.send(new PutObjectCommand({ Bucket: 'alice-grant-needed', Key: 'key1', Body: body, GrantFullControl: `id=${alice.accessKeyId}` }));
  await bob.client.send(new PutObjectCommand({ Bucket: 'alice-open', Key: 'key2', Body: body }));

  const acl1 = await alice.client.send(new GetObjectAclCommand({ Bucket: 'alice-grant-needed', Key: 'key1' }));
  expect([acl1.Owner?.ID, ...(acl1.Grants ?? []).map((grant) => `${grant.Grantee?.ID}:${grant.Permission}`)]).toEqual([bob.accessKeyId, `${alice.accessKeyId}:FULL_CONTROL`]);
  expect(await errorOf(alice.client.send(new GetObjectAclCommand({ Bucket: 'alice-open', Key: 'key2' })))).toEqual([403, 'AccessDenied']);
  const acl2 = await bob.client.send(new GetObjectAclCommand({ Bucket: 'alice-open', Key: 'key2' }));
  expect([acl2.Owner?.ID, ...(acl2.Grants ?? []).map((grant) => `${grant.Grantee?.ID}:${grant.Permission}`)]).toEqual([bob.accessKeyId, `${bob.accessKeyId}:FULL_CONTROL`]);
  // The writer reads what it owns, though the bucket lets it only write; the bucket owner reads it too.
  expect(await outcomeOfGet(bob.client, 'alice-open', 'key2')).toBe(sha256(body));
  expect(await outcomeOfGet(alice.client, 'alice-open', 'key2')).toBe(sha256(body));
  const listed = await alice.client.send(new ListObjectsV2Command({ Bucket: 'alice-open', FetchOwner: true }));
  expect(listed.Contents?.map((entry) => entry.Owner?.ID)).toEqual([bob.accessKeyId]);

  // An owner reads the data only as its ACL says: key1's names alice alone.
  expect(await outcomeOfGet(bob.client, 'alice-grant-needed', 'key1')).toBe('AccessDenied');
  // A copy from an object bob may read is bob's; an empty ACL stays empty.
  await bob.client.send(new CopyObjectCommand({ Bucket: 'alice-open', Key: 'copied', CopySource: 'alice-open/key2' }));
  expect(await outcomeOfGet(bob.client, 'alice-open', 'copied')).toBe(sha256(body));
  await bob.client.send(new PutObjectAclCommand({ Bucket: 'alice-open', Key: 'copied', AccessControlPolicy: { Owner: { ID: bob.accessKeyId }, Grants: [] } }));
  expect((await bob.client.send(new GetObjectAclCommand({ Bucket: 'alice-open', Key: 'copied' }))).Grants ?? []).toEqual([]);
  expect(await outcomeOfGet(bob.client, 'alice-open', 'copied')).toBe('AccessDenied');
  // The bucket owner still deletes what others wrote (suites empty buckets so).
  for (const [bucketName, key] of [['alice-grant-needed', 'key1'], ['alice-open', 'key2'], ['alice-open', 'copied']] as const) {
    await alice.client.send(new DeleteObjectCommand({ Bucket: bucketName, Key: key }));
  }
  expect((await alice.client.send(new ListObjectsV2Command({ Bucket: 'alice-open' }))).KeyCount).toBe(0);
});

test('a deleted key stops working; a key that owns buckets is kept unless forced', async () => {
  await expect(cluster.metadata.deleteAccessKey(alice.accessKeyId)).rejects.toThrow(/owns buckets: alice-data, alice-drop/);
  await cluster.metadata.deleteAccessKey(bob.accessKeyId);
  await waitFor('bob refused', async () => {
    const error = await s3ErrorOf(bob.client.send(new ListBucketsCommand({}))).catch(() => undefined);
    return error?.name === 'InvalidAccessKeyId' ? true : undefined;
  }, 15_000);
  expect((await cluster.metadata.headBucket('alice-drop')).grants).toEqual([]);
  // Alice still works, and root reaches her buckets.
  expect((await alice.client.send(new ListObjectsV2Command({ Bucket: 'alice-drop' }))).Contents?.map((c) => c.Key)).toEqual(['by-alice', 'by-bob', 'copied', 'probe']);
  expect((await cluster.s3.send(new ListObjectsV2Command({ Bucket: 'alice-drop' }))).KeyCount).toBe(4);
});

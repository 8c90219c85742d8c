/**
 * Goal: bucket policies as S3 clients use them. The owner puts, reads and deletes a policy
 * (GetBucketPolicy answers the document as given, GetBucketPolicyStatus whether it is public);
 * an Allow lets a key without any grant read what it names and list with a prefix condition; a
 * Deny refuses even the owner, per object in DeleteObjects too; conditions on the client's
 * address and on the transport decide as the request's connection says; a policy that does not
 * parse, names another bucket's resources or an access key that does not exist is
 * MalformedPolicy and nothing is stored; only the owner handles the policy; deleting it takes
 * every effect back. A public access block is stored and read back; BlockPublicPolicy refuses a
 * public policy and RestrictPublicBuckets keeps a public policy's Allow from other keys. Tag
 * conditions (the s3-tests cases): `s3:ExistingObjectTag/<key>` reads the object's current tags
 * for reads and tagging changes, `s3:RequestObjectTag/<key>` the tags a PutObject (x-amz-tagging)
 * or a PutObjectTagging document sets; policy variables give each key its own home prefix.
 * Method: a real gateway over the in-memory backend with three non-root access keys, driven by
 * @aws-sdk/client-s3 (one client per key); bytes compared by SHA-256.
 */
import { createHash } from 'node:crypto';
import {
  CreateBucketCommand, DeleteBucketPolicyCommand, DeleteObjectCommand, DeleteObjectsCommand, DeletePublicAccessBlockCommand, GetBucketPolicyCommand, GetBucketPolicyStatusCommand,
  GetObjectCommand, GetObjectTaggingCommand, GetPublicAccessBlockCommand, HeadBucketCommand, ListBucketsCommand, ListObjectsV2Command, PutBucketAclCommand, PutBucketPolicyCommand, PutObjectCommand,
  PutObjectTaggingCommand, PutPublicAccessBlockCommand, S3Client,
} from '@aws-sdk/client-s3';
import { s3ErrorOf, s3StatusAndName } from './support/s3-error-of';
import { nonRootKey, startTestGateway, testRegion } from './support/test-gateway';
import type { TestGateway } from './support/test-gateway';

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');
const ownerKey = nonRootKey('TKPOLICYOWNER0000001');
const readerKey = nonRootKey('TKPOLICYREADER000001');
const strangerKey = nonRootKey('TKPOLICYSTRANGER0001');
const bucket = 'policy-e2e';
const publicBody = Buffer.from('readable by the policy\n'.repeat(100));
const privateBody = Buffer.from('only for the owner\n'.repeat(50));

let gateway: TestGateway;
let owner: S3Client;
let reader: S3Client;
let stranger: S3Client;

const clientOf = (key: { accessKeyId: string; secretAccessKey: string }): S3Client =>
  new S3Client({ endpoint: gateway.endpoint, region: testRegion, forcePathStyle: true, credentials: key, maxAttempts: 1 });

beforeAll(async () => {
  gateway = await startTestGateway({ moreKeys: [ownerKey, readerKey, strangerKey] });
  [owner, reader, stranger] = [clientOf(ownerKey), clientOf(readerKey), clientOf(strangerKey)];
  await owner.send(new CreateBucketCommand({ Bucket: bucket }));
  await owner.send(new PutObjectCommand({ Bucket: bucket, Key: 'public/a.txt', Body: publicBody }));
  await owner.send(new PutObjectCommand({ Bucket: bucket, Key: 'private/b.txt', Body: privateBody }));
  await owner.send(new PutObjectCommand({ Bucket: bucket, Key: 'locked/c.txt', Body: privateBody }));
});
afterAll(async () => {
  for (const client of [owner, reader, stranger]) client.destroy();
  await gateway.stop();
});

async function getSha(client: S3Client, key: string): Promise<string> {
  const response = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return sha256(await response.Body!.transformToByteArray());
}

const policyDocument = JSON.stringify({
  Version: '2012-10-17',
  Id: 'e2e',
  Statement: [
    { Sid: 'PublicRead', Effect: 'Allow', Principal: { AWS: [`arn:aws:iam::000000000000:user/${strangerKey.accessKeyId}`, readerKey.accessKeyId] }, Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/public/*` },
    { Sid: 'ListPublic', Effect: 'Allow', Principal: '*', Action: 's3:ListBucket', Resource: `arn:aws:s3:::${bucket}`, Condition: { StringLike: { 's3:prefix': 'public/*' } } },
    { Sid: 'Locked', Effect: 'Deny', Principal: { AWS: '*' }, Action: ['s3:DeleteObject', 's3:PutObject'], Resource: `arn:aws:s3:::${bucket}/locked/*` },
  ],
}, null, 2);

test('without a policy: none to read (404), and a key without a grant reads nothing', async () => {
  expect(await s3StatusAndName(owner.send(new GetBucketPolicyCommand({ Bucket: bucket })))).toEqual([404, 'NoSuchBucketPolicy']);
  expect(await s3StatusAndName(owner.send(new GetBucketPolicyStatusCommand({ Bucket: bucket })))).toEqual([404, 'NoSuchBucketPolicy']);
  expect(await s3StatusAndName(stranger.send(new GetObjectCommand({ Bucket: bucket, Key: 'public/a.txt' })))).toEqual([403, 'AccessDenied']);
  expect((await stranger.send(new ListBucketsCommand({}))).Buckets ?? []).toEqual([]);
});

test('an Allow lets keys without a grant read and list what it names; a Deny binds the owner too', async () => {
  await owner.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: policyDocument }));
  expect((await owner.send(new GetBucketPolicyCommand({ Bucket: bucket }))).Policy).toBe(policyDocument);
  expect((await owner.send(new GetBucketPolicyStatusCommand({ Bucket: bucket }))).PolicyStatus?.IsPublic).toBe(false);

  expect(await getSha(stranger, 'public/a.txt')).toBe(sha256(publicBody));
  expect(await getSha(reader, 'public/a.txt')).toBe(sha256(publicBody));
  expect(await s3StatusAndName(stranger.send(new GetObjectCommand({ Bucket: bucket, Key: 'private/b.txt' })))).toEqual([403, 'AccessDenied']);
  expect(await s3StatusAndName(stranger.send(new PutObjectCommand({ Bucket: bucket, Key: 'public/new.txt', Body: 'x' })))).toEqual([403, 'AccessDenied']);
  // s3:ListBucket with the prefix condition: listing public/ works, anything else does not.
  const listed = await stranger.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'public/' }));
  expect((listed.Contents ?? []).map((entry) => entry.Key)).toEqual(['public/a.txt']);
  expect(await s3StatusAndName(stranger.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'private/' })))).toEqual([403, 'AccessDenied']);
  expect(await s3StatusAndName(stranger.send(new ListObjectsV2Command({ Bucket: bucket })))).toEqual([403, 'AccessDenied']);
  // Only the owner handles the policy, whatever it allows.
  expect(await s3StatusAndName(stranger.send(new GetBucketPolicyCommand({ Bucket: bucket })))).toEqual([403, 'AccessDenied']);
  expect(await s3StatusAndName(reader.send(new DeleteBucketPolicyCommand({ Bucket: bucket })))).toEqual([403, 'AccessDenied']);

  // The Deny on locked/* holds for the bucket's owner.
  expect(await s3StatusAndName(owner.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'locked/c.txt' })))).toEqual([403, 'AccessDenied']);
  expect(await s3StatusAndName(owner.send(new PutObjectCommand({ Bucket: bucket, Key: 'locked/c.txt', Body: 'overwrite' })))).toEqual([403, 'AccessDenied']);
  expect(await getSha(owner, 'locked/c.txt')).toBe(sha256(privateBody));
  // DeleteObjects decides per key: the locked one is refused in the result, the other deleted.
  await owner.send(new PutObjectCommand({ Bucket: bucket, Key: 'scratch/d.txt', Body: 'scratch' }));
  const deleted = await owner.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: [{ Key: 'locked/c.txt' }, { Key: 'scratch/d.txt' }] } }));
  expect((deleted.Deleted ?? []).map((entry) => entry.Key)).toEqual(['scratch/d.txt']);
  expect((deleted.Errors ?? []).map((entry) => [entry.Key, entry.Code])).toEqual([['locked/c.txt', 'AccessDenied']]);
  expect(await getSha(owner, 'locked/c.txt')).toBe(sha256(privateBody));
});

test('conditions on the client address and the transport decide as the connection says', async () => {
  const denyUnless = (condition: Record<string, Record<string, string>>): string => JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Deny', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/*`, Condition: condition }],
  });
  await owner.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: denyUnless({ NotIpAddress: { 'aws:SourceIp': '10.0.0.0/8' } }) }));
  expect(await s3StatusAndName(owner.send(new GetObjectCommand({ Bucket: bucket, Key: 'private/b.txt' })))).toEqual([403, 'AccessDenied']);
  await owner.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: denyUnless({ NotIpAddress: { 'aws:SourceIp': '127.0.0.0/8' } }) }));
  expect(await getSha(owner, 'private/b.txt')).toBe(sha256(privateBody));
  // This gateway speaks plain HTTP: a policy that requires TLS refuses the read.
  await owner.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: denyUnless({ Bool: { 'aws:SecureTransport': 'false' } }) }));
  expect(await s3StatusAndName(owner.send(new GetObjectCommand({ Bucket: bucket, Key: 'private/b.txt' })))).toEqual([403, 'AccessDenied']);
});

test('a public policy is reported as such; the policy is listed to the keys it lets list', async () => {
  const publicPolicy = JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: '*', Action: ['s3:GetObject', 's3:ListBucket'], Resource: [`arn:aws:s3:::${bucket}`, `arn:aws:s3:::${bucket}/*`] }],
  });
  await owner.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: publicPolicy }));
  expect((await owner.send(new GetBucketPolicyStatusCommand({ Bucket: bucket }))).PolicyStatus?.IsPublic).toBe(true);
  expect(((await stranger.send(new ListBucketsCommand({}))).Buckets ?? []).map((entry) => entry.Name)).toEqual([bucket]);
  await stranger.send(new HeadBucketCommand({ Bucket: bucket }));
  expect(await getSha(stranger, 'private/b.txt')).toBe(sha256(privateBody));
});

test('malformed policies are refused with MalformedPolicy and change nothing', async () => {
  const before = (await owner.send(new GetBucketPolicyCommand({ Bucket: bucket }))).Policy;
  const statement = { Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/*` };
  const bad: ReadonlyArray<readonly [string, string]> = [
    ['{ not json', ''],
    [JSON.stringify({ Version: '2012-10-17', Statement: [{ ...statement, Resource: 'arn:aws:s3:::another-bucket/*' }] }), 'resource'],
    [JSON.stringify({ Version: '2012-10-17', Statement: [{ ...statement, Action: 's3:NoSuchAction' }] }), 'action'],
    [JSON.stringify({ Version: '2012-10-17', Statement: [{ ...statement, Principal: { AWS: 'TKNOBODYHASTHISKEY01' } }] }), 'principal'],
    [JSON.stringify({ Version: '2012-10-17', Statement: [{ ...statement, Effect: 'Maybe' }] }), ''],
    [JSON.stringify({ Version: '2012-10-17', Statement: [{ ...statement, Condition: { StringSortOf: { 's3:prefix': 'a' } } }] }), ''],
    [JSON.stringify({ Version: '2012-10-17', Statement: [{ ...statement, Sid: 'x'.repeat(30_000) }] }), ''],
  ];
  for (const [document, messageFragment] of bad) {
    const error = await s3ErrorOf(owner.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: document })));
    expect([error.$metadata.httpStatusCode, error.name]).toEqual([400, 'MalformedPolicy']);
    expect(error.message.toLowerCase()).toContain(messageFragment);
  }
  expect((await owner.send(new GetBucketPolicyCommand({ Bucket: bucket }))).Policy).toBe(before);
  expect(await s3StatusAndName(owner.send(new PutBucketPolicyCommand({ Bucket: 'no-such-bucket-here', Policy: JSON.stringify({ Statement: [statement] }) })))).toEqual([404, 'NoSuchBucket']);
});

test('deleting the policy takes every effect back', async () => {
  await owner.send(new DeleteBucketPolicyCommand({ Bucket: bucket }));
  expect(await s3StatusAndName(owner.send(new GetBucketPolicyCommand({ Bucket: bucket })))).toEqual([404, 'NoSuchBucketPolicy']);
  expect(await s3StatusAndName(stranger.send(new GetObjectCommand({ Bucket: bucket, Key: 'public/a.txt' })))).toEqual([403, 'AccessDenied']);
  await owner.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'locked/c.txt' }));
  expect(await s3StatusAndName(owner.send(new GetObjectCommand({ Bucket: bucket, Key: 'locked/c.txt' })))).toEqual([404, 'NoSuchKey']);
});

test('a public access block blocks public policies and restricts what a public policy allows', async () => {
  expect(await s3StatusAndName(owner.send(new GetPublicAccessBlockCommand({ Bucket: bucket })))).toEqual([404, 'NoSuchPublicAccessBlockConfiguration']);
  const block = { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true };
  await owner.send(new PutPublicAccessBlockCommand({ Bucket: bucket, PublicAccessBlockConfiguration: block }));
  expect((await owner.send(new GetPublicAccessBlockCommand({ Bucket: bucket }))).PublicAccessBlockConfiguration).toEqual(block);
  expect(await s3StatusAndName(stranger.send(new PutPublicAccessBlockCommand({ Bucket: bucket, PublicAccessBlockConfiguration: {} })))).toEqual([403, 'AccessDenied']);
  const publicPolicy = JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/*` }],
  });
  expect(await s3StatusAndName(owner.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: publicPolicy })))).toEqual([403, 'AccessDenied']);
  expect(await s3StatusAndName(owner.send(new GetBucketPolicyCommand({ Bucket: bucket })))).toEqual([404, 'NoSuchBucketPolicy']);
  // BlockPublicAcls: public ACLs get S3's AccessDenied (without the block, NotImplemented).
  for (const acl of ['public-read', 'public-read-write', 'authenticated-read'] as const) {
    expect(await s3StatusAndName(owner.send(new PutBucketAclCommand({ Bucket: bucket, ACL: acl })))).toEqual([403, 'AccessDenied']);
    expect(await s3StatusAndName(owner.send(new PutObjectCommand({ Bucket: bucket, Key: 'acl-blocked', Body: 'x', ACL: acl })))).toEqual([403, 'AccessDenied']);
  }
  expect(await s3StatusAndName(owner.send(new PutObjectCommand({ Bucket: bucket, Key: 'acl-blocked', Body: 'x', GrantRead: 'uri="http://acs.amazonaws.com/groups/global/AllUsers"' })))).toEqual([403, 'AccessDenied']);
  // Public policies allowed, public buckets still restricted: the Allow reaches no other key.
  await owner.send(new PutPublicAccessBlockCommand({ Bucket: bucket, PublicAccessBlockConfiguration: { ...block, BlockPublicPolicy: false } }));
  await owner.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: publicPolicy }));
  expect(await s3StatusAndName(stranger.send(new GetObjectCommand({ Bucket: bucket, Key: 'public/a.txt' })))).toEqual([403, 'AccessDenied']);
  expect(await getSha(owner, 'public/a.txt')).toBe(sha256(publicBody));
  await owner.send(new DeletePublicAccessBlockCommand({ Bucket: bucket }));
  expect(await s3StatusAndName(owner.send(new GetPublicAccessBlockCommand({ Bucket: bucket })))).toEqual([404, 'NoSuchPublicAccessBlockConfiguration']);
  expect(await s3StatusAndName(owner.send(new PutObjectCommand({ Bucket: bucket, Key: 'acl-blocked', Body: 'x', ACL: 'public-read' })))).toEqual([501, 'NotImplemented']);
  expect(await getSha(stranger, 'public/a.txt')).toBe(sha256(publicBody));
  await owner.send(new DeleteBucketPolicyCommand({ Bucket: bucket }));
});

test('tag conditions: the object\'s current tags and the tags a request sets decide (s3-tests cases)', async () => {
  const tagsBucket = 'policy-tags-e2e';
  await owner.send(new CreateBucketCommand({ Bucket: tagsBucket }));
  for (const [key, tagging] of [['publictag', 'security=public'], ['privatetag', 'security=private'], ['invalidtag', 'security1=public']] as const) {
    await owner.send(new PutObjectCommand({ Bucket: tagsBucket, Key: key, Body: publicBody, Tagging: tagging }));
  }
  const existing = { StringEquals: { 's3:ExistingObjectTag/security': 'public' } };
  const requested = { StringEquals: { 's3:RequestObjectTag/security': 'public' } };
  const objects = `arn:aws:s3:::${tagsBucket}/*`;
  await owner.send(new PutBucketPolicyCommand({
    Bucket: tagsBucket,
    Policy: JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Principal: { AWS: readerKey.accessKeyId }, Action: ['s3:GetObject', 's3:GetObjectTagging', 's3:PutObjectTagging'], Resource: objects, Condition: existing },
        { Effect: 'Allow', Principal: { AWS: strangerKey.accessKeyId }, Action: ['s3:PutObject', 's3:PutObjectTagging'], Resource: objects, Condition: requested },
      ],
    }),
  }));
  const tagsOf = async (key: string) => ((await owner.send(new GetObjectTaggingCommand({ Bucket: tagsBucket, Key: key }))).TagSet ?? []).map((tag) => `${tag.Key}=${tag.Value}`);

  // s3:ExistingObjectTag on reads: only the object tagged security=public.
  const response = await reader.send(new GetObjectCommand({ Bucket: tagsBucket, Key: 'publictag' }));
  expect(sha256(await response.Body!.transformToByteArray())).toBe(sha256(publicBody));
  for (const key of ['privatetag', 'invalidtag', 'missing']) {
    expect([key, await s3StatusAndName(reader.send(new GetObjectCommand({ Bucket: tagsBucket, Key: key })))]).toEqual([key, [403, 'AccessDenied']]);
  }
  expect((await reader.send(new GetObjectTaggingCommand({ Bucket: tagsBucket, Key: 'publictag' }))).TagSet).toEqual([{ Key: 'security', Value: 'public' }]);
  expect(await s3StatusAndName(reader.send(new GetObjectTaggingCommand({ Bucket: tagsBucket, Key: 'privatetag' })))).toEqual([403, 'AccessDenied']);
  // ... and on tagging changes: once the tag says private, the same change is refused.
  const retag = (client: S3Client, key: string, value: string) =>
    client.send(new PutObjectTaggingCommand({ Bucket: tagsBucket, Key: key, Tagging: { TagSet: [{ Key: 'security', Value: value }] } }));
  await retag(reader, 'publictag', 'private');
  expect(await tagsOf('publictag')).toEqual(['security=private']);
  expect(await s3StatusAndName(retag(reader, 'publictag', 'public'))).toEqual([403, 'AccessDenied']);
  expect(await tagsOf('publictag')).toEqual(['security=private']);

  // s3:RequestObjectTag on PutObject: only a write tagged security=public.
  expect(await s3StatusAndName(stranger.send(new PutObjectCommand({ Bucket: tagsBucket, Key: 'new', Body: 'x' })))).toEqual([403, 'AccessDenied']);
  expect(await s3StatusAndName(stranger.send(new PutObjectCommand({ Bucket: tagsBucket, Key: 'new', Body: 'x', Tagging: 'security=private' })))).toEqual([403, 'AccessDenied']);
  await stranger.send(new PutObjectCommand({ Bucket: tagsBucket, Key: 'new', Body: privateBody, Tagging: 'security=public&team=a' }));
  expect(await tagsOf('new')).toEqual(['security=public', 'team=a']);
  // ... and on PutObjectTagging, read from its document.
  expect(await s3StatusAndName(retag(stranger, 'privatetag', 'secret'))).toEqual([403, 'AccessDenied']);
  expect(await tagsOf('privatetag')).toEqual(['security=private']);
  await retag(stranger, 'privatetag', 'public');
  expect(await tagsOf('privatetag')).toEqual(['security=public']);
  // A document that is not valid is refused as such only to a key that may change the tags.
  const badTagging = { TagSet: [{ Key: 'k'.repeat(129), Value: 'v' }] };
  expect(await s3StatusAndName(stranger.send(new PutObjectTaggingCommand({ Bucket: tagsBucket, Key: 'new', Tagging: badTagging })))).toEqual([403, 'AccessDenied']);
  expect(await s3StatusAndName(owner.send(new PutObjectTaggingCommand({ Bucket: tagsBucket, Key: 'new', Tagging: badTagging })))).toEqual([400, 'InvalidTag']);
});

test('policy variables: ${aws:username} gives every key its own home prefix', async () => {
  const homesBucket = 'policy-homes-e2e';
  await owner.send(new CreateBucketCommand({ Bucket: homesBucket }));
  await owner.send(new PutBucketPolicyCommand({
    Bucket: homesBucket,
    Policy: JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Principal: '*', Action: ['s3:GetObject', 's3:PutObject'], Resource: `arn:aws:s3:::${homesBucket}/home/\${aws:username}/*` },
        { Effect: 'Allow', Principal: '*', Action: 's3:ListBucket', Resource: `arn:aws:s3:::${homesBucket}`, Condition: { StringLike: { 's3:prefix': 'home/${aws:username}/*' } } },
      ],
    }),
  }));
  for (const [client, key] of [[reader, readerKey], [stranger, strangerKey]] as const) {
    const own = `home/${key.accessKeyId}/notes.txt`;
    await client.send(new PutObjectCommand({ Bucket: homesBucket, Key: own, Body: publicBody }));
    const response = await client.send(new GetObjectCommand({ Bucket: homesBucket, Key: own }));
    expect(sha256(await response.Body!.transformToByteArray())).toBe(sha256(publicBody));
    const listed = await client.send(new ListObjectsV2Command({ Bucket: homesBucket, Prefix: `home/${key.accessKeyId}/` }));
    expect((listed.Contents ?? []).map((entry) => entry.Key)).toEqual([own]);
  }
  // Another key's home is out of reach, and so is listing it.
  const readersHome = `home/${readerKey.accessKeyId}/`;
  expect(await s3StatusAndName(stranger.send(new GetObjectCommand({ Bucket: homesBucket, Key: `${readersHome}notes.txt` })))).toEqual([403, 'AccessDenied']);
  expect(await s3StatusAndName(stranger.send(new PutObjectCommand({ Bucket: homesBucket, Key: `${readersHome}planted.txt`, Body: 'x' })))).toEqual([403, 'AccessDenied']);
  expect(await s3StatusAndName(stranger.send(new ListObjectsV2Command({ Bucket: homesBucket, Prefix: readersHome })))).toEqual([403, 'AccessDenied']);
});

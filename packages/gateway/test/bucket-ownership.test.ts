/**
 * Goal: S3 ownership controls as clients and Terraform set them. None at first (404
 * OwnershipControlsNotFoundError); BucketOwnerEnforced disables ACLs: writes, copies, multipart
 * uploads and ACL PUTs may state only the owner's full control (AccessControlListNotSupported
 * otherwise), bucket grants cannot be added, and a bucket that grants other keys access cannot
 * turn it on (InvalidBucketAclWithObjectOwnership). Who owns what another key writes: the
 * writer with ObjectWriter or no controls, the bucket owner under BucketOwnerPreferred when the
 * write sends bucket-owner-full-control, and under BucketOwnerEnforced always (what was written
 * before included). CreateBucket takes x-amz-object-ownership; deleting the controls brings ACL
 * headers back.
 * Method: a real gateway over the in-memory backend, driven by @aws-sdk/client-s3 with the
 * root key and two non-root keys.
 */
import {
  CopyObjectCommand, CreateBucketCommand, CreateMultipartUploadCommand, DeleteBucketOwnershipControlsCommand, GetBucketOwnershipControlsCommand, GetObjectAclCommand,
  HeadBucketCommand, ListObjectsV2Command, PutBucketAclCommand, PutBucketOwnershipControlsCommand, PutBucketPolicyCommand, PutObjectAclCommand, PutObjectCommand, S3Client,
} from '@aws-sdk/client-s3';
import { s3StatusAndName } from './support/s3-error-of';
import { nonRootKey, startTestGateway, testAccessKeyId, testRegion, testSecretAccessKey } from './support/test-gateway';
import type { TestGateway } from './support/test-gateway';

const ownerKey = nonRootKey('TKOWNERSHIPOWNER0001');
const otherKey = nonRootKey('TKOWNERSHIPOTHER0001');
const bucket = 'ownership';

let gateway: TestGateway;
let root: S3Client;
let owner: S3Client;

const clientOf = (credentials: { accessKeyId: string; secretAccessKey: string }): S3Client =>
  new S3Client({ endpoint: gateway.endpoint, region: testRegion, forcePathStyle: true, credentials, maxAttempts: 1 });
const ownershipOf = async (name: string): Promise<string | undefined> =>
  (await root.send(new GetBucketOwnershipControlsCommand({ Bucket: name }))).OwnershipControls?.Rules?.[0]?.ObjectOwnership;
const setOwnership = (client: S3Client, name: string, ObjectOwnership: 'BucketOwnerEnforced' | 'BucketOwnerPreferred' | 'ObjectWriter'): Promise<unknown> =>
  client.send(new PutBucketOwnershipControlsCommand({ Bucket: name, OwnershipControls: { Rules: [{ ObjectOwnership }] } }));

beforeAll(async () => {
  gateway = await startTestGateway({ moreKeys: [ownerKey, otherKey] });
  root = clientOf({ accessKeyId: testAccessKeyId, secretAccessKey: testSecretAccessKey });
  owner = clientOf(ownerKey);
  await owner.send(new CreateBucketCommand({ Bucket: bucket }));
});
afterAll(async () => {
  root.destroy();
  owner.destroy();
  await gateway.stop();
});

test('none at first; BucketOwnerEnforced allows only the owner\'s full control in ACL headers and bodies', async () => {
  expect(await s3StatusAndName(owner.send(new GetBucketOwnershipControlsCommand({ Bucket: bucket })))).toEqual([404, 'OwnershipControlsNotFoundError']);
  await setOwnership(owner, bucket, 'BucketOwnerEnforced');
  expect(await ownershipOf(bucket)).toBe('BucketOwnerEnforced');

  const refused: ReadonlyArray<Promise<unknown>> = [
    owner.send(new PutObjectCommand({ Bucket: bucket, Key: 'a', Body: 'a', ACL: 'private' })),
    owner.send(new CopyObjectCommand({ Bucket: bucket, Key: 'b', CopySource: `${bucket}/a`, ACL: 'private' })),
    owner.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'c', ACL: 'bucket-owner-read' })),
    owner.send(new PutBucketAclCommand({ Bucket: bucket, GrantRead: `id="${otherKey.accessKeyId}"` })),
  ];
  for (const request of refused) expect(await s3StatusAndName(request)).toEqual([400, 'AccessControlListNotSupported']);
  await owner.send(new PutObjectCommand({ Bucket: bucket, Key: 'a', Body: 'a' }));
  await owner.send(new PutObjectCommand({ Bucket: bucket, Key: 'a', Body: 'a', ACL: 'bucket-owner-full-control' }));
  await owner.send(new CopyObjectCommand({ Bucket: bucket, Key: 'b', CopySource: `${bucket}/a`, ACL: 'bucket-owner-full-control' }));
  await owner.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'c', ACL: 'bucket-owner-full-control' }));
  expect(await s3StatusAndName(owner.send(new PutObjectAclCommand({ Bucket: bucket, Key: 'a', ACL: 'private' })))).toEqual([400, 'AccessControlListNotSupported']);
  await owner.send(new PutObjectAclCommand({ Bucket: bucket, Key: 'a', ACL: 'bucket-owner-full-control' }));
  await owner.send(new PutBucketAclCommand({ Bucket: bucket, ACL: 'private' }));
  // Only the owner sets the controls.
  const other = clientOf(otherKey);
  expect(await s3StatusAndName(setOwnership(other, bucket, 'BucketOwnerPreferred'))).toEqual([403, 'AccessDenied']);
  other.destroy();
});

test('who owns what another key writes: the writer with ObjectWriter or none set, the bucket owner under BucketOwnerPreferred with bucket-owner-full-control, always under BucketOwnerEnforced', async () => {
  const name = 'ownership-writers';
  await owner.send(new CreateBucketCommand({ Bucket: name }));
  await owner.send(new PutBucketPolicyCommand({
    Bucket: name, Policy: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: otherKey.accessKeyId }, Action: 's3:PutObject', Resource: `arn:aws:s3:::${name}/*` }] }),
  }));
  const other = clientOf(otherKey);
  const put = (key: string, ACL?: 'bucket-owner-full-control'): Promise<unknown> => other.send(new PutObjectCommand({ Bucket: name, Key: key, Body: key, ...(ACL === undefined ? {} : { ACL }) }));
  const ownersListed = async (): Promise<string[]> =>
    ((await owner.send(new ListObjectsV2Command({ Bucket: name, FetchOwner: true }))).Contents ?? []).map((entry) => `${entry.Key}:${entry.Owner?.ID === ownerKey.accessKeyId ? 'bucket owner' : 'writer'}`);

  await put('none-set');
  await setOwnership(owner, name, 'ObjectWriter');
  expect(await ownershipOf(name)).toBe('ObjectWriter');
  await put('object-writer');
  await setOwnership(owner, name, 'BucketOwnerPreferred');
  await put('preferred');
  await put('preferred-full-control', 'bucket-owner-full-control');
  expect(await ownersListed()).toEqual(['none-set:writer', 'object-writer:writer', 'preferred:writer', 'preferred-full-control:bucket owner']);
  // The bucket owner owns that one: its ACL is the bucket owner's.
  expect((await owner.send(new GetObjectAclCommand({ Bucket: name, Key: 'preferred-full-control' }))).Owner?.ID).toBe(ownerKey.accessKeyId);
  expect(await s3StatusAndName(owner.send(new GetObjectAclCommand({ Bucket: name, Key: 'preferred' })))).toEqual([403, 'AccessDenied']);

  // BucketOwnerEnforced: the bucket owner owns everything, what was written before included.
  await setOwnership(owner, name, 'BucketOwnerEnforced');
  expect(await ownersListed()).toEqual(['none-set:bucket owner', 'object-writer:bucket owner', 'preferred:bucket owner', 'preferred-full-control:bucket owner']);
  const acl = await owner.send(new GetObjectAclCommand({ Bucket: name, Key: 'preferred' }));
  expect([acl.Owner?.ID, ...(acl.Grants ?? []).map((grant) => `${grant.Grantee?.ID}:${grant.Permission}`)]).toEqual([ownerKey.accessKeyId, `${ownerKey.accessKeyId}:FULL_CONTROL`]);

  // Deleting the controls brings ACL headers back.
  await owner.send(new DeleteBucketOwnershipControlsCommand({ Bucket: name }));
  expect(await s3StatusAndName(owner.send(new GetBucketOwnershipControlsCommand({ Bucket: name })))).toEqual([404, 'OwnershipControlsNotFoundError']);
  await owner.send(new PutObjectAclCommand({ Bucket: name, Key: 'preferred-full-control', ACL: 'private' }));
  other.destroy();
});

test('a bucket that grants another key access cannot disable ACLs', async () => {
  await owner.send(new DeleteBucketOwnershipControlsCommand({ Bucket: bucket }));
  await owner.send(new PutBucketAclCommand({ Bucket: bucket, GrantRead: `id="${otherKey.accessKeyId}"` }));
  expect(await s3StatusAndName(setOwnership(owner, bucket, 'BucketOwnerEnforced'))).toEqual([400, 'InvalidBucketAclWithObjectOwnership']);
  expect(await s3StatusAndName(owner.send(new GetBucketOwnershipControlsCommand({ Bucket: bucket })))).toEqual([404, 'OwnershipControlsNotFoundError']);
  await owner.send(new PutBucketAclCommand({ Bucket: bucket, ACL: 'private' }));
  await setOwnership(owner, bucket, 'BucketOwnerEnforced');
  await owner.send(new DeleteBucketOwnershipControlsCommand({ Bucket: bucket }));
});

test('CreateBucket takes x-amz-object-ownership', async () => {
  await owner.send(new CreateBucketCommand({ Bucket: 'ownership-enforced', ObjectOwnership: 'BucketOwnerEnforced' }));
  expect(await ownershipOf('ownership-enforced')).toBe('BucketOwnerEnforced');
  await owner.send(new CreateBucketCommand({ Bucket: 'ownership-writer', ObjectOwnership: 'ObjectWriter' }));
  expect(await ownershipOf('ownership-writer')).toBe('ObjectWriter');
  expect(await s3StatusAndName(owner.send(new CreateBucketCommand({ Bucket: 'ownership-bad', ObjectOwnership: 'Writer' as 'ObjectWriter' })))).toEqual([400, 'InvalidArgument']);
  expect(await s3StatusAndName(owner.send(new HeadBucketCommand({ Bucket: 'ownership-bad' })))).toEqual([404, 'NotFound']);
  expect(await s3StatusAndName(owner.send(new CreateBucketCommand({ Bucket: 'ownership-acl', ObjectOwnership: 'BucketOwnerEnforced', ACL: 'public-read' })))).toEqual([501, 'NotImplemented']);
});

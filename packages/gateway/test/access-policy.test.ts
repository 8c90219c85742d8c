// Goal: the access rules for keys other than root: root may do everything; an owner everything
// in its bucket; a grantee only what its grant says (read: reads and listings; write: writes
// and deletes), never the owner's settings or a GOVERNANCE bypass; copies need read on their
// source; requests checked elsewhere (ListBuckets, CreateBucket, POST forms) need nothing here.
// Every operation kind is classified (the switch ends in assertNever) and names its S3 action and
// resource for bucket policies; a policy's Deny wins over ownership and grants, its Allow lets in
// a key without a grant, and only the owner handles the policy itself.
// Method: the pure functions of src/access-policy.ts over a table of operations.
import { decideAccess, mayAccess, mayList, objectDeleteAccess, objectTaggingWriteAccess, requiredAccess } from '../src/access-policy';
import { parseBucketPolicy } from '../src/bucket-policy';
import type { Principal } from '../src/auth/credential-store';
import { rootPrincipal } from '../src/auth/credential-store';
import type { S3Operation } from '../src/s3-operation';

const key = (accessKeyId: string): Principal => ({ accessKeyId, isRoot: false, canCreateBuckets: true });
const owner = key('TKOWNER');
const reader = key('TKREADER');
const writer = key('TKWRITER');
const stranger = key('TKSTRANGER');
const aclReader = key('TKACLREADER');
const aclWriter = key('TKACLWRITER');
const none = { read: false, write: false, readAcp: false, writeAcp: false };
const bucket = {
  owner: owner.accessKeyId,
  grants: [
    { ...none, accessKeyId: reader.accessKeyId, read: true }, { ...none, accessKeyId: writer.accessKeyId, write: true },
    { ...none, accessKeyId: aclReader.accessKeyId, readAcp: true }, { ...none, accessKeyId: aclWriter.accessKeyId, writeAcp: true },
  ],
};

test('root and the owner may do everything; a grantee what its grant says; a stranger nothing', () => {
  const levels = ['read', 'write', 'readAcp', 'writeAcp', 'owner'] as const;
  for (const level of levels) {
    expect(mayAccess(rootPrincipal('TKROOT'), bucket, level)).toBe(true);
    expect(mayAccess(owner, bucket, level)).toBe(true);
    expect(mayAccess(stranger, bucket, level)).toBe(false);
  }
  const mayOf = (principal: Principal): boolean[] => levels.map((level) => mayAccess(principal, bucket, level));
  expect(mayOf(reader)).toEqual([true, false, false, false, false]);
  expect(mayOf(writer)).toEqual([false, true, false, false, false]);
  expect(mayOf(aclReader)).toEqual([false, false, true, false, false]);
  expect(mayOf(aclWriter)).toEqual([false, false, false, true, false]);
  expect([owner, reader, writer, aclReader, aclWriter, stranger].map((principal) => mayList(principal, bucket))).toEqual([true, true, true, true, true, false]);
});

test('operations need read, write or the owner; copies also read their source; bypassing GOVERNANCE takes the owner', () => {
  const source = { bucket: 'src', key: 'k', versionId: undefined };
  const cases: ReadonlyArray<readonly [S3Operation, string]> = [
    [{ kind: 'GetObject', bucket: 'b', key: 'k', partNumber: undefined, versionId: undefined }, 'b:read'],
    [{ kind: 'HeadBucket', bucket: 'b' }, 'b:read'],
    [{ kind: 'ListObjectVersions', bucket: 'b', params: { prefix: '', delimiter: undefined, maxKeys: 1000, keyMarker: undefined, versionIdMarker: undefined, encodingType: undefined } }, 'b:read'],
    [{ kind: 'GetBucketCors', bucket: 'b' }, 'b:read'],
    [{ kind: 'GetBucketAcl', bucket: 'b' }, 'b:readAcp'],
    [{ kind: 'PutBucketAcl', bucket: 'b' }, 'b:writeAcp'],
    [{ kind: 'PutObject', bucket: 'b', key: 'k' }, 'b:write'],
    [{ kind: 'UploadPart', bucket: 'b', key: 'k', uploadId: 'u', partNumber: 1 }, 'b:write'],
    [{ kind: 'DeleteObject', bucket: 'b', key: 'k', versionId: undefined }, 'b:write'],
    [{ kind: 'CopyObject', bucket: 'b', key: 'k', source }, 'b:write src:read'],
    [{ kind: 'UploadPartCopy', bucket: 'b', key: 'k', uploadId: 'u', partNumber: 2, source }, 'b:write src:read'],
    [{ kind: 'PutBucketVersioning', bucket: 'b' }, 'b:owner'],
    [{ kind: 'PutBucketCors', bucket: 'b' }, 'b:owner'],
    [{ kind: 'DeleteBucket', bucket: 'b' }, 'b:owner'],
    [{ kind: 'PutObjectLockConfiguration', bucket: 'b' }, 'b:owner'],
    [{ kind: 'ListBuckets' }, ''],
    [{ kind: 'CreateBucket', bucket: 'b' }, ''],
    [{ kind: 'PostObject', bucket: 'b' }, ''],
    [{ kind: 'NotImplemented', bucket: 'b', key: undefined, feature: 'website' }, ''],
  ];
  const text = (op: S3Operation, bypass: boolean): string => requiredAccess(op, bypass).map((r) => `${r.bucket}:${r.level}`).join(' ');
  for (const [op, expected] of cases) expect([op.kind, text(op, false)]).toEqual([op.kind, expected]);
  // Bypassing takes the owner besides the write (or the policy's s3:BypassGovernanceRetention).
  expect(text({ kind: 'DeleteObject', bucket: 'b', key: 'k', versionId: 'v' }, true)).toBe('b:write b:owner');
  expect(text({ kind: 'PutObjectRetention', bucket: 'b', key: 'k', versionId: undefined }, true)).toBe('b:write b:owner');
  // DeleteObjects: write here; each key (and its bypass) is checked as it is deleted.
  expect(text({ kind: 'DeleteObjects', bucket: 'b' }, true)).toBe('b:write');
  expect(objectDeleteAccess('b', 'k', undefined, true).map((r) => `${r.level}:${r.action}`)).toEqual(['write:s3:DeleteObject', 'owner:s3:BypassGovernanceRetention']);
  // The header changes nothing for operations that cannot bypass a retention.
  expect(text({ kind: 'PutObject', bucket: 'b', key: 'k' }, true)).toBe('b:write');
});

test('each operation names the S3 action and resource a bucket policy decides', () => {
  const source = { bucket: 'src', key: 'dir/k', versionId: 'v1' };
  const cases: ReadonlyArray<readonly [S3Operation, string]> = [
    [{ kind: 'GetObject', bucket: 'b', key: 'a/b c', partNumber: undefined, versionId: undefined }, 's3:GetObject@arn:aws:s3:::b/a/b c'],
    [{ kind: 'HeadObject', bucket: 'b', key: 'k', partNumber: undefined, versionId: 'v' }, 's3:GetObjectVersion@arn:aws:s3:::b/k'],
    [{ kind: 'HeadBucket', bucket: 'b' }, 's3:ListBucket@arn:aws:s3:::b'],
    [{ kind: 'ListObjectsV2', bucket: 'b', params: { prefix: '', delimiter: undefined, maxKeys: 1000, continuationToken: undefined, startAfter: undefined, fetchOwner: false, encodingType: undefined } }, 's3:ListBucket@arn:aws:s3:::b'],
    [{ kind: 'GetBucketCors', bucket: 'b' }, 's3:GetBucketCORS@arn:aws:s3:::b'],
    [{ kind: 'GetBucketConfiguration', bucket: 'b', configuration: 'website' }, 's3:GetBucketWebsite@arn:aws:s3:::b'],
    [{ kind: 'DeleteBucketLifecycle', bucket: 'b' }, 's3:PutLifecycleConfiguration@arn:aws:s3:::b'],
    [{ kind: 'PutBucketPolicy', bucket: 'b' }, 's3:PutBucketPolicy@arn:aws:s3:::b'],
    [{ kind: 'UploadPart', bucket: 'b', key: 'k', uploadId: 'u', partNumber: 1 }, 's3:PutObject@arn:aws:s3:::b/k'],
    [{ kind: 'ListParts', bucket: 'b', key: 'k', uploadId: 'u', params: { maxParts: 1000, partNumberMarker: 0, encodingType: undefined } }, 's3:ListMultipartUploadParts@arn:aws:s3:::b/k'],
    [{ kind: 'DeleteObjectTagging', bucket: 'b', key: 'k', versionId: 'v' }, 's3:DeleteObjectVersionTagging@arn:aws:s3:::b/k'],
    [{ kind: 'CopyObject', bucket: 'b', key: 'k', source }, 's3:PutObject@arn:aws:s3:::b/k s3:GetObjectVersion@arn:aws:s3:::src/dir/k'],
  ];
  const text = (op: S3Operation): string => requiredAccess(op, false).map((r) => `${r.action}@${r.resource}`).join(' ');
  for (const [op, expected] of cases) expect([op.kind, text(op)]).toEqual([op.kind, expected]);
  // PutObjectTagging is checked by its handler once the document is read (a policy may test its tags).
  expect(text({ kind: 'PutObjectTagging', bucket: 'b', key: 'k', versionId: undefined })).toBe('');
  const tagging = objectTaggingWriteAccess('b', 'k', 'v');
  expect(`${tagging.level}:${tagging.action}@${tagging.resource}`).toBe('write:s3:PutObjectVersionTagging@arn:aws:s3:::b/k');
  // Object-level access names the object version whose tags s3:ExistingObjectTag/<key> reads.
  expect(requiredAccess({ kind: 'GetObjectTagging', bucket: 'b', key: 'k', versionId: 'v' }, false)[0]?.object).toEqual({ key: 'k', versionId: 'v' });
  expect(requiredAccess({ kind: 'CopyObject', bucket: 'b', key: 'k', source }, false).map((r) => r.object)).toEqual([
    { key: 'k', versionId: undefined },
    { key: 'dir/k', versionId: 'v1' },
  ]);
  expect(requiredAccess({ kind: 'HeadBucket', bucket: 'b' }, false)[0]?.object).toBeUndefined();
});

test('a policy Deny beats ownership and grants, an Allow admits a key without a grant, the owner keeps the policy itself', () => {
  const policy = parseBucketPolicy(JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Principal: { AWS: [stranger.accessKeyId] }, Action: ['s3:GetObject'], Resource: 'arn:aws:s3:::b/public/*' },
      { Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: 'arn:aws:s3:::b/locked/*' },
      { Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: 'arn:aws:s3:::b' },
    ],
  }), 'b');
  const get = (objectKey: string) => requiredAccess({ kind: 'GetObject', bucket: 'b', key: objectKey, partNumber: undefined, versionId: undefined }, false)[0]!;
  const decide = (principal: Principal, required: ReturnType<typeof get>) => decideAccess(principal, bucket, policy, required, new Map());
  expect(decide(stranger, get('public/a'))).toBe('allowed');
  expect(decide(stranger, get('private/a'))).toBe('notGranted');
  expect(decide(reader, get('private/a'))).toBe('allowed');
  expect(decide(owner, get('locked/a'))).toBe('deniedByPolicy');
  expect(decide(reader, get('locked/a'))).toBe('deniedByPolicy');
  expect(decide(rootPrincipal('TKROOT'), get('locked/a'))).toBe('allowed');
  // Statement 3 denies everything on the bucket itself, but not the owner's hold on its policy.
  const policyOp = (kind: 'GetBucketPolicy' | 'PutBucketPolicy' | 'DeleteBucketPolicy') => requiredAccess({ kind, bucket: 'b' }, false)[0]!;
  for (const kind of ['GetBucketPolicy', 'PutBucketPolicy', 'DeleteBucketPolicy'] as const) {
    expect(decide(owner, policyOp(kind))).toBe('allowed');
    expect(decide(reader, policyOp(kind))).toBe('notGranted');
  }
  expect(decide(owner, requiredAccess({ kind: 'GetBucketCors', bucket: 'b' }, false)[0]!)).toBe('deniedByPolicy');
  // DeleteObjects defers to its keys when there is a policy; without one a stranger is refused at once.
  const deleteObjects = requiredAccess({ kind: 'DeleteObjects', bucket: 'b' }, false)[0]!;
  expect(decide(stranger, deleteObjects)).toBe('allowed');
  expect(decideAccess(stranger, bucket, undefined, deleteObjects, new Map())).toBe('notGranted');
});

test("RestrictPublicBuckets keeps a public policy's Allow from every key but the owner; a policy with conditions is not public", () => {
  const allowAll = (condition: object | undefined) => parseBucketPolicy(JSON.stringify({
    Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*', ...(condition === undefined ? {} : { Condition: condition }) }],
  }), 'b');
  const get = requiredAccess({ kind: 'GetObject', bucket: 'b', key: 'k', partNumber: undefined, versionId: undefined }, false)[0]!;
  const restricted = { ...bucket, publicAccessBlock: { restrictPublicBuckets: true } };
  expect(decideAccess(stranger, bucket, allowAll(undefined), get, new Map())).toBe('allowed');
  expect(decideAccess(stranger, restricted, allowAll(undefined), get, new Map())).toBe('notGranted');
  expect(decideAccess(reader, restricted, allowAll(undefined), get, new Map())).toBe('allowed');
  const fromLoopback = allowAll({ IpAddress: { 'aws:SourceIp': '127.0.0.0/8' } });
  expect(decideAccess(stranger, restricted, fromLoopback, get, new Map([['aws:sourceip', ['127.0.0.1']]]))).toBe('allowed');
});

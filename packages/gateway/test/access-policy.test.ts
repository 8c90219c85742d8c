// Goal: the access rules for keys other than root: root may do everything; an owner everything
// in its bucket; a grantee only what its grant says (read: reads and listings; write: writes
// and deletes), never the owner's settings or a GOVERNANCE bypass; copies need read on their
// source; requests checked elsewhere (ListBuckets, CreateBucket, POST forms) need nothing here.
// Every operation kind is classified (the switch ends in assertNever).
// Method: the pure functions of src/access-policy.ts over a table of operations.
import { mayAccess, mayList, requiredAccess } from '../src/access-policy';
import type { Principal } from '../src/auth/credential-store';
import { rootPrincipal } from '../src/auth/credential-store';
import type { S3Operation } from '../src/s3-operation';

const key = (accessKeyId: string): Principal => ({ accessKeyId, isRoot: false, canCreateBuckets: true });
const owner = key('TKOWNER');
const reader = key('TKREADER');
const writer = key('TKWRITER');
const stranger = key('TKSTRANGER');
const bucket = {
  owner: owner.accessKeyId,
  grants: [{ accessKeyId: reader.accessKeyId, read: true, write: false }, { accessKeyId: writer.accessKeyId, read: false, write: true }],
};

test('root and the owner may do everything; a grantee what its grant says; a stranger nothing', () => {
  for (const level of ['read', 'write', 'owner'] as const) {
    expect(mayAccess(rootPrincipal('TKROOT'), bucket, level)).toBe(true);
    expect(mayAccess(owner, bucket, level)).toBe(true);
    expect(mayAccess(stranger, bucket, level)).toBe(false);
  }
  expect([mayAccess(reader, bucket, 'read'), mayAccess(reader, bucket, 'write'), mayAccess(reader, bucket, 'owner')]).toEqual([true, false, false]);
  expect([mayAccess(writer, bucket, 'read'), mayAccess(writer, bucket, 'write'), mayAccess(writer, bucket, 'owner')]).toEqual([false, true, false]);
  expect([owner, reader, writer, stranger].map((principal) => mayList(principal, bucket))).toEqual([true, true, true, false]);
});

test('operations need read, write or the owner; copies also read their source; bypassing GOVERNANCE takes the owner', () => {
  const source = { bucket: 'src', key: 'k', versionId: undefined };
  const cases: ReadonlyArray<readonly [S3Operation, string]> = [
    [{ kind: 'GetObject', bucket: 'b', key: 'k', partNumber: undefined, versionId: undefined }, 'b:read'],
    [{ kind: 'HeadBucket', bucket: 'b' }, 'b:read'],
    [{ kind: 'ListObjectVersions', bucket: 'b', params: { prefix: '', delimiter: undefined, maxKeys: 1000, keyMarker: undefined, versionIdMarker: undefined, encodingType: undefined } }, 'b:read'],
    [{ kind: 'GetBucketCors', bucket: 'b' }, 'b:read'],
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
  expect(text({ kind: 'DeleteObject', bucket: 'b', key: 'k', versionId: 'v' }, true)).toBe('b:owner');
  expect(text({ kind: 'DeleteObjects', bucket: 'b' }, true)).toBe('b:owner');
  expect(text({ kind: 'PutObjectRetention', bucket: 'b', key: 'k', versionId: undefined }, true)).toBe('b:owner');
  // The header changes nothing for operations that cannot bypass a retention.
  expect(text({ kind: 'PutObject', bucket: 'b', key: 'k' }, true)).toBe('b:write');
});

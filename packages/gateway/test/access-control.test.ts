/**
 * Goal: the object ownership and ACL rules as S3 defines them (ObjectWriter, the
 * BucketOwnerPreferred and BucketOwnerEnforced controls, canned and explicit ACLs kept exactly,
 * the owner's implicit ACL access), and the stored form read back, old versions' grants included.
 * Method: the pure functions of access-control.ts with literal inputs.
 */
import {
  decodeLegacyGrants, decodeStoredAcl, encodeStoredAcl, objectAclAllows, objectAclFromAccessControlPolicy, objectAclFromHeaders, objectAclOf, objectOwnerOfWrite,
} from '../src/access-control';
import type { AclGrant } from '../src/access-control';
import { S3Error } from '../src/s3-errors';

const bucketOwner = 'TKBUCKETOWNER0000001';
const writer = 'TKWRITER000000000001';
const other = 'TKOTHER0000000000001';

function headersOf(given: Record<string, string>): { header: (name: string) => string | undefined; names: string[] } {
  return { header: (name) => given[name], names: Object.keys(given) };
}

function codeOf(action: () => unknown): string | undefined {
  try {
    action();
  } catch (error) {
    return error instanceof S3Error ? error.code : 'not an S3Error';
  }
  return undefined;
}

test('who owns a new object: the writer, but the bucket owner for root, under BucketOwnerEnforced, or BucketOwnerPreferred with bucket-owner-full-control', () => {
  const key = { accessKeyId: writer, isRoot: false };
  const bucket = (objectOwnership?: 'BucketOwnerEnforced' | 'BucketOwnerPreferred' | 'ObjectWriter') => ({ owner: bucketOwner, objectOwnership });
  expect(objectOwnerOfWrite(key, bucket(), undefined)).toBe(writer);
  expect(objectOwnerOfWrite(key, bucket('ObjectWriter'), 'bucket-owner-full-control')).toBe(writer);
  expect(objectOwnerOfWrite(key, bucket('BucketOwnerPreferred'), undefined)).toBe(writer);
  expect(objectOwnerOfWrite(key, bucket('BucketOwnerPreferred'), 'bucket-owner-read')).toBe(writer);
  expect(objectOwnerOfWrite(key, bucket('BucketOwnerPreferred'), 'bucket-owner-full-control')).toBe(bucketOwner);
  expect(objectOwnerOfWrite(key, bucket('BucketOwnerEnforced'), undefined)).toBe(bucketOwner);
  expect(objectOwnerOfWrite({ accessKeyId: 'ROOT', isRoot: true }, bucket(), undefined)).toBe(bucketOwner);
});

test('an object ACL from headers: the default for none or private, both owners for bucket-owner-*, grant headers exactly', () => {
  const owners = { objectOwner: writer, bucketOwner };
  const aclOf = (given: Record<string, string>, who = owners): AclGrant[] | undefined => {
    const { header, names } = headersOf(given);
    return objectAclFromHeaders(header, names, who);
  };
  expect(aclOf({})).toBeUndefined();
  expect(aclOf({ 'x-amz-acl': 'private' })).toBeUndefined();
  expect(aclOf({ 'x-amz-acl': 'bucket-owner-read' })).toEqual([{ accessKeyId: writer, permission: 'FULL_CONTROL' }, { accessKeyId: bucketOwner, permission: 'READ' }]);
  expect(aclOf({ 'x-amz-acl': ' bucket-owner-full-control ' })).toEqual([{ accessKeyId: writer, permission: 'FULL_CONTROL' }, { accessKeyId: bucketOwner, permission: 'FULL_CONTROL' }]);
  // The bucket owner's own object: nobody else to name.
  expect(aclOf({ 'x-amz-acl': 'bucket-owner-read' }, { objectOwner: bucketOwner, bucketOwner })).toBeUndefined();
  // Grant headers are the whole ACL: the owner is not added, one key may hold several permissions, an exact repeat counts once.
  expect(aclOf({ 'x-amz-grant-read': `id="${other}", id=${other}`, 'x-amz-grant-write-acp': `id="${other}"`, 'x-amz-grant-full-control': `id="${bucketOwner}"` })).toEqual([
    { accessKeyId: other, permission: 'READ' }, { accessKeyId: other, permission: 'WRITE_ACP' }, { accessKeyId: bucketOwner, permission: 'FULL_CONTROL' },
  ]);
  expect(codeOf(() => aclOf({ 'x-amz-acl': 'private', 'x-amz-grant-read': `id="${other}"` }))).toBe('InvalidRequest');
  expect(codeOf(() => aclOf({ 'x-amz-acl': 'public-read' }))).toBe('NotImplemented');
  expect(codeOf(() => aclOf({ 'x-amz-acl': 'everyone' }))).toBe('InvalidArgument');
  expect(codeOf(() => aclOf({ 'x-amz-grant-read': 'uri="http://acs.amazonaws.com/groups/global/AllUsers"' }))).toBe('NotImplemented');
  const many = Array.from({ length: 101 }, (_, index) => `id="TK${String(index).padStart(18, '0')}"`).join(', ');
  expect(codeOf(() => aclOf({ 'x-amz-grant-read': many }))).toBe('MalformedACLError');
});

test('an object ACL from an AccessControlPolicy body: its grants exactly, empty allowed, the Owner must be the object\'s', () => {
  const grants = [{ granteeId: other, permission: 'READ' }, { granteeId: other, permission: 'READ_ACP' }];
  expect(objectAclFromAccessControlPolicy({ ownerId: writer, grants }, writer)).toEqual([{ accessKeyId: other, permission: 'READ' }, { accessKeyId: other, permission: 'READ_ACP' }]);
  expect(objectAclFromAccessControlPolicy({ ownerId: undefined, grants: [] }, writer)).toEqual([]);
  expect(codeOf(() => objectAclFromAccessControlPolicy({ ownerId: bucketOwner, grants }, writer))).toBe('AccessDenied');
  expect(codeOf(() => objectAclFromAccessControlPolicy({ ownerId: writer, grants: [{ granteeId: other, permission: 'OWN' }] }, writer))).toBe('MalformedACLError');
});

test('an object\'s owner and ACL as stored: recorded or the bucket\'s, as set or the owner\'s FULL_CONTROL, old grants after it; BucketOwnerEnforced overrides both', () => {
  const bucket = { owner: bucketOwner, objectOwnership: undefined };
  expect(objectAclOf({}, bucket)).toEqual({ owner: bucketOwner, acl: [{ accessKeyId: bucketOwner, permission: 'FULL_CONTROL' }] });
  expect(objectAclOf({ owner: writer }, bucket)).toEqual({ owner: writer, acl: [{ accessKeyId: writer, permission: 'FULL_CONTROL' }] });
  expect(objectAclOf({ owner: writer, acl: [] }, bucket)).toEqual({ owner: writer, acl: [] });
  const legacyGrants = decodeLegacyGrants(`${other}:READ+READ_ACP,${writer}:FULL_CONTROL,:READ,broken`);
  expect(objectAclOf({ legacyGrants }, bucket).acl).toEqual([
    { accessKeyId: bucketOwner, permission: 'FULL_CONTROL' }, { accessKeyId: other, permission: 'READ' }, { accessKeyId: other, permission: 'READ_ACP' }, { accessKeyId: writer, permission: 'FULL_CONTROL' },
  ]);
  expect(objectAclOf({ owner: writer, acl: [{ accessKeyId: other, permission: 'READ' }] }, { owner: bucketOwner, objectOwnership: 'BucketOwnerEnforced' }))
    .toEqual({ owner: bucketOwner, acl: [{ accessKeyId: bucketOwner, permission: 'FULL_CONTROL' }] });
});

test('what an ACL allows: its permission or FULL_CONTROL; the owner always reads and writes the ACL, but reads the data only if granted', () => {
  const acl: AclGrant[] = [{ accessKeyId: other, permission: 'READ' }, { accessKeyId: bucketOwner, permission: 'FULL_CONTROL' }];
  expect(objectAclAllows(acl, writer, other, 'read')).toBe(true);
  expect(objectAclAllows(acl, writer, other, 'readAcp')).toBe(false);
  expect(objectAclAllows(acl, writer, bucketOwner, 'writeAcp')).toBe(true);
  expect(objectAclAllows(acl, writer, writer, 'readAcp')).toBe(true);
  expect(objectAclAllows(acl, writer, writer, 'writeAcp')).toBe(true);
  expect(objectAclAllows(acl, writer, writer, 'read')).toBe(false);
});

test('the stored ACL reads back as written, an empty one included; entries that do not parse are skipped', () => {
  const acl: AclGrant[] = [{ accessKeyId: other, permission: 'WRITE' }, { accessKeyId: writer, permission: 'FULL_CONTROL' }, { accessKeyId: other, permission: 'READ_ACP' }];
  expect(decodeStoredAcl(encodeStoredAcl(acl))).toEqual(acl);
  expect(encodeStoredAcl([])).toBe('');
  expect(decodeStoredAcl('')).toEqual([]);
  expect(decodeStoredAcl(`${other}:READ,${other}:OWN,:READ,${writer}`)).toEqual([{ accessKeyId: other, permission: 'READ' }]);
});

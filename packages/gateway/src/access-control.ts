/**
 * S3 ACLs as Tessera has them, to a CanonicalUser whose ID is an access key id.
 * - A bucket's owner (the access key that created it) has FULL_CONTROL of it; other access keys
 *   have what its grants say (access-policy.ts): READ (read objects, list), WRITE (write and
 *   delete objects), READ_ACP (read the bucket's ACL), WRITE_ACP (replace it), FULL_CONTROL (all
 *   four). PutBucketAcl (and CreateBucket's x-amz-grant-* headers) set them; GetBucketAcl shows
 *   the ACL as they stated it (else the owner's FULL_CONTROL and the grants).
 * - An object version has an owner and an ACL of its own, as in S3 with ObjectWriter ownership
 *   (the default, as in RGW and in S3 before 2023): the key that wrote it owns it (its bucket's
 *   owner when the bucket's owner or the root key wrote it, or when the bucket's ownership
 *   controls say BucketOwnerEnforced, or BucketOwnerPreferred and the write sent
 *   `bucket-owner-full-control`). Its ACL is the owner's FULL_CONTROL unless a write's
 *   `x-amz-acl` / `x-amz-grant-*` headers or PutObjectAcl set another, kept exactly as given (the
 *   same key may hold several permissions; an ACL may leave out its owner). The owner may always
 *   read and replace the ACL; READ admits GET, HEAD and copies from it, READ_ACP GetObjectAcl,
 *   WRITE_ACP PutObjectAcl, WRITE nothing (bucket-access.ts). The bucket's owner and the keys its
 *   grants and policy admit keep reading and deleting every object in it, but the ACL of an
 *   object another key owns is that key's to give.
 * The canned ACLs `private`, `bucket-owner-full-control` and `bucket-owner-read` name only the
 * object's and the bucket's owners. Anything wider (public-read, authenticated-read, group
 * grantees) is refused with NotImplemented, never stored or ignored: a client must not believe
 * something is public when it is not (AccessDenied instead, S3's answer, when the bucket's public
 * access block has BlockPublicAcls: app.ts translates PublicAclNotImplementedError). E-mail
 * grantees are UnresolvableGrantByEmailAddress: access keys have no e-mail address.
 */
import type { BucketGrant, ObjectOwnership } from './backend';
import { S3Error } from './s3-errors';
import type { AccessControlPolicyRequest } from './xml-requests';

/**
 * Canned ACLs that, with a single owner, mean "the owner has FULL_CONTROL and nobody else": the
 * bucket-owner-* ones add a grant to the bucket owner, who is the object owner here.
 */
const ownerOnlyCannedAcls: ReadonlySet<string> = new Set(['private', 'bucket-owner-full-control', 'bucket-owner-read']);

/** Every canned ACL S3 defines; another value is InvalidArgument, as in S3. */
const knownCannedAcls: ReadonlySet<string> = new Set([
  'private',
  'public-read',
  'public-read-write',
  'authenticated-read',
  'aws-exec-read',
  'bucket-owner-read',
  'bucket-owner-full-control',
  'log-delivery-write',
]);

/**
 * A public or group ACL (public-read, authenticated-read, an AllUsers grant, ...), which Tessera
 * does not store. NotImplemented, unless the bucket's public access block has BlockPublicAcls:
 * then S3's own refusal, AccessDenied (publicAclRefusal).
 */
export class PublicAclNotImplementedError extends S3Error {
  constructor(message: string) {
    super('NotImplemented', { message });
  }
}

/** The refusal of a public ACL for a bucket with this BlockPublicAcls setting. */
export function publicAclRefusal(error: PublicAclNotImplementedError, blockPublicAcls: boolean): S3Error {
  return blockPublicAcls ? new S3Error('AccessDenied', { message: 'Access Denied: the bucket\'s public access block (BlockPublicAcls) refuses public ACLs.' }) : error;
}

/** The request headers that set an ACL: `x-amz-acl` and the explicit `x-amz-grant-*` grants. */
export function hasAclHeaders(headerNames: readonly string[]): boolean {
  return headerNames.some((name) => name === 'x-amz-acl' || name.startsWith('x-amz-grant-'));
}

/**
 * Refuses a canned ACL (`x-amz-acl`) that would grant anything beyond the owner's FULL_CONTROL
 * (NotImplemented), or that S3 does not have (InvalidArgument). Grant headers are read by
 * statedAclOfHeaders.
 */
export function refuseUnsupportedCannedAcl(header: (name: string) => string | undefined): void {
  const cannedAcl = header('x-amz-acl');
  if (cannedAcl === undefined) return;
  const value = cannedAcl.trim();
  if (!knownCannedAcls.has(value)) throw new S3Error('InvalidArgument', { message: 'Invalid canned ACL.', fields: { ArgumentName: 'x-amz-acl', ArgumentValue: value } });
  if (!ownerOnlyCannedAcls.has(value)) {
    throw new PublicAclNotImplementedError(`The canned ACL ${value} is not implemented by Tessera: only the owner has access (use private).`);
  }
}

/** The Owner an AccessControlPolicy names, if any, must be the resource's owner. */
function checkPolicyOwner(policy: AccessControlPolicyRequest, ownerId: string): void {
  if (policy.ownerId !== undefined && policy.ownerId !== ownerId) {
    throw new S3Error('AccessDenied', { message: 'The Owner in the AccessControlPolicy is not the owner of this resource.' });
  }
}

type GrantPermission = 'read' | 'write' | 'readAcp' | 'writeAcp';

/** S3's ACL permissions. */
export type AclPermission = 'READ' | 'WRITE' | 'READ_ACP' | 'WRITE_ACP' | 'FULL_CONTROL';

/** One grant of an ACL (an object's, or a bucket's as stated): a permission to an access key. */
export interface AclGrant {
  readonly accessKeyId: string;
  readonly permission: AclPermission;
}

/** S3: an ACL holds at most 100 grants (the metadata service keeps a bucket to as many grantees). */
const aclGranteeCountMax = 100;

/** The bucket-level ACL permissions, as the grant fields they set; FULL_CONTROL sets all four. */
const grantPermissions: Readonly<Record<AclPermission, readonly GrantPermission[]>> = {
  READ: ['read'], WRITE: ['write'], READ_ACP: ['readAcp'], WRITE_ACP: ['writeAcp'], FULL_CONTROL: ['read', 'write', 'readAcp', 'writeAcp'],
};

function isAclPermission(permission: string): permission is AclPermission {
  return Object.prototype.hasOwnProperty.call(grantPermissions, permission);
}

/** A grant as S3 ACL permissions: FULL_CONTROL when it has all four, else each it has (GetBucketAcl). */
export function aclPermissionsOf(grant: BucketGrant): AclPermission[] {
  if (grant.read && grant.write && grant.readAcp && grant.writeAcp) return ['FULL_CONTROL'];
  return (['READ', 'WRITE', 'READ_ACP', 'WRITE_ACP'] as const).filter((permission) => grantPermissions[permission].every((field) => grant[field]));
}

/** Grants naming the same key merged into one that has each permission either had, in first-seen order. */
export function mergeGrants(grants: readonly BucketGrant[]): BucketGrant[] {
  const byKey = new Map<string, BucketGrant>();
  for (const grant of grants) {
    const earlier = byKey.get(grant.accessKeyId);
    byKey.set(grant.accessKeyId, earlier === undefined ? grant : {
      accessKeyId: grant.accessKeyId, read: earlier.read || grant.read, write: earlier.write || grant.write,
      readAcp: earlier.readAcp || grant.readAcp, writeAcp: earlier.writeAcp || grant.writeAcp,
    });
  }
  return [...byKey.values()];
}

/** A grant as a request states it: whom it names (a canonical id, an e-mail address or a group URI), the permission as written, where it was written. */
interface StatedGrant {
  readonly granteeId: string | undefined;
  readonly granteeEmail?: string | undefined;
  readonly granteeUri?: string | undefined;
  readonly permission: string;
  readonly source: string;
}

/**
 * A stated grant to an access key with a known permission. Else MalformedACLError (an unknown
 * permission, a grantee naming nobody), UnresolvableGrantByEmailAddress (access keys have no
 * e-mail addresses, so none resolves), or NotImplemented for groups (AllUsers, ...).
 */
function checkedGrant(grant: StatedGrant): AclGrant {
  const { granteeId, permission, source } = grant;
  if (!isAclPermission(permission)) throw new S3Error('MalformedACLError', { message: `Unknown ACL permission ${permission} in ${source}.` });
  if (granteeId !== undefined && granteeId !== '') return { accessKeyId: granteeId, permission };
  if (grant.granteeEmail !== undefined) {
    throw new S3Error('UnresolvableGrantByEmailAddress', { message: `No access key has the e-mail address ${grant.granteeEmail} (${source}): grant access keys by their id.` });
  }
  if (grant.granteeUri !== undefined) {
    throw new PublicAclNotImplementedError(`ACL grants to groups (${grant.granteeUri}, ${source}) are not implemented by Tessera: grant access keys by their id.`);
  }
  throw new S3Error('MalformedACLError', { message: `The grantee of ${source} names no ID.` });
}

function checkGranteeCount(count: number): void {
  if (count > aclGranteeCountMax) throw new S3Error('MalformedACLError', { message: `An ACL can name at most ${aclGranteeCountMax} grantees.` });
}

/** A bucket's grants from stated ones: per key, merged; the owner's own entries add nothing. */
function bucketGrantsOf(stated: readonly StatedGrant[], ownerId: string): BucketGrant[] {
  const given: BucketGrant[] = [];
  for (const { accessKeyId, permission } of stated.map(checkedGrant)) {
    if (accessKeyId === ownerId) continue;
    const fields = grantPermissions[permission];
    const has = (field: GrantPermission): boolean => fields.includes(field);
    given.push({ accessKeyId, read: has('read'), write: has('write'), readAcp: has('readAcp'), writeAcp: has('writeAcp') });
  }
  const grants = mergeGrants(given);
  checkGranteeCount(grants.length);
  return grants;
}

/** An ACL's grants from stated ones, as given (an exact repeat once). */
function exactGrantsOf(stated: readonly StatedGrant[]): AclGrant[] {
  const grants: AclGrant[] = [];
  for (const grant of stated.map(checkedGrant)) {
    if (!grants.some((earlier) => earlier.accessKeyId === grant.accessKeyId && earlier.permission === grant.permission)) grants.push(grant);
  }
  checkGranteeCount(grants.length);
  return grants;
}

const grantHeaderPermissions: ReadonlyArray<readonly [string, AclPermission]> = [
  ['x-amz-grant-read', 'READ'], ['x-amz-grant-write', 'WRITE'], ['x-amz-grant-read-acp', 'READ_ACP'],
  ['x-amz-grant-write-acp', 'WRITE_ACP'], ['x-amz-grant-full-control', 'FULL_CONTROL'],
];

/**
 * The ACL a request's headers state: a canned ACL (`x-amz-acl`, checked by
 * refuseUnsupportedCannedAcl), or the grants of its `x-amz-grant-*` headers
 * (`id="<access key id>", ...`), never both (InvalidRequest, as in S3); undefined when neither.
 */
function statedAclOfHeaders(header: (name: string) => string | undefined, headerNames: readonly string[]): { readonly cannedAcl: string } | { readonly grants: StatedGrant[] } | undefined {
  const cannedAcl = header('x-amz-acl');
  const grantHeaders = headerNames.filter((name) => name.startsWith('x-amz-grant-'));
  if (cannedAcl !== undefined && grantHeaders.length > 0) {
    throw new S3Error('InvalidRequest', { message: 'Specifying both Canned ACLs and Header Grants is not allowed' });
  }
  if (cannedAcl !== undefined) {
    refuseUnsupportedCannedAcl(header);
    return { cannedAcl: cannedAcl.trim() };
  }
  if (grantHeaders.length === 0) return undefined;
  const grants: StatedGrant[] = [];
  for (const name of grantHeaders) {
    const permission = grantHeaderPermissions.find(([headerName]) => headerName === name)?.[1];
    if (permission === undefined) throw new S3Error('InvalidArgument', { message: `Unknown ACL header ${name}.`, fields: { ArgumentName: name } });
    for (const grantee of parseGranteeList(header(name) ?? '', name)) {
      const named = grantee.type === 'id' ? { granteeId: grantee.value } : { granteeId: undefined, ...(grantee.type === 'uri' ? { granteeUri: grantee.value } : { granteeEmail: grantee.value }) };
      grants.push({ ...named, permission, source: name });
    }
  }
  return { grants };
}

/**
 * A bucket's ACL as a request states it: the grants it gives other keys (per key, merged; the
 * owner's own entries add nothing, since the owner may do everything) and the ACL exactly as
 * stated, which GetBucketAcl shows (undefined for a canned ACL: the owner's FULL_CONTROL and the
 * grants are shown).
 */
export interface StatedBucketAcl {
  readonly grants: BucketGrant[];
  readonly exactAcl: AclGrant[] | undefined;
}

/**
 * A bucket's ACL given by headers (PutBucketAcl, CreateBucket): the canned ACLs that name only
 * the owner give no grants; each `x-amz-grant-*` header gives its permission.
 */
export function bucketAclFromHeaders(header: (name: string) => string | undefined, headerNames: readonly string[], ownerId: string): StatedBucketAcl {
  const stated = statedAclOfHeaders(header, headerNames);
  if (stated === undefined || 'cannedAcl' in stated) return { grants: [], exactAcl: undefined };
  return { grants: bucketGrantsOf(stated.grants, ownerId), exactAcl: exactGrantsOf(stated.grants) };
}

/** PutBucketAcl with an AccessControlPolicy body (Owner, if given, must be the bucket's owner). */
export function bucketAclFromAccessControlPolicy(policy: AccessControlPolicyRequest, ownerId: string): StatedBucketAcl {
  checkPolicyOwner(policy, ownerId);
  const stated = statedGrantsOfPolicy(policy);
  return { grants: bucketGrantsOf(stated, ownerId), exactAcl: exactGrantsOf(stated) };
}

function statedGrantsOfPolicy(policy: AccessControlPolicyRequest): StatedGrant[] {
  return policy.grants.map((grant, index) => ({ ...grant, source: `Grant ${index + 1}` }));
}

/** Who a new object's canned ACL names: the object's owner (its writer, as ownership decides) and its bucket's. */
export interface ObjectOwners {
  readonly objectOwner: string;
  readonly bucketOwner: string;
}

/**
 * An object's ACL given by headers (PutObject, CopyObject, CreateMultipartUpload, POST forms,
 * PutObjectAcl): undefined for the default (no ACL headers, `private`, or a bucket-owner-* ACL
 * when the object's owner is the bucket's), else the grants exactly: `bucket-owner-read` /
 * `bucket-owner-full-control` give the object's owner FULL_CONTROL and the bucket's owner READ /
 * FULL_CONTROL, `x-amz-grant-*` headers what they name (the object's owner nothing it is not
 * named for).
 */
export function objectAclFromHeaders(header: (name: string) => string | undefined, headerNames: readonly string[], owners: ObjectOwners): AclGrant[] | undefined {
  const stated = statedAclOfHeaders(header, headerNames);
  if (stated === undefined) return undefined;
  if ('grants' in stated) return exactGrantsOf(stated.grants);
  if (stated.cannedAcl === 'private' || owners.objectOwner === owners.bucketOwner) return undefined;
  return [
    { accessKeyId: owners.objectOwner, permission: 'FULL_CONTROL' },
    { accessKeyId: owners.bucketOwner, permission: stated.cannedAcl === 'bucket-owner-read' ? 'READ' : 'FULL_CONTROL' },
  ];
}

/** PutObjectAcl with an AccessControlPolicy body: its grants exactly (Owner, if given, must be the object's owner). */
export function objectAclFromAccessControlPolicy(policy: AccessControlPolicyRequest, objectOwner: string): AclGrant[] {
  checkPolicyOwner(policy, objectOwner);
  return exactGrantsOf(statedGrantsOfPolicy(policy));
}

/** What an object's ACL is made of as stored (object-headers.ts). */
export interface StoredObjectAcl {
  readonly acl?: readonly AclGrant[] | undefined;
  readonly legacyGrants?: readonly BucketGrant[] | undefined;
}

/** The bucket facts an object's owner and ACL depend on. */
export interface ObjectOwnershipFacts {
  readonly owner: string;
  readonly objectOwnership: ObjectOwnership | undefined;
}

/**
 * The owner a write by `writer` gives the new object: the writer, but the bucket's owner when the
 * root key writes, under BucketOwnerEnforced, or under BucketOwnerPreferred when the write sends
 * the canned ACL `bucket-owner-full-control` (S3's rules).
 */
export function objectOwnerOfWrite(writer: { readonly accessKeyId: string; readonly isRoot: boolean }, bucket: ObjectOwnershipFacts, cannedAcl: string | undefined): string {
  if (writer.isRoot || bucket.objectOwnership === 'BucketOwnerEnforced') return bucket.owner;
  if (bucket.objectOwnership === 'BucketOwnerPreferred' && cannedAcl === 'bucket-owner-full-control') return bucket.owner;
  return writer.accessKeyId;
}

/** An object version's owner: as recorded, else (and always under BucketOwnerEnforced) the bucket's. */
export function objectOwnerOf(stored: { readonly owner?: string | undefined }, bucket: ObjectOwnershipFacts): string {
  return bucket.objectOwnership === 'BucketOwnerEnforced' ? bucket.owner : stored.owner ?? bucket.owner;
}

/**
 * An object version's owner and ACL: the owner recorded (else the bucket's); the ACL as set, else
 * the owner's FULL_CONTROL (and, for versions written before ACLs were kept exactly, the grants
 * they kept besides it). Under BucketOwnerEnforced the bucket's owner owns every object and
 * object ACLs count for nothing, as in S3.
 */
export function objectAclOf(stored: StoredObjectAcl & { readonly owner?: string | undefined }, bucket: ObjectOwnershipFacts): { readonly owner: string; readonly acl: readonly AclGrant[] } {
  const owner = objectOwnerOf(stored, bucket);
  const ownerFullControl = (key: string): AclGrant => ({ accessKeyId: key, permission: 'FULL_CONTROL' });
  if (bucket.objectOwnership === 'BucketOwnerEnforced') return { owner, acl: [ownerFullControl(owner)] };
  if (stored.acl !== undefined) return { owner, acl: stored.acl };
  return { owner, acl: [ownerFullControl(owner), ...aclGrantsOf(stored.legacyGrants ?? [])] };
}

/** A bucket's ACL as grants: its owner's FULL_CONTROL, then each key's permissions (GetBucketAcl). */
export function bucketAclOf(owner: string, grants: readonly BucketGrant[]): AclGrant[] {
  return [{ accessKeyId: owner, permission: 'FULL_CONTROL' }, ...aclGrantsOf(grants)];
}

/** Per-key grants as ACL grants, each key's permissions as aclPermissionsOf names them. */
function aclGrantsOf(grants: readonly BucketGrant[]): AclGrant[] {
  return grants.flatMap((grant) => aclPermissionsOf(grant).map((permission) => ({ accessKeyId: grant.accessKeyId, permission })));
}

/** The ACL permission each object access needs (besides FULL_CONTROL, which gives all). */
const objectAccessPermissions: Readonly<Record<'read' | 'readAcp' | 'writeAcp', AclPermission>> = { read: 'READ', readAcp: 'READ_ACP', writeAcp: 'WRITE_ACP' };

/** Whether an object's ACL gives `accessKeyId` the access; its owner may always read and replace the ACL, as in S3. */
export function objectAclAllows(acl: readonly AclGrant[], objectOwner: string, accessKeyId: string, access: 'read' | 'readAcp' | 'writeAcp'): boolean {
  if (access !== 'read' && accessKeyId === objectOwner) return true;
  const needed = objectAccessPermissions[access];
  return acl.some((grant) => grant.accessKeyId === accessKeyId && (grant.permission === needed || grant.permission === 'FULL_CONTROL'));
}

/** `id="a", uri="http://..."`: S3's grantee list syntax in x-amz-grant-* headers. */
function parseGranteeList(value: string, headerName: string): { readonly type: string; readonly value: string }[] {
  return value.split(',').map((item) => item.trim()).filter((item) => item !== '').map((item) => {
    const match = /^(id|emailAddress|uri)\s*=\s*"?([^"]*)"?$/i.exec(item);
    if (match === null) throw new S3Error('InvalidArgument', { message: `Invalid grantee ${item} in ${headerName}: expected id="...", emailAddress="..." or uri="...".`, fields: { ArgumentName: headerName, ArgumentValue: value } });
    return { type: (match[1] ?? '').toLowerCase(), value: (match[2] ?? '').trim() };
  });
}

/**
 * Under object ownership BucketOwnerEnforced (ACLs disabled) a request may state no ACL but the
 * owner's full control: `x-amz-acl: bucket-owner-full-control` (or `private` for the bucket's own
 * ACL), or an AccessControlPolicy granting only the owner FULL_CONTROL. Anything else is S3's
 * AccessControlListNotSupported. `acl`: what the request states, from headers or a body.
 */
export function refuseAclWhileDisabled(acl: { readonly headers: { readonly cannedAcl: string | undefined; readonly grantHeaders: readonly string[] } } | { readonly body: AccessControlPolicyRequest; readonly ownerId: string }, forBucket: boolean): void {
  const allowed = 'headers' in acl
    ? acl.headers.grantHeaders.length === 0 && (acl.headers.cannedAcl === undefined || acl.headers.cannedAcl === 'bucket-owner-full-control' || (forBucket && acl.headers.cannedAcl === 'private'))
    : acl.body.grants.length > 0 && acl.body.grants.every((grant) => grant.granteeId === acl.ownerId && grant.permission === 'FULL_CONTROL');
  if (!allowed) {
    throw new S3Error('AccessControlListNotSupported', { message: 'The bucket does not allow ACLs: its object ownership is BucketOwnerEnforced (share it with a bucket policy).' });
  }
}

/** The ACL-setting headers of a request, for refuseAclWhileDisabled. */
export function aclHeadersOf(header: (name: string) => string | undefined, headerNames: readonly string[]): { readonly cannedAcl: string | undefined; readonly grantHeaders: readonly string[] } {
  return { cannedAcl: header('x-amz-acl')?.trim(), grantHeaders: headerNames.filter((name) => name.startsWith('x-amz-grant-')) };
}

const storedPermissionSeparator = '+';

/**
 * An object's ACL as kept in its system metadata (`x-tessera-acl`): `<key id>:<permission>`
 * entries in order, comma-separated (key ids are letters and digits), e.g.
 * `TKA:FULL_CONTROL,TKB:READ`; empty for an ACL without grants.
 */
export function encodeStoredAcl(acl: readonly AclGrant[]): string {
  return acl.map((grant) => `${grant.accessKeyId}:${grant.permission}`).join(',');
}

/** An ACL as the metadata service keeps a bucket's (it validates the permissions; anything else is skipped). */
export function aclGrantsFromWire(grants: ReadonlyArray<{ readonly accessKeyId: string; readonly permission: string }>): AclGrant[] {
  return grants.flatMap(({ accessKeyId, permission }) => (isAclPermission(permission) ? [{ accessKeyId, permission }] : []));
}

/** The ACL encodeStoredAcl wrote; entries that do not parse are skipped. */
export function decodeStoredAcl(text: string): AclGrant[] {
  if (text === '') return [];
  return text.split(',').flatMap((entry) => {
    const [accessKeyId, permission] = entry.split(':');
    return accessKeyId === undefined || accessKeyId === '' || permission === undefined || !isAclPermission(permission) ? [] : [{ accessKeyId, permission }];
  });
}

/**
 * The grants versions written before 2026-11-24 kept besides their owner's FULL_CONTROL
 * (`x-tessera-grants`: `<key id>:<permission>[+<permission>]`, comma-separated), for
 * objectAclOf; none for an absent value, and entries that do not parse are skipped.
 */
export function decodeLegacyGrants(text: string | undefined): BucketGrant[] {
  if (text === undefined || text === '') return [];
  return text.split(',').flatMap((entry) => {
    const [accessKeyId, permissions] = entry.split(':');
    if (accessKeyId === undefined || accessKeyId === '' || permissions === undefined) return [];
    const grant = { accessKeyId, read: false, write: false, readAcp: false, writeAcp: false };
    for (const permission of permissions.split(storedPermissionSeparator)) {
      if (isAclPermission(permission)) for (const field of grantPermissions[permission]) grant[field] = true;
    }
    return [grant];
  });
}

/**
 * S3 ACLs as Tessera has them. A bucket's owner (the access key that created it) has
 * FULL_CONTROL of it and its objects; other access keys have what the grants say, to a
 * CanonicalUser whose ID is the access key id:
 * - a bucket's grants (access-policy.ts): READ (read objects, list), WRITE (write and delete
 *   objects), READ_ACP (read the bucket's ACL), WRITE_ACP (replace it), FULL_CONTROL (all four).
 *   PutBucketAcl (and CreateBucket's x-amz-grant-* headers) set them, GetBucketAcl shows them;
 * - an object version's grants (bucket-access.ts): READ (GET and HEAD it, copy from it),
 *   READ_ACP (GetObjectAcl), WRITE_ACP (PutObjectAcl), FULL_CONTROL; WRITE is kept and shown but
 *   gives nothing on an object, as in S3. PutObjectAcl and the x-amz-grant-* headers of
 *   PutObject, CopyObject and CreateMultipartUpload set them, GetObjectAcl shows them.
 * The canned ACLs `private`, `bucket-owner-full-control` and `bucket-owner-read` name only the
 * owner (who is also the bucket owner here) and give no grants. Anything wider (public-read,
 * authenticated-read, group or e-mail grantees) is refused with NotImplemented, never stored or
 * ignored: a client must not believe something is public when it is not.
 */
import type { BucketGrant } from './backend';
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

/** The request headers that set an ACL: `x-amz-acl` and the explicit `x-amz-grant-*` grants. */
export function hasAclHeaders(headerNames: readonly string[]): boolean {
  return headerNames.some((name) => name === 'x-amz-acl' || name.startsWith('x-amz-grant-'));
}

/**
 * Refuses a canned ACL (`x-amz-acl`) that would grant anything beyond the owner's FULL_CONTROL
 * (NotImplemented), or that S3 does not have (InvalidArgument). Grant headers are read by
 * grantsFromAclHeaders.
 */
export function refuseUnsupportedCannedAcl(header: (name: string) => string | undefined): void {
  const cannedAcl = header('x-amz-acl');
  if (cannedAcl === undefined) return;
  const value = cannedAcl.trim();
  if (!knownCannedAcls.has(value)) throw new S3Error('InvalidArgument', { message: 'Invalid canned ACL.', fields: { ArgumentName: 'x-amz-acl', ArgumentValue: value } });
  if (!ownerOnlyCannedAcls.has(value)) {
    throw new S3Error('NotImplemented', { message: `The canned ACL ${value} is not implemented by Tessera: only the owner has access (use private).` });
  }
}

/** The Owner an AccessControlPolicy names, if any, must be the resource's owner. */
function checkPolicyOwner(policy: AccessControlPolicyRequest, ownerId: string): void {
  if (policy.ownerId !== undefined && policy.ownerId !== ownerId) {
    throw new S3Error('AccessDenied', { message: 'The Owner in the AccessControlPolicy is not the owner of this resource.' });
  }
}

type GrantPermission = 'read' | 'write' | 'readAcp' | 'writeAcp';

/** S3: an ACL holds at most 100 grants (the metadata service keeps a bucket to as many grantees). */
const aclGranteeCountMax = 100;

/** The bucket-level ACL permissions, as the grant fields they set; FULL_CONTROL sets all four. */
const grantPermissions: Readonly<Record<string, readonly GrantPermission[]>> = {
  READ: ['read'], WRITE: ['write'], READ_ACP: ['readAcp'], WRITE_ACP: ['writeAcp'], FULL_CONTROL: ['read', 'write', 'readAcp', 'writeAcp'],
};

/** A grant as S3 ACL permissions: FULL_CONTROL when it has all four, else each it has (GetBucketAcl). */
export function aclPermissionsOf(grant: BucketGrant): string[] {
  if (grant.read && grant.write && grant.readAcp && grant.writeAcp) return ['FULL_CONTROL'];
  return (['READ', 'WRITE', 'READ_ACP', 'WRITE_ACP'] as const).filter((permission) => grantPermissions[permission]?.every((field) => grant[field]));
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

/** Collects per-key permissions into grants; the owner's own entries add nothing. */
class GrantCollector {
  private readonly given: BucketGrant[] = [];
  constructor(private readonly ownerId: string) {}

  add(granteeId: string | undefined, permission: string, source: string): void {
    const fields = grantPermissions[permission];
    if (fields === undefined) throw new S3Error('MalformedACLError', { message: `Unknown ACL permission ${permission} in ${source}.` });
    if (granteeId === undefined) {
      throw new S3Error('NotImplemented', { message: `ACL grants to groups or e-mail addresses (${source}) are not implemented by Tessera: grant access keys by their id.` });
    }
    if (granteeId === this.ownerId) return;
    const has = (field: GrantPermission): boolean => fields.includes(field);
    this.given.push({ accessKeyId: granteeId, read: has('read'), write: has('write'), readAcp: has('readAcp'), writeAcp: has('writeAcp') });
  }

  grants(): BucketGrant[] {
    const grants = mergeGrants(this.given);
    if (grants.length > aclGranteeCountMax) throw new S3Error('MalformedACLError', { message: `An ACL can name at most ${aclGranteeCountMax} grantees.` });
    return grants;
  }
}

const grantHeaderPermissions: ReadonlyArray<readonly [string, string]> = [
  ['x-amz-grant-read', 'READ'], ['x-amz-grant-write', 'WRITE'], ['x-amz-grant-read-acp', 'READ_ACP'],
  ['x-amz-grant-write-acp', 'WRITE_ACP'], ['x-amz-grant-full-control', 'FULL_CONTROL'],
];

/**
 * An ACL given by headers (PutBucketAcl, PutObjectAcl, CreateBucket and object writes): the
 * canned ACLs that name only the owner give no grants; each `x-amz-grant-*` header
 * (`id="<access key id>", ...`) gives its permission. Grants to `ownerId` add nothing.
 */
export function grantsFromAclHeaders(header: (name: string) => string | undefined, headerNames: readonly string[], ownerId: string): BucketGrant[] {
  const cannedAcl = header('x-amz-acl');
  const grantHeaders = headerNames.filter((name) => name.startsWith('x-amz-grant-'));
  if (cannedAcl !== undefined && grantHeaders.length > 0) {
    throw new S3Error('InvalidRequest', { message: 'Specifying both Canned ACLs and Header Grants is not allowed' });
  }
  if (cannedAcl !== undefined) {
    refuseUnsupportedCannedAcl(header);
    return [];
  }
  const collector = new GrantCollector(ownerId);
  for (const name of grantHeaders) {
    const permission = grantHeaderPermissions.find(([headerName]) => headerName === name)?.[1];
    if (permission === undefined) throw new S3Error('InvalidArgument', { message: `Unknown ACL header ${name}.`, fields: { ArgumentName: name } });
    for (const grantee of parseGranteeList(header(name) ?? '', name)) {
      collector.add(grantee.type === 'id' ? grantee.value : undefined, permission, name);
    }
  }
  return collector.grants();
}

/** PutBucketAcl / PutObjectAcl with an AccessControlPolicy body (Owner, if given, must be the resource's owner). */
export function grantsFromAccessControlPolicy(policy: AccessControlPolicyRequest, ownerId: string): BucketGrant[] {
  checkPolicyOwner(policy, ownerId);
  const collector = new GrantCollector(ownerId);
  policy.grants.forEach((grant, index) => collector.add(grant.granteeId, grant.permission, `Grant ${index + 1}`));
  return collector.grants();
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
 * An object's grants as kept in its system metadata: `<key id>:<permission>[+<permission>]`,
 * comma-separated (key ids are letters and digits), e.g. `TKA:READ+READ_ACP,TKB:FULL_CONTROL`.
 */
export function encodeStoredGrants(grants: readonly BucketGrant[]): string {
  return grants.map((grant) => `${grant.accessKeyId}:${aclPermissionsOf(grant).join(storedPermissionSeparator)}`).join(',');
}

/** The grants encodeStoredGrants wrote; none for an absent value, and entries that do not parse are skipped. */
export function decodeStoredGrants(text: string | undefined): BucketGrant[] {
  if (text === undefined || text === '') return [];
  return text.split(',').flatMap((entry) => {
    const [accessKeyId, permissions] = entry.split(':');
    if (accessKeyId === undefined || accessKeyId === '' || permissions === undefined) return [];
    const grant = { accessKeyId, read: false, write: false, readAcp: false, writeAcp: false };
    for (const permission of permissions.split(storedPermissionSeparator)) for (const field of grantPermissions[permission] ?? []) grant[field] = true;
    return [grant];
  });
}

/**
 * S3 ACLs as Tessera has them. A bucket's owner (the access key that created it) has
 * FULL_CONTROL of it and its objects; other access keys have what the bucket's grants say
 * (access-policy.ts), and a bucket ACL is another view of those grants, to a CanonicalUser whose
 * ID is the access key id: READ (read objects, list), WRITE (write and delete objects), READ_ACP
 * (read the bucket's ACL), WRITE_ACP (replace it), FULL_CONTROL (all four). PutBucketAcl (and
 * CreateBucket's x-amz-grant-* headers) set the grants (bucketGrantsFromAcl*), GetBucketAcl
 * shows them.
 * Objects have no ACL of their own: an object ACL (and the ACL headers of writes) may only
 * state the owner's FULL_CONTROL — the canned ACL `private` (or `bucket-owner-full-control` /
 * `bucket-owner-read`, which name the same owner), or an AccessControlPolicy granting only the
 * owner FULL_CONTROL — which clients send routinely (rclone, s3cmd, SDK defaults). Anything
 * else (public-read, group or e-mail grantees, per-object grants) is refused with
 * NotImplemented, never stored or ignored: a client must not believe an object is public, or
 * shared, when it is not.
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
 * Refuses ACL headers that would grant anything beyond the owner's FULL_CONTROL. Used on every
 * request that may carry them: CreateBucket, PutObject, CopyObject, CreateMultipartUpload and
 * the `?acl` PUTs.
 */
export function refuseUnsupportedAclHeaders(header: (name: string) => string | undefined, headerNames: readonly string[]): void {
  const grant = headerNames.find((name) => name.startsWith('x-amz-grant-'));
  if (grant !== undefined) {
    throw new S3Error('NotImplemented', { message: `ACL grants (${grant}) are not implemented by Tessera: only the owner has access.` });
  }
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

/** An AccessControlPolicy body is accepted only when it states exactly the ACL Tessera has. */
export function refuseUnsupportedAccessControlPolicy(policy: AccessControlPolicyRequest, ownerId: string): void {
  checkPolicyOwner(policy, ownerId);
  const ownerOnly = policy.grants.every((grant) => grant.granteeId === ownerId && grant.permission === 'FULL_CONTROL');
  if (policy.grants.length === 0 || !ownerOnly) {
    throw new S3Error('NotImplemented', { message: 'ACL grants other than the owner\'s FULL_CONTROL are not implemented by Tessera.' });
  }
}

type GrantPermission = 'read' | 'write' | 'readAcp' | 'writeAcp';

/** The bucket-level ACL permissions, as the grant fields they set; FULL_CONTROL sets all four. */
const grantPermissions: Readonly<Record<string, readonly GrantPermission[]>> = {
  READ: ['read'], WRITE: ['write'], READ_ACP: ['readAcp'], WRITE_ACP: ['writeAcp'], FULL_CONTROL: ['read', 'write', 'readAcp', 'writeAcp'],
};

/** A grant as S3 ACL permissions: FULL_CONTROL when it has all four, else each it has (GetBucketAcl). */
export function aclPermissionsOf(grant: BucketGrant): string[] {
  if (grant.read && grant.write && grant.readAcp && grant.writeAcp) return ['FULL_CONTROL'];
  return (['READ', 'WRITE', 'READ_ACP', 'WRITE_ACP'] as const).filter((permission) => grantPermissions[permission]?.every((field) => grant[field]));
}

/** Collects per-key permissions into grants; the owner's own entries add nothing. */
class GrantCollector {
  private readonly byKey = new Map<string, Record<GrantPermission, boolean>>();
  constructor(private readonly ownerId: string) {}

  add(granteeId: string | undefined, permission: string, source: string): void {
    const fields = grantPermissions[permission];
    if (fields === undefined) throw new S3Error('MalformedACLError', { message: `Unknown ACL permission ${permission} in ${source}.` });
    if (granteeId === undefined) {
      throw new S3Error('NotImplemented', { message: `ACL grants to groups or e-mail addresses (${source}) are not implemented by Tessera: grant access keys by their id.` });
    }
    if (granteeId === this.ownerId) return;
    const entry = this.byKey.get(granteeId) ?? { read: false, write: false, readAcp: false, writeAcp: false };
    for (const field of fields) entry[field] = true;
    this.byKey.set(granteeId, entry);
  }

  grants(): BucketGrant[] {
    return [...this.byKey].map(([accessKeyId, permissions]) => ({ accessKeyId, ...permissions }));
  }
}

const grantHeaderPermissions: ReadonlyArray<readonly [string, string]> = [
  ['x-amz-grant-read', 'READ'], ['x-amz-grant-write', 'WRITE'], ['x-amz-grant-read-acp', 'READ_ACP'],
  ['x-amz-grant-write-acp', 'WRITE_ACP'], ['x-amz-grant-full-control', 'FULL_CONTROL'],
];

/**
 * PutBucketAcl (or CreateBucket) with headers: the canned ACLs that name only the owner give no
 * grants; each `x-amz-grant-*` header (`id="<access key id>", ...`) gives its permission.
 */
export function bucketGrantsFromAclHeaders(header: (name: string) => string | undefined, headerNames: readonly string[], ownerId: string): BucketGrant[] {
  const cannedAcl = header('x-amz-acl');
  const grantHeaders = headerNames.filter((name) => name.startsWith('x-amz-grant-'));
  if (cannedAcl !== undefined && grantHeaders.length > 0) {
    throw new S3Error('InvalidRequest', { message: 'Specifying both Canned ACLs and Header Grants is not allowed' });
  }
  if (cannedAcl !== undefined) {
    refuseUnsupportedAclHeaders(header, ['x-amz-acl']);
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

/** PutBucketAcl with an AccessControlPolicy body (Owner, if given, must be the bucket's owner). */
export function bucketGrantsFromAccessControlPolicy(policy: AccessControlPolicyRequest, ownerId: string): BucketGrant[] {
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

/**
 * Access control as Tessera has it: one owner (the root key) with FULL_CONTROL of every bucket
 * and object, and no other grantee. Requests that would set exactly that — the canned ACL
 * `private` (or `bucket-owner-full-control` / `bucket-owner-read`, which name the same single
 * owner), or an AccessControlPolicy granting only the owner FULL_CONTROL — are accepted,
 * because clients send them routinely (rclone, s3cmd, SDK defaults). Anything that would open
 * access (public-read, grants to other users or groups) is refused with NotImplemented, never
 * stored or ignored: a client must not believe an object is public, or shared, when it is not.
 */
import { S3Error } from './s3-errors';
import type { AccessControlPolicyRequest } from './xml-requests';
import type { Owner } from './xml-responses';

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

/** An AccessControlPolicy body is accepted only when it states exactly the ACL Tessera has. */
export function refuseUnsupportedAccessControlPolicy(policy: AccessControlPolicyRequest, owner: Owner): void {
  if (policy.ownerId !== undefined && policy.ownerId !== owner.id) {
    throw new S3Error('AccessDenied', { message: 'The Owner in the AccessControlPolicy is not the owner of this resource.' });
  }
  const ownerOnly = policy.grants.every((grant) => grant.granteeId === owner.id && grant.permission === 'FULL_CONTROL');
  if (policy.grants.length === 0 || !ownerOnly) {
    throw new S3Error('NotImplemented', { message: 'ACL grants other than the owner\'s FULL_CONTROL are not implemented by Tessera.' });
  }
}

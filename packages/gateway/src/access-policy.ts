/**
 * Who may do what, per bucket. Pure: the operation, the principal and the bucket's owner and
 * grants in, a yes or no out (the I/O is in the caller, app.ts and the copy handlers).
 *
 * - The root key (configuration) may do everything in every bucket.
 * - Any other key (tessera key create) owns the buckets it creates: everything there.
 * - In a bucket it does not own, a key has only what the owner's operator granted it
 *   (tessera key allow): `read` (GET, HEAD, listings, configuration reads) and/or `write`
 *   (PUT, copy, delete, tagging, retention and legal hold, multipart uploads).
 * - Changing a bucket's settings or deleting it, and bypassing GOVERNANCE retention, take the
 *   owner (or root).
 */
import { assertNever } from '@tessera/common';
import type { Principal } from './auth/credential-store';
import type { BucketGrant } from './backend';
import type { S3Operation } from './s3-operation';

export type AccessLevel = 'read' | 'write' | 'owner';

/** What an operation needs in which bucket. */
export interface RequiredAccess {
  readonly bucket: string;
  readonly level: AccessLevel;
}

/** The bucket facts a decision reads. */
export interface BucketAccessFacts {
  readonly owner: string;
  readonly grants: readonly BucketGrant[];
}

/**
 * The access `op` needs, in its own bucket and (CopyObject, UploadPartCopy) the copy source's.
 * Empty for requests that name no bucket, or are checked elsewhere: ListBuckets (filtered to
 * what the key may see), CreateBucket (canCreateBuckets), PostObject (after its form is read),
 * CorsPreflight (unauthenticated), NotImplemented (refused anyway).
 */
export function requiredAccess(op: S3Operation, bypassGovernance: boolean): readonly RequiredAccess[] {
  const bucket = 'bucket' in op && op.bucket !== undefined ? op.bucket : '';
  const on = (level: AccessLevel): RequiredAccess[] => [{ bucket, level }];
  // Bypassing GOVERNANCE retention is the owner's call, not a writer's.
  const writeOrBypass = (): RequiredAccess[] => on(bypassGovernance ? 'owner' : 'write');
  switch (op.kind) {
    case 'ListBuckets':
    case 'CreateBucket':
    case 'PostObject':
    case 'CorsPreflight':
    case 'NotImplemented':
      return [];
    case 'HeadBucket':
    case 'GetBucketLocation':
    case 'GetBucketVersioning':
    case 'GetBucketAcl':
    case 'GetBucketConfiguration':
    case 'GetBucketTagging':
    case 'GetBucketCors':
    case 'GetObjectLockConfiguration':
    case 'GetBucketLifecycleConfiguration':
    case 'GetBucketEncryption':
    case 'ListObjectsV2':
    case 'ListObjects':
    case 'ListObjectVersions':
    case 'ListMultipartUploads':
    case 'GetObject':
    case 'HeadObject':
    case 'GetObjectTagging':
    case 'GetObjectAcl':
    case 'GetObjectAttributes':
    case 'GetObjectRetention':
    case 'GetObjectLegalHold':
    case 'ListParts':
      return on('read');
    case 'PutObject':
    case 'PutObjectTagging':
    case 'DeleteObjectTagging':
    case 'PutObjectAcl':
    case 'PutObjectLegalHold':
    case 'CreateMultipartUpload':
    case 'UploadPart':
    case 'CompleteMultipartUpload':
    case 'AbortMultipartUpload':
      return on('write');
    case 'DeleteObject':
    case 'DeleteObjects':
    case 'PutObjectRetention':
      return writeOrBypass();
    case 'CopyObject':
    case 'UploadPartCopy':
      return [...on('write'), { bucket: op.source.bucket, level: 'read' }];
    case 'DeleteBucket':
    case 'PutBucketVersioning':
    case 'PutBucketAcl':
    case 'PutBucketTagging':
    case 'DeleteBucketTagging':
    case 'PutBucketCors':
    case 'DeleteBucketCors':
    case 'PutObjectLockConfiguration':
    case 'PutBucketLifecycleConfiguration':
    case 'DeleteBucketLifecycle':
    case 'PutBucketEncryption':
    case 'DeleteBucketEncryption':
      return on('owner');
    default:
      return assertNever(op, 'S3 operation');
  }
}

/** Whether `principal` has `level` in a bucket with these facts. */
export function mayAccess(principal: Principal, bucket: BucketAccessFacts, level: AccessLevel): boolean {
  if (principal.isRoot || bucket.owner === principal.accessKeyId) return true;
  if (level === 'owner') return false;
  const grant = bucket.grants.find((candidate) => candidate.accessKeyId === principal.accessKeyId);
  if (grant === undefined) return false;
  return level === 'read' ? grant.read : grant.write;
}

/** Whether a bucket shows in the principal's ListBuckets: it owns it or holds any grant there. */
export function mayList(principal: Principal, bucket: BucketAccessFacts): boolean {
  return mayAccess(principal, bucket, 'read') || mayAccess(principal, bucket, 'write');
}

/**
 * Who may do what, per bucket. Pure: the operation, the principal, the bucket's owner, grants
 * and policy in, a yes or no out (the I/O is in the caller, bucket-access.ts).
 *
 * - The root key (configuration) may do everything in every bucket; no policy binds it.
 * - Any other key (tessera key create) owns the buckets it creates: everything there.
 * - In a bucket it does not own, a key has what the owner granted it (tessera key allow,
 *   PutBucketAcl): `read` (GET, HEAD, listings, configuration reads) and/or `write` (PUT, copy,
 *   delete, tagging, retention and legal hold, multipart uploads), `readAcp` (GetBucketAcl) and/or
 *   `writeAcp` (PutBucketAcl), as S3's READ, WRITE, READ_ACP and WRITE_ACP.
 * - Changing a bucket's other settings or deleting it, and bypassing GOVERNANCE retention, take
 *   the owner (or root).
 * - A bucket policy (bucket-policy.ts) adds to that per S3 action and resource: an explicit Deny
 *   refuses the request whatever the key's ownership or grants (the owner included), an Allow
 *   lets in a key that has no grant (not while the policy is public and the bucket's public access
 *   block restricts public buckets). Its owner alone reads, changes and deletes a bucket's policy,
 *   and no policy can refuse that, so an owner never locks itself out.
 */
import { assertNever } from '@tessera/common';
import type { Principal } from './auth/credential-store';
import type { BucketGrant } from './backend';
import { evaluateBucketPolicy, isPolicyPublic } from './bucket-policy';
import type { BucketPolicy } from './bucket-policy';
import type { AbsentBucketConfiguration, S3Operation } from './s3-operation';

export type AccessLevel = 'read' | 'write' | 'readAcp' | 'writeAcp' | 'owner';

/**
 * What an operation needs in which bucket: the access level a key's ownership or grants must
 * give, or else the S3 action (IAM name) on the resource (ARN) that the bucket's policy must
 * allow (bucket-policy.ts). `action` undefined: the policy is consulted later, per object
 * (DeleteObjects names its keys in its body).
 */
export interface RequiredAccess {
  readonly bucket: string;
  readonly level: AccessLevel;
  readonly action: string | undefined;
  readonly resource: string;
  /** The object (and version) an object-level action reads or changes: its tags are `s3:ExistingObjectTag/<key>`. */
  readonly object?: { readonly key: string; readonly versionId: string | undefined } | undefined;
}

/** The bucket facts a decision reads. */
export interface BucketAccessFacts {
  readonly owner: string;
  readonly grants: readonly BucketGrant[];
  /** PutPublicAccessBlock's RestrictPublicBuckets: a public policy's Allow admits no key but the owner. */
  readonly publicAccessBlock?: { readonly restrictPublicBuckets: boolean } | undefined;
}

/** The S3 resource names of policies: a bucket, or one object in it. */
export function bucketArn(bucket: string): string {
  return `arn:aws:s3:::${bucket}`;
}
export function objectArn(bucket: string, key: string): string {
  return `arn:aws:s3:::${bucket}/${key}`;
}

/** The policy actions only a bucket's owner may use; a policy can neither grant nor deny them. */
export const ownerOnlyPolicyActions: ReadonlySet<string> = new Set(['s3:GetBucketPolicy', 's3:PutBucketPolicy', 's3:DeleteBucketPolicy', 's3:GetBucketPolicyStatus']);

const absentConfigurationActions: Readonly<Record<AbsentBucketConfiguration, string>> = {
  website: 's3:GetBucketWebsite',
  replication: 's3:GetReplicationConfiguration',
  logging: 's3:GetBucketLogging',
  accelerate: 's3:GetAccelerateConfiguration',
  requestPayment: 's3:GetBucketRequestPayment',
  notification: 's3:GetBucketNotification',
};

/** `s3:<name>` for the current version, `s3:<versionName>` when the request names a version. */
function versioned(name: string, versionName: string, versionId: string | undefined): string {
  return `s3:${versionId === undefined ? name : versionName}`;
}

/**
 * `access` to an object, plus (when the request bypasses GOVERNANCE retention) the owner or the
 * policy's s3:BypassGovernanceRetention there: bypassing is not a writer's call.
 */
function withGovernanceBypass(access: RequiredAccess, bypassGovernance: boolean): readonly RequiredAccess[] {
  return bypassGovernance ? [access, { ...access, level: 'owner', action: 's3:BypassGovernanceRetention' }] : [access];
}

/**
 * What deleting one object needs (DeleteObject, and each key of DeleteObjects): write access or
 * the policy's s3:DeleteObject(Version), and the bypass's own access when it bypasses.
 */
export function objectDeleteAccess(bucket: string, key: string, versionId: string | undefined, bypassGovernance: boolean): readonly RequiredAccess[] {
  const deletion: RequiredAccess = { bucket, level: 'write', action: versioned('DeleteObject', 'DeleteObjectVersion', versionId), resource: objectArn(bucket, key), object: { key, versionId } };
  return withGovernanceBypass(deletion, bypassGovernance);
}

/**
 * What PutObjectTagging needs: write access or the policy's s3:PutObject(Version)Tagging. Its
 * handler checks it once the Tagging document is read, since a policy may test the tags it sets
 * (`s3:RequestObjectTag/<key>`, `s3:RequestObjectTagKeys`).
 */
export function objectTaggingWriteAccess(bucket: string, key: string, versionId: string | undefined): RequiredAccess {
  return { bucket, level: 'write', action: versioned('PutObjectTagging', 'PutObjectVersionTagging', versionId), resource: objectArn(bucket, key), object: { key, versionId } };
}

/**
 * The access `op` needs, in its own bucket and (CopyObject, UploadPartCopy) the copy source's.
 * Empty for requests that name no bucket, or are checked elsewhere: ListBuckets (filtered to
 * what the key may see), CreateBucket (canCreateBuckets), PostObject (after its form is read),
 * CorsPreflight (unauthenticated), NotImplemented (refused anyway), PutObjectTagging (after its
 * document is read: objectTaggingWriteAccess). DeleteObjects needs write access here unless the
 * bucket has a policy; its keys are checked one by one as they are deleted.
 */
export function requiredAccess(op: S3Operation, bypassGovernance: boolean): readonly RequiredAccess[] {
  const onBucket = (bucket: string, level: AccessLevel, action: string): RequiredAccess[] => [{ bucket, level, action, resource: bucketArn(bucket) }];
  const onObject = (bucket: string, key: string, level: AccessLevel, action: string, versionId?: string): RequiredAccess[] => [
    { bucket, level, action, resource: objectArn(bucket, key), object: { key, versionId } },
  ];
  switch (op.kind) {
    case 'ListBuckets':
    case 'CreateBucket':
    case 'PostObject':
    case 'CorsPreflight':
    case 'NotImplemented':
    case 'PutObjectTagging':
      return [];
    case 'HeadBucket':
    case 'ListObjectsV2':
    case 'ListObjects': return onBucket(op.bucket, 'read', 's3:ListBucket');
    case 'ListObjectVersions': return onBucket(op.bucket, 'read', 's3:ListBucketVersions');
    case 'ListMultipartUploads': return onBucket(op.bucket, 'read', 's3:ListBucketMultipartUploads');
    case 'GetBucketLocation': return onBucket(op.bucket, 'read', 's3:GetBucketLocation');
    case 'GetBucketVersioning': return onBucket(op.bucket, 'read', 's3:GetBucketVersioning');
    case 'GetBucketAcl': return onBucket(op.bucket, 'readAcp', 's3:GetBucketAcl');
    case 'GetBucketConfiguration': return onBucket(op.bucket, 'read', absentConfigurationActions[op.configuration]);
    case 'GetBucketTagging': return onBucket(op.bucket, 'read', 's3:GetBucketTagging');
    case 'GetBucketCors': return onBucket(op.bucket, 'read', 's3:GetBucketCORS');
    case 'GetObjectLockConfiguration': return onBucket(op.bucket, 'read', 's3:GetBucketObjectLockConfiguration');
    case 'GetBucketLifecycleConfiguration': return onBucket(op.bucket, 'read', 's3:GetLifecycleConfiguration');
    case 'GetBucketEncryption': return onBucket(op.bucket, 'read', 's3:GetEncryptionConfiguration');
    case 'DeleteBucket': return onBucket(op.bucket, 'owner', 's3:DeleteBucket');
    case 'PutBucketVersioning': return onBucket(op.bucket, 'owner', 's3:PutBucketVersioning');
    case 'PutBucketAcl': return onBucket(op.bucket, 'writeAcp', 's3:PutBucketAcl');
    case 'PutBucketTagging':
    case 'DeleteBucketTagging': return onBucket(op.bucket, 'owner', 's3:PutBucketTagging');
    case 'PutBucketCors':
    case 'DeleteBucketCors': return onBucket(op.bucket, 'owner', 's3:PutBucketCORS');
    case 'PutObjectLockConfiguration': return onBucket(op.bucket, 'owner', 's3:PutBucketObjectLockConfiguration');
    case 'PutBucketLifecycleConfiguration':
    case 'DeleteBucketLifecycle': return onBucket(op.bucket, 'owner', 's3:PutLifecycleConfiguration');
    case 'PutBucketEncryption':
    case 'DeleteBucketEncryption': return onBucket(op.bucket, 'owner', 's3:PutEncryptionConfiguration');
    case 'GetBucketPolicy': return onBucket(op.bucket, 'owner', 's3:GetBucketPolicy');
    case 'PutBucketPolicy': return onBucket(op.bucket, 'owner', 's3:PutBucketPolicy');
    case 'DeleteBucketPolicy': return onBucket(op.bucket, 'owner', 's3:DeleteBucketPolicy');
    case 'GetBucketPolicyStatus': return onBucket(op.bucket, 'owner', 's3:GetBucketPolicyStatus');
    case 'GetPublicAccessBlock': return onBucket(op.bucket, 'read', 's3:GetBucketPublicAccessBlock');
    case 'GetBucketOwnershipControls': return onBucket(op.bucket, 'read', 's3:GetBucketOwnershipControls');
    case 'PutBucketOwnershipControls':
    case 'DeleteBucketOwnershipControls': return onBucket(op.bucket, 'owner', 's3:PutBucketOwnershipControls');
    case 'PutPublicAccessBlock':
    case 'DeletePublicAccessBlock': return onBucket(op.bucket, 'owner', 's3:PutBucketPublicAccessBlock');
    case 'DeleteObjects': return [{ bucket: op.bucket, level: 'write', action: undefined, resource: bucketArn(op.bucket) }];
    case 'GetObject':
    case 'HeadObject': return onObject(op.bucket, op.key, 'read', versioned('GetObject', 'GetObjectVersion', op.versionId), op.versionId);
    case 'GetObjectTagging': return onObject(op.bucket, op.key, 'read', versioned('GetObjectTagging', 'GetObjectVersionTagging', op.versionId), op.versionId);
    case 'GetObjectAcl': return onObject(op.bucket, op.key, 'read', versioned('GetObjectAcl', 'GetObjectVersionAcl', op.versionId), op.versionId);
    case 'GetObjectAttributes': return onObject(op.bucket, op.key, 'read', versioned('GetObjectAttributes', 'GetObjectVersionAttributes', op.versionId), op.versionId);
    case 'GetObjectRetention': return onObject(op.bucket, op.key, 'read', 's3:GetObjectRetention', op.versionId);
    case 'GetObjectLegalHold': return onObject(op.bucket, op.key, 'read', 's3:GetObjectLegalHold', op.versionId);
    case 'ListParts': return onObject(op.bucket, op.key, 'read', 's3:ListMultipartUploadParts');
    case 'PutObject':
    case 'CreateMultipartUpload':
    case 'UploadPart':
    case 'CompleteMultipartUpload': return onObject(op.bucket, op.key, 'write', 's3:PutObject');
    case 'CopyObject':
    case 'UploadPartCopy':
      return [
        ...onObject(op.bucket, op.key, 'write', 's3:PutObject'),
        ...onObject(op.source.bucket, op.source.key, 'read', versioned('GetObject', 'GetObjectVersion', op.source.versionId), op.source.versionId),
      ];
    case 'AbortMultipartUpload': return onObject(op.bucket, op.key, 'write', 's3:AbortMultipartUpload');
    case 'DeleteObjectTagging': return onObject(op.bucket, op.key, 'write', versioned('DeleteObjectTagging', 'DeleteObjectVersionTagging', op.versionId), op.versionId);
    case 'PutObjectAcl': return onObject(op.bucket, op.key, 'write', versioned('PutObjectAcl', 'PutObjectVersionAcl', op.versionId), op.versionId);
    case 'PutObjectLegalHold': return onObject(op.bucket, op.key, 'write', 's3:PutObjectLegalHold', op.versionId);
    case 'PutObjectRetention':
      return withGovernanceBypass(
        { bucket: op.bucket, level: 'write', action: 's3:PutObjectRetention', resource: objectArn(op.bucket, op.key), object: { key: op.key, versionId: op.versionId } },
        bypassGovernance,
      );
    case 'DeleteObject': return objectDeleteAccess(op.bucket, op.key, op.versionId, bypassGovernance);
    default:
      return assertNever(op, 'S3 operation');
  }
}

/** Whether `principal` has `level` in a bucket with these facts. */
export function mayAccess(principal: Principal, bucket: BucketAccessFacts, level: AccessLevel): boolean {
  if (principal.isRoot || bucket.owner === principal.accessKeyId) return true;
  if (level === 'owner') return false;
  const grant = bucket.grants.find((candidate) => candidate.accessKeyId === principal.accessKeyId);
  return grant !== undefined && grant[level];
}

/** Whether a bucket shows in the principal's ListBuckets: it owns it or holds any grant there. */
export function mayList(principal: Principal, bucket: BucketAccessFacts): boolean {
  return (['read', 'write', 'readAcp', 'writeAcp'] as const).some((level) => mayAccess(principal, bucket, level));
}

/** The outcome of one access check; a refusal says whether the policy or a missing grant refused. */
export type AccessDecision = 'allowed' | 'deniedByPolicy' | 'notGranted';

/**
 * Decides one `required` access for `principal` in a bucket with these facts and this policy.
 * `conditionContext`: the request's values for the policy's conditions (bucket-policy.ts).
 */
export function decideAccess(
  principal: Principal,
  bucket: BucketAccessFacts,
  policy: BucketPolicy | undefined,
  required: RequiredAccess,
  conditionContext: ReadonlyMap<string, readonly string[]>,
): AccessDecision {
  if (principal.isRoot) return 'allowed';
  if (required.action !== undefined && ownerOnlyPolicyActions.has(required.action)) return bucket.owner === principal.accessKeyId ? 'allowed' : 'notGranted';
  const verdict = policy === undefined || required.action === undefined
    ? 'none'
    : evaluateBucketPolicy(policy, { principal: principal.accessKeyId, action: required.action, resource: required.resource, context: conditionContext });
  if (verdict === 'deny') return 'deniedByPolicy';
  // RestrictPublicBuckets: while the policy is public, its Allow reaches only the owner's own keys
  // (here, the owner), as S3 limits it to the bucket owner's account.
  const allowCounts = verdict === 'allow' && !(bucket.publicAccessBlock?.restrictPublicBuckets === true && policy !== undefined && isPolicyPublic(policy));
  if (allowCounts || mayAccess(principal, bucket, required.level)) return 'allowed';
  // No action yet (DeleteObjects): each object is decided on its own when the policy may allow it.
  return required.action === undefined && policy !== undefined ? 'allowed' : 'notGranted';
}

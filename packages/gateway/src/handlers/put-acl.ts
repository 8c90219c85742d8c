/**
 * PutBucketAcl / PutObjectAcl. The ACL comes either from headers (`x-amz-acl`, `x-amz-grant-*`)
 * or from an AccessControlPolicy body, never both (S3's rule). It replaces the bucket's grants
 * (READ, WRITE, READ_ACP, WRITE_ACP, FULL_CONTROL to access keys by id; the ACL as given is kept
 * for GetBucketAcl), or the object version's ACL, kept exactly as given. Grantees must be access
 * keys that exist (access-control.ts): public and group grants are NotImplemented, e-mail
 * grantees UnresolvableGrantByEmailAddress. An object's owner stays. In a bucket whose ACLs are
 * disabled (BucketOwnerEnforced) only the owner's full control may be stated.
 */
import { aclHeadersOf, bucketAclFromAccessControlPolicy, bucketAclFromHeaders, hasAclHeaders, objectAclFromAccessControlPolicy, objectAclFromHeaders, refuseAclWhileDisabled } from '../access-control';
import { resolveGrantees, resolveAclGrantees } from '../bucket-access';
import { callBackend, changeBucketSettings, readSmallBody, sendEmpty } from '../handler-context';
import type { HandlerContext } from '../handler-context';
import { S3Error } from '../s3-errors';
import { accessControlPolicyBodyBytesMax, parseAccessControlPolicy } from '../xml-requests';

/** `key` undefined: the bucket's ACL. */
export async function handlePutAcl(ctx: HandlerContext, bucket: string, key: string | undefined, versionId?: string): Promise<void> {
  const header = (name: string): string | undefined => ctx.header(name);
  const body = await readSmallBody(ctx, accessControlPolicyBodyBytesMax);
  const fromHeaders = hasAclHeaders(ctx.headerNames);
  if (fromHeaders && body.length > 0) {
    throw new S3Error('InvalidRequest', { message: 'Specify an ACL either with headers or with an AccessControlPolicy body, not both.' });
  }
  if (!fromHeaders && body.length === 0) throw new S3Error('MissingRequestBodyError', { message: 'An x-amz-acl header or an AccessControlPolicy body is required.' });
  const { owner, objectOwnership } = await callBackend({ bucket }, () => ctx.backend.headBucket(bucket));
  const policy = fromHeaders ? undefined : parseAccessControlPolicy(body);
  if (objectOwnership === 'BucketOwnerEnforced') {
    refuseAclWhileDisabled(policy === undefined ? { headers: aclHeadersOf(header, ctx.headerNames) } : { body: policy, ownerId: owner }, key === undefined);
  }
  if (key === undefined) {
    const stated = policy === undefined ? bucketAclFromHeaders(header, ctx.headerNames, owner) : bucketAclFromAccessControlPolicy(policy, owner);
    const grants = await resolveGrantees(ctx, stated.grants, owner);
    const exactAcl = stated.exactAcl === undefined ? undefined : await resolveAclGrantees(ctx, stated.exactAcl);
    await changeBucketSettings(ctx, bucket, () => ctx.backend.setBucketGrants(bucket, grants, exactAcl), 200);
    return;
  }
  const current = await callBackend({ bucket, key }, () => ctx.backend.headObject(bucket, key, versionId));
  const objectOwner = objectOwnership === 'BucketOwnerEnforced' ? owner : current.headers.owner ?? owner;
  const given = policy === undefined
    ? objectAclFromHeaders(header, ctx.headerNames, { objectOwner, bucketOwner: owner })
    : objectAclFromAccessControlPolicy(policy, objectOwner);
  const acl = given === undefined ? undefined : await resolveAclGrantees(ctx, given);
  // The default ACL that clients send routinely (`private`) changes nothing on an object that has it.
  if (acl !== undefined || current.headers.acl !== undefined || current.headers.legacyGrants !== undefined) {
    await callBackend({ bucket, key }, () => ctx.backend.setObjectAcl(bucket, key, acl, versionId));
  }
  sendEmpty(ctx, 200);
}

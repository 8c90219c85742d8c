/**
 * CreateBucket: the LocationConstraint must name this region (none for us-east-1);
 * `x-amz-bucket-object-lock-enabled: true` creates it with Object Lock and versioning on. The
 * signing access key owns the new bucket (access-policy.ts); a key created with
 * `--no-create-bucket` may not create any. `x-amz-object-ownership` sets the new bucket's
 * ownership controls (bucket-ownership.ts), `x-amz-grant-*` its grants to other access keys
 * (access-control.ts), as PutBucketAcl would right after.
 */
import { aclHeadersOf, bucketAclFromHeaders, refuseAclWhileDisabled } from '../access-control';
import { resolveAclGrantees, resolveGrantees } from '../bucket-access';
import type { ObjectOwnership } from '../backend';
import { S3Error } from '../s3-errors';
import { callBackend, readSmallBody, sendEmpty } from '../handler-context';
import type { HandlerContext } from '../handler-context';
import { createBucketBodyBytesMax, objectOwnershipOf, parseCreateBucketConfiguration } from '../xml-requests';

/** `x-amz-object-ownership` of CreateBucket: as PutBucketOwnershipControls takes it. */
function requestedObjectOwnership(value: string | undefined): ObjectOwnership | undefined {
  if (value === undefined) return undefined;
  const ownership = objectOwnershipOf(value);
  if (ownership === undefined) throw new S3Error('InvalidArgument', { message: 'Invalid x-amz-object-ownership header.', fields: { ArgumentName: 'x-amz-object-ownership', ArgumentValue: value } });
  return ownership;
}

export async function handleCreateBucket(ctx: HandlerContext, bucket: string): Promise<void> {
  const { principal } = ctx.auth;
  if (!principal.canCreateBuckets) {
    throw new S3Error('AccessDenied', { message: `Access Denied: access key ${principal.accessKeyId} may not create buckets (tessera key create --no-create-bucket).` });
  }
  const stated = bucketAclFromHeaders((name) => ctx.header(name), ctx.headerNames, principal.accessKeyId);
  const grants = await resolveGrantees(ctx, stated.grants, principal.accessKeyId);
  const exactAcl = stated.exactAcl === undefined ? undefined : await resolveAclGrantees(ctx, stated.exactAcl);
  const objectOwnership = requestedObjectOwnership(ctx.header('x-amz-object-ownership'));
  if (objectOwnership === 'BucketOwnerEnforced') refuseAclWhileDisabled({ headers: aclHeadersOf((name) => ctx.header(name), ctx.headerNames) }, true);
  const constraint = parseCreateBucketConfiguration(await readSmallBody(ctx, createBucketBodyBytesMax));
  // us-east-1 is the one region whose buckets carry no LocationConstraint (S3 CreateBucket).
  const allowed = ctx.options.region === 'us-east-1' ? constraint === undefined : constraint === undefined || constraint === ctx.options.region;
  if (!allowed) {
    throw new S3Error('IllegalLocationConstraintException', {
      message: `The ${constraint ?? ''} location constraint is incompatible for the region specific endpoint this request was sent to.`,
    });
  }
  // Object Lock on from the start, which also turns versioning on (S3).
  const objectLockEnabled = ctx.header('x-amz-bucket-object-lock-enabled')?.toLowerCase() === 'true';
  await callBackend({ bucket }, () => ctx.backend.createBucket(bucket, principal.accessKeyId, { objectLockEnabled }));
  if (objectOwnership !== undefined) await callBackend({ bucket }, () => ctx.backend.setBucketOwnershipControls(bucket, objectOwnership));
  if (grants.length > 0 || exactAcl !== undefined) await callBackend({ bucket }, () => ctx.backend.setBucketGrants(bucket, grants, exactAcl));
  sendEmpty(ctx, 200, { Location: `/${bucket}` });
}

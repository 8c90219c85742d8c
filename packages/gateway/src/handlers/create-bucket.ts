/**
 * CreateBucket: the LocationConstraint must name this region (none for us-east-1);
 * `x-amz-bucket-object-lock-enabled: true` creates it with Object Lock and versioning on. The
 * signing access key owns the new bucket (access-policy.ts); a key created with
 * `--no-create-bucket` may not create any.
 */
import { refuseUnsupportedAclHeaders } from '../access-control';
import { S3Error } from '../s3-errors';
import { callBackend, readSmallBody, sendEmpty } from '../handler-context';
import type { HandlerContext } from '../handler-context';
import { createBucketBodyBytesMax, parseCreateBucketConfiguration } from '../xml-requests';

export async function handleCreateBucket(ctx: HandlerContext, bucket: string): Promise<void> {
  const { principal } = ctx.auth;
  if (!principal.canCreateBuckets) {
    throw new S3Error('AccessDenied', { message: `Access Denied: access key ${principal.accessKeyId} may not create buckets (tessera key create --no-create-bucket).` });
  }
  refuseUnsupportedAclHeaders((name) => ctx.header(name), ctx.headerNames);
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
  sendEmpty(ctx, 200, { Location: `/${bucket}` });
}

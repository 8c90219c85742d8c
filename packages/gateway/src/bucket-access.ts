/**
 * The I/O side of access-policy.ts: reads a bucket's owner and grants (through the gateway's
 * bucket cache) to decide a request, and to name the bucket's owner in responses.
 */
import { mayAccess } from './access-policy';
import type { RequiredAccess } from './access-policy';
import type { BucketInfo } from './backend';
import type { HandlerContext } from './handler-context';
import { S3Error } from './s3-errors';
import { ownerOfKey } from './xml-responses';
import type { Owner } from './xml-responses';

/**
 * The bucket's settings, or undefined when it does not exist. A bucket remembered as missing is
 * read again: it may have been created since through another gateway, and a check must never
 * pass on a stale "no such bucket".
 */
async function currentInfoOf(ctx: HandlerContext, bucket: string): Promise<BucketInfo | undefined> {
  return ctx.bucketCache.infoOf(bucket, { rereadMissing: true });
}

/**
 * Throws AccessDenied unless the request's principal has the access in the bucket. The root key
 * needs no read. A bucket that does not exist passes: the handler answers NoSuchBucket.
 */
export async function checkAccess(ctx: HandlerContext, required: RequiredAccess): Promise<void> {
  const { principal } = ctx.auth;
  if (principal.isRoot) return;
  const info = await currentInfoOf(ctx, required.bucket);
  if (info === undefined || mayAccess(principal, info, required.level)) return;
  throw new S3Error('AccessDenied', {
    message: required.level === 'owner'
      ? `Access Denied: only the owner of bucket ${required.bucket} may do this.`
      : `Access Denied: access key ${principal.accessKeyId} has no ${required.level} access to bucket ${required.bucket}.`,
  });
}

/** The bucket's owner as S3 responses name it (ListObjects Owner, ACLs); NoSuchBucket when it is gone. */
export async function bucketOwner(ctx: HandlerContext, bucket: string): Promise<Owner> {
  const info = await currentInfoOf(ctx, bucket);
  if (info === undefined) throw new S3Error('NoSuchBucket', { fields: { BucketName: bucket } });
  return ownerOfKey(info.owner);
}

/**
 * `x-amz-expected-bucket-owner` (and `x-amz-source-expected-bucket-owner` for a copy's source):
 * the client names the owner it expects (an access key id here, as listings show owners); another
 * owner is 403 AccessDenied, so a request never lands in a same-named bucket of someone else.
 */
export async function checkExpectedOwner(ctx: HandlerContext, bucket: string, expectedOwner: string): Promise<void> {
  const info = await currentInfoOf(ctx, bucket);
  if (info === undefined || info.owner === expectedOwner) return;
  throw new S3Error('AccessDenied', { message: `Access Denied: bucket ${bucket} is not owned by ${expectedOwner}.` });
}

/**
 * Object ownership (S3 ownership controls): Get/Put/DeleteBucketOwnershipControls. They decide
 * who owns a new object (access-control.ts objectOwnerOfWrite): ObjectWriter (also what a bucket
 * without controls does) the key that writes it, BucketOwnerPreferred the bucket's owner when the
 * write sends `bucket-owner-full-control`, BucketOwnerEnforced always the bucket's owner, and it
 * disables ACLs: no bucket grants (use a bucket policy to share), no ACL headers or bodies but
 * the owner's full control, and object ACLs count for nothing (bucket-access.ts).
 */
import { S3Error } from '../s3-errors';
import { callBackend, changeBucketSettings, readSmallBody, sendXml } from '../handler-context';
import type { HandlerContext } from '../handler-context';
import { ownershipControlsBodyBytesMax, parseOwnershipControls } from '../xml-requests';
import { ownershipControlsXml } from '../xml-responses';

export async function handleGetBucketOwnershipControls(ctx: HandlerContext, bucket: string): Promise<void> {
  const { objectOwnership } = await callBackend({ bucket }, () => ctx.backend.headBucket(bucket));
  if (objectOwnership === undefined) throw new S3Error('OwnershipControlsNotFoundError', { fields: { BucketName: bucket } });
  sendXml(ctx, 200, ownershipControlsXml(objectOwnership));
}

export async function handlePutBucketOwnershipControls(ctx: HandlerContext, bucket: string): Promise<void> {
  const objectOwnership = parseOwnershipControls(await readSmallBody(ctx, ownershipControlsBodyBytesMax));
  const { grants } = await callBackend({ bucket }, () => ctx.backend.headBucket(bucket));
  // As S3 refuses to disable ACLs that grant access outside the owner's account (the metadata
  // service refuses it too, atomically; this answers with S3's own code).
  if (objectOwnership === 'BucketOwnerEnforced' && grants.length > 0) {
    throw new S3Error('InvalidBucketAclWithObjectOwnership', {
      message: `Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting: bucket ${bucket} grants access to ${grants.map((grant) => grant.accessKeyId).join(', ')}.`,
    });
  }
  await changeBucketSettings(ctx, bucket, () => ctx.backend.setBucketOwnershipControls(bucket, objectOwnership), 200);
}

export async function handleDeleteBucketOwnershipControls(ctx: HandlerContext, bucket: string): Promise<void> {
  await changeBucketSettings(ctx, bucket, () => ctx.backend.setBucketOwnershipControls(bucket, undefined), 204);
}

/**
 * Object tagging: GetObjectTagging, PutObjectTagging (replaces the whole tag set) and
 * DeleteObjectTagging. Tags belong to the current version and change in place: the object's
 * data, ETag and Last-Modified stay as they are, as in S3.
 * Bucket tagging: GetBucketTagging (NoSuchTagSet when the bucket has none), PutBucketTagging
 * (replaces the whole set, up to 50 tags) and DeleteBucketTagging.
 */
import { objectTaggingWriteAccess } from '../access-policy';
import { checkAccess } from '../bucket-access';
import { callBackend, readSmallBody, sendEmpty, sendXml } from '../handler-context';
import { versionIdHeader } from '../object-response';
import type { HandlerContext } from '../handler-context';
import type { Tag } from '../object-tags';
import { S3Error } from '../s3-errors';
import { parseTagging, taggingBodyBytesMax } from '../xml-requests';
import { taggingXml } from '../xml-responses';

export async function handleGetObjectTagging(ctx: HandlerContext, bucket: string, key: string, versionId: string | undefined): Promise<void> {
  const info = await callBackend({ bucket, key }, () => ctx.backend.headObject(bucket, key, versionId));
  sendXml(ctx, 200, taggingXml(info.headers.tags), versionIdHeader(info.versionId));
}

/**
 * Access is checked here, once the document is read (access-policy.ts objectTaggingWriteAccess):
 * a bucket policy may test the tags being set. A document that does not parse is refused after
 * the access check, so a key without access learns nothing from it.
 */
export async function handlePutObjectTagging(ctx: HandlerContext, bucket: string, key: string, versionId: string | undefined): Promise<void> {
  const body = await readSmallBody(ctx, taggingBodyBytesMax);
  const required = objectTaggingWriteAccess(bucket, key, versionId);
  let tags: readonly Tag[];
  try {
    tags = parseTagging(body, 'object');
  } catch (error) {
    await checkAccess(ctx, required);
    throw error;
  }
  await checkAccess(ctx, required, { requestTags: tags });
  const info = await callBackend({ bucket, key }, () => ctx.backend.setObjectTags(bucket, key, tags, versionId));
  sendEmpty(ctx, 200, versionIdHeader(info.versionId));
}

export async function handleDeleteObjectTagging(ctx: HandlerContext, bucket: string, key: string, versionId: string | undefined): Promise<void> {
  const info = await callBackend({ bucket, key }, () => ctx.backend.setObjectTags(bucket, key, [], versionId));
  sendEmpty(ctx, 204, versionIdHeader(info.versionId));
}

export async function handleGetBucketTagging(ctx: HandlerContext, bucket: string): Promise<void> {
  const info = await callBackend({ bucket }, () => ctx.backend.headBucket(bucket));
  if (info.tags.length === 0) throw new S3Error('NoSuchTagSet', { fields: { BucketName: bucket } });
  sendXml(ctx, 200, taggingXml(info.tags));
}

export async function handlePutBucketTagging(ctx: HandlerContext, bucket: string): Promise<void> {
  const tags = parseTagging(await readSmallBody(ctx, taggingBodyBytesMax), 'bucket');
  await callBackend({ bucket }, () => ctx.backend.setBucketTags(bucket, tags));
  sendEmpty(ctx, 204);
}

export async function handleDeleteBucketTagging(ctx: HandlerContext, bucket: string): Promise<void> {
  await callBackend({ bucket }, () => ctx.backend.setBucketTags(bucket, []));
  sendEmpty(ctx, 204);
}

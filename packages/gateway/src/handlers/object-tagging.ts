/**
 * Object tagging: GetObjectTagging, PutObjectTagging (replaces the whole tag set) and
 * DeleteObjectTagging. Tags belong to the current version and change in place: the object's
 * data, ETag and Last-Modified stay as they are, as in S3.
 */
import { callBackend, readSmallBody, sendEmpty, sendXml } from '../handler-context';
import type { HandlerContext } from '../handler-context';
import { parseTagging, taggingBodyBytesMax } from '../xml-requests';
import { taggingXml } from '../xml-responses';

export async function handleGetObjectTagging(ctx: HandlerContext, bucket: string, key: string): Promise<void> {
  const info = await callBackend({ bucket, key }, () => ctx.backend.headObject(bucket, key));
  sendXml(ctx, 200, taggingXml(info.headers.tags));
}

export async function handlePutObjectTagging(ctx: HandlerContext, bucket: string, key: string): Promise<void> {
  const tags = parseTagging(await readSmallBody(ctx, taggingBodyBytesMax));
  await callBackend({ bucket, key }, () => ctx.backend.setObjectTags(bucket, key, tags));
  sendEmpty(ctx, 200);
}

export async function handleDeleteObjectTagging(ctx: HandlerContext, bucket: string, key: string): Promise<void> {
  await callBackend({ bucket, key }, () => ctx.backend.setObjectTags(bucket, key, []));
  sendEmpty(ctx, 204);
}

/**
 * Bucket default encryption (GetBucketEncryption, PutBucketEncryption, DeleteBucketEncryption)
 * and the encryption a new object gets: what its request asks for, else the bucket's default.
 */
import type { ServerSideEncryption } from '../server-side-encryption';
import { requestedServerSideEncryption, sseAlgorithm } from '../server-side-encryption';
import { S3Error } from '../s3-errors';
import { callBackend, readSmallBody, sendEmpty, sendXml } from '../handler-context';
import type { HandlerContext } from '../handler-context';
import { encryptionConfigurationBodyBytesMax, parseEncryptionConfiguration } from '../xml-requests';
import { encryptionConfigurationXml } from '../xml-responses';

/**
 * For PutObject, CopyObject, CreateMultipartUpload and form uploads. The default is read through
 * the gateway's bucket cache, so a change made through another gateway applies within its TTL.
 */
export async function encryptionForWrite(
  ctx: HandlerContext, bucket: string, header: (name: string) => string | undefined, headerNames: readonly string[],
): Promise<ServerSideEncryption | undefined> {
  const requested = requestedServerSideEncryption(header, headerNames);
  if (requested !== undefined) return requested;
  const info = await ctx.bucketCache.infoOf(bucket);
  return info?.defaultEncryption === undefined ? undefined : { algorithm: sseAlgorithm };
}

export async function handleGetBucketEncryption(ctx: HandlerContext, bucket: string): Promise<void> {
  const info = await callBackend({ bucket }, () => ctx.backend.headBucket(bucket));
  if (info.defaultEncryption === undefined) throw new S3Error('ServerSideEncryptionConfigurationNotFoundError', { fields: { BucketName: bucket } });
  sendXml(ctx, 200, encryptionConfigurationXml(info.defaultEncryption));
}

export async function handlePutBucketEncryption(ctx: HandlerContext, bucket: string): Promise<void> {
  const algorithm = parseEncryptionConfiguration(await readSmallBody(ctx, encryptionConfigurationBodyBytesMax));
  await callBackend({ bucket }, () => ctx.backend.setBucketEncryption(bucket, algorithm));
  ctx.bucketCache.forget(bucket);
  sendEmpty(ctx, 200);
}

export async function handleDeleteBucketEncryption(ctx: HandlerContext, bucket: string): Promise<void> {
  await callBackend({ bucket }, () => ctx.backend.setBucketEncryption(bucket, undefined));
  ctx.bucketCache.forget(bucket);
  sendEmpty(ctx, 204);
}

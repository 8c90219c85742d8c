/**
 * Bucket default encryption: GetBucketEncryption, PutBucketEncryption, DeleteBucketEncryption
 * (what a write gets from it: request-encryption.ts).
 */
import { S3Error } from '../s3-errors';
import { callBackend, changeBucketSettings, readSmallBody, sendXml } from '../handler-context';
import type { HandlerContext } from '../handler-context';
import { encryptionConfigurationBodyBytesMax, parseEncryptionConfiguration } from '../xml-requests';
import { encryptionConfigurationXml } from '../xml-responses';

export async function handleGetBucketEncryption(ctx: HandlerContext, bucket: string): Promise<void> {
  const info = await callBackend({ bucket }, () => ctx.backend.headBucket(bucket));
  if (info.defaultEncryption === undefined) throw new S3Error('ServerSideEncryptionConfigurationNotFoundError', { fields: { BucketName: bucket } });
  sendXml(ctx, 200, encryptionConfigurationXml(info.defaultEncryption));
}

export async function handlePutBucketEncryption(ctx: HandlerContext, bucket: string): Promise<void> {
  const algorithm = parseEncryptionConfiguration(await readSmallBody(ctx, encryptionConfigurationBodyBytesMax));
  await changeBucketSettings(ctx, bucket, () => ctx.backend.setBucketEncryption(bucket, algorithm), 200);
}

export async function handleDeleteBucketEncryption(ctx: HandlerContext, bucket: string): Promise<void> {
  await changeBucketSettings(ctx, bucket, () => ctx.backend.setBucketEncryption(bucket, undefined), 204);
}

/**
 * Bucket lifecycle configuration: GetBucketLifecycleConfiguration (NoSuchLifecycleConfiguration
 * when the bucket has none), PutBucketLifecycleConfiguration (replaces every rule; S3's checks
 * in xml-requests.ts), DeleteBucketLifecycle. The rules are applied by the healer
 * (packages/healer/src/lifecycle.ts), not here.
 */
import { callBackend, readSmallBody, sendEmpty, sendXml } from '../handler-context';
import type { HandlerContext } from '../handler-context';
import { S3Error } from '../s3-errors';
import { lifecycleConfigurationBodyBytesMax, parseLifecycleConfiguration } from '../xml-requests';
import { lifecycleConfigurationXml } from '../xml-responses';

export async function handleGetBucketLifecycle(ctx: HandlerContext, bucket: string): Promise<void> {
  const info = await callBackend({ bucket }, () => ctx.backend.headBucket(bucket));
  if (info.lifecycleRules.length === 0) throw new S3Error('NoSuchLifecycleConfiguration', { fields: { BucketName: bucket } });
  sendXml(ctx, 200, lifecycleConfigurationXml(info.lifecycleRules));
}

export async function handlePutBucketLifecycle(ctx: HandlerContext, bucket: string): Promise<void> {
  const rules = parseLifecycleConfiguration(await readSmallBody(ctx, lifecycleConfigurationBodyBytesMax));
  await callBackend({ bucket }, () => ctx.backend.setBucketLifecycle(bucket, rules));
  sendEmpty(ctx, 200);
}

export async function handleDeleteBucketLifecycle(ctx: HandlerContext, bucket: string): Promise<void> {
  await callBackend({ bucket }, () => ctx.backend.setBucketLifecycle(bucket, []));
  sendEmpty(ctx, 204);
}

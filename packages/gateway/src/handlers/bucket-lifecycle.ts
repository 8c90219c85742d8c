/**
 * Bucket lifecycle configuration: GetBucketLifecycleConfiguration (NoSuchLifecycleConfiguration
 * when the bucket has none), PutBucketLifecycleConfiguration (replaces every rule; S3's checks
 * in xml-requests.ts; a rule without an ID gets one, as S3 gives it), DeleteBucketLifecycle. The
 * rules are applied by the healer (packages/healer/src/lifecycle.ts); the gateway only announces
 * their effect in `x-amz-expiration` (lifecycle-expiration.ts).
 */
import { randomBytes } from 'node:crypto';
import type { LifecycleRule } from '@tessera/rpc';
import { callBackend, changeBucketSettings, readSmallBody, sendXml } from '../handler-context';
import type { HandlerContext } from '../handler-context';
import { S3Error } from '../s3-errors';
import { lifecycleConfigurationBodyBytesMax, parseLifecycleConfiguration } from '../xml-requests';
import { lifecycleConfigurationXml } from '../xml-responses';

export async function handleGetBucketLifecycle(ctx: HandlerContext, bucket: string): Promise<void> {
  const info = await callBackend({ bucket }, () => ctx.backend.headBucket(bucket));
  if (info.lifecycleRules.length === 0) throw new S3Error('NoSuchLifecycleConfiguration', { fields: { BucketName: bucket } });
  sendXml(ctx, 200, lifecycleConfigurationXml(info.lifecycleRules));
}

/**
 * The rules with an ID for each that has none: S3 gives such a rule an opaque unique ID, which
 * GetBucketLifecycleConfiguration and `x-amz-expiration` then show.
 */
export function withRuleIds(rules: readonly LifecycleRule[], newId: () => string = () => randomBytes(24).toString('base64url')): LifecycleRule[] {
  const taken = new Set(rules.flatMap((rule) => (rule.id === undefined ? [] : [rule.id])));
  return rules.map((rule) => {
    if (rule.id !== undefined) return rule;
    let id = newId();
    while (taken.has(id)) id = newId();
    taken.add(id);
    return { ...rule, id };
  });
}

export async function handlePutBucketLifecycle(ctx: HandlerContext, bucket: string): Promise<void> {
  const rules = withRuleIds(parseLifecycleConfiguration(await readSmallBody(ctx, lifecycleConfigurationBodyBytesMax)));
  await changeBucketSettings(ctx, bucket, () => ctx.backend.setBucketLifecycle(bucket, rules), 200);
}

export async function handleDeleteBucketLifecycle(ctx: HandlerContext, bucket: string): Promise<void> {
  await changeBucketSettings(ctx, bucket, () => ctx.backend.setBucketLifecycle(bucket, []), 204);
}

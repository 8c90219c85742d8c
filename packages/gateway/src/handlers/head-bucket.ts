/**
 * HeadBucket: 200 with x-amz-bucket-region, or NoSuchBucket (no body, as for every HEAD).
 */
import { callBackend, sendEmpty } from '../handler-context';
import type { HandlerContext } from '../handler-context';

export async function handleHeadBucket(ctx: HandlerContext, bucket: string): Promise<void> {
  await callBackend({ bucket }, () => ctx.backend.headBucket(bucket));
  sendEmpty(ctx, 200, { 'x-amz-bucket-region': ctx.options.region });
}

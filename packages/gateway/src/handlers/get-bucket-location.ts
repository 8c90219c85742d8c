/**
 * GetBucketLocation: S3 answers an empty LocationConstraint for us-east-1.
 */
import { callBackend, sendXml } from '../handler-context';
import type { HandlerContext } from '../handler-context';
import { locationConstraintXml } from '../xml-responses';

export async function handleGetBucketLocation(ctx: HandlerContext, bucket: string): Promise<void> {
  await callBackend({ bucket }, () => ctx.backend.headBucket(bucket));
  sendXml(ctx, 200, locationConstraintXml(ctx.options.region));
}

/**
 * DeleteBucket: only an empty bucket (no objects, no multipart uploads) is deleted.
 */
import { callBackend, sendEmpty } from '../handler-context';
import type { HandlerContext } from '../handler-context';

export async function handleDeleteBucket(ctx: HandlerContext, bucket: string): Promise<void> {
  await callBackend({ bucket }, () => ctx.backend.deleteBucket(bucket));
  sendEmpty(ctx, 204);
}

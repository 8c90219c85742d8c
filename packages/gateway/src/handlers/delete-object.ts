/**
 * DeleteObject: deleting a missing key succeeds, as in S3.
 */
import { callBackend, sendEmpty } from '../handler-context';
import type { HandlerContext } from '../handler-context';

export async function handleDeleteObject(ctx: HandlerContext, bucket: string, key: string): Promise<void> {
  await callBackend({ bucket, key }, () => ctx.backend.deleteObject(bucket, key));
  sendEmpty(ctx, 204);
}

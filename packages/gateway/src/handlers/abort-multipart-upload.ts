/**
 * AbortMultipartUpload: the upload and its parts are discarded.
 */
import { callBackend, sendEmpty } from '../handler-context';
import type { HandlerContext } from '../handler-context';

export async function handleAbortMultipartUpload(ctx: HandlerContext, bucket: string, key: string, uploadId: string): Promise<void> {
  await callBackend({ bucket, key, uploadId }, () => ctx.backend.abortMultipartUpload(bucket, key, uploadId));
  sendEmpty(ctx, 204);
}

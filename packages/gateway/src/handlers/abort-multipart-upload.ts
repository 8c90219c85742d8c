/**
 * AbortMultipartUpload: the upload and its parts are discarded. `x-amz-if-match-initiated-time`
 * (S3 takes it in directory buckets only) is refused rather than ignored: a conditional abort
 * must not become an unconditional one.
 */
import { callBackend, sendEmpty } from '../handler-context';
import type { HandlerContext } from '../handler-context';
import { S3Error } from '../s3-errors';

export async function handleAbortMultipartUpload(ctx: HandlerContext, bucket: string, key: string, uploadId: string): Promise<void> {
  if (ctx.header('x-amz-if-match-initiated-time') !== undefined) {
    throw new S3Error('NotImplemented', { message: 'x-amz-if-match-initiated-time is not implemented by Tessera (S3 takes it in directory buckets only).' });
  }
  await callBackend({ bucket, key, uploadId }, () => ctx.backend.abortMultipartUpload(bucket, key, uploadId));
  sendEmpty(ctx, 204);
}

/**
 * UploadPart: one part streamed to the backend; a part with the same number replaces the earlier one.
 */
import { checksumResponseHeaders } from '../object-response';
import { partNumberMax } from '../parse-s3-request';
import { callBackend, requestBody, sendEmpty } from '../handler-context';
import type { HandlerContext } from '../handler-context';
import { partEncryptionHeaders } from '../server-side-encryption';
import { customerKeyOf } from './request-encryption';

export async function handleUploadPart(ctx: HandlerContext, bucket: string, key: string, uploadId: string, partNumber: number): Promise<void> {
  // Every part of an upload created with a checksum algorithm gets that checksum, so the
  // COMPOSITE object checksum can be formed at completion even if a client omitted it on a part.
  const upload = await callBackend({ bucket, key, uploadId }, () => ctx.backend.listParts(bucket, key, uploadId, partNumberMax, 0));
  const algorithm = upload.upload.checksumAlgorithm;
  const body = requestBody(ctx, ctx.options.limits.partSizeBytesMax, algorithm === undefined ? [] : [algorithm]);
  const customerKey = customerKeyOf(ctx, 'object');
  const part = await callBackend({ bucket, key, uploadId }, () => ctx.backend.uploadPart(bucket, key, uploadId, partNumber, body, { customerKey }));
  sendEmpty(ctx, 200, { ETag: `"${part.etag}"`, ...checksumResponseHeaders(part.checksums), ...partEncryptionHeaders(upload.upload, customerKey) });
}

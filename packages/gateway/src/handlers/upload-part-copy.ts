/**
 * UploadPartCopy: a part copied from an existing object, optionally a byte range of it
 * (x-amz-copy-source-range).
 */
import { copyBody } from '../copy-body';
import { parseCopySourceRange } from '../range';
import { partNumberMax } from '../parse-s3-request';
import { S3Error } from '../s3-errors';
import type { CopySource } from '../s3-operation';
import { callBackend, sendXml } from '../handler-context';
import type { HandlerContext } from '../handler-context';
import { partEncryptionHeaders } from '../server-side-encryption';
import { customerKeyOf } from './request-encryption';
import { copyPartResultXml } from '../xml-responses';
import { copySourceVersionHeader, openSource } from './copy-source';

export async function handleUploadPartCopy(ctx: HandlerContext, bucket: string, key: string, uploadId: string, partNumber: number, source: CopySource): Promise<void> {
  const reader = await openSource(ctx, source);
  const rangeHeader = ctx.header('x-amz-copy-source-range');
  const range = rangeHeader === undefined ? undefined : parseCopySourceRange(rangeHeader, reader.info.sizeBytes);
  const sizeBytes = range === undefined ? reader.info.sizeBytes : range.endByteInclusive - range.startByte + 1;
  if (sizeBytes > ctx.options.limits.partSizeBytesMax) throw new S3Error('EntityTooLarge', { fields: { ProposedSize: String(sizeBytes) } });
  const upload = await callBackend({ bucket, key, uploadId }, () => ctx.backend.listParts(bucket, key, uploadId, partNumberMax, 0));
  const algorithms = upload.upload.checksumAlgorithm === undefined ? [] : [upload.upload.checksumAlgorithm];
  const body = copyBody(reader, range, algorithms);
  const customerKey = customerKeyOf(ctx, 'object');
  const part = await callBackend({ bucket, key, uploadId }, () => ctx.backend.uploadPart(bucket, key, uploadId, partNumber, body, { customerKey }));
  sendXml(ctx, 200, copyPartResultXml(part.etag, part.lastModifiedMs, part.checksums), {
    ...copySourceVersionHeader(reader), ...partEncryptionHeaders(upload.upload, customerKey),
  });
}

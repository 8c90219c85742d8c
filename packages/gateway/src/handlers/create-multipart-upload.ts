/**
 * CreateMultipartUpload: metadata is fixed at creation; an optional checksum algorithm and type
 * (x-amz-checksum-algorithm, x-amz-checksum-type) apply to every part and to the object.
 */
import { lockOf, parseObjectLockHeaders } from '../object-lock';
import { parseChecksumAlgorithm } from '../checksums';
import type { ChecksumAlgorithm } from '../checksums';
import { extractObjectHeaders } from '../object-headers';
import { refuseUnsupportedWriteHeaders } from '../object-response';
import { multipartChecksumOf } from '../multipart';
import { S3Error } from '../s3-errors';
import { callBackend, sendXml } from '../handler-context';
import { objectAclForWrite } from '../bucket-access';
import type { HandlerContext } from '../handler-context';
import { initiateMultipartUploadXml } from '../xml-responses';
import { serverSideEncryptionHeaders } from '../server-side-encryption';
import { encryptionForWrite } from './request-encryption';

function requestedChecksumAlgorithm(ctx: HandlerContext): ChecksumAlgorithm | undefined {
  const value = ctx.header('x-amz-checksum-algorithm');
  if (value === undefined) return undefined;
  const algorithm = parseChecksumAlgorithm(value);
  if (algorithm === undefined) throw new S3Error('InvalidRequest', { message: `Checksum algorithm ${value} is not supported.` });
  return algorithm;
}

export async function handleCreateMultipartUpload(ctx: HandlerContext, bucket: string, key: string): Promise<void> {
  const header = (name: string): string | undefined => ctx.header(name);
  refuseUnsupportedWriteHeaders(header);
  const ownership = await objectAclForWrite(ctx, bucket, header, ctx.headerNames);
  const serverSideEncryption = await encryptionForWrite(ctx, bucket, header);
  const headers = {
    ...extractObjectHeaders(ctx.headerNames, header), ...ownership, ...lockOf(parseObjectLockHeaders(header, ctx.clock.nowMs())),
    ...(serverSideEncryption === undefined ? {} : { serverSideEncryption }),
  };
  const checksum = multipartChecksumOf(requestedChecksumAlgorithm(ctx), ctx.header('x-amz-checksum-type'));
  const upload = await callBackend({ bucket, key }, () => ctx.backend.createMultipartUpload(bucket, key, headers, checksum, ctx.auth.principal.accessKeyId));
  const responseHeaders: Record<string, string> = {
    ...(checksum === undefined ? {} : { 'x-amz-checksum-algorithm': checksum.algorithm, 'x-amz-checksum-type': checksum.type }),
    ...serverSideEncryptionHeaders(upload.headers.serverSideEncryption),
  };
  sendXml(ctx, 200, initiateMultipartUploadXml(bucket, key, upload.uploadId), responseHeaders);
}

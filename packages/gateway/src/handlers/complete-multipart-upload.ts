/**
 * CompleteMultipartUpload: the requested parts are validated against the uploaded ones
 * (src/multipart.ts), the object checksum is formed from the part checksums (COMPOSITE or
 * FULL_OBJECT) and checked against an x-amz-checksum-* header if the client sent one, and the
 * backend commits the object atomically. On this request the x-amz-checksum-* headers describe
 * the whole object, not the XML body.
 */
import type { MultipartChecksum, PartInfo } from '../backend';
import { checksumAlgorithms, checksumHeaderName } from '../checksums';
import type { ChecksumValues } from '../checksums';
import { versionIdHeader, writeConditionOf } from '../object-response';
import { defaultChecksumTypeOf, planCompletion } from '../multipart';
import { partNumberMax } from '../parse-s3-request';
import { S3Error } from '../s3-errors';
import { callBackend, readSmallBody, sendXml } from '../handler-context';
import { serverSideEncryptionHeaders } from '../server-side-encryption';
import type { HandlerContext } from '../handler-context';
import { completeMultipartBodyBytesMax, parseCompleteMultipartUpload } from '../xml-requests';
import { completeMultipartUploadXml } from '../xml-responses';

async function allParts(ctx: HandlerContext, bucket: string, key: string, uploadId: string): Promise<{ parts: Map<number, PartInfo>; checksum: MultipartChecksum | undefined }> {
  const parts = new Map<number, PartInfo>();
  let marker = 0;
  for (;;) {
    const page = await callBackend({ bucket, key, uploadId }, () => ctx.backend.listParts(bucket, key, uploadId, marker, 1000));
    for (const part of page.parts) parts.set(part.partNumber, part);
    const last = page.parts[page.parts.length - 1];
    if (!page.isTruncated || last === undefined || last.partNumber >= partNumberMax) {
      const { checksumAlgorithm, checksumType } = page.upload;
      return { parts, checksum: checksumAlgorithm === undefined ? undefined : { algorithm: checksumAlgorithm, type: checksumType ?? defaultChecksumTypeOf(checksumAlgorithm) } };
    }
    marker = last.partNumber;
  }
}

/** A whole-object checksum sent with the request must match the one formed from the parts. */
function checkDeclaredObjectChecksum(ctx: HandlerContext, checksum: MultipartChecksum | undefined, computed: ChecksumValues): void {
  for (const algorithm of checksumAlgorithms) {
    const declared = ctx.header(checksumHeaderName(algorithm));
    if (declared === undefined) continue;
    if (checksum === undefined || checksum.algorithm !== algorithm) {
      throw new S3Error('InvalidRequest', { message: `The upload was not created with the ${algorithm} checksum algorithm.` });
    }
    const value = computed[algorithm];
    // Clients may send a COMPOSITE value with or without its "-<part count>" suffix.
    if (value === undefined || (declared !== value && declared !== value.replace(/-\d+$/, ''))) {
      throw new S3Error('BadDigest', { message: `The ${algorithm} you specified for the object did not match the one computed from its parts.` });
    }
  }
}

export async function handleCompleteMultipartUpload(ctx: HandlerContext, bucket: string, key: string, uploadId: string): Promise<void> {
  const condition = writeConditionOf((name) => ctx.header(name));
  const requested = parseCompleteMultipartUpload(await readSmallBody(ctx, completeMultipartBodyBytesMax, { checksumHeadersDescribeBody: false }));
  const { parts, checksum } = await allParts(ctx, bucket, key, uploadId);
  const plan = planCompletion(requested, parts, checksum, ctx.options.limits.partSizeBytesMin);
  checkDeclaredObjectChecksum(ctx, checksum, plan.checksums);
  const info = await callBackend({ bucket, key, uploadId }, () =>
    ctx.backend.completeMultipartUpload({ bucket, key, uploadId, parts: plan.selection, etag: plan.etag, checksums: plan.checksums, condition }),
  );
  const location = `/${bucket}/${encodeURIComponent(key)}`;
  const checksumType = Object.keys(info.checksums).length === 0 ? undefined : checksum?.type;
  sendXml(ctx, 200, completeMultipartUploadXml(location, bucket, key, info.etag, info.checksums, checksumType), {
    ...versionIdHeader(info.versionId), ...serverSideEncryptionHeaders(info.headers.serverSideEncryption),
  });
}

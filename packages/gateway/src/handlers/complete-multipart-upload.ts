/**
 * CompleteMultipartUpload: the requested parts are validated against the uploaded ones
 * (src/multipart.ts), the object checksum is formed from the part checksums (COMPOSITE or
 * FULL_OBJECT) and checked against an x-amz-checksum-* header if the client sent one, and the
 * backend commits the object atomically. On this request the x-amz-checksum-* headers describe
 * the whole object, not the XML body; `x-amz-mp-object-size` its size.
 */
import type { MultipartChecksum, ObjectInfo, PartInfo } from '../backend';
import { checksumAlgorithms, checksumHeaderName, checksumTypeOf, unquoteEtag } from '../checksums';
import type { ChecksumValues } from '../checksums';
import { writtenVersionIdHeader, writeConditionOf } from '../object-response';
import { defaultChecksumTypeOf, planCompletion } from '../multipart';
import type { RequestedPart } from '../multipart';
import { partNumberMax } from '../parse-s3-request';
import { S3Error } from '../s3-errors';
import { callBackend, readSmallBody, sendXml } from '../handler-context';
import { serverSideEncryptionHeaders } from '../server-side-encryption';
import type { HandlerContext } from '../handler-context';
import { completeMultipartBodyBytesMax, parseCompleteMultipartUpload } from '../xml-requests';
import { completeMultipartUploadXml } from '../xml-responses';
import { lifecycleExpirationHeader } from './lifecycle-expiration';

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

/**
 * `x-amz-mp-object-size`: the size the client expects the object to have; another size is S3's
 * 400 InvalidRequest, and nothing is committed.
 */
function checkDeclaredObjectSize(ctx: HandlerContext, selection: readonly { readonly partNumber: number }[], parts: ReadonlyMap<number, PartInfo>): void {
  const declared = ctx.header('x-amz-mp-object-size');
  if (declared === undefined) return;
  if (!/^\d{1,16}$/.test(declared.trim())) {
    throw new S3Error('InvalidArgument', { message: 'x-amz-mp-object-size must be a non-negative integer.', fields: { ArgumentName: 'x-amz-mp-object-size', ArgumentValue: declared } });
  }
  const sizeBytes = selection.reduce((total, chosen) => total + (parts.get(chosen.partNumber)?.sizeBytes ?? 0), 0);
  if (Number(declared.trim()) !== sizeBytes) {
    throw new S3Error('InvalidRequest', { message: `The object would be ${sizeBytes} bytes, not the ${declared.trim()} x-amz-mp-object-size declares.` });
  }
}

/**
 * A retried completion (the first answer lost, or s3-tests asking twice): the upload is gone, but
 * if the key's current version is what it made from the same parts, the retry gets the same
 * answer, as from S3. Anything else stays NoSuchUpload.
 */
async function previousCompletion(ctx: HandlerContext, bucket: string, key: string, uploadId: string, requested: readonly RequestedPart[]): Promise<ObjectInfo | undefined> {
  let current: ObjectInfo;
  try {
    current = await ctx.backend.headObject(bucket, key);
  } catch {
    return undefined;
  }
  const completed = current.completedUpload;
  if (completed?.uploadId !== uploadId || completed.parts.length !== requested.length) return undefined;
  const same = completed.parts.every((part, index) => part.partNumber === requested[index]?.partNumber && part.etag === unquoteEtag(requested[index]?.etag ?? ''));
  return same ? current : undefined;
}

async function sendCompletion(ctx: HandlerContext, bucket: string, key: string, info: ObjectInfo): Promise<void> {
  const location = `/${bucket}/${encodeURIComponent(key)}`;
  sendXml(ctx, 200, completeMultipartUploadXml(location, bucket, key, info.etag, info.checksums, checksumTypeOf(info.checksums)), {
    ...writtenVersionIdHeader(info.versionId), ...serverSideEncryptionHeaders(info.headers.serverSideEncryption),
    ...(await lifecycleExpirationHeader(ctx, bucket, info)),
  });
}

export async function handleCompleteMultipartUpload(ctx: HandlerContext, bucket: string, key: string, uploadId: string): Promise<void> {
  const condition = writeConditionOf((name) => ctx.header(name));
  const requested = parseCompleteMultipartUpload(await readSmallBody(ctx, completeMultipartBodyBytesMax, { checksumHeadersDescribeBody: false }));
  let found: Awaited<ReturnType<typeof allParts>>;
  try {
    found = await allParts(ctx, bucket, key, uploadId);
  } catch (error) {
    const previous = error instanceof S3Error && error.code === 'NoSuchUpload' ? await previousCompletion(ctx, bucket, key, uploadId, requested) : undefined;
    if (previous === undefined) throw error;
    await sendCompletion(ctx, bucket, key, previous);
    return;
  }
  const { parts, checksum } = found;
  const plan = planCompletion(requested, parts, checksum, ctx.options.limits.partSizeBytesMin);
  checkDeclaredObjectChecksum(ctx, checksum, plan.checksums);
  checkDeclaredObjectSize(ctx, plan.selection, parts);
  const info = await callBackend({ bucket, key, uploadId }, () =>
    ctx.backend.completeMultipartUpload({ bucket, key, uploadId, parts: plan.selection, etag: plan.etag, checksums: plan.checksums, condition }),
  );
  await sendCompletion(ctx, bucket, key, info);
}

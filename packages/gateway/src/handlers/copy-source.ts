/**
 * Server-side copies read the source through the data path (no client round trip): opening the
 * source with x-amz-copy-source-if-* conditionals, and choosing the checksums of the copy.
 */
import type { ObjectReader } from '../backend';
import { checksumAlgorithms, parseChecksumAlgorithm } from '../checksums';
import type { ChecksumAlgorithm } from '../checksums';
import { conditionalHeadersOf, enforceCopySourceConditions } from '../conditional';
import { S3Error } from '../s3-errors';
import type { CopySource } from '../s3-operation';
import { callBackend } from '../handler-context';
import type { HandlerContext } from '../handler-context';
import { customerKeyOf } from './request-encryption';

export async function openSource(ctx: HandlerContext, source: CopySource): Promise<ObjectReader> {
  const reader = await callBackend({ bucket: source.bucket, key: source.key }, () => ctx.backend.openObject(source.bucket, source.key, source.versionId, { customerKey: customerKeyOf(ctx, 'copy-source') }));
  enforceCopySourceConditions(conditionalHeadersOf((name) => ctx.header(name), 'x-amz-copy-source-'), reader.info);
  return reader;
}

/** x-amz-copy-source-version-id: the version copied, when its bucket has versioning. */
export function copySourceVersionHeader(reader: ObjectReader): Record<string, string> {
  return reader.info.versionId === undefined ? {} : { 'x-amz-copy-source-version-id': reader.info.versionId };
}

/** Full-object checksums of the source are recomputed for the copy; composite ones cannot carry over. */
export function copyChecksumAlgorithms(ctx: HandlerContext, reader: ObjectReader): ChecksumAlgorithm[] {
  const requested = ctx.header('x-amz-checksum-algorithm');
  if (requested !== undefined) {
    const algorithm = parseChecksumAlgorithm(requested);
    if (algorithm === undefined) throw new S3Error('InvalidRequest', { message: `Checksum algorithm ${requested} is not supported.` });
    return [algorithm];
  }
  return checksumAlgorithms.filter((algorithm) => {
    const value = reader.info.checksums[algorithm];
    return value !== undefined && !value.includes('-');
  });
}

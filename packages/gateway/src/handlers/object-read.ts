/**
 * What GetObject and HeadObject share: choosing the byte range (Range header or partNumber) and
 * the response headers, with checksums when x-amz-checksum-mode is ENABLED: the object's for a
 * whole-object read, a part's for ?partNumber of a multipart object, none for other ranges (as
 * S3 does).
 */
import type { ObjectInfo } from '../backend';
import { checksumResponseHeaders, objectInfoHeaders, partChecksumHeaders } from '../object-response';
import { contentRangeHeader, parseRange } from '../range';
import type { ByteRange } from '../range';
import { S3Error } from '../s3-errors';
import type { HandlerContext } from '../handler-context';

function partRange(info: ObjectInfo, partNumber: number): ByteRange {
  const sizes = info.partSizesBytes ?? [info.sizeBytes];
  if (partNumber > sizes.length) throw new S3Error('InvalidPartNumber', { fields: { PartNumberRequested: String(partNumber), ActualPartCount: String(sizes.length) } });
  const startByte = sizes.slice(0, partNumber - 1).reduce((sum, size) => sum + size, 0);
  const sizeBytes = sizes[partNumber - 1] ?? 0;
  if (sizeBytes === 0) return { kind: 'whole' };
  return { kind: 'partial', startByte, endByteInclusive: startByte + sizeBytes - 1 };
}

export function selectRange(ctx: HandlerContext, info: ObjectInfo, partNumber: number | undefined): ByteRange {
  const rangeHeader = ctx.header('range');
  if (partNumber !== undefined && rangeHeader !== undefined) {
    throw new S3Error('InvalidRequest', { message: 'Cannot specify both Range header and partNumber query parameter.' });
  }
  if (partNumber !== undefined) return partRange(info, partNumber);
  return parseRange(rangeHeader, info.sizeBytes);
}

export function responseHeaders(ctx: HandlerContext, info: ObjectInfo, range: ByteRange, partNumber: number | undefined): Record<string, string> {
  const headers = objectInfoHeaders(info, ctx.query);
  const wholeObject = range.kind === 'whole' || (range.startByte === 0 && range.endByteInclusive === info.sizeBytes - 1);
  if (ctx.header('x-amz-checksum-mode')?.toUpperCase() === 'ENABLED') {
    // A part of a multipart object is answered with that part's checksums (S3 keeps them per
    // part, so a client fetching parts in parallel can check each); a whole object with its own.
    if (partNumber !== undefined && info.partSizesBytes !== undefined) Object.assign(headers, partChecksumHeaders(info.partChecksums?.[partNumber - 1] ?? {}));
    else if (wholeObject) Object.assign(headers, checksumResponseHeaders(info.checksums));
  }
  if (range.kind === 'partial') {
    headers['Content-Range'] = contentRangeHeader(range, info.sizeBytes);
    headers['Content-Length'] = String(range.endByteInclusive - range.startByte + 1);
  } else {
    headers['Content-Length'] = String(info.sizeBytes);
  }
  return headers;
}

export function statusFor(range: ByteRange): number {
  return range.kind === 'partial' ? 206 : 200;
}

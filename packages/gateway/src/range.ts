/**
 * The Range header as S3 reads it (RFC 9110 §14 with S3's choices): one byte range
 * "bytes=a-b", "bytes=a-" or the suffix "bytes=-n". A syntactically invalid header, or several
 * ranges, is ignored and the whole object is returned, as S3 does; a syntactically valid range
 * that starts past the end is InvalidRange (416) with "Content-Range: bytes *\/<size>".
 */
import { S3Error } from './s3-errors';

export type ByteRange =
  | { readonly kind: 'whole' }
  /** Inclusive on both ends, as in Content-Range. */
  | { readonly kind: 'partial'; readonly startByte: number; readonly endByteInclusive: number };

/** S3 names the range it refused and the object's size in the error body (RangeRequested first). */
function unsatisfiable(header: string, sizeBytes: number): S3Error {
  return new S3Error('InvalidRange', {
    headers: { 'Content-Range': `bytes */${sizeBytes}` },
    fields: { RangeRequested: header, ActualObjectSize: String(sizeBytes) },
  });
}

export function parseRange(header: string | undefined, sizeBytes: number): ByteRange {
  if (header === undefined) return { kind: 'whole' };
  const match = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (match === null) return { kind: 'whole' };
  const [, firstText = '', lastText = ''] = match;
  if (firstText === '' && lastText === '') return { kind: 'whole' };
  if (firstText === '') {
    const suffixBytes = Number(lastText);
    if (suffixBytes === 0 || sizeBytes === 0) throw unsatisfiable(header, sizeBytes);
    return { kind: 'partial', startByte: Math.max(0, sizeBytes - suffixBytes), endByteInclusive: sizeBytes - 1 };
  }
  const startByte = Number(firstText);
  // "bytes=5-2" is not a valid byte-range-spec, so it is ignored (RFC 9110 §14.1.1).
  if (lastText !== '' && Number(lastText) < startByte) return { kind: 'whole' };
  if (startByte >= sizeBytes) throw unsatisfiable(header, sizeBytes);
  const lastByte = lastText === '' ? sizeBytes - 1 : Number(lastText);
  return { kind: 'partial', startByte, endByteInclusive: Math.min(lastByte, sizeBytes - 1) };
}

/** The Content-Range value of a 206 response. */
export function contentRangeHeader(range: { startByte: number; endByteInclusive: number }, sizeBytes: number): string {
  return `bytes ${range.startByte}-${range.endByteInclusive}/${sizeBytes}`;
}

/** x-amz-copy-source-range must be exactly "bytes=first-last" within the source (else InvalidRange / InvalidArgument). */
export function parseCopySourceRange(header: string, sizeBytes: number): { startByte: number; endByteInclusive: number } {
  const match = /^bytes=(\d+)-(\d+)$/.exec(header.trim());
  if (match === null) {
    throw new S3Error('InvalidArgument', { message: 'The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy' });
  }
  const startByte = Number(match[1]);
  const endByteInclusive = Number(match[2]);
  if (endByteInclusive < startByte || endByteInclusive >= sizeBytes) {
    throw new S3Error('InvalidRange', { message: 'The requested range is not satisfiable', headers: { 'Content-Range': `bytes */${sizeBytes}` } });
  }
  return { startByte, endByteInclusive };
}

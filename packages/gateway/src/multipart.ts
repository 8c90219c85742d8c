/**
 * CompleteMultipartUpload rules (S3 User Guide, "Multipart upload limits"): the requested parts
 * are in strictly ascending part-number order (InvalidPartOrder), each names an uploaded part
 * whose ETag matches (InvalidPart), and every part but the last is at least 5 MiB
 * (EntityTooSmall). Pure, so the rules are tested without storage.
 */
import { compositeChecksum, multipartEtag, unquoteEtag } from './checksums';
import type { ChecksumAlgorithm, ChecksumType, ChecksumValues } from './checksums';
import type { CompletedPartSelection, MultipartChecksum, PartInfo } from './backend';
import { combineCrc, isCombinableCrc } from './crc-combine';
import { S3Error } from './s3-errors';

/** S3: every part except the last must be at least 5 MiB. */
export const partSizeBytesMin = 5 * 1024 * 1024;
/** S3: a part is at most 5 GiB. */
export const partSizeBytesMax = 5 * 1024 * 1024 * 1024;
/** S3: a single PUT is at most 5 GiB. */
export const putObjectSizeBytesMax = 5 * 1024 * 1024 * 1024;
/** S3: an object is at most 5 TiB (10,000 parts of up to 5 GiB, capped). */
export const objectSizeBytesMax = 5 * 1024 * 1024 * 1024 * 1024;

export interface RequestedPart {
  readonly partNumber: number;
  readonly etag: string;
  readonly checksums: ChecksumValues;
}

export interface CompletionPlan {
  readonly selection: readonly CompletedPartSelection[];
  readonly etag: string;
  readonly sizeBytes: number;
  readonly checksums: ChecksumValues;
}

export function planCompletion(
  requested: readonly RequestedPart[],
  uploaded: ReadonlyMap<number, PartInfo>,
  checksum: MultipartChecksum | undefined,
  partSizeBytesMinimum: number = partSizeBytesMin,
): CompletionPlan {
  const checksumAlgorithm = checksum?.algorithm;
  if (requested.length === 0) throw new S3Error('MalformedXML', { message: 'You must specify at least one part.' });
  // The whole list's order first: a list naming a part twice (a client that kept a stale ETag
  // beside the new one) is InvalidPartOrder, whichever of the two is stale.
  if (requested.some((part, index) => index > 0 && part.partNumber <= (requested[index - 1]?.partNumber ?? 0))) throw new S3Error('InvalidPartOrder');
  const chosen: PartInfo[] = [];
  for (const part of requested) {
    const info = uploaded.get(part.partNumber);
    if (info === undefined || info.etag !== unquoteEtag(part.etag)) {
      throw new S3Error('InvalidPart', { fields: { PartNumber: String(part.partNumber), ETag: part.etag } });
    }
    if (checksumAlgorithm !== undefined) {
      const declared = part.checksums[checksumAlgorithm];
      if (declared !== undefined && declared !== info.checksums[checksumAlgorithm]) {
        throw new S3Error('InvalidPart', { message: `The ${checksumAlgorithm} checksum of part ${part.partNumber} does not match.` });
      }
    }
    chosen.push(info);
  }
  chosen.forEach((info, index) => {
    if (index < chosen.length - 1 && info.sizeBytes < partSizeBytesMinimum) {
      throw new S3Error('EntityTooSmall', {
        fields: { ProposedSize: String(info.sizeBytes), MinSizeAllowed: String(partSizeBytesMinimum), PartNumber: String(info.partNumber), ETag: `"${info.etag}"` },
      });
    }
  });
  return {
    selection: chosen.map((info) => ({ partNumber: info.partNumber, etag: info.etag })),
    etag: multipartEtag(chosen.map((info) => info.etag)),
    sizeBytes: chosen.reduce((sum, info) => sum + info.sizeBytes, 0),
    checksums: checksum === undefined ? {} : objectChecksum(checksum, chosen),
  };
}

/** The object checksum from the parts' checksums; none if any part lacks one. */
function objectChecksum(checksum: MultipartChecksum, parts: readonly PartInfo[]): ChecksumValues {
  const values = parts.map((info) => info.checksums[checksum.algorithm]);
  if (!values.every((value): value is string => value !== undefined)) return {};
  if (checksum.type === 'COMPOSITE') return { [checksum.algorithm]: compositeChecksum(checksum.algorithm, values) };
  let combined = values[0] ?? '';
  parts.slice(1).forEach((info, index) => {
    combined = combineCrc(checksum.algorithm, combined, values[index + 1] ?? '', info.sizeBytes);
  });
  return { [checksum.algorithm]: combined };
}

/**
 * The checksum a new multipart upload asks for (x-amz-checksum-algorithm and x-amz-checksum-type).
 * S3 defines CRC64NVME only as FULL_OBJECT and SHA1/SHA256 only as COMPOSITE; CRC32 and CRC32C
 * default to COMPOSITE.
 */
export function defaultChecksumTypeOf(algorithm: ChecksumAlgorithm): ChecksumType {
  return algorithm === 'CRC64NVME' ? 'FULL_OBJECT' : 'COMPOSITE';
}

export function multipartChecksumOf(algorithm: ChecksumAlgorithm | undefined, typeHeader: string | undefined): MultipartChecksum | undefined {
  if (algorithm === undefined) {
    if (typeHeader !== undefined) throw new S3Error('InvalidRequest', { message: 'x-amz-checksum-type requires x-amz-checksum-algorithm.' });
    return undefined;
  }
  const type = typeHeader === undefined ? defaultChecksumTypeOf(algorithm) : typeHeader.toUpperCase();
  if (type !== 'COMPOSITE' && type !== 'FULL_OBJECT') throw new S3Error('InvalidRequest', { message: `Unknown x-amz-checksum-type ${typeHeader ?? ''}.` });
  if (type === 'FULL_OBJECT' && !isCombinableCrc(algorithm)) {
    throw new S3Error('InvalidRequest', { message: `The FULL_OBJECT checksum type cannot be used with the ${algorithm} checksum algorithm.` });
  }
  if (type === 'COMPOSITE' && algorithm === 'CRC64NVME') {
    throw new S3Error('InvalidRequest', { message: 'The COMPOSITE checksum type cannot be used with the CRC64NVME checksum algorithm.' });
  }
  return { algorithm, type };
}

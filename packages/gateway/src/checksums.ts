/**
 * S3 flexible checksums (x-amz-checksum-*) and MD5-based ETags, all computed incrementally
 * while a body streams. Values on the wire are base64 of the big-endian digest bytes.
 */
import { createHash } from 'node:crypto';
import type { Hash } from 'node:crypto';
import { crc32, crc32c } from '@node-rs/crc32';
import { Crc64Nvme } from './crc64-nvme';
import { S3Error } from './s3-errors';

export const checksumAlgorithms = ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'] as const;
export type ChecksumAlgorithm = (typeof checksumAlgorithms)[number];

/**
 * How a multipart object's checksum is formed: COMPOSITE is the checksum of the part checksums
 * ("<value>-<part count>"); FULL_OBJECT is the checksum of the whole object's bytes, obtained by
 * combining the part CRCs (CRC32, CRC32C, CRC64NVME only).
 */
export type ChecksumType = 'COMPOSITE' | 'FULL_OBJECT';

/** Checksum values by algorithm, base64 as on the wire. */
export type ChecksumValues = Partial<Record<ChecksumAlgorithm, string>>;

const digestLengthBytes: Record<ChecksumAlgorithm, number> = { CRC32: 4, CRC32C: 4, CRC64NVME: 8, SHA1: 20, SHA256: 32 };

/**
 * The type of an object's stored checksums: a composite value (a checksum of part checksums)
 * ends in "-<parts>"; undefined when the object has none.
 */
export function checksumTypeOf(checksums: ChecksumValues): ChecksumType | undefined {
  const values = checksumAlgorithms.map((algorithm) => checksums[algorithm]).filter((value) => value !== undefined);
  if (values.length === 0) return undefined;
  return values.some((value) => value.includes('-')) ? 'COMPOSITE' : 'FULL_OBJECT';
}

export function checksumHeaderName(algorithm: ChecksumAlgorithm): string {
  return `x-amz-checksum-${algorithm.toLowerCase()}`;
}

export function parseChecksumAlgorithm(value: string): ChecksumAlgorithm | undefined {
  const upper = value.toUpperCase();
  return checksumAlgorithms.find((algorithm) => algorithm === upper);
}

/** The algorithm named by a header or trailer name such as "x-amz-checksum-crc32c". */
export function checksumAlgorithmOfHeader(name: string): ChecksumAlgorithm | undefined {
  const lower = name.toLowerCase();
  if (!lower.startsWith('x-amz-checksum-')) return undefined;
  return parseChecksumAlgorithm(lower.slice('x-amz-checksum-'.length));
}

/** True when `value` is base64 of exactly the digest length of `algorithm`. */
export function isWellFormedChecksum(algorithm: ChecksumAlgorithm, value: string): boolean {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(value)) return false;
  return Buffer.from(value, 'base64').length === digestLengthBytes[algorithm] && Buffer.from(value, 'base64').toString('base64') === value;
}

export interface IncrementalChecksum {
  update(bytes: Uint8Array): void;
  digestBase64(): string;
}

class Crc32Checksum implements IncrementalChecksum {
  private state = 0;
  constructor(private readonly fn: typeof crc32) {}
  update(bytes: Uint8Array): void {
    // @node-rs/crc32 resumes from a previous (finalised) value passed as initialState.
    this.state = this.fn(bytes, this.state);
  }
  digestBase64(): string {
    const out = Buffer.alloc(4);
    out.writeUInt32BE(this.state >>> 0, 0);
    return out.toString('base64');
  }
}

class Crc64NvmeChecksum implements IncrementalChecksum {
  private readonly crc = new Crc64Nvme();
  update(bytes: Uint8Array): void {
    this.crc.update(bytes);
  }
  digestBase64(): string {
    return this.crc.digest().toString('base64');
  }
}

class HashChecksum implements IncrementalChecksum {
  private readonly hash: Hash;
  constructor(algorithm: 'sha1' | 'sha256') {
    this.hash = createHash(algorithm);
  }
  update(bytes: Uint8Array): void {
    this.hash.update(bytes);
  }
  digestBase64(): string {
    return this.hash.digest('base64');
  }
}

export function createChecksum(algorithm: ChecksumAlgorithm): IncrementalChecksum {
  switch (algorithm) {
    case 'CRC32':
      return new Crc32Checksum(crc32);
    case 'CRC32C':
      return new Crc32Checksum(crc32c);
    case 'CRC64NVME':
      return new Crc64NvmeChecksum();
    case 'SHA1':
      return new HashChecksum('sha1');
    case 'SHA256':
      return new HashChecksum('sha256');
  }
}

/** One-shot convenience over `createChecksum`. */
export function computeChecksum(algorithm: ChecksumAlgorithm, bytes: Uint8Array): string {
  const checksum = createChecksum(algorithm);
  checksum.update(bytes);
  return checksum.digestBase64();
}

/** Content-MD5 must be base64 of 16 bytes, else InvalidDigest. Returns the hex digest. */
export function parseContentMd5(value: string): string {
  const bytes = Buffer.from(value, 'base64');
  if (bytes.length !== 16 || bytes.toString('base64') !== value) throw new S3Error('InvalidDigest');
  return bytes.toString('hex');
}

/** S3 ETags are quoted; single-part ETag = hex MD5 of the body. */
export function quoteEtag(etag: string): string {
  return `"${etag}"`;
}

export function unquoteEtag(etag: string): string {
  const trimmed = etag.trim();
  return trimmed.startsWith('"') && trimmed.endsWith('"') && trimmed.length >= 2 ? trimmed.slice(1, -1) : trimmed;
}

/** Multipart ETag: hex MD5 of the concatenated binary part MD5s, then "-<part count>". */
export function multipartEtag(partMd5Hexes: readonly string[]): string {
  const md5 = createHash('md5');
  for (const hex of partMd5Hexes) md5.update(Buffer.from(hex, 'hex'));
  return `${md5.digest('hex')}-${partMd5Hexes.length}`;
}

/**
 * S3's COMPOSITE multipart checksum: the checksum of the concatenated binary part checksums,
 * then "-<part count>". Used for CRC32, CRC32C, SHA1 and SHA256 multipart uploads.
 */
export function compositeChecksum(algorithm: ChecksumAlgorithm, partChecksumsBase64: readonly string[]): string {
  const checksum = createChecksum(algorithm);
  for (const part of partChecksumsBase64) checksum.update(Buffer.from(part, 'base64'));
  return `${checksum.digestBase64()}-${partChecksumsBase64.length}`;
}

import { blockChecksum, blockChecksumAlgorithm, blockChecksumSizeBytes } from '@tessera/checksum';
import { assert } from '@tessera/common';
import { objectVersionIdLengthMax, type StorageShardId } from '@tessera/rpc';

/**
 * Shard file format, version 1 (byte by byte in README.md, "On-disk format"):
 *
 *   [header: 256 bytes][record 0][record 1]…[record n-1]
 *   record i = [xxh3-64 of block i: 8 bytes LE][block i: blockSizeBytes, the last 1..blockSizeBytes]
 *
 * Checksums are interleaved with their blocks so that one positional read fetches a block and
 * its checksum, a ranged read touches only the records it needs, and a writer can append a
 * block as soon as it is verified without knowing the shard's size in advance. The header is
 * written last (with or after the last records, before the fsync), so a file with a valid header
 * checksum is a complete one.
 */
export const shardFileMagic = Buffer.from('TESSHARD', 'ascii');
export const shardFileFormatVersion = 1;
export const shardFileHeaderSizeBytes = 256;
/** Code of the checksum algorithm in the header: 1 = xxh3-64 (the only one today). */
export const checksumAlgorithmCodeXxh3 = 1;
export const recordChecksumSizeBytes = blockChecksumSizeBytes;

const offsetMagic = 0;
const offsetFormatVersion = 8;
const offsetChecksumAlgorithm = 10;
const offsetBlockSize = 12;
const offsetShardSize = 16;
const offsetBlockCount = 24;
const offsetIdLength = 28;
const offsetShardIndex = 30;
const offsetObjectVersionId = 32;
const offsetHeaderChecksum = shardFileHeaderSizeBytes - 8;

export interface ShardFileHeader {
  readonly shardId: StorageShardId;
  readonly blockSizeBytes: number;
  readonly shardSizeBytes: number;
  readonly blockCount: number;
}

export function encodeShardFileHeader(header: ShardFileHeader): Buffer {
  assert(header.shardId.objectVersionId.length <= objectVersionIdLengthMax, 'object version id fits the header');
  assert(header.blockCount === blockCountOf(header.shardSizeBytes, header.blockSizeBytes), 'block count matches the size');
  const bytes = Buffer.alloc(shardFileHeaderSizeBytes);
  shardFileMagic.copy(bytes, offsetMagic);
  bytes.writeUInt16LE(shardFileFormatVersion, offsetFormatVersion);
  bytes.writeUInt8(checksumAlgorithmCodeXxh3, offsetChecksumAlgorithm);
  bytes.writeUInt32LE(header.blockSizeBytes, offsetBlockSize);
  bytes.writeBigUInt64LE(BigInt(header.shardSizeBytes), offsetShardSize);
  bytes.writeUInt32LE(header.blockCount, offsetBlockCount);
  bytes.writeUInt16LE(header.shardId.objectVersionId.length, offsetIdLength);
  bytes.writeUInt16LE(header.shardId.shardIndex, offsetShardIndex);
  bytes.write(header.shardId.objectVersionId, offsetObjectVersionId, 'ascii');
  bytes.writeBigUInt64LE(blockChecksum(bytes.subarray(0, offsetHeaderChecksum)), offsetHeaderChecksum);
  return bytes;
}

/** Decodes a header; undefined when it is damaged (bad magic, version, algorithm or checksum). */
export function decodeShardFileHeader(bytes: Buffer): ShardFileHeader | undefined {
  if (bytes.byteLength < shardFileHeaderSizeBytes) return undefined;
  if (!bytes.subarray(0, 8).equals(shardFileMagic)) return undefined;
  if (bytes.readBigUInt64LE(offsetHeaderChecksum) !== blockChecksum(bytes.subarray(0, offsetHeaderChecksum))) return undefined;
  if (bytes.readUInt16LE(offsetFormatVersion) !== shardFileFormatVersion) return undefined;
  if (bytes.readUInt8(offsetChecksumAlgorithm) !== checksumAlgorithmCodeXxh3) return undefined;
  const idLength = bytes.readUInt16LE(offsetIdLength);
  if (idLength > objectVersionIdLengthMax) return undefined;
  const blockSizeBytes = bytes.readUInt32LE(offsetBlockSize);
  const shardSizeBytes = Number(bytes.readBigUInt64LE(offsetShardSize));
  const blockCount = bytes.readUInt32LE(offsetBlockCount);
  if (blockSizeBytes === 0 || blockCount !== blockCountOf(shardSizeBytes, blockSizeBytes)) return undefined;
  return {
    shardId: {
      objectVersionId: bytes.toString('ascii', offsetObjectVersionId, offsetObjectVersionId + idLength),
      shardIndex: bytes.readUInt16LE(offsetShardIndex),
    },
    blockSizeBytes,
    shardSizeBytes,
    blockCount,
  };
}

export function blockCountOf(shardSizeBytes: number, blockSizeBytes: number): number {
  return Math.ceil(shardSizeBytes / blockSizeBytes);
}

/** Bytes of the whole file for a shard of this size. */
export function storedSizeBytesOf(shardSizeBytes: number, blockSizeBytes: number): number {
  return shardFileHeaderSizeBytes + blockCountOf(shardSizeBytes, blockSizeBytes) * recordChecksumSizeBytes + shardSizeBytes;
}

/** File offset of record `blockIndex` (its checksum, then its data). */
export function recordOffsetBytes(header: ShardFileHeader, blockIndex: number): number {
  return shardFileHeaderSizeBytes + blockIndex * (recordChecksumSizeBytes + header.blockSizeBytes);
}

/** Data bytes in block `blockIndex` (the last block may be shorter). */
export function blockLengthBytes(header: ShardFileHeader, blockIndex: number): number {
  assert(blockIndex >= 0 && blockIndex < header.blockCount, 'block index within the shard');
  return Math.min(header.blockSizeBytes, header.shardSizeBytes - blockIndex * header.blockSizeBytes);
}

export { blockChecksumAlgorithm };

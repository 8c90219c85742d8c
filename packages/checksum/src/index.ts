/**
 * @packageDocumentation
 * Bitrot checksums for shard blocks. Every block of every shard carries an xxh3-64 checksum
 * (see ARCHITECTURE.md, "Bitrot checksums", for the measurements behind the choice). Storage
 * nodes verify a block before acknowledging a write and again before serving a read.
 *
 * ```ts
 * import { blockChecksum } from '@tessera/checksum';
 * const sum: bigint = blockChecksum(blockBytes);
 * ```
 */
import { xxh3 } from '@node-rs/xxhash';

/** Name recorded in shard files and on the wire for the checksum algorithm in use. */
export const blockChecksumAlgorithm = 'xxh3-64';

/** Size of one block checksum in bytes. */
export const blockChecksumSizeBytes = 8;

/** xxh3-64 (seed 0) of `bytes`, as an unsigned 64-bit bigint. */
export function blockChecksum(bytes: Uint8Array): bigint {
  return xxh3.xxh64(bytes);
}

/** Writes the checksum of `bytes` little-endian into `target` at `offset`. */
export function writeBlockChecksum(bytes: Uint8Array, target: Uint8Array, offset: number): void {
  const view = new DataView(target.buffer, target.byteOffset, target.byteLength);
  view.setBigUint64(offset, blockChecksum(bytes), true);
}

/** True when `bytes` hashes to the checksum stored little-endian in `stored` at `offset`. */
export function verifyBlockChecksum(bytes: Uint8Array, stored: Uint8Array, offset: number): boolean {
  const view = new DataView(stored.buffer, stored.byteOffset, stored.byteLength);
  return view.getBigUint64(offset, true) === blockChecksum(bytes);
}

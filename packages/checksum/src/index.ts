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

/**
 * Inputs at least this long go through a streaming hasher that is reset and reused. In
 * @node-rs/xxhash 1.7.8 the one-shot `xxh3.xxh64()` tops out near 2.4 GB/s on this machine, while
 * the streaming `Xxh3` hasher (same algorithm, same result) reaches 13 GB/s at 16 KiB and 23-28
 * GB/s at 64-256 KiB; its three native calls only lose below about 2 KiB (README.md, measured
 * by src/bench/checksum.ts).
 */
const streamingThresholdBytes = 2048;

// Reused across calls: creating a hasher per call costs more than hashing 4 KiB. Safe because
// blockChecksum is synchronous (no call can interleave) and every worker thread loads its own
// copy of this module.
let streamingHasher: xxh3.Xxh3 | undefined;

/** xxh3-64 (seed 0) of `bytes`, as an unsigned 64-bit bigint. */
export function blockChecksum(bytes: Uint8Array): bigint {
  if (bytes.length < streamingThresholdBytes) return xxh3.xxh64(bytes);
  streamingHasher ??= xxh3.Xxh3.withSeed();
  streamingHasher.reset();
  return streamingHasher.update(bytes).digest();
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

/**
 * Cutting one block into its k data shards and joining them back, per the stripe layout
 * (stripe-layout.ts): shard i holds block bytes [i * s, (i + 1) * s) with s = ceil(blockBytes / k),
 * zero-padded past the end of the block.
 */
import { assert } from '@tessera/common';

/**
 * The k data shards of `block`. Shards that lie wholly inside the block are views (no copy); only
 * the shards that reach past its end are new, zero-padded arrays.
 */
export function splitBlockIntoDataShards(block: Uint8Array, dataShardCount: number): Uint8Array[] {
  assert(Number.isInteger(dataShardCount) && dataShardCount >= 1, 'dataShardCount must be an integer >= 1');
  const shardSizeBytes = Math.ceil(block.length / dataShardCount);
  return Array.from({ length: dataShardCount }, (_, shardIndex) => {
    const start = shardIndex * shardSizeBytes;
    const end = start + shardSizeBytes;
    if (end <= block.length) return block.subarray(start, end);
    const padded = new Uint8Array(shardSizeBytes);
    if (start < block.length) padded.set(block.subarray(start));
    return padded;
  });
}

/** The block's bytes from its k data shards, padding dropped (`blockSizeBytes` is recorded). */
export function joinDataShards(dataShards: readonly Uint8Array[], blockSizeBytes: number): Uint8Array {
  assert(dataShards.length >= 1, 'at least one data shard');
  const shardSizeBytes = dataShards[0]!.length;
  assert(shardSizeBytes * dataShards.length >= blockSizeBytes, 'data shards must cover the block');
  assert(shardSizeBytes === Math.ceil(blockSizeBytes / dataShards.length), 'shard size must be ceil(block / k)');
  const block = new Uint8Array(blockSizeBytes);
  dataShards.forEach((shard, shardIndex) => {
    assert(shard.length === shardSizeBytes, 'all data shards of a block have the same size');
    const start = shardIndex * shardSizeBytes;
    if (start < blockSizeBytes) block.set(shard.subarray(0, Math.min(shardSizeBytes, blockSizeBytes - start)), start);
  });
  return block;
}

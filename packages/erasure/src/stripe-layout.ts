/**
 * Where the bytes of an object live among its shards (pure arithmetic, no I/O).
 *
 * An object of N bytes is cut into blocks of `blockSizeBytes` (the last one may be shorter). Each
 * block is cut into k data shards of ceil(blockBytes / k) bytes; the last data shard(s) of a block
 * are zero-padded to that size before encoding, and the padding is implied by the sizes, never
 * stored as data and never returned to a reader. Shard file i of an object is the concatenation of
 * shard i of every block in order, so all k + m shard files have the same length, and block b
 * starts at offset b * ceil(blockSizeBytes / k) in each of them. See README.md for a worked example.
 */
import { assert } from '@tessera/common';
import { RangeNotSatisfiableError } from './errors';

/** The default block size: 1 MiB, the unit of encoding, checksumming and degraded reads. */
export const defaultBlockSizeBytes = 1024 * 1024;

export interface StripeLayout {
  readonly objectSizeBytes: number;
  readonly dataShardCount: number;
  readonly blockSizeBytes: number;
}

/** One block of an object and where its shards sit. */
export interface BlockSpan {
  readonly blockIndex: number;
  /** Offset of the block's first byte in the object. */
  readonly objectStartByte: number;
  /** Object bytes in this block (blockSizeBytes, except possibly for the last block). */
  readonly blockSizeBytes: number;
  /** Bytes of each of the k + m shards of this block: ceil(blockSizeBytes / k). */
  readonly shardSizeBytes: number;
  /** Zero bytes appended to the block before encoding: shardSizeBytes * k - blockSizeBytes. */
  readonly paddingBytes: number;
  /** Offset of this block's shard in every shard file. */
  readonly shardFileStartByte: number;
}

/** The bytes one data shard of one block contributes to a range read. */
export interface DataShardRead {
  readonly shardIndex: number;
  /** Byte range inside this block's shard. */
  readonly shardStartByte: number;
  readonly shardEndByteInclusive: number;
  /** The same range as offsets in the shard file (shardFileStartByte of the block added). */
  readonly shardFileStartByte: number;
  readonly shardFileEndByteInclusive: number;
  /** Where these bytes go in the object; subtract the plan's startByte for the response offset. */
  readonly objectStartByte: number;
  readonly lengthBytes: number;
}

export interface BlockRead {
  readonly block: BlockSpan;
  /** The part of the block the range covers, as offsets within the block. */
  readonly blockStartByte: number;
  readonly blockEndByteInclusive: number;
  /** Data shards to read when all are healthy, in shard order (which is object order). */
  readonly dataShardReads: readonly DataShardRead[];
  /**
   * The smallest shard byte range covering every read above. Reed-Solomon works byte position by
   * byte position, so when a data shard is lost, reading this range from any k shards of the block
   * and reconstructing it yields the missing bytes; whole shards are never needed.
   */
  readonly degradedShardStartByte: number;
  readonly degradedShardEndByteInclusive: number;
}

export interface RangeReadPlan {
  readonly startByte: number;
  /** Clamped to the last byte of the object, as S3 does for a range that runs past the end. */
  readonly endByteInclusive: number;
  readonly lengthBytes: number;
  readonly blocks: readonly BlockRead[];
}

export function stripeLayout(objectSizeBytes: number, dataShardCount: number, blockSizeBytes = defaultBlockSizeBytes): StripeLayout {
  assert(Number.isSafeInteger(objectSizeBytes) && objectSizeBytes >= 0, 'objectSizeBytes must be a non-negative integer');
  assert(Number.isInteger(dataShardCount) && dataShardCount >= 1, 'dataShardCount must be an integer >= 1');
  assert(Number.isInteger(blockSizeBytes) && blockSizeBytes >= 1, 'blockSizeBytes must be a positive integer');
  return { objectSizeBytes, dataShardCount, blockSizeBytes };
}

export function blockCount(layout: StripeLayout): number {
  return Math.ceil(layout.objectSizeBytes / layout.blockSizeBytes);
}

/** Shard bytes of a full block: ceil(blockSizeBytes / k). Also the stride of blocks in shard files. */
export function fullBlockShardSizeBytes(layout: StripeLayout): number {
  return Math.ceil(layout.blockSizeBytes / layout.dataShardCount);
}

export function blockSpan(layout: StripeLayout, blockIndex: number): BlockSpan {
  assert(Number.isInteger(blockIndex) && blockIndex >= 0 && blockIndex < blockCount(layout), 'block index out of range');
  const objectStartByte = blockIndex * layout.blockSizeBytes;
  const blockSizeBytes = Math.min(layout.blockSizeBytes, layout.objectSizeBytes - objectStartByte);
  const shardSizeBytes = Math.ceil(blockSizeBytes / layout.dataShardCount);
  return {
    blockIndex,
    objectStartByte,
    blockSizeBytes,
    shardSizeBytes,
    paddingBytes: shardSizeBytes * layout.dataShardCount - blockSizeBytes,
    shardFileStartByte: blockIndex * fullBlockShardSizeBytes(layout),
  };
}

export function blockSpans(layout: StripeLayout): BlockSpan[] {
  return Array.from({ length: blockCount(layout) }, (_, blockIndex) => blockSpan(layout, blockIndex));
}

/** Length of every shard file (data and parity alike) of the object. */
export function shardFileSizeBytes(layout: StripeLayout): number {
  const count = blockCount(layout);
  if (count === 0) return 0;
  return (count - 1) * fullBlockShardSizeBytes(layout) + blockSpan(layout, count - 1).shardSizeBytes;
}

/**
 * The blocks and data-shard byte ranges needed to serve the S3 range [startByte, endByteInclusive].
 * A range starting at or past the end of the object (or any range of an empty object) is not
 * satisfiable; an end past the object is clamped. Suffix ranges (`bytes=-n`) are the caller's to
 * convert to absolute offsets first.
 */
export function planRangeRead(layout: StripeLayout, startByte: number, endByteInclusive: number): RangeReadPlan {
  assert(Number.isSafeInteger(startByte) && Number.isSafeInteger(endByteInclusive), 'range bounds must be integers');
  if (startByte < 0 || startByte > endByteInclusive || startByte >= layout.objectSizeBytes) {
    throw new RangeNotSatisfiableError(startByte, endByteInclusive, layout.objectSizeBytes);
  }
  const endByte = Math.min(endByteInclusive, layout.objectSizeBytes - 1);
  const firstBlockIndex = Math.floor(startByte / layout.blockSizeBytes);
  const lastBlockIndex = Math.floor(endByte / layout.blockSizeBytes);
  const blocks: BlockRead[] = [];
  for (let blockIndex = firstBlockIndex; blockIndex <= lastBlockIndex; blockIndex++) {
    const block = blockSpan(layout, blockIndex);
    const blockStartByte = Math.max(startByte, block.objectStartByte) - block.objectStartByte;
    const blockEndByteInclusive = Math.min(endByte, block.objectStartByte + block.blockSizeBytes - 1) - block.objectStartByte;
    blocks.push(planBlockRead(block, blockStartByte, blockEndByteInclusive));
  }
  return { startByte, endByteInclusive: endByte, lengthBytes: endByte - startByte + 1, blocks };
}

/** Splits the block byte range [from, to] over the data shards that hold it. */
function planBlockRead(block: BlockSpan, blockStartByte: number, blockEndByteInclusive: number): BlockRead {
  const s = block.shardSizeBytes;
  const dataShardReads: DataShardRead[] = [];
  for (let shardIndex = Math.floor(blockStartByte / s); shardIndex <= Math.floor(blockEndByteInclusive / s); shardIndex++) {
    const shardStartByte = Math.max(blockStartByte, shardIndex * s) - shardIndex * s;
    const shardEndByteInclusive = Math.min(blockEndByteInclusive, shardIndex * s + s - 1) - shardIndex * s;
    dataShardReads.push({
      shardIndex,
      shardStartByte,
      shardEndByteInclusive,
      shardFileStartByte: block.shardFileStartByte + shardStartByte,
      shardFileEndByteInclusive: block.shardFileStartByte + shardEndByteInclusive,
      objectStartByte: block.objectStartByte + shardIndex * s + shardStartByte,
      lengthBytes: shardEndByteInclusive - shardStartByte + 1,
    });
  }
  assert(dataShardReads.length >= 1, 'a non-empty block range touches at least one data shard');
  return {
    block,
    blockStartByte,
    blockEndByteInclusive,
    dataShardReads,
    degradedShardStartByte: Math.min(...dataShardReads.map((read) => read.shardStartByte)),
    degradedShardEndByteInclusive: Math.max(...dataShardReads.map((read) => read.shardEndByteInclusive)),
  };
}

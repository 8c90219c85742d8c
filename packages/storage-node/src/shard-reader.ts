import type { FileHandle } from 'node:fs/promises';
import { blockChecksum } from '@tessera/checksum';
import { assert } from '@tessera/common';
import { InvalidShardRequestError, ShardChecksumMismatchError, shardKey } from '@tessera/rpc';
import { type ShardFileHeader, blockLengthBytes, recordChecksumSizeBytes, recordOffsetBytes } from './shard-file-format';
import { toStorageError } from './storage-errors';

/**
 * Verified shard data starting at `offsetBytes` of the shard: the concatenation of `pieces`
 * (views into the read buffer, one per block, so nothing is copied before it is encoded).
 * The views are valid only until the consumer asks for the next chunk: the read buffers are
 * reused (two of them, alternating with the read-ahead), because short-lived 1 MiB buffers
 * make V8 run full garbage collections under load.
 */
export interface ShardDataChunk {
  readonly offsetBytes: number;
  readonly pieces: readonly Buffer[];
  readonly sizeBytes: number;
}

export interface BlockCheckResult {
  readonly blocksChecked: number;
  readonly corruptBlockIndexes: number[];
}

/** Corrupt block indexes listed by a verification, at most. */
export const corruptBlockIndexesListedMax = 1000;

/**
 * An open shard file with a verified header. Reads whole records (checksum + block) with
 * positional reads of about `readSizeBytesTarget`, verifies each block, and only then hands out
 * its bytes: a bad block is never returned as data.
 */
export class ShardReader {
  constructor(
    readonly header: ShardFileHeader,
    private readonly fileHandle: FileHandle,
    private readonly readSizeBytesTarget: number,
    private readonly onChecksumFailure: (blockIndex: number) => void,
    /**
     * File bytes from the first record on, read together with the header when the caller said it
     * would read from the start: the first span is served from them (one positional read saved).
     */
    private readonly initialRecords?: Buffer,
  ) {}

  /** Size and modification time of the file (an fstat, asked only by stat and verify, not by reads). */
  async fileStat(): Promise<{ storedSizeBytes: number; modifiedAtMs: number }> {
    try {
      const stat = await this.fileHandle.stat();
      return { storedSizeBytes: stat.size, modifiedAtMs: Math.floor(stat.mtimeMs) };
    } catch (err) {
      throw toStorageError(err, `stat shard ${shardKey(this.header.shardId)}`);
    }
  }

  async close(): Promise<void> {
    await this.fileHandle.close().catch(() => undefined);
  }

  /** Validates a requested range: `lengthBytes` 0 means to the end. */
  resolveRange(offsetBytes: number, lengthBytes: number): { offsetBytes: number; endBytes: number } {
    const size = this.header.shardSizeBytes;
    const key = shardKey(this.header.shardId);
    if (!Number.isSafeInteger(offsetBytes) || offsetBytes < 0 || offsetBytes > size) {
      throw new InvalidShardRequestError(`shard ${key}: offset ${offsetBytes} outside 0..${size}`);
    }
    const endBytes = lengthBytes === 0 ? size : offsetBytes + lengthBytes;
    if (!Number.isSafeInteger(lengthBytes) || lengthBytes < 0 || endBytes > size) {
      throw new InvalidShardRequestError(`shard ${key}: range ${offsetBytes}+${lengthBytes} beyond the shard's ${size} bytes`);
    }
    return { offsetBytes, endBytes };
  }

  /**
   * Yields verified data of [offsetBytes, endBytes) in chunks of about readSizeBytesTarget,
   * reading only the records that overlap the range. Throws ShardChecksumMismatchError naming
   * the first bad block; everything yielded before it was verified.
   */
  async *readRange(offsetBytes: number, endBytes: number): AsyncGenerator<ShardDataChunk> {
    if (endBytes <= offsetBytes) return;
    const blockSizeBytes = this.header.blockSizeBytes;
    const firstBlock = Math.floor(offsetBytes / blockSizeBytes);
    const lastBlock = Math.floor((endBytes - 1) / blockSizeBytes);
    const blocksPerRead = Math.max(1, Math.floor(this.readSizeBytesTarget / (blockSizeBytes + recordChecksumSizeBytes)));
    // Read ahead one span while the caller sends the previous one.
    const spanBuffers: [Buffer | undefined, Buffer | undefined] = [undefined, undefined];
    let spanNumber = 0;
    const readAhead = (first: number, slot: number): Promise<Buffer> => {
      const read = this.readSpan(first, Math.min(lastBlock, first + blocksPerRead - 1), spanBuffers, slot);
      // Observed now, so a failing read-ahead is never an unhandled rejection (which would end
      // the process) while the consumer is still busy; the loop's await rethrows it.
      read.catch(() => undefined);
      return read;
    };
    let pending = readAhead(firstBlock, 0);
    try {
      for (let spanFirst = firstBlock; spanFirst <= lastBlock; spanFirst += blocksPerRead) {
        const spanLast = Math.min(lastBlock, spanFirst + blocksPerRead - 1);
        const span = await pending;
        spanNumber += 1;
        const nextFirst = spanLast + 1;
        // The read-ahead fills the other buffer: the one whose views the consumer finished with.
        if (nextFirst <= lastBlock) pending = readAhead(nextFirst, spanNumber % 2);
        const pieces: Buffer[] = [];
        let sizeBytes = 0;
        let spanCursor = 0;
        for (let blockIndex = spanFirst; blockIndex <= spanLast; blockIndex += 1) {
          const lengthBytes = blockLengthBytes(this.header, blockIndex);
          const checksum = span.subarray(spanCursor, spanCursor + recordChecksumSizeBytes);
          const block = span.subarray(spanCursor + recordChecksumSizeBytes, spanCursor + recordChecksumSizeBytes + lengthBytes);
          spanCursor += recordChecksumSizeBytes + lengthBytes;
          if (checksum.byteLength !== recordChecksumSizeBytes || block.byteLength !== lengthBytes || checksum.readBigUInt64LE(0) !== blockChecksum(block)) {
            this.onChecksumFailure(blockIndex);
            throw new ShardChecksumMismatchError(shardKey(this.header.shardId), blockIndex, 'disk');
          }
          const blockStartBytes = blockIndex * blockSizeBytes;
          const from = Math.max(offsetBytes, blockStartBytes) - blockStartBytes;
          const to = Math.min(endBytes, blockStartBytes + lengthBytes) - blockStartBytes;
          pieces.push(block.subarray(from, to));
          sizeBytes += to - from;
        }
        const spanStartBytes = Math.max(offsetBytes, spanFirst * blockSizeBytes);
        yield { offsetBytes: spanStartBytes, pieces, sizeBytes };
      }
    } finally {
      // Whether the consumer stopped early, a block was bad or a read failed: never leave the
      // read-ahead running (or rejecting unobserved) after the caller closes the file.
      await pending.catch(() => undefined);
    }
  }

  /** Re-reads every block and lists the bad ones (none of the data leaves the node). */
  async checkAllBlocks(): Promise<BlockCheckResult> {
    const corruptBlockIndexes: number[] = [];
    const blockCount = this.header.blockCount;
    const blocksPerRead = Math.max(1, Math.floor(this.readSizeBytesTarget / (this.header.blockSizeBytes + recordChecksumSizeBytes)));
    const spanBuffers: [Buffer | undefined, Buffer | undefined] = [undefined, undefined];
    for (let spanFirst = 0; spanFirst < blockCount; spanFirst += blocksPerRead) {
      const spanLast = Math.min(blockCount - 1, spanFirst + blocksPerRead - 1);
      const span = await this.readSpan(spanFirst, spanLast, spanBuffers, 0);
      let spanCursor = 0;
      for (let blockIndex = spanFirst; blockIndex <= spanLast; blockIndex += 1) {
        const lengthBytes = blockLengthBytes(this.header, blockIndex);
        const checksum = span.subarray(spanCursor, spanCursor + recordChecksumSizeBytes);
        const block = span.subarray(spanCursor + recordChecksumSizeBytes, spanCursor + recordChecksumSizeBytes + lengthBytes);
        spanCursor += recordChecksumSizeBytes + lengthBytes;
        const bad = block.byteLength !== lengthBytes || checksum.byteLength !== recordChecksumSizeBytes || checksum.readBigUInt64LE(0) !== blockChecksum(block);
        if (bad) {
          this.onChecksumFailure(blockIndex);
          if (corruptBlockIndexes.length < corruptBlockIndexesListedMax) corruptBlockIndexes.push(blockIndex);
        }
      }
    }
    return { blocksChecked: blockCount, corruptBlockIndexes };
  }

  /**
   * Reads records spanFirst..spanLast in one positional read (short at a truncated end) into
   * `buffers[slot]`, reusing it when it is big enough.
   */
  private async readSpan(spanFirst: number, spanLast: number, buffers: [Buffer | undefined, Buffer | undefined], slot: number): Promise<Buffer> {
    assert(spanFirst <= spanLast, 'span is not empty');
    assert(slot === 0 || slot === 1, 'two read buffers');
    const startBytes = recordOffsetBytes(this.header, spanFirst);
    const endBytes = recordOffsetBytes(this.header, spanLast) + recordChecksumSizeBytes + blockLengthBytes(this.header, spanLast);
    const spanSizeBytes = endBytes - startBytes;
    const initial = this.initialRecords;
    const recordsStartBytes = recordOffsetBytes(this.header, 0);
    if (initial !== undefined && endBytes - recordsStartBytes <= initial.byteLength) {
      // Never overwritten (not one of the two alternating buffers), so its views stay valid.
      return initial.subarray(startBytes - recordsStartBytes, endBytes - recordsStartBytes);
    }
    let reusable = buffers[slot];
    if (reusable === undefined || reusable.byteLength < spanSizeBytes) {
      reusable = Buffer.allocUnsafe(spanSizeBytes);
      buffers[slot] = reusable;
    }
    const buffer = reusable.subarray(0, spanSizeBytes);
    let filledBytes = 0;
    try {
      while (filledBytes < buffer.byteLength) {
        const { bytesRead } = await this.fileHandle.read(buffer, filledBytes, buffer.byteLength - filledBytes, startBytes + filledBytes);
        if (bytesRead === 0) break;
        filledBytes += bytesRead;
      }
    } catch (err) {
      throw toStorageError(err, `read shard ${shardKey(this.header.shardId)}`);
    }
    return buffer.subarray(0, filledBytes);
  }
}

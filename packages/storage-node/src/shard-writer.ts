import type { FileHandle } from 'node:fs/promises';
import * as fs from 'node:fs/promises';
import { blockChecksum } from '@tessera/checksum';
import { assert } from '@tessera/common';
import { InvalidShardRequestError, ShardChecksumMismatchError, type StorageShardId, shardKey } from '@tessera/rpc';
import { blockCountOf, encodeShardFileHeader, recordChecksumSizeBytes, shardFileHeaderSizeBytes } from './shard-file-format';
import { toStorageError } from './storage-errors';

/** What the store gives a writer: room accounting and the final, durable rename. */
export interface ShardWriterHost {
  reserveBytes(sizeBytes: number): void;
  releaseBytes(sizeBytes: number): void;
  /** fsync'd temp file → its final place, then the directory fsync'd. */
  commitFile(tmpPath: string, shardId: StorageShardId, storedSizeBytes: number): Promise<void>;
}

export interface ShardWriterOptions {
  readonly shardId: StorageShardId;
  readonly blockSizeBytes: number;
  readonly shardSizeBytesMax: number;
  readonly tmpPath: string;
}

export interface WrittenShard {
  readonly shardId: StorageShardId;
  readonly shardSizeBytes: number;
  readonly blockSizeBytes: number;
  readonly blockCount: number;
  readonly storedSizeBytes: number;
}

// writev() is limited to IOV_MAX (1024) buffers per call; two per block.
const blocksPerWritevMax = 256;

/**
 * One shard write in progress: blocks are verified against their checksums as they arrive and
 * appended to a temp file as interleaved [checksum][block] records; `commit` writes the header,
 * fsyncs and renames. Until then nothing is visible, and `abort` removes every trace.
 * Memory: none beyond the message being written.
 */
export class ShardWriter {
  private fileHandle: FileHandle | undefined;
  private positionBytes = shardFileHeaderSizeBytes;
  private shardSizeBytes = 0;
  private blockCount = 0;
  private reservedBytes = 0;
  private sawShortBlock = false;
  /** Verified [checksum, block] views of the last message, not yet written (see appendBlocks). */
  private pendingRecords: Buffer[] = [];
  private state: 'open' | 'committed' | 'aborted' = 'open';

  private constructor(
    private readonly host: ShardWriterHost,
    readonly options: ShardWriterOptions,
    fileHandle: FileHandle,
  ) {
    this.fileHandle = fileHandle;
  }

  static async create(host: ShardWriterHost, options: ShardWriterOptions): Promise<ShardWriter> {
    assert(options.blockSizeBytes > 0, 'block size is positive');
    try {
      const fileHandle = await fs.open(options.tmpPath, 'wx', 0o644);
      return new ShardWriter(host, options, fileHandle);
    } catch (err) {
      throw toStorageError(err, `create temp file for shard ${shardKey(options.shardId)}`);
    }
  }

  get bytesReceived(): number {
    return this.shardSizeBytes;
  }

  /** Verifies then appends whole blocks; `checksums` holds one little-endian xxh3-64 per block. */
  async appendBlocks(data: Buffer, checksums: Buffer): Promise<void> {
    assert(this.state === 'open', 'append only to an open writer');
    const blockSizeBytes = this.options.blockSizeBytes;
    const key = shardKey(this.options.shardId);
    if (checksums.byteLength === 0 || checksums.byteLength % recordChecksumSizeBytes !== 0) {
      throw new InvalidShardRequestError(`shard ${key}: block_checksums must hold 8 bytes per block`);
    }
    const count = checksums.byteLength / recordChecksumSizeBytes;
    if (this.sawShortBlock) throw new InvalidShardRequestError(`shard ${key}: data after the short last block`);
    if (data.byteLength <= (count - 1) * blockSizeBytes || data.byteLength > count * blockSizeBytes) {
      throw new InvalidShardRequestError(`shard ${key}: ${data.byteLength} data bytes do not make ${count} blocks of ${blockSizeBytes}`);
    }
    if (this.shardSizeBytes + data.byteLength > this.options.shardSizeBytesMax) {
      throw new InvalidShardRequestError(`shard ${key}: larger than the node's maximum shard size of ${this.options.shardSizeBytesMax} bytes`);
    }
    const recordsSizeBytes = data.byteLength + checksums.byteLength;
    this.host.reserveBytes(recordsSizeBytes);
    this.reservedBytes += recordsSizeBytes;
    const buffers: Buffer[] = [];
    for (let i = 0; i < count; i += 1) {
      const block = data.subarray(i * blockSizeBytes, Math.min(data.byteLength, (i + 1) * blockSizeBytes));
      const checksum = checksums.subarray(i * recordChecksumSizeBytes, (i + 1) * recordChecksumSizeBytes);
      if (checksum.readBigUInt64LE(0) !== blockChecksum(block)) {
        throw new ShardChecksumMismatchError(key, this.blockCount + i, 'upload');
      }
      buffers.push(checksum, block);
    }
    if (data.byteLength < count * blockSizeBytes) this.sawShortBlock = true;
    // The verified records of this message are written with the next message's, or with the
    // header at commit: a shard that arrives in one message (clients send ~1 MiB messages, so in
    // RS(6,3) every shard of an object up to ~6 MiB) then costs one write, header included.
    const previous = this.pendingRecords;
    this.pendingRecords = buffers;
    this.shardSizeBytes += data.byteLength;
    this.blockCount += count;
    if (previous.length > 0) this.positionBytes = await this.writeRecords(previous, this.positionBytes);
  }

  /** Writes `buffers` contiguously from `positionBytes` (writev calls of at most IOV_MAX buffers); returns the end. */
  private async writeRecords(buffers: readonly Buffer[], positionBytes: number): Promise<number> {
    const fileHandle = this.fileHandle;
    assert(fileHandle !== undefined, 'file open while writing');
    let at = positionBytes;
    for (let start = 0; start < buffers.length; start += blocksPerWritevMax * 2) {
      const slice = buffers.slice(start, start + blocksPerWritevMax * 2);
      const expectedBytes = slice.reduce((sum, b) => sum + b.byteLength, 0);
      let result;
      try {
        result = await fileHandle.writev(slice, at);
      } catch (err) {
        throw toStorageError(err, `write shard ${shardKey(this.options.shardId)}`);
      }
      // A short write to a regular file means the disk filled up between syscalls.
      if (result.bytesWritten !== expectedBytes) {
        throw toStorageError(Object.assign(new Error('short write'), { code: 'ENOSPC' }), `write shard ${shardKey(this.options.shardId)}`);
      }
      at += expectedBytes;
    }
    return at;
  }

  /** Checks the totals, writes the header, fsyncs and renames into place. */
  async commit(expected: { shardSizeBytes: number; blockCount: number }): Promise<WrittenShard> {
    assert(this.state === 'open', 'commit only an open writer');
    const { shardId, blockSizeBytes } = this.options;
    const key = shardKey(shardId);
    if (expected.shardSizeBytes !== this.shardSizeBytes || expected.blockCount !== this.blockCount) {
      throw new InvalidShardRequestError(
        `shard ${key}: finish says ${expected.shardSizeBytes} bytes in ${expected.blockCount} blocks, ` +
          `received ${this.shardSizeBytes} bytes in ${this.blockCount} blocks`,
      );
    }
    assert(this.blockCount === blockCountOf(this.shardSizeBytes, blockSizeBytes), 'received blocks add up');
    const header = encodeShardFileHeader({ shardId, blockSizeBytes, shardSizeBytes: this.shardSizeBytes, blockCount: this.blockCount });
    const fileHandle = this.fileHandle;
    assert(fileHandle !== undefined, 'file open while committing');
    try {
      this.host.reserveBytes(header.byteLength);
      this.reservedBytes += header.byteLength;
      const pending = this.pendingRecords;
      this.pendingRecords = [];
      if (this.positionBytes === shardFileHeaderSizeBytes) {
        // Nothing written yet: the header and the records in one write.
        this.positionBytes = await this.writeRecords([header, ...pending], 0);
      } else {
        this.positionBytes = await this.writeRecords(pending, this.positionBytes);
        await fileHandle.write(header, 0, header.byteLength, 0);
      }
      // fdatasync persists the data and the file size; the rename below is made durable by
      // the directory fsync in commitFile.
      await fileHandle.datasync();
      await fileHandle.close();
      this.fileHandle = undefined;
    } catch (err) {
      throw toStorageError(err, `persist shard ${key}`);
    }
    const storedSizeBytes = this.positionBytes;
    assert(storedSizeBytes === this.reservedBytes, 'reserved exactly the stored size');
    await this.host.commitFile(this.options.tmpPath, shardId, storedSizeBytes);
    // The store now accounts the committed file; our reservation ends.
    this.host.releaseBytes(this.reservedBytes);
    this.reservedBytes = 0;
    this.state = 'committed';
    return { shardId, shardSizeBytes: this.shardSizeBytes, blockSizeBytes, blockCount: this.blockCount, storedSizeBytes };
  }

  /** Drops the write: closes and removes the temp file, releases the room. Idempotent. */
  async abort(): Promise<void> {
    if (this.state !== 'open') return;
    this.state = 'aborted';
    const fileHandle = this.fileHandle;
    this.fileHandle = undefined;
    await fileHandle?.close().catch(() => undefined);
    await fs.rm(this.options.tmpPath, { force: true }).catch(() => undefined);
    this.host.releaseBytes(this.reservedBytes);
    this.reservedBytes = 0;
  }
}

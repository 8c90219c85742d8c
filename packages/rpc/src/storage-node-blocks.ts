import { blockChecksum } from '@tessera/checksum';
import { assert } from '@tessera/common';

/** One block of a shard with its xxh3-64 checksum (see @tessera/checksum). */
export interface ShardBlock {
  readonly data: Uint8Array;
  readonly checksum: bigint;
}

/**
 * Cuts a byte stream of any chunking into blocks of exactly `blockSizeBytes` (the last one may
 * be shorter) and checksums each. Holds at most one partial block.
 */
export class ShardBlockSplitter {
  private pending: Buffer[] = [];
  private pendingSizeBytes = 0;

  constructor(readonly blockSizeBytes: number) {
    assert(Number.isInteger(blockSizeBytes) && blockSizeBytes > 0, 'block size is a positive integer');
  }

  *push(chunk: Uint8Array): Generator<ShardBlock> {
    let rest = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    while (rest.byteLength > 0) {
      const wantedBytes = this.blockSizeBytes - this.pendingSizeBytes;
      if (this.pendingSizeBytes === 0 && rest.byteLength >= this.blockSizeBytes) {
        // Whole block straight from the chunk: no copy.
        const data = rest.subarray(0, this.blockSizeBytes);
        rest = rest.subarray(this.blockSizeBytes);
        yield { data, checksum: blockChecksum(data) };
        continue;
      }
      const piece = rest.subarray(0, wantedBytes);
      rest = rest.subarray(piece.byteLength);
      // Copy: the caller may reuse its chunk buffer once push() returns.
      this.pending.push(Buffer.from(piece));
      this.pendingSizeBytes += piece.byteLength;
      if (this.pendingSizeBytes === this.blockSizeBytes) yield this.takePending();
    }
  }

  *end(): Generator<ShardBlock> {
    if (this.pendingSizeBytes > 0) yield this.takePending();
  }

  private takePending(): ShardBlock {
    const data = Buffer.concat(this.pending, this.pendingSizeBytes);
    this.pending = [];
    this.pendingSizeBytes = 0;
    return { data, checksum: blockChecksum(data) };
  }
}

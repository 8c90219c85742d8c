// Goal: the layout maths serves every S3 range with exactly the right bytes, healthy or degraded.
// Method: the worked example from README.md checked by hand, then a fast-check property that
// builds real shard files (split every block, encode, concatenate per shard index), serves random
// ranges through planRangeRead, and compares with the object bytes; for degraded reads it
// drops the needed data shards and reconstructs only the planned shard byte range.
import fc from 'fast-check';
import {
  RangeNotSatisfiableError, ReedSolomon, blockCount, blockSpans, joinDataShards, planRangeRead, shardFileSizeBytes,
  splitBlockIntoDataShards, stripeLayout, type ShardSlot, type StripeLayout,
} from '@tessera/erasure';

describe('stripe layout: worked example (README.md)', () => {
  // 2,500,000 bytes, k = 6, blocks of 1 MiB (1,048,576 bytes).
  const layout = stripeLayout(2_500_000, 6);

  it('cuts the object into blocks and shards, recording the padding', () => {
    expect(blockCount(layout)).toBe(3);
    expect(blockSpans(layout)).toEqual([
      { blockIndex: 0, objectStartByte: 0, blockSizeBytes: 1_048_576, shardSizeBytes: 174_763, paddingBytes: 2, shardFileStartByte: 0 },
      { blockIndex: 1, objectStartByte: 1_048_576, blockSizeBytes: 1_048_576, shardSizeBytes: 174_763, paddingBytes: 2, shardFileStartByte: 174_763 },
      { blockIndex: 2, objectStartByte: 2_097_152, blockSizeBytes: 402_848, shardSizeBytes: 67_142, paddingBytes: 4, shardFileStartByte: 349_526 },
    ]);
    expect(shardFileSizeBytes(layout)).toBe(416_668);
  });

  it('maps bytes=1000000-1100000 to two blocks and two data shards, skipping the padding', () => {
    const plan = planRangeRead(layout, 1_000_000, 1_100_000);
    expect(plan.lengthBytes).toBe(100_001);
    expect(plan.blocks.map((b) => b.block.blockIndex)).toEqual([0, 1]);
    expect(plan.blocks[0]!.dataShardReads).toEqual([
      { shardIndex: 5, shardStartByte: 126_185, shardEndByteInclusive: 174_760, shardFileStartByte: 126_185, shardFileEndByteInclusive: 174_760, objectStartByte: 1_000_000, lengthBytes: 48_576 },
    ]);
    expect(plan.blocks[1]!.dataShardReads).toEqual([
      { shardIndex: 0, shardStartByte: 0, shardEndByteInclusive: 51_424, shardFileStartByte: 174_763, shardFileEndByteInclusive: 226_187, objectStartByte: 1_048_576, lengthBytes: 51_425 },
    ]);
  });

  it('records padding and never plans a read of it', () => {
    const small = stripeLayout(10, 4, 1_048_576); // one block of 10 bytes: shards of 3, 2 bytes of padding
    expect(blockSpans(small)[0]).toMatchObject({ shardSizeBytes: 3, paddingBytes: 2 });
    const plan = planRangeRead(small, 0, 1_000);
    expect(plan.endByteInclusive).toBe(9);
    expect(plan.blocks[0]!.dataShardReads.map((r) => [r.shardIndex, r.shardStartByte, r.shardEndByteInclusive])).toEqual([[0, 0, 2], [1, 0, 2], [2, 0, 2], [3, 0, 0]]);
  });

  it('rejects unsatisfiable ranges with RangeNotSatisfiableError', () => {
    expect(() => planRangeRead(layout, 2_500_000, 2_500_001)).toThrow(RangeNotSatisfiableError);
    expect(() => planRangeRead(layout, 5, 4)).toThrow(RangeNotSatisfiableError);
    expect(() => planRangeRead(layout, -1, 4)).toThrow(RangeNotSatisfiableError);
    expect(() => planRangeRead(stripeLayout(0, 4), 0, 0)).toThrow(RangeNotSatisfiableError);
    expect(blockCount(stripeLayout(0, 4))).toBe(0);
    expect(shardFileSizeBytes(stripeLayout(0, 4))).toBe(0);
  });
});

interface StoredObject { layout: StripeLayout; bytes: Uint8Array; shardFiles: Uint8Array[]; codec: ReedSolomon }

/** Writes an object the way a gateway would: block by block, shard i appended to shard file i. */
function storeObject(bytes: Uint8Array, k: number, m: number, blockSizeBytes: number): StoredObject {
  const layout = stripeLayout(bytes.length, k, blockSizeBytes);
  const codec = new ReedSolomon(k, m);
  const shardFiles = Array.from({ length: k + m }, () => new Uint8Array(shardFileSizeBytes(layout)));
  for (const block of blockSpans(layout)) {
    const data = splitBlockIntoDataShards(bytes.subarray(block.objectStartByte, block.objectStartByte + block.blockSizeBytes), k);
    expect(data.every((shard) => shard.length === block.shardSizeBytes)).toBe(true);
    const blockBytes = bytes.subarray(block.objectStartByte, block.objectStartByte + block.blockSizeBytes);
    expect(Buffer.compare(joinDataShards(data, block.blockSizeBytes), blockBytes)).toBe(0);
    [...data, ...codec.encode(data)].forEach((shard, i) => shardFiles[i]!.set(shard, block.shardFileStartByte));
  }
  return { layout, bytes, shardFiles, codec };
}

function serveRange(stored: StoredObject, start: number, end: number, lostShardIndices: ReadonlySet<number>): Uint8Array {
  const plan = planRangeRead(stored.layout, start, end);
  const body = new Uint8Array(plan.lengthBytes);
  for (const blockRead of plan.blocks) {
    const from = blockRead.block.shardFileStartByte + blockRead.degradedShardStartByte;
    const to = blockRead.block.shardFileStartByte + blockRead.degradedShardEndByteInclusive + 1;
    // Degraded path: only the planned sub-range of the surviving shards is read and decoded.
    const needsDecode = blockRead.dataShardReads.some((read) => lostShardIndices.has(read.shardIndex));
    const slots: ShardSlot[] = stored.shardFiles.map((file, i) => (lostShardIndices.has(i) ? undefined : file.subarray(from, to)));
    const pieces = needsDecode ? stored.codec.reconstructData(slots) : undefined;
    for (const read of blockRead.dataShardReads) {
      const bytes = pieces === undefined
        ? stored.shardFiles[read.shardIndex]!.subarray(read.shardFileStartByte, read.shardFileEndByteInclusive + 1)
        : pieces[read.shardIndex]!.subarray(read.shardStartByte - blockRead.degradedShardStartByte, read.shardEndByteInclusive - blockRead.degradedShardStartByte + 1);
      expect(bytes.length).toBe(read.lengthBytes);
      body.set(bytes, read.objectStartByte - plan.startByte);
    }
  }
  return body;
}

describe('stripe layout: ranges served from real shard files', () => {
  it('every planned range, healthy or with up to m lost shards, returns exactly the object bytes', () => {
    fc.assert(
      fc.property(
        fc.record({
          objectSizeBytes: fc.integer({ min: 1, max: 5000 }),
          k: fc.integer({ min: 1, max: 8 }),
          m: fc.integer({ min: 1, max: 4 }),
          blockSizeBytes: fc.integer({ min: 40, max: 1500 }),
          seed: fc.integer({ min: 0, max: 1000 }),
        }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1.2, noNaN: true }),
        fc.array(fc.nat(11), { maxLength: 4 }),
        ({ objectSizeBytes, k, m, blockSizeBytes, seed }, startFraction, lengthFraction, lost) => {
          const bytes = new Uint8Array(objectSizeBytes).map((_, i) => (i * 31 + seed) & 0xff);
          const stored = storeObject(bytes, k, m, blockSizeBytes);
          const start = Math.min(objectSizeBytes - 1, Math.floor(startFraction * objectSizeBytes));
          const end = start + Math.floor(lengthFraction * objectSizeBytes);
          const lostSet = new Set(lost.filter((i) => i < k + m).slice(0, m));
          const expected = bytes.subarray(start, Math.min(end, objectSizeBytes - 1) + 1);
          expect(Buffer.compare(serveRange(stored, start, end, new Set()), expected)).toBe(0);
          expect(Buffer.compare(serveRange(stored, start, end, lostSet), expected)).toBe(0);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('splitBlockIntoDataShards returns views for whole shards and pads only the tail', () => {
    const block = new Uint8Array(10).map((_, i) => i + 1);
    const shards = splitBlockIntoDataShards(block, 4);
    expect(shards.map((s) => Array.from(s))).toEqual([[1, 2, 3], [4, 5, 6], [7, 8, 9], [10, 0, 0]]);
    expect(shards[0]!.buffer).toBe(block.buffer);
    expect(shards[3]!.buffer).not.toBe(block.buffer);
    expect(Array.from(joinDataShards(shards, 10))).toEqual(Array.from(block));
    expect(splitBlockIntoDataShards(new Uint8Array(2), 4).map((s) => s.length)).toEqual([1, 1, 1, 1]);
  });
});

// Goal: the shard file header round-trips for any valid shard, and any single-byte change to
// it is detected. Method: fast-check properties over ids, block sizes and shard sizes, plus a
// fixed byte-layout check that pins the documented format (README, "On-disk format").
import fc from 'fast-check';
import { objectVersionIdLengthMax } from '@tessera/rpc';
import {
  decodeShardFileHeader,
  encodeShardFileHeader,
  recordOffsetBytes,
  shardFileHeaderSizeBytes,
  storedSizeBytesOf,
} from '../src/index';

const idArb = fc.stringMatching(new RegExp(`^[A-Za-z0-9_-][A-Za-z0-9_-]{0,${objectVersionIdLengthMax - 1}}$`));
const headerArb = fc
  .record({ objectVersionId: idArb, shardIndex: fc.integer({ min: 0, max: 255 }), blockSizeBytes: fc.integer({ min: 1, max: 8 << 20 }), shardSizeBytes: fc.integer({ min: 0, max: 2 ** 40 }) })
  .map((r) => ({
    shardId: { objectVersionId: r.objectVersionId, shardIndex: r.shardIndex },
    blockSizeBytes: r.blockSizeBytes,
    shardSizeBytes: r.shardSizeBytes,
    blockCount: Math.ceil(r.shardSizeBytes / r.blockSizeBytes),
  }))
  .filter((h) => h.blockCount <= 0xffffffff);

describe('shard file header', () => {
  it('round-trips', () => {
    fc.assert(
      fc.property(headerArb, (header) => {
        const bytes = encodeShardFileHeader(header);
        expect(bytes.byteLength).toBe(shardFileHeaderSizeBytes);
        expect(decodeShardFileHeader(bytes)).toEqual(header);
      }),
    );
  });

  it('detects any single flipped byte', () => {
    fc.assert(
      fc.property(headerArb, fc.integer({ min: 0, max: shardFileHeaderSizeBytes - 1 }), fc.integer({ min: 1, max: 255 }), (header, at, mask) => {
        const bytes = encodeShardFileHeader(header);
        bytes[at] = bytes[at]! ^ mask;
        expect(decodeShardFileHeader(bytes)).toBeUndefined();
      }),
    );
  });

  it('has the documented byte layout', () => {
    const header = { shardId: { objectVersionId: 'v1', shardIndex: 5 }, blockSizeBytes: 4096, shardSizeBytes: 10_000, blockCount: 3 };
    const bytes = encodeShardFileHeader(header);
    expect(bytes.subarray(0, 8).toString('ascii')).toBe('TESSHARD');
    expect(bytes.readUInt16LE(8)).toBe(1);
    expect(bytes.readUInt8(10)).toBe(1);
    expect(bytes.readUInt32LE(12)).toBe(4096);
    expect(Number(bytes.readBigUInt64LE(16))).toBe(10_000);
    expect(bytes.readUInt32LE(24)).toBe(3);
    expect(bytes.readUInt16LE(28)).toBe(2);
    expect(bytes.readUInt16LE(30)).toBe(5);
    expect(bytes.toString('ascii', 32, 34)).toBe('v1');
    expect(recordOffsetBytes(header, 2)).toBe(256 + 2 * (8 + 4096));
    expect(storedSizeBytesOf(10_000, 4096)).toBe(256 + 3 * 8 + 10_000);
  });
});

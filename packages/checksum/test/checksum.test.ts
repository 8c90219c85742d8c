// The block checksum must be stable (it is an on-disk format) and catch any single flipped bit.
import { blockChecksum, verifyBlockChecksum, writeBlockChecksum } from '@tessera/checksum';
import { SeededRandom } from '@tessera/common';

describe('blockChecksum (xxh3-64)', () => {
  it('matches the published xxh3-64 value for known inputs', () => {
    // Known-answer values of XXH3_64bits with seed 0 (xxHash reference implementation).
    expect(blockChecksum(new Uint8Array(0))).toBe(0x2d06800538d394c2n);
    expect(blockChecksum(Buffer.from('abc'))).toBe(0x78af5f94892f3950n);
  });

  it('detects every single-bit flip in a 4 KiB block', () => {
    const block = new SeededRandom(1).fillBytes(new Uint8Array(4096));
    const stored = new Uint8Array(8);
    writeBlockChecksum(block, stored, 0);
    expect(verifyBlockChecksum(block, stored, 0)).toBe(true);
    for (let byteIndex = 0; byteIndex < block.length; byteIndex += 97) {
      for (let bit = 0; bit < 8; bit++) {
        block[byteIndex]! ^= 1 << bit;
        expect(verifyBlockChecksum(block, stored, 0)).toBe(false);
        block[byteIndex]! ^= 1 << bit;
      }
    }
  });
});

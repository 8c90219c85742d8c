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

describe('blockChecksum across the one-shot / streaming switch', () => {
  // Goal: both @node-rs/xxhash entry points used by blockChecksum give the same xxh3-64, which
  // an independent implementation (hash-wasm's WebAssembly XXH3) confirms, at sizes on both
  // sides of the 2 KiB switch and up to 1 MiB, in one sequence (the streaming hasher is reused).
  it('agrees with hash-wasm xxh3-64 for sizes 0 .. 1 MiB, call after call', async () => {
    const { createXXHash3 } = await import('hash-wasm');
    const reference = await createXXHash3();
    const random = new SeededRandom(7);
    for (const sizeBytes of [0, 1, 3, 16, 17, 128, 129, 240, 241, 2047, 2048, 2049, 4096, 65_536, 174_763, 1_048_576, 2048, 3]) {
      const bytes = random.fillBytes(new Uint8Array(sizeBytes));
      reference.init();
      reference.update(bytes);
      expect(blockChecksum(bytes)).toBe(BigInt(`0x${reference.digest('hex')}`));
    }
  });
});

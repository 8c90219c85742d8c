// Goal: the on-disk parity format never drifts. Method: test/golden/parity-vectors.json was made
// once from the reference library by scripts/make-golden.mjs (4+2, 6+3, 8+4, 10+4, 12+4; shard
// sizes 1, 31, 1000, 4099, 65537 bytes, and 6+3 at 1 MiB). Each case is re-encoded here by our
// SIMD kernel, our scalar kernel and both published builds of the library, and every parity
// shard must hash to the recorded sha256 and start with the recorded bytes.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SeededRandom } from '@tessera/common';
import { ReedSolomon, isWasmRelaxedSimdSupported } from '@tessera/erasure';
import { referencePackages, referenceParity } from './reference-library';

interface GoldenCase {
  dataShardCount: number;
  parityShardCount: number;
  shardSizeBytes: number;
  seed: number;
  parity: { sha256: string; firstBytesHex: string }[];
}

const golden = JSON.parse(readFileSync(join(__dirname, 'golden', 'parity-vectors.json'), 'utf8')) as { cases: GoldenCase[] };

function dataOf(goldenCase: GoldenCase): Uint8Array[] {
  const random = new SeededRandom(goldenCase.seed);
  return Array.from({ length: goldenCase.dataShardCount }, () => random.fillBytes(new Uint8Array(goldenCase.shardSizeBytes)));
}

function describeParity(parity: readonly Uint8Array[]): { sha256: string; firstBytesHex: string }[] {
  return parity.map((shard) => ({
    sha256: createHash('sha256').update(shard).digest('hex'),
    firstBytesHex: Buffer.from(shard.subarray(0, 16)).toString('hex'),
  }));
}

const encoders: ReadonlyArray<readonly [string, (data: Uint8Array[], m: number) => Uint8Array[]]> = [
  // relaxed SIMD only where the runtime has it; on Node 20, relaxed-simd.test.ts checks it.
  ...(isWasmRelaxedSimdSupported()
    ? [['ours, relaxed SIMD', (data: Uint8Array[], m: number) => new ReedSolomon(data.length, m, { kernel: 'relaxed-simd' }).encode(data)] as const]
    : []),
  ['ours, SIMD', (data, m) => new ReedSolomon(data.length, m, { kernel: 'simd' }).encode(data)],
  ['ours, scalar', (data, m) => new ReedSolomon(data.length, m, { kernel: 'scalar' }).encode(data)],
  ...referencePackages.map((pkg) => [pkg.name, (data: Uint8Array[], m: number) => referenceParity(data, m, pkg)] as const),
];

describe('golden parity vectors', () => {
  it('cover every required shape', () => {
    const shapes = new Set(golden.cases.map((c) => `${c.dataShardCount}+${c.parityShardCount}`));
    expect([...shapes].sort()).toEqual(['10+4', '12+4', '4+2', '6+3', '8+4']);
  });

  describe.each(encoders)('%s', (_name, encode) => {
    it.each(golden.cases.map((c) => [`${c.dataShardCount}+${c.parityShardCount}`, c.shardSizeBytes, c] as const))(
      '%s with %i-byte shards',
      (_shape, _size, goldenCase) => {
        expect(describeParity(encode(dataOf(goldenCase), goldenCase.parityShardCount))).toEqual(goldenCase.parity);
      },
    );
  });
});

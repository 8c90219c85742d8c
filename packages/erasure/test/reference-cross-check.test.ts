// Goal: our codec and the reference library (both published builds) agree byte for byte on
// encode and on reconstruct, for random shapes. Method: seeded random data; a fresh library
// instance per call, which is the only way its reconstruct is reliable (reference-defect.test.ts).
import { SeededRandom } from '@tessera/common';
import { ReedSolomon, type ShardSlot } from '@tessera/erasure';
import { expectSameShards } from './shard-assertions';
import { freshReference, fromStripe, referencePackages, referenceParity, referenceResultOk, toStripe } from './reference-library';

describe('cross-check with the reference library', () => {
  for (const kernel of ['simd', 'scalar'] as const) {
    it(`encode matches both published builds for 30 random shapes (${kernel})`, () => {
      const random = new SeededRandom(42);
      for (let round = 0; round < 30; round++) {
        const k = 1 + random.nextInt(20);
        const m = 1 + random.nextInt(Math.min(12, 32 - k));
        const shardSizeBytes = 1 + random.nextInt(5000);
        const data = Array.from({ length: k }, () => random.fillBytes(new Uint8Array(shardSizeBytes)));
        const parity = new ReedSolomon(k, m, { kernel }).encode(data);
        for (const pkg of referencePackages) expectSameShards(parity, referenceParity(data, m, pkg));
      }
    });
  }

  it('reconstruct of lost data shards matches the library (fresh instance per call)', () => {
    const random = new SeededRandom(43);
    for (let round = 0; round < 30; round++) {
      const k = 2 + random.nextInt(10);
      const m = 1 + random.nextInt(4);
      const shardSizeBytes = 1 + random.nextInt(3000);
      const data = Array.from({ length: k }, () => random.fillBytes(new Uint8Array(shardSizeBytes)));
      const codec = new ReedSolomon(k, m);
      const shards = [...data, ...codec.encode(data)];
      const available = shards.map(() => true);
      for (let lost = 0; lost < m; lost++) available[random.nextInt(k + m)] = false;

      const stripe = toStripe(shards.map((shard, i) => (available[i] ? shard : new Uint8Array(shardSizeBytes))));
      expect(freshReference().reconstruct(stripe, k, m, available)).toBe(referenceResultOk);
      const slots: ShardSlot[] = shards.map((shard, i) => (available[i] ? shard : undefined));
      const ours = codec.reconstruct(slots);
      // The library's wrapper copies back only the data shards.
      expectSameShards(ours.slice(0, k), fromStripe(stripe, k + m).slice(0, k));
      expectSameShards(ours, shards);
    }
  });
});

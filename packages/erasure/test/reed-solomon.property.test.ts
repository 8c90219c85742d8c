// Goal: the codec's contract holds for every shape and erasure pattern, on both kernels.
// Method: fast-check properties over random k, m (k + m <= 32), shard sizes and erasure sets:
// <= m erasures reconstruct the original bytes; > m erasures throw TooFewShardsError; SIMD and
// scalar give identical bytes; verify() accepts a good stripe and rejects any flipped byte.
import fc from 'fast-check';
import {
  InvalidCodecShapeError, ReedSolomon, SimdUnavailableError, ShardCountMismatchError, ShardSizeMismatchError, TooFewShardsError,
  isWasmRelaxedSimdSupported, isWasmSimdSupported, type KernelKind, type ShardSlot,
} from '@tessera/erasure';
import { expectSameShards } from './shard-assertions';

// relaxed-simd joins when the runtime has it (Node 22+); relaxed-simd.test.ts covers Node 20.
const kernels: KernelKind[] = isWasmRelaxedSimdSupported() ? ['relaxed-simd', 'simd', 'scalar'] : ['simd', 'scalar'];

/** A stripe shape, its data, and a set of erased shard indices of the requested size range. */
function stripeArbitrary(erasureCount: (m: number) => fc.Arbitrary<number>) {
  return fc
    .record({ k: fc.integer({ min: 1, max: 24 }), m: fc.integer({ min: 1, max: 8 }), shardSizeBytes: fc.integer({ min: 1, max: 700 }), seed: fc.integer() })
    .filter(({ k, m }) => k + m <= 32)
    .chain((shape) =>
      erasureCount(shape.m).chain((count) =>
        fc.shuffledSubarray(Array.from({ length: shape.k + shape.m }, (_, i) => i), { minLength: Math.min(count, shape.k + shape.m), maxLength: Math.min(count, shape.k + shape.m) })
          .map((erased) => ({ ...shape, erased })),
      ),
    );
}

function randomData(k: number, shardSizeBytes: number, seed: number): Uint8Array[] {
  let state = seed >>> 0;
  return Array.from({ length: k }, () => {
    const shard = new Uint8Array(shardSizeBytes);
    for (let i = 0; i < shardSizeBytes; i++) {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      shard[i] = state >>> 24;
    }
    return shard;
  });
}

describe('ReedSolomon properties', () => {
  it('runs the SIMD kernel on this machine', () => {
    expect(isWasmSimdSupported()).toBe(true);
    expect(new ReedSolomon(4, 2).kernelKind).toBe(isWasmRelaxedSimdSupported() ? 'relaxed-simd' : 'simd');
    expect(new ReedSolomon(4, 2, { kernel: 'simd' }).kernelKind).toBe('simd');
    expect(new ReedSolomon(4, 2, { kernel: 'scalar' }).kernelKind).toBe('scalar');
    if (!isWasmRelaxedSimdSupported()) expect(() => new ReedSolomon(4, 2, { kernel: 'relaxed-simd' })).toThrow(SimdUnavailableError);
  });

  describe.each(kernels)('%s kernel', (kernel) => {
    it('any <= m erasures (data or parity) reconstruct the original bytes', () => {
      fc.assert(
        fc.property(stripeArbitrary((m) => fc.integer({ min: 0, max: m })), ({ k, m, shardSizeBytes, seed, erased }) => {
          const codec = new ReedSolomon(k, m, { kernel });
          const data = randomData(k, shardSizeBytes, seed);
          const original = [...data, ...codec.encode(data)];
          const slots: ShardSlot[] = original.map((shard, i) => (erased.includes(i) ? undefined : shard));
          expectSameShards(codec.reconstruct(slots), original);
        }),
        { numRuns: 150 },
      );
    });

    it('reconstructInto overwrites exactly the absent buffers (all, or data only)', () => {
      fc.assert(
        fc.property(stripeArbitrary((m) => fc.integer({ min: 0, max: m })), fc.boolean(), ({ k, m, shardSizeBytes, seed, erased }, dataOnly) => {
          const codec = new ReedSolomon(k, m, { kernel });
          const data = randomData(k, shardSizeBytes, seed);
          const original = [...data, ...codec.encode(data)];
          const buffers = original.map((shard, i) => (erased.includes(i) ? new Uint8Array(shardSizeBytes).fill(0xa5) : shard.slice()));
          codec.reconstructInto(buffers, original.map((_, i) => !erased.includes(i)), dataOnly ? 'data' : 'all');
          const expected = original.map((shard, i) => (dataOnly && i >= k && erased.includes(i) ? new Uint8Array(shardSizeBytes).fill(0xa5) : shard));
          expectSameShards(buffers, expected);
        }),
        { numRuns: 80 },
      );
    });

    it('reconstructData fills only the data slots', () => {
      fc.assert(
        fc.property(stripeArbitrary((m) => fc.integer({ min: 1, max: m })), ({ k, m, shardSizeBytes, seed, erased }) => {
          const codec = new ReedSolomon(k, m, { kernel });
          const data = randomData(k, shardSizeBytes, seed);
          const original = [...data, ...codec.encode(data)];
          const slots: ShardSlot[] = original.map((shard, i) => (erased.includes(i) ? undefined : shard));
          expectSameShards(codec.reconstructData(slots), data);
          for (let i = k; i < k + m; i++) expect(slots[i] === undefined).toBe(erased.includes(i));
        }),
        { numRuns: 60 },
      );
    });

    it('more than m erasures throw TooFewShardsError and leave the slots untouched', () => {
      fc.assert(
        fc.property(stripeArbitrary((m) => fc.integer({ min: m + 1, max: 32 })), ({ k, m, shardSizeBytes, seed, erased }) => {
          const codec = new ReedSolomon(k, m, { kernel });
          const data = randomData(k, shardSizeBytes, seed);
          const slots: ShardSlot[] = [...data, ...codec.encode(data)].map((shard, i) => (erased.includes(i) ? undefined : shard));
          const error = (() => { try { codec.reconstruct(slots); } catch (e) { return e; } return undefined; })();
          expect(error).toBeInstanceOf(TooFewShardsError);
          expect((error as TooFewShardsError).presentShardCount).toBe(k + m - erased.length);
          expect(slots.filter((slot) => slot === undefined).length).toBe(erased.length);
        }),
        { numRuns: 60 },
      );
    });

    it('verify accepts the encoded stripe and rejects any single flipped byte', () => {
      fc.assert(
        fc.property(stripeArbitrary(() => fc.constant(1)), fc.integer({ min: 1, max: 255 }), ({ k, m, shardSizeBytes, seed, erased }, flip) => {
          const codec = new ReedSolomon(k, m, { kernel });
          const data = randomData(k, shardSizeBytes, seed);
          const shards = [...data, ...codec.encode(data)];
          expect(codec.verify(shards)).toBe(true);
          const victim = shards[erased[0]!]!;
          victim[(seed >>> 0) % shardSizeBytes]! ^= flip;
          expect(codec.verify(shards)).toBe(false);
        }),
        { numRuns: 60 },
      );
    });
  });

  it('SIMD and scalar kernels give identical parity and reconstructions (sizes around the 32-byte step and chunk edges)', () => {
    fc.assert(
      fc.property(
        fc.record({ k: fc.integer({ min: 1, max: 20 }), m: fc.integer({ min: 1, max: 12 }), seed: fc.integer(), shardSizeBytes: fc.oneof(fc.integer({ min: 1, max: 100 }), fc.integer({ min: 16_000, max: 70_000 })) }),
        ({ k, m, seed, shardSizeBytes }) => {
          const simd = new ReedSolomon(k, m, { kernel: 'simd' });
          const scalar = new ReedSolomon(k, m, { kernel: 'scalar' });
          const data = randomData(k, shardSizeBytes, seed);
          const parity = simd.encode(data);
          expectSameShards(parity, scalar.encode(data));
          const lost = Math.min(m, k);
          const slotsSimd: ShardSlot[] = [...data, ...parity];
          const slotsScalar: ShardSlot[] = [...data, ...parity];
          for (let i = 0; i < lost; i++) { slotsSimd[i] = undefined; slotsScalar[i] = undefined; }
          expectSameShards(simd.reconstruct(slotsSimd), scalar.reconstruct(slotsScalar));
        },
      ),
      { numRuns: 40 },
    );
  });

  it('encodeInto writes into caller buffers, including views into one larger buffer', () => {
    const codec = new ReedSolomon(6, 3);
    const backing = new Uint8Array(9 * 1000 + 7);
    const shards = Array.from({ length: 9 }, (_, i) => backing.subarray(7 + i * 1000, 7 + (i + 1) * 1000));
    randomData(6, 1000, 5).forEach((d, i) => shards[i]!.set(d));
    codec.encodeInto(shards.slice(0, 6), shards.slice(6));
    expectSameShards(shards.slice(6), codec.encode(shards.slice(0, 6)));
    expect(codec.verify(shards)).toBe(true);
  });

  it('the decode-matrix cache stays bounded and still decodes after eviction', () => {
    const codec = new ReedSolomon(4, 4, { decodeCacheEntryCountMax: 2 });
    const data = randomData(4, 64, 9);
    const original = [...data, ...codec.encode(data)];
    for (let round = 0; round < 3; round++) {
      for (let lost = 0; lost < 4; lost++) {
        const slots: ShardSlot[] = original.map((shard, i) => (i === lost || i === lost + 4 ? undefined : shard));
        expectSameShards(codec.reconstruct(slots), original);
      }
    }
  });

  it('rejects impossible shapes and mismatched shards with typed errors', () => {
    expect(() => new ReedSolomon(0, 1)).toThrow(InvalidCodecShapeError);
    expect(() => new ReedSolomon(1, 0)).toThrow(InvalidCodecShapeError);
    expect(() => new ReedSolomon(20, 13)).toThrow(InvalidCodecShapeError);
    expect(() => new ReedSolomon(2.5, 1)).toThrow(InvalidCodecShapeError);
    expect(new ReedSolomon(31, 1).totalShardCount).toBe(32);
    const codec = new ReedSolomon(3, 2);
    const data = randomData(3, 10, 1);
    expect(() => codec.encode(data.slice(0, 2))).toThrow(ShardCountMismatchError);
    expect(() => codec.encode([data[0]!, data[1]!, new Uint8Array(9)])).toThrow(ShardSizeMismatchError);
    expect(() => codec.encodeInto(data, [new Uint8Array(10), new Uint8Array(11)])).toThrow(ShardSizeMismatchError);
    expect(() => codec.reconstruct([data[0], data[1], data[2], undefined])).toThrow(ShardCountMismatchError);
    expect(() => codec.reconstruct([data[0], new Uint8Array(3), undefined, undefined, undefined])).toThrow(ShardSizeMismatchError);
    expect(() => codec.verify([...data, new Uint8Array(10)])).toThrow(ShardCountMismatchError);
    const full = [...data, ...codec.encode(data)];
    expect(() => codec.reconstructInto(full, [true, true, true, true])).toThrow(ShardCountMismatchError);
    expect(() => codec.reconstructInto(full, [true, true, false, false, false])).toThrow(TooFewShardsError);
    expect(() => codec.reconstructInto([...full.slice(0, 4), new Uint8Array(3)], [true, true, true, true, false])).toThrow(ShardSizeMismatchError);
  });

  it('zero-length shards encode to zero-length parity', () => {
    const codec = new ReedSolomon(2, 2);
    expect(codec.encode([new Uint8Array(0), new Uint8Array(0)]).map((p) => p.length)).toEqual([0, 0]);
  });
});

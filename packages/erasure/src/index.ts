/**
 * @packageDocumentation
 * Reed-Solomon erasure coding over GF(2^8), byte-compatible with the Rust `reed-solomon-erasure`
 * crate (the on-disk parity format), with a WebAssembly SIMD kernel and a scalar fallback; plus the
 * pure stripe-layout maths that maps objects and S3 byte ranges onto blocks and shards.
 * The worker-thread pool is a separate entry: `@tessera/erasure/worker-pool`.
 *
 * ```ts
 * import { ReedSolomon, splitBlockIntoDataShards } from '@tessera/erasure';
 * const codec = new ReedSolomon(6, 3);                  // k = 6 data, m = 3 parity
 * const data = splitBlockIntoDataShards(block, 6);     // views, padded only at the tail
 * const parity = codec.encode(data);                   // 3 new Uint8Arrays
 * const shards = [undefined, data[1], undefined, data[3], data[4], data[5], parity[0], undefined, parity[2]];
 * codec.reconstruct(shards);                           // fills slots 0, 2 and 7 in place
 * ```
 */
export { ReedSolomon, SimdUnavailableError, totalShardCountMax } from './reed-solomon';
export type { ReedSolomonOptions, ShardSlot } from './reed-solomon';
export type { KernelKind } from './gf-kernel';
export { isWasmRelaxedSimdSupported, isWasmSimdSupported } from './simd-support';
export {
  ErasureError,
  InvalidCodecShapeError,
  RangeNotSatisfiableError,
  ShardCountMismatchError,
  ShardSizeMismatchError,
  TooFewShardsError,
} from './errors';
export { gfDiv, gfExp, gfMul, gfPolynomial } from './galois';
export {
  blockCount,
  blockSpan,
  blockSpans,
  defaultBlockSizeBytes,
  fullBlockShardSizeBytes,
  planRangeRead,
  shardFileSizeBytes,
  stripeLayout,
} from './stripe-layout';
export type { BlockRead, BlockSpan, DataShardRead, RangeReadPlan, StripeLayout } from './stripe-layout';
export { joinDataShards, splitBlockIntoDataShards } from './block-shards';

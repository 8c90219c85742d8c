/**
 * Systematic Reed-Solomon over GF(2^8), byte-compatible with the Rust `reed-solomon-erasure`
 * crate (and so with klauspost/reedsolomon and the `reed-solomon-erasure.wasm` packages): same
 * field, same Vandermonde-derived encoding matrix, so parity written by any of them is readable
 * by the others.
 */
import { assert, assertNever } from '@tessera/common';
import { CodingRows } from './coding-rows';
import { ErasureError, InvalidCodecShapeError, ShardCountMismatchError, ShardSizeMismatchError, TooFewShardsError } from './errors';
import type { GfKernel, KernelKind } from './gf-kernel';
import { buildEncodingMatrix, type GfMatrix } from './gf-matrix';
import { ScalarGfKernel } from './scalar-kernel';
import { SimdGfKernel } from './simd-kernel';
import { isWasmRelaxedSimdSupported, isWasmSimdSupported } from './simd-support';

/** Largest k + m: the limit the rest of Tessera is designed for (and a 32-bit erasure mask). */
export const totalShardCountMax = 32;

/** A shard slot passed to reconstruct: the bytes, or undefined/null when the shard is lost. */
export type ShardSlot = Uint8Array | undefined | null;

export interface ReedSolomonOptions {
  /**
   * 'auto' (default): relaxed SIMD when the runtime has it, else SIMD, else scalar. Naming a kernel
   * forces it ('scalar' is the portable path; an unavailable SIMD kernel throws).
   */
  readonly kernel?: 'auto' | KernelKind;
  /** Decode matrices kept per erasure pattern (least recently used evicted). Default 256. */
  readonly decodeCacheEntryCountMax?: number;
}

/** Asked for a SIMD kernel the runtime cannot run. */
export class SimdUnavailableError extends ErasureError {
  static readonly errorName = 'SimdUnavailableError';
  constructor(readonly kernel: KernelKind) {
    super(`the ${kernel} kernel is not available in this runtime; use kernel: "auto" or "scalar"`);
    this.name = SimdUnavailableError.errorName;
  }
}

/**
 * One codec per (k, m). Not safe for concurrent use across workers (it owns a WebAssembly
 * memory); within one thread calls are synchronous, so sharing an instance is fine.
 */
export class ReedSolomon {
  readonly totalShardCount: number;
  readonly kernelKind: KernelKind;
  private readonly kernel: GfKernel;
  private readonly encodingMatrix: GfMatrix;
  private readonly parityRows: CodingRows;
  private readonly decodeCache = new Map<string, CodingRows>();
  private readonly decodeCacheEntryCountMax: number;

  constructor(readonly dataShardCount: number, readonly parityShardCount: number, options: ReedSolomonOptions = {}) {
    validateShape(dataShardCount, parityShardCount);
    this.totalShardCount = dataShardCount + parityShardCount;
    this.kernel = createKernel(options.kernel ?? 'auto');
    this.kernelKind = this.kernel.kind;
    this.decodeCacheEntryCountMax = options.decodeCacheEntryCountMax ?? 256;
    assert(this.decodeCacheEntryCountMax >= 1, 'decode cache must hold at least one entry');
    this.encodingMatrix = buildEncodingMatrix(dataShardCount, this.totalShardCount);
    const parityIndices = Array.from({ length: parityShardCount }, (_, i) => dataShardCount + i);
    this.parityRows = CodingRows.fromMatrix(this.encodingMatrix.selectRows(parityIndices));
  }

  /** Returns m new parity shards for the k data shards (all the same size). */
  encode(dataShards: readonly Uint8Array[]): Uint8Array[] {
    const shardSizeBytes = this.checkShards(dataShards, this.dataShardCount);
    const parityShards = Array.from({ length: this.parityShardCount }, () => new Uint8Array(shardSizeBytes));
    this.kernel.multiply(this.parityRows, dataShards, parityShards);
    return parityShards;
  }

  /** Writes the parity of `dataShards` into the caller's `parityShards` (no allocation). */
  encodeInto(dataShards: readonly Uint8Array[], parityShards: readonly Uint8Array[]): void {
    const shardSizeBytes = this.checkShards(dataShards, this.dataShardCount);
    this.checkShards(parityShards, this.parityShardCount, shardSizeBytes, this.dataShardCount);
    this.kernel.multiply(this.parityRows, dataShards, parityShards);
  }

  /** True when the m parity shards match the k data shards; `shards` holds all k + m. */
  verify(shards: readonly Uint8Array[]): boolean {
    const shardSizeBytes = this.checkShards(shards, this.totalShardCount);
    const expected = Array.from({ length: this.parityShardCount }, () => new Uint8Array(shardSizeBytes));
    this.kernel.multiply(this.parityRows, shards.slice(0, this.dataShardCount), expected);
    return expected.every((parity, i) => equalBytes(parity, shards[this.dataShardCount + i]!));
  }

  /**
   * Fills every missing slot (data and parity) of `shards` in place from any k present shards and
   * returns the same array, now complete. Present shards are read, never written.
   */
  reconstruct(shards: ShardSlot[]): Uint8Array[] {
    this.fill(shards, this.totalShardCount);
    return shards as Uint8Array[];
  }

  /** Fills only the missing data slots (what a read needs); parity slots stay as they were. */
  reconstructData(shards: ShardSlot[]): Uint8Array[] {
    this.fill(shards, this.dataShardCount);
    return shards.slice(0, this.dataShardCount) as Uint8Array[];
  }

  /**
   * The allocation-free form (the Rust crate's `reconstruct_shards`): `shards` holds k + m
   * buffers of one size, `shardPresent[i]` says whether shard i holds valid bytes, and the
   * buffers of absent shards are overwritten, all of them (`'all'`) or only data (`'data'`).
   * Fresh output buffers cost about as much as the coding itself at 1 MiB blocks (page faults),
   * so hot paths reuse theirs through this method and `encodeInto`.
   */
  reconstructInto(shards: readonly Uint8Array[], shardPresent: readonly boolean[], targets: 'all' | 'data' = 'all'): void {
    if (shardPresent.length !== this.totalShardCount) throw new ShardCountMismatchError(this.totalShardCount, shardPresent.length);
    const shardSizeBytes = this.checkShards(shards, this.totalShardCount);
    const present: number[] = [];
    const targetIndices: number[] = [];
    const targetLimit = targets === 'all' ? this.totalShardCount : this.dataShardCount;
    shardPresent.forEach((isPresent, shardIndex) => {
      if (isPresent) present.push(shardIndex);
      else if (shardIndex < targetLimit) targetIndices.push(shardIndex);
    });
    if (present.length < this.dataShardCount) throw new TooFewShardsError(present.length, this.dataShardCount);
    if (targetIndices.length === 0 || shardSizeBytes === 0) return;
    this.decodeInto(shards, present, targetIndices.map((i) => shards[i]!), targetIndices);
  }

  private fill(shards: ShardSlot[], targetShardCountLimit: number): void {
    if (shards.length !== this.totalShardCount) throw new ShardCountMismatchError(this.totalShardCount, shards.length);
    const present: number[] = [];
    const targets: number[] = [];
    let shardSizeBytes = -1;
    shards.forEach((shard, shardIndex) => {
      if (shard === undefined || shard === null) {
        if (shardIndex < targetShardCountLimit) targets.push(shardIndex);
        return;
      }
      if (shardSizeBytes === -1) shardSizeBytes = shard.length;
      if (shard.length !== shardSizeBytes) throw new ShardSizeMismatchError(shardIndex, shardSizeBytes, shard.length);
      present.push(shardIndex);
    });
    if (present.length < this.dataShardCount) throw new TooFewShardsError(present.length, this.dataShardCount);
    if (targets.length === 0) return;
    const outputs = targets.map(() => new Uint8Array(shardSizeBytes));
    this.decodeInto(shards as readonly Uint8Array[], present, outputs, targets);
    targets.forEach((shardIndex, i) => { shards[shardIndex] = outputs[i]!; });
  }

  /** Like the Rust crate, decodes from the first k present shards; any k give the same bytes. */
  private decodeInto(shards: readonly Uint8Array[], present: readonly number[], outputs: readonly Uint8Array[], targets: readonly number[]): void {
    const sources = present.slice(0, this.dataShardCount);
    this.kernel.multiply(this.decodeRows(sources, targets), sources.map((i) => shards[i]!), outputs);
  }

  /**
   * Coefficients that compute the target shards straight from the source shards: rows of the
   * encoding matrix for the targets times the inverse of the sources' rows. Data and parity
   * targets come out of one pass, so a degraded stripe is read from memory only once.
   */
  private decodeRows(sources: readonly number[], targets: readonly number[]): CodingRows {
    const key = `${indexMask(sources)}/${indexMask(targets)}`;
    const cached = this.decodeCache.get(key);
    if (cached !== undefined) {
      this.decodeCache.delete(key);
      this.decodeCache.set(key, cached);
      return cached;
    }
    const inverse = this.encodingMatrix.selectRows(sources).invert();
    const rows = CodingRows.fromMatrix(this.encodingMatrix.selectRows(targets).multiply(inverse));
    if (this.decodeCache.size >= this.decodeCacheEntryCountMax) {
      const oldestKey = this.decodeCache.keys().next().value;
      if (oldestKey !== undefined) this.decodeCache.delete(oldestKey);
    }
    this.decodeCache.set(key, rows);
    return rows;
  }

  /** Checks count and equal sizes (all equal to `expectedSizeBytes` if given); returns the size. */
  private checkShards(shards: readonly Uint8Array[], expectedCount: number, expectedSizeBytes?: number, firstShardIndex = 0): number {
    if (shards.length !== expectedCount) throw new ShardCountMismatchError(expectedCount, shards.length);
    const shardSizeBytes = expectedSizeBytes ?? shards[0]!.length;
    shards.forEach((shard, i) => {
      if (shard.length !== shardSizeBytes) throw new ShardSizeMismatchError(firstShardIndex + i, shardSizeBytes, shard.length);
    });
    return shardSizeBytes;
  }
}

function validateShape(dataShardCount: number, parityShardCount: number): void {
  const invalid = (reason: string): never => { throw new InvalidCodecShapeError(dataShardCount, parityShardCount, reason); };
  if (!Number.isInteger(dataShardCount) || dataShardCount < 1) invalid('dataShardCount must be an integer >= 1');
  if (!Number.isInteger(parityShardCount) || parityShardCount < 1) invalid('parityShardCount must be an integer >= 1');
  if (dataShardCount + parityShardCount > totalShardCountMax) invalid(`dataShardCount + parityShardCount must be <= ${totalShardCountMax}`);
}

function createKernel(kind: 'auto' | KernelKind): GfKernel {
  switch (kind) {
    case 'scalar':
      return new ScalarGfKernel();
    case 'simd':
      if (!isWasmSimdSupported()) throw new SimdUnavailableError(kind);
      return new SimdGfKernel('simd');
    case 'relaxed-simd':
      if (!isWasmRelaxedSimdSupported()) throw new SimdUnavailableError(kind);
      return new SimdGfKernel('relaxed-simd');
    case 'auto':
      if (isWasmRelaxedSimdSupported()) return new SimdGfKernel('relaxed-simd');
      if (isWasmSimdSupported()) return new SimdGfKernel('simd');
      return new ScalarGfKernel();
    default:
      return assertNever(kind, 'kernel');
  }
}

function indexMask(indices: readonly number[]): number {
  let mask = 0;
  for (const index of indices) mask |= 1 << index;
  return mask >>> 0;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

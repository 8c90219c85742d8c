// Test helper: the two published builds of the reference library (the Rust reed-solomon-erasure
// crate compiled to WebAssembly), each compiled once and instantiated fresh on demand. A fresh
// instance per reconstruct is the only safe way to use them (see reference-defect.test.ts).
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ReedSolomonErasure as SubspaceReedSolomon } from '@subspace/reed-solomon-erasure.wasm';
import { ReedSolomonErasure as DigitalDefianceReedSolomon } from '@digitaldefiance/reed-solomon-erasure.wasm';

/** The part of the library API the tests use (identical in both packages). */
export interface ReferenceCodec {
  encode(shards: Uint8Array, dataShards: number, parityShards: number): number;
  reconstruct(shards: Uint8Array, dataShards: number, parityShards: number, shardsAvailable: boolean[]): number;
}

export const referenceResultOk = 0;
export const referenceResultTooFewShardsPresent = 10;

interface ReferencePackage {
  readonly name: string;
  readonly wasmModule: WebAssembly.Module;
  readonly wrapperClass: new (exports: WebAssembly.Exports) => ReferenceCodec;
}

function load(name: string, wrapper: unknown): ReferencePackage {
  // The .wasm sits next to the wrapper's main module (the fork's `exports` map hides the path).
  const wasmPath = join(dirname(require.resolve(name)), 'reed_solomon_erasure_bg.wasm');
  return {
    name,
    wasmModule: new WebAssembly.Module(readFileSync(wasmPath)),
    // The constructor is private in the .d.ts; fromBytes() would recompile the module every time.
    wrapperClass: wrapper as new (exports: WebAssembly.Exports) => ReferenceCodec,
  };
}

export const referencePackages: readonly ReferencePackage[] = [
  load('@subspace/reed-solomon-erasure.wasm', SubspaceReedSolomon),
  load('@digitaldefiance/reed-solomon-erasure.wasm', DigitalDefianceReedSolomon),
];

export function freshReference(pkg: ReferencePackage = referencePackages[0]!): ReferenceCodec {
  return new pkg.wrapperClass(new WebAssembly.Instance(pkg.wasmModule).exports);
}

/** k + m shards back to back, as the library wants them. */
export function toStripe(shards: readonly Uint8Array[]): Uint8Array {
  const shardSizeBytes = shards[0]!.length;
  const stripe = new Uint8Array(shardSizeBytes * shards.length);
  shards.forEach((shard, i) => stripe.set(shard, i * shardSizeBytes));
  return stripe;
}

export function fromStripe(stripe: Uint8Array, shardCount: number): Uint8Array[] {
  const shardSizeBytes = stripe.length / shardCount;
  return Array.from({ length: shardCount }, (_, i) => stripe.slice(i * shardSizeBytes, (i + 1) * shardSizeBytes));
}

/** Parity from the library, with a fresh instance. */
export function referenceParity(data: readonly Uint8Array[], parityShardCount: number, pkg?: ReferencePackage): Uint8Array[] {
  const k = data.length;
  const zeros = Array.from({ length: parityShardCount }, () => new Uint8Array(data[0]!.length));
  const stripe = toStripe([...data, ...zeros]);
  const result = freshReference(pkg).encode(stripe, k, parityShardCount);
  if (result !== referenceResultOk) throw new Error(`reference encode failed with code ${result}`);
  return fromStripe(stripe, k + parityShardCount).slice(k);
}

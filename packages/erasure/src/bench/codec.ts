/**
 * Codec throughput: encode and worst-case reconstruct (m data shards lost) for 4+2, 6+3, 8+4 at
 * 64 KiB and 1 MiB shards, for our SIMD kernel, our scalar kernel and the reference library
 * (@subspace/reed-solomon-erasure.wasm), side by side, single-threaded (= per core).
 *
 * Throughput is INPUT bytes per second: k * shardSizeBytes / seconds, for encode and for
 * reconstruct alike (reconstruct reads k surviving shards). Ours is timed through the
 * allocation-free calls (encodeInto, reconstructInto); the library through its only API, which
 * copies the stripe into and out of its memory. Run: `npm run bench -- erasure`.
 */
import { ReedSolomonErasure } from '@subspace/reed-solomon-erasure.wasm';
import { SeededRandom } from '@tessera/common';
import type { KernelKind } from '../gf-kernel';
import { ReedSolomon } from '../reed-solomon';
import { isWasmRelaxedSimdSupported } from '../simd-support';

const shapes: ReadonlyArray<readonly [number, number]> = [[4, 2], [6, 3], [8, 4]];
const shardSizesBytes = [64 * 1024, 1024 * 1024];
/**
 * The machine is shared, so a long average mostly measures the neighbours. Each figure is the
 * best of `trialCount` trials, each trial at least `trialMsMin` long (after one warm-up call):
 * the throughput one core reaches when it gets the core to itself.
 */
const trialCount = 15;
const trialMsMin = 20;

interface Row { shape: string; shardSize: string; operation: string; relaxed: number | undefined; simd: number; scalar: number; reference: number }

function measure(run: () => void, inputBytes: number): number {
  run();
  let best = 0;
  for (let trial = 0; trial < trialCount; trial++) {
    let calls = 0;
    const startedMs = performance.now();
    let elapsedMs = 0;
    while (elapsedMs < trialMsMin) {
      run();
      calls++;
      elapsedMs = performance.now() - startedMs;
    }
    best = Math.max(best, (inputBytes * calls) / (elapsedMs / 1000) / 1e9);
  }
  return best;
}

/** Best single call, for runs that need untimed preparation (a fresh reference instance). */
async function measureWithSetup(prepare: () => Promise<() => void>, inputBytes: number, callCount: number): Promise<number> {
  (await prepare())();
  let bestMs = Infinity;
  for (let call = 0; call < callCount; call++) {
    const run = await prepare();
    const startedMs = performance.now();
    run();
    bestMs = Math.min(bestMs, performance.now() - startedMs);
  }
  return inputBytes / (bestMs / 1000) / 1e9;
}

function ours(kind: KernelKind, k: number, m: number, data: Uint8Array[]): { encode: number; reconstruct: number } {
  const codec = new ReedSolomon(k, m, { kernel: kind });
  const parity = codec.encode(data);
  const inputBytes = k * data[0]!.length;
  const encode = measure(() => codec.encodeInto(data, parity), inputBytes);
  // The allocation-free form, as a storage path with reused buffers would call it; the lost data
  // shards' buffers are scratch copies that reconstructInto overwrites.
  const shards = [...data.map((shard) => shard.slice()), ...parity];
  const shardPresent = shards.map((_, i) => i >= m);
  const reconstruct = measure(() => codec.reconstructInto(shards, shardPresent), inputBytes);
  return { encode, reconstruct };
}

async function reference(k: number, m: number, data: Uint8Array[]): Promise<{ encode: number; reconstruct: number }> {
  const shardSizeBytes = data[0]!.length;
  const stripe = new Uint8Array(shardSizeBytes * (k + m));
  data.forEach((shard, i) => stripe.set(shard, i * shardSizeBytes));
  const library = await ReedSolomonErasure.fromCurrentDirectory();
  const inputBytes = k * shardSizeBytes;
  const encode = measure(() => { library.encode(stripe, k, m); }, inputBytes);
  const available = Array.from({ length: k + m }, (_, i) => i >= m);
  // A fresh instance per reconstruct: the wrapper double-frees on reconstruct (see README), so a
  // reused instance soon fails instead of decoding. Instantiation is outside the timed region.
  const reconstruct = await measureWithSetup(async () => {
    const fresh = await ReedSolomonErasure.fromCurrentDirectory();
    const damaged = stripe.slice();
    damaged.fill(0, 0, m * shardSizeBytes);
    return () => {
      const result = fresh.reconstruct(damaged, k, m, available);
      if (result !== ReedSolomonErasure.RESULT_OK) throw new Error(`reference reconstruct failed: ${result}`);
    };
  }, inputBytes, 12);
  return { encode, reconstruct };
}

async function main(): Promise<void> {
  const random = new SeededRandom(7);
  const rows: Row[] = [];
  for (const [k, m] of shapes) {
    for (const shardSizeBytes of shardSizesBytes) {
      const data = Array.from({ length: k }, () => random.fillBytes(new Uint8Array(shardSizeBytes)));
      const relaxed = isWasmRelaxedSimdSupported() ? ours('relaxed-simd', k, m, data) : undefined;
      const simd = ours('simd', k, m, data);
      const scalar = ours('scalar', k, m, data);
      const ref = await reference(k, m, data);
      const shape = `${k}+${m}`;
      const shardSize = shardSizeBytes >= 1024 * 1024 ? `${shardSizeBytes / 1024 / 1024} MiB` : `${shardSizeBytes / 1024} KiB`;
      rows.push({ shape, shardSize, operation: 'encode', relaxed: relaxed?.encode, simd: simd.encode, scalar: scalar.encode, reference: ref.encode });
      rows.push({ shape, shardSize, operation: `reconstruct (${m} data lost)`, relaxed: relaxed?.reconstruct, simd: simd.reconstruct, scalar: scalar.reconstruct, reference: ref.reconstruct });
    }
  }
  console.log(`Throughput in GB/s of input (k x shard size / time), one thread, best of ${trialCount} trials, node ${process.version}.\n`);
  // Relaxed SIMD is default from Node 22; on Node 20 run with --experimental-wasm-relaxed-simd.
  console.log('| shape | shard size | operation | ours, relaxed SIMD | ours, SIMD | ours, scalar | reference (wasm, no SIMD) | SIMD / reference |');
  console.log('|---|---|---|---:|---:|---:|---:|---:|');
  for (const row of rows) {
    const relaxed = row.relaxed === undefined ? 'n/a' : row.relaxed.toFixed(2);
    console.log(`| ${row.shape} | ${row.shardSize} | ${row.operation} | ${relaxed} | ${row.simd.toFixed(2)} | ${row.scalar.toFixed(2)} | ${row.reference.toFixed(2)} | ${(row.simd / row.reference).toFixed(1)}x |`);
  }
}

void main();

/**
 * What the worker pool costs and buys, for 6+3 on 1 MiB blocks (k data shards of 174,763 bytes):
 * per-block time on the main thread (inline encode) against the pool with 1 and 2 workers at
 * 8 calls in flight, copying (encode) and zero-copy (encodeStripe), reporting throughput (GB/s of object data) and the main thread's own
 * time per block (packing the stripe and posting it), which is what other requests wait for.
 * Run: `npm run bench -- erasure` (after the codec table).
 */
import { SeededRandom } from '@tessera/common';
import { ReedSolomon } from '../reed-solomon';
import { splitBlockIntoDataShards } from '../block-shards';
import { ErasureWorkerPool } from '../worker-pool/erasure-worker-pool';

const blockSizeBytes = 1024 * 1024;
const k = 6;
const m = 3;
const blockCount = 400;
const inFlightCount = 8;

async function viaPool(workerCount: number, blocks: Uint8Array[][]): Promise<{ gbPerSecond: number; mainThreadMsPerBlock: number }> {
  const pool = new ErasureWorkerPool({ workerCount, queueDepthMax: inFlightCount });
  await pool.start();
  try {
    await pool.encode(k, m, blocks[0]!); // warm-up: codec creation in every worker
    let mainThreadMs = 0;
    const startedMs = performance.now();
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < blocks.length) {
        const data = blocks[next++]!;
        const submitMs = performance.now();
        const pending = pool.encode(k, m, data);
        mainThreadMs += performance.now() - submitMs; // synchronous part: validate, pack, post
        await pending;
      }
    };
    await Promise.all(Array.from({ length: inFlightCount }, lane));
    const elapsedMs = performance.now() - startedMs;
    return { gbPerSecond: (blocks.length * blockSizeBytes) / (elapsedMs / 1000) / 1e9, mainThreadMsPerBlock: mainThreadMs / blocks.length };
  } finally {
    await pool.stop();
  }
}

/** encodeStripe: each lane owns one stripe buffer that travels to a worker and back (no copies). */
async function viaPoolZeroCopy(workerCount: number, blocks: Uint8Array[][]): Promise<{ gbPerSecond: number; mainThreadMsPerBlock: number }> {
  const pool = new ErasureWorkerPool({ workerCount, queueDepthMax: inFlightCount });
  await pool.start();
  const shardSizeBytes = blocks[0]![0]!.length;
  try {
    let mainThreadMs = 0;
    let next = 0;
    const startedMs = performance.now();
    const lane = async (): Promise<void> => {
      let stripe = new ArrayBuffer((k + m) * shardSizeBytes);
      blocks[0]!.forEach((shard, i) => new Uint8Array(stripe, i * shardSizeBytes, shardSizeBytes).set(shard));
      while (next < blocks.length) {
        next++;
        const submitMs = performance.now();
        const pending = pool.encodeStripe(k, m, stripe, shardSizeBytes);
        mainThreadMs += performance.now() - submitMs;
        stripe = await pending;
      }
    };
    await Promise.all(Array.from({ length: inFlightCount }, lane));
    const elapsedMs = performance.now() - startedMs;
    return { gbPerSecond: (blocks.length * blockSizeBytes) / (elapsedMs / 1000) / 1e9, mainThreadMsPerBlock: mainThreadMs / blocks.length };
  } finally {
    await pool.stop();
  }
}

async function main(): Promise<void> {
  const random = new SeededRandom(11);
  const distinct = Array.from({ length: 16 }, () => splitBlockIntoDataShards(random.fillBytes(new Uint8Array(blockSizeBytes)), k));
  const blocks = Array.from({ length: blockCount }, (_, i) => distinct[i % distinct.length]!);

  const codec = new ReedSolomon(k, m);
  for (const data of distinct) codec.encode(data);
  const startedMs = performance.now();
  for (const data of blocks) codec.encode(data);
  const inlineMs = performance.now() - startedMs;
  const parity = codec.encode(distinct[0]!);
  const intoStartedMs = performance.now();
  for (const data of blocks) codec.encodeInto(data, parity);
  const inlineIntoMs = performance.now() - intoStartedMs;

  console.log(`6+3, 1 MiB blocks, ${blockCount} blocks, ${inFlightCount} calls in flight for the pool, node ${process.version}.\n`);
  console.log('| mode | GB/s of object data | main-thread ms per block |');
  console.log('|---|---:|---:|');
  console.log(`| inline ReedSolomon.encode (new parity buffers) | ${((blocks.length * blockSizeBytes) / (inlineMs / 1000) / 1e9).toFixed(2)} | ${(inlineMs / blocks.length).toFixed(3)} |`);
  console.log(`| inline ReedSolomon.encodeInto (reused buffers) | ${((blocks.length * blockSizeBytes) / (inlineIntoMs / 1000) / 1e9).toFixed(2)} | ${(inlineIntoMs / blocks.length).toFixed(3)} |`);
  for (const workerCount of [1, 2]) {
    const result = await viaPool(workerCount, blocks);
    console.log(`| ErasureWorkerPool.encode (copies), ${workerCount} worker(s) | ${result.gbPerSecond.toFixed(2)} | ${result.mainThreadMsPerBlock.toFixed(3)} |`);
  }
  for (const workerCount of [1, 2]) {
    const result = await viaPoolZeroCopy(workerCount, blocks);
    console.log(`| ErasureWorkerPool.encodeStripe (transfer), ${workerCount} worker(s) | ${result.gbPerSecond.toFixed(2)} | ${result.mainThreadMsPerBlock.toFixed(3)} |`);
  }
}

void main();

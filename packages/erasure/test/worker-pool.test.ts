// Goal: ErasureWorkerPool codes on real worker threads with the same bytes as the in-thread
// codec, bounds its queue, fails cleanly when stopped or when a worker dies, and leaves the
// caller's buffers alone. Method: real node:worker_threads running the compiled worker
// (dist/worker-pool/erasure-worker.js; `npx tsc -b packages/erasure` first, as `npm test` does).
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SeededRandom } from '@tessera/common';
import { ReedSolomon, ShardSizeMismatchError, TooFewShardsError, type ShardSlot } from '@tessera/erasure';
import { ErasureWorkerPool, WorkerPoolSaturatedError, WorkerPoolStoppedError, WorkerTaskFailedError } from '@tessera/erasure/worker-pool';
import { expectSameShards } from './shard-assertions';

const compiledWorker = join(__dirname, '..', 'dist', 'worker-pool', 'erasure-worker.js');

function randomShards(count: number, shardSizeBytes: number, seed: number): Uint8Array[] {
  const random = new SeededRandom(seed);
  return Array.from({ length: count }, () => random.fillBytes(new Uint8Array(shardSizeBytes)));
}

describe('ErasureWorkerPool', () => {
  let pool: ErasureWorkerPool | undefined;
  afterEach(async () => {
    await pool?.stop();
    pool = undefined;
  });

  it('needs the compiled worker script', () => {
    expect(existsSync(compiledWorker)).toBe(true);
  });

  it('encodes and reconstructs with the same bytes as the in-thread codec, leaving inputs intact', async () => {
    pool = new ErasureWorkerPool({ workerCount: 2 });
    await pool.start();
    const data = randomShards(6, 256 * 1024 + 3, 1);
    const copies = data.map((shard) => shard.slice());
    const expectedParity = new ReedSolomon(6, 3).encode(data);
    const parity = await pool.encode(6, 3, data);
    expectSameShards(parity, expectedParity);
    expectSameShards(data, copies);

    const slots: ShardSlot[] = [undefined, data[1], undefined, data[3], data[4], undefined, ...parity];
    const all = await pool.reconstruct(6, 3, slots);
    expectSameShards(all, [...data, ...expectedParity]);
    expect(slots[0]).toBeUndefined();
  });

  it('encodeStripe and reconstructStripe code in a transferred buffer without copies', async () => {
    pool = new ErasureWorkerPool({ workerCount: 1 });
    await pool.start();
    const shardSizeBytes = 4097;
    const data = randomShards(4, shardSizeBytes, 7);
    const expected = [...data, ...new ReedSolomon(4, 2).encode(data)];
    const stripe = new ArrayBuffer(6 * shardSizeBytes);
    data.forEach((shard, i) => new Uint8Array(stripe, i * shardSizeBytes, shardSizeBytes).set(shard));
    const encoded = await pool.encodeStripe(4, 2, stripe, shardSizeBytes);
    expect(stripe.byteLength).toBe(0); // transferred, not copied
    const view = (buffer: ArrayBuffer) => Array.from({ length: 6 }, (_, i) => new Uint8Array(buffer, i * shardSizeBytes, shardSizeBytes));
    expectSameShards(view(encoded), expected);

    new Uint8Array(encoded).fill(0, 0, 2 * shardSizeBytes); // lose shards 0 and 1
    const rebuilt = await pool.reconstructStripe(4, 2, encoded, shardSizeBytes, 0b111100);
    expectSameShards(view(rebuilt), expected);
    await expect(pool.reconstructStripe(4, 2, rebuilt, shardSizeBytes, 0b000111)).rejects.toBeInstanceOf(TooFewShardsError);
    await expect(pool.encodeStripe(4, 2, new ArrayBuffer(10), shardSizeBytes)).rejects.toBeInstanceOf(ShardSizeMismatchError);
  });

  it('runs many concurrent calls of mixed shapes through a small queue', async () => {
    pool = new ErasureWorkerPool({ workerCount: 2, queueDepthMax: 32 });
    await pool.start();
    const shapes = [[4, 2], [6, 3], [8, 4], [10, 4]] as const;
    const jobs = Array.from({ length: 24 }, (_, i) => {
      const [k, m] = shapes[i % shapes.length]!;
      const data = randomShards(k, 1000 + i, i);
      return { k, m, data, promise: pool!.encode(k, m, data) };
    });
    for (const job of jobs) expectSameShards(await job.promise, new ReedSolomon(job.k, job.m).encode(job.data));
  });

  it('rejects with WorkerPoolSaturatedError when the queue is full', async () => {
    pool = new ErasureWorkerPool({ workerCount: 1, queueDepthMax: 1 });
    await pool.start();
    const data = randomShards(4, 512 * 1024, 2);
    const running = pool.encode(4, 2, data); // taken by the worker
    const queued = pool.encode(4, 2, data); // waits in the queue
    await expect(pool.encode(4, 2, data)).rejects.toBeInstanceOf(WorkerPoolSaturatedError);
    await expect(running).resolves.toHaveLength(2);
    await expect(queued).resolves.toHaveLength(2);
  });

  it('validates shapes before sending: too few shards, unequal sizes', async () => {
    pool = new ErasureWorkerPool({ workerCount: 1 });
    await pool.start();
    const data = randomShards(4, 100, 3);
    await expect(pool.reconstruct(4, 2, [data[0], data[1], data[2], undefined, undefined, undefined])).rejects.toBeInstanceOf(TooFewShardsError);
    await expect(pool.encode(4, 2, [data[0]!, data[1]!, data[2]!, new Uint8Array(99)])).rejects.toBeInstanceOf(ShardSizeMismatchError);
  });

  it('fails calls with WorkerPoolStoppedError after stop(), including queued ones', async () => {
    pool = new ErasureWorkerPool({ workerCount: 1, queueDepthMax: 4 });
    await pool.start();
    const data = randomShards(4, 1024 * 1024, 4);
    const outcomes = Promise.allSettled([pool.encode(4, 2, data), pool.encode(4, 2, data)]);
    await pool.stop();
    for (const outcome of await outcomes) {
      expect(outcome.status).toBe('rejected');
      expect((outcome as PromiseRejectedResult).reason).toBeInstanceOf(WorkerPoolStoppedError);
    }
    await expect(pool.encode(4, 2, data)).rejects.toBeInstanceOf(WorkerPoolStoppedError);
  });

  it('a worker that dies fails its task with WorkerTaskFailedError and is replaced', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-erasure-pool-'));
    try {
      // Dies on its first task, like a worker hitting a fatal bug.
      const script = join(dir, 'dying-worker.js');
      writeFileSync(script, [
        "const { parentPort } = require('node:worker_threads');",
        "parentPort.on('message', () => process.exit(3));",
        'parentPort.postMessage({ ready: true });',
        '',
      ].join('\n'));
      pool = new ErasureWorkerPool({ workerCount: 1, workerScriptPath: script });
      await pool.start();
      const data = randomShards(2, 10, 5);
      await expect(pool.encode(2, 1, data)).rejects.toBeInstanceOf(WorkerTaskFailedError);
      await expect(pool.encode(2, 1, data)).rejects.toBeInstanceOf(WorkerTaskFailedError); // the replacement ran it
    } finally {
      await pool?.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('start() fails and leaves nothing running when the worker script is missing', async () => {
    pool = new ErasureWorkerPool({ workerCount: 2, workerScriptPath: join(tmpdir(), 'no-such-tessera-worker.js') });
    await expect(pool.start()).rejects.toThrow();
    await expect(pool.encode(2, 1, randomShards(2, 10, 6))).rejects.toBeInstanceOf(WorkerPoolStoppedError);
  });
});

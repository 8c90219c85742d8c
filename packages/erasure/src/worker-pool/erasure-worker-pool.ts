/**
 * Encoding and reconstruction off the event loop, on a small pool of worker threads.
 *
 * Each call packs the shards into one fresh ArrayBuffer (one copy; the caller's buffers are never
 * detached), transfers it to an idle worker, which codes in place and transfers it back; the
 * results are views into that buffer. Calls wait in a bounded FIFO queue when every worker is busy
 * and are rejected with WorkerPoolSaturatedError when the queue is full, so a caller that outruns
 * the pool learns it at once instead of growing memory without limit.
 */
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { assert, type Startable } from '@tessera/common';
import { ErasureError, ShardCountMismatchError, ShardSizeMismatchError, TooFewShardsError } from '../errors';
import type { ShardSlot } from '../reed-solomon';
import type { CodecTask, CodecTaskResult, WorkerMessage } from './messages';

export interface ErasureWorkerPoolOptions {
  /** Worker threads; default 2. One per core that may be spent on coding. */
  readonly workerCount?: number;
  /** Calls allowed to wait for a worker; default 64. */
  readonly queueDepthMax?: number;
  /** Compiled worker script; defaults to dist/worker-pool/erasure-worker.js next to this module. */
  readonly workerScriptPath?: string;
}

/** The queue is full: shed load or slow down. */
export class WorkerPoolSaturatedError extends ErasureError {
  static readonly errorName = 'WorkerPoolSaturatedError';
  constructor(readonly queueDepthMax: number) {
    super(`erasure worker pool queue is full (${queueDepthMax} waiting)`);
    this.name = WorkerPoolSaturatedError.errorName;
  }
}

/** The pool is not started, or was stopped while the call waited or ran. */
export class WorkerPoolStoppedError extends ErasureError {
  static readonly errorName = 'WorkerPoolStoppedError';
  constructor() {
    super('erasure worker pool is not running');
    this.name = WorkerPoolStoppedError.errorName;
  }
}

/** The worker failed while coding (a bug or a crash); the worker is replaced. */
export class WorkerTaskFailedError extends ErasureError {
  static readonly errorName = 'WorkerTaskFailedError';
  constructor(readonly causeName: string, causeMessage: string) {
    super(`erasure worker failed: ${causeName}: ${causeMessage}`);
    this.name = WorkerTaskFailedError.errorName;
  }
}

interface PendingTask {
  readonly task: CodecTask;
  readonly resolve: (stripe: ArrayBuffer) => void;
  readonly reject: (error: Error) => void;
}

interface PoolWorker {
  readonly worker: Worker;
  current: PendingTask | undefined;
  /** Set once the worker script has loaded; a worker that never got ready is not replaced (no spawn loop). */
  ready: boolean;
}

export class ErasureWorkerPool implements Startable {
  private readonly workerCount: number;
  private readonly queueDepthMax: number;
  private readonly workerScriptPath: string;
  private readonly workers: PoolWorker[] = [];
  private readonly queue: PendingTask[] = [];
  private running = false;
  private nextTaskId = 1;

  constructor(options: ErasureWorkerPoolOptions = {}) {
    this.workerCount = options.workerCount ?? 2;
    this.queueDepthMax = options.queueDepthMax ?? 64;
    this.workerScriptPath = options.workerScriptPath ?? defaultWorkerScriptPath();
    assert(Number.isInteger(this.workerCount) && this.workerCount >= 1, 'workerCount must be an integer >= 1');
    assert(Number.isInteger(this.queueDepthMax) && this.queueDepthMax >= 0, 'queueDepthMax must be an integer >= 0');
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      await Promise.all(Array.from({ length: this.workerCount }, () => this.spawnWorker()));
    } catch (error) {
      await this.stop();
      throw error;
    }
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    for (const pending of this.queue.splice(0)) pending.reject(new WorkerPoolStoppedError());
    const workers = this.workers.splice(0);
    for (const poolWorker of workers) poolWorker.current?.reject(new WorkerPoolStoppedError());
    await Promise.all(workers.map((poolWorker) => poolWorker.worker.terminate()));
  }

  /** Parity of `dataShards` (k equal-sized shards) for a k+m code; the caller's shards are not touched. */
  async encode(dataShardCount: number, parityShardCount: number, dataShards: readonly Uint8Array[]): Promise<Uint8Array[]> {
    if (dataShards.length !== dataShardCount) throw new ShardCountMismatchError(dataShardCount, dataShards.length);
    const slots: ShardSlot[] = [...dataShards, ...new Array<undefined>(parityShardCount).fill(undefined)];
    const views = await this.submit('encode', dataShardCount, parityShardCount, slots);
    return views.slice(dataShardCount);
  }

  /** All k + m shards, the missing ones reconstructed; the caller's array and shards are not touched. */
  async reconstruct(dataShardCount: number, parityShardCount: number, shards: readonly ShardSlot[]): Promise<Uint8Array[]> {
    if (shards.length !== dataShardCount + parityShardCount) {
      throw new ShardCountMismatchError(dataShardCount + parityShardCount, shards.length);
    }
    return this.submit('reconstruct', dataShardCount, parityShardCount, shards);
  }

  /**
   * Zero-copy variant for callers that build the stripe themselves (e.g. read a block from the
   * network straight into it): `stripe` holds k + m shards of `shardSizeBytes` back to back, the
   * data shards filled. It is transferred to the worker, so the caller's `stripe` is detached
   * (byteLength 0) on return; the resolved value is the same memory with the parity filled.
   */
  async encodeStripe(dataShardCount: number, parityShardCount: number, stripe: ArrayBuffer, shardSizeBytes: number): Promise<ArrayBuffer> {
    checkStripe(stripe, dataShardCount + parityShardCount, shardSizeBytes);
    const presentMask = (2 ** dataShardCount - 1) >>> 0;
    return this.submitStripe('encode', dataShardCount, parityShardCount, stripe, shardSizeBytes, presentMask);
  }

  /**
   * Zero-copy reconstruct: like encodeStripe, with bit i of `presentMask` set for each shard i that
   * holds bytes; the resolved buffer has every shard filled. `stripe` is detached on return.
   */
  async reconstructStripe(dataShardCount: number, parityShardCount: number, stripe: ArrayBuffer, shardSizeBytes: number, presentMask: number): Promise<ArrayBuffer> {
    const totalShardCount = dataShardCount + parityShardCount;
    checkStripe(stripe, totalShardCount, shardSizeBytes);
    let presentCount = 0;
    for (let i = 0; i < totalShardCount; i++) presentCount += (presentMask >>> i) & 1;
    if (presentCount < dataShardCount) throw new TooFewShardsError(presentCount, dataShardCount);
    return this.submitStripe('reconstruct', dataShardCount, parityShardCount, stripe, shardSizeBytes, presentMask >>> 0);
  }

  private async submit(operation: CodecTask['operation'], k: number, m: number, slots: readonly ShardSlot[]): Promise<Uint8Array[]> {
    if (!this.running) throw new WorkerPoolStoppedError();
    const { stripe, shardSizeBytes, presentMask } = packStripe(slots, k);
    const result = await this.submitStripe(operation, k, m, stripe, shardSizeBytes, presentMask);
    return Array.from({ length: k + m }, (_, i) => new Uint8Array(result, i * shardSizeBytes, shardSizeBytes));
  }

  private async submitStripe(operation: CodecTask['operation'], k: number, m: number, stripe: ArrayBuffer, shardSizeBytes: number, presentMask: number): Promise<ArrayBuffer> {
    if (!this.running) throw new WorkerPoolStoppedError();
    const task: CodecTask = { taskId: this.nextTaskId++, operation, dataShardCount: k, parityShardCount: m, shardSizeBytes, presentMask, stripe };
    const idle = this.workers.find((poolWorker) => poolWorker.current === undefined);
    if (idle === undefined && this.queue.length >= this.queueDepthMax) throw new WorkerPoolSaturatedError(this.queueDepthMax);
    return new Promise<ArrayBuffer>((resolve, reject) => {
      const pending = { task, resolve, reject };
      if (idle !== undefined) this.dispatch(idle, pending);
      else this.queue.push(pending);
    });
  }

  private dispatch(poolWorker: PoolWorker, pending: PendingTask): void {
    assert(poolWorker.current === undefined, 'a worker runs one task at a time');
    poolWorker.current = pending;
    poolWorker.worker.postMessage(pending.task, [pending.task.stripe]);
  }

  private async spawnWorker(): Promise<void> {
    const worker = new Worker(this.workerScriptPath);
    const poolWorker: PoolWorker = { worker, current: undefined, ready: false };
    this.workers.push(poolWorker);
    await new Promise<void>((resolve, reject) => {
      worker.on('message', (message: WorkerMessage) => {
        if ('ready' in message) {
          poolWorker.ready = true;
          resolve();
        } else {
          this.onResult(poolWorker, message);
        }
      });
      worker.on('error', (error) => {
        reject(error);
        this.onWorkerFailure(poolWorker, error);
      });
      worker.on('exit', (code) => {
        const error = new Error(`worker exited with code ${code}`);
        reject(error);
        this.onWorkerFailure(poolWorker, error);
      });
    });
  }

  private onResult(poolWorker: PoolWorker, result: CodecTaskResult): void {
    const pending = poolWorker.current;
    assert(pending !== undefined && pending.task.taskId === result.taskId, 'a result answers the task its worker runs');
    poolWorker.current = undefined;
    if (result.ok) pending.resolve(result.stripe);
    else pending.reject(new WorkerTaskFailedError(result.errorName, result.errorMessage));
    const next = this.queue.shift();
    if (next !== undefined) this.dispatch(poolWorker, next);
  }

  /** A crashed worker fails its task and is replaced, so the pool keeps its size. */
  private onWorkerFailure(poolWorker: PoolWorker, error: Error): void {
    const index = this.workers.indexOf(poolWorker);
    if (index === -1) return; // already removed (stop() or an earlier failure event)
    this.workers.splice(index, 1);
    poolWorker.current?.reject(new WorkerTaskFailedError(error.name, error.message));
    poolWorker.current = undefined;
    void poolWorker.worker.terminate();
    if (!this.running || !poolWorker.ready) return;
    void this.spawnWorker().then(() => {
      const replacement = this.workers.find((candidate) => candidate.current === undefined);
      const next = replacement === undefined ? undefined : this.queue.shift();
      if (replacement !== undefined && next !== undefined) this.dispatch(replacement, next);
    }, (spawnError: unknown) => {
      for (const pending of this.queue.splice(0)) pending.reject(spawnError instanceof Error ? spawnError : new Error(String(spawnError)));
    });
  }
}

/** Copies the present shards into one transferable buffer, validating the stripe's shape. */
function packStripe(slots: readonly ShardSlot[], dataShardCount: number): { stripe: ArrayBuffer; shardSizeBytes: number; presentMask: number } {
  let shardSizeBytes = -1;
  let presentMask = 0;
  let presentCount = 0;
  slots.forEach((shard, i) => {
    if (shard === undefined || shard === null) return;
    if (shardSizeBytes === -1) shardSizeBytes = shard.length;
    if (shard.length !== shardSizeBytes) throw new ShardSizeMismatchError(i, shardSizeBytes, shard.length);
    presentMask |= 1 << i;
    presentCount++;
  });
  if (presentCount < dataShardCount) throw new TooFewShardsError(presentCount, dataShardCount);
  const stripe = new ArrayBuffer(shardSizeBytes * slots.length);
  const bytes = new Uint8Array(stripe);
  slots.forEach((shard, i) => { if (shard) bytes.set(shard, i * shardSizeBytes); });
  return { stripe, shardSizeBytes, presentMask: presentMask >>> 0 };
}

function checkStripe(stripe: ArrayBuffer, totalShardCount: number, shardSizeBytes: number): void {
  if (stripe.byteLength !== totalShardCount * shardSizeBytes) {
    throw new ShardSizeMismatchError(0, shardSizeBytes, stripe.byteLength / totalShardCount);
  }
}

function defaultWorkerScriptPath(): string {
  // Under jest this module runs from src/*.ts, which a worker thread cannot load; the compiled
  // worker from `tsc -b` (dist/) is used then, so build before running the pool tests.
  if (__filename.endsWith('.ts')) return join(__dirname, '..', '..', 'dist', 'worker-pool', 'erasure-worker.js');
  return join(__dirname, 'erasure-worker.js');
}

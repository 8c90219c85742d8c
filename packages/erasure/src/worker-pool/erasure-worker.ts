/**
 * Worker thread body of ErasureWorkerPool: codes one stripe at a time in place in the transferred
 * buffer and transfers it back. One codec per (k, m) is kept for the life of the worker.
 */
import { parentPort } from 'node:worker_threads';
import { assert } from '@tessera/common';
import { ReedSolomon } from '../reed-solomon';
import type { CodecTask, CodecTaskResult, WorkerReady } from './messages';

const port = parentPort;
assert(port !== null, 'erasure-worker must run as a worker thread');
const codecs = new Map<string, ReedSolomon>();

function codecFor(k: number, m: number): ReedSolomon {
  const key = `${k}+${m}`;
  let codec = codecs.get(key);
  if (codec === undefined) {
    codec = new ReedSolomon(k, m);
    codecs.set(key, codec);
  }
  return codec;
}

function run(task: CodecTask): void {
  const { dataShardCount: k, parityShardCount: m, shardSizeBytes: s } = task;
  const views = Array.from({ length: k + m }, (_, i) => new Uint8Array(task.stripe, i * s, s));
  const codec = codecFor(k, m);
  if (task.operation === 'encode') {
    codec.encodeInto(views.slice(0, k), views.slice(k));
    return;
  }
  codec.reconstructInto(views, views.map((_, i) => ((task.presentMask >>> i) & 1) === 1));
}

port.on('message', (task: CodecTask) => {
  let result: CodecTaskResult;
  try {
    run(task);
    result = { taskId: task.taskId, ok: true, stripe: task.stripe };
  } catch (err) {
    const error = err instanceof Error ? err : new Error(String(err));
    result = { taskId: task.taskId, ok: false, errorName: error.name, errorMessage: error.message };
  }
  port.postMessage(result, result.ok ? [result.stripe] : []);
});

const ready: WorkerReady = { ready: true };
port.postMessage(ready);

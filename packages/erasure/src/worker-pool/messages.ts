/** Messages between ErasureWorkerPool and its workers (structured clone; buffers transferred). */

export interface CodecTask {
  readonly taskId: number;
  readonly operation: 'encode' | 'reconstruct';
  readonly dataShardCount: number;
  readonly parityShardCount: number;
  readonly shardSizeBytes: number;
  /** Bit i set when shard i holds bytes (encode: the k data shards). */
  readonly presentMask: number;
  /** k + m shards back to back, shardSizeBytes each; missing slots are zero. */
  readonly stripe: ArrayBuffer;
}

export type CodecTaskResult =
  | { readonly taskId: number; readonly ok: true; readonly stripe: ArrayBuffer }
  | { readonly taskId: number; readonly ok: false; readonly errorName: string; readonly errorMessage: string };

/** Sent once by a worker after its module has loaded ('online' fires before loading can fail). */
export interface WorkerReady {
  readonly ready: true;
}

export type WorkerMessage = WorkerReady | CodecTaskResult;

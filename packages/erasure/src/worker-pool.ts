/**
 * Entry point `@tessera/erasure/worker-pool`: the off-event-loop codec. Kept apart from the main
 * entry because it is the only part of the package that needs Node (node:worker_threads).
 */
export { ErasureWorkerPool, WorkerPoolSaturatedError, WorkerPoolStoppedError, WorkerTaskFailedError } from './worker-pool/erasure-worker-pool';
export type { ErasureWorkerPoolOptions } from './worker-pool/erasure-worker-pool';

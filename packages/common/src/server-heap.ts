import { setFlagsFromString } from 'node:v8';

/**
 * How far V8 lets the old generation of a Tessera server grow past its live size before the next
 * full (mark-compact) collection, in percent: 300 means up to 4x the live size.
 *
 * Why: a server's live heap is small (10-30 MB), while it moves shard bytes through short-lived
 * Buffers all the time. With V8's own factor (1.1-2x at that allocation rate) the room left below
 * the limit stays smaller than the young generation, so V8 keeps starting incremental marking:
 * measured on a storage node, 128 full collections while it wrote 3,000 and read 1,500 shards of
 * 171 KiB, and 1.36 ms of user CPU per shard write. At 300 it was 16 full collections and
 * 0.77 ms; shard reads went from 1.07 to 0.47 ms. `--heap-growing-percent` replaces V8's dynamic
 * factor; the heap still never exceeds `--max-old-space-size`, near which V8 collects as before.
 */
export const serverHeapGrowingPercent = 300;

const heapGrowingFlag = /^--heap[-_]growing[-_]percent(=|$)/;

/**
 * The V8 flag a server process should set, or undefined when the operator already chose a value
 * on the node command line (`node --heap-growing-percent=N main.js`), which then stands.
 */
export function serverHeapFlag(execArgv: readonly string[], growingPercent = serverHeapGrowingPercent): string | undefined {
  if (execArgv.some((arg) => heapGrowingFlag.test(arg))) return undefined;
  return `--heap-growing-percent=${growingPercent}`;
}

/**
 * Applies `serverHeapFlag` to this process. Called first thing by each server's composition root
 * (`main.ts`); V8 reads the factor at every full collection, so setting it at startup is enough.
 */
export function configureServerHeap(options: { execArgv?: readonly string[]; growingPercent?: number } = {}): void {
  const flag = serverHeapFlag(options.execArgv ?? process.execArgv, options.growingPercent);
  if (flag !== undefined) setFlagsFromString(flag);
}

/**
 * libuv's thread pool size for a server process, unless UV_THREADPOOL_SIZE is already set.
 *
 * Why: the pool (4 threads by default) runs both file I/O and getaddrinfo. A peer whose name no
 * longer resolves can hold a thread for the resolver's whole timeout (20 s for a stopped
 * docker-compose container, whose name Docker's DNS forwards to an unreachable upstream), and
 * grpc-js reconnects and shard connections to a few such peers were seen to fill the pool: a
 * gateway's connection to a healthy node then waited behind them and timed out, turning a
 * one-node outage into slow, doubly degraded reads. The threads are idle otherwise; their stacks
 * are reserved, not resident.
 */
export const serverThreadPoolSize = 32;

/**
 * Sets UV_THREADPOOL_SIZE in `env` (each server's `main()` passes `process.env` first thing: the
 * pool reads the variable when its first task is queued, so this must precede any asynchronous I/O).
 */
export function configureServerThreadPool(env: NodeJS.ProcessEnv): void {
  if (env.UV_THREADPOOL_SIZE === undefined || env.UV_THREADPOOL_SIZE === '') env.UV_THREADPOOL_SIZE = String(serverThreadPoolSize);
}

/**
 * How often prom-client's event-loop lag monitor samples a server's event loop, in ms (its
 * `eventLoopMonitoringPrecision`). The 10 ms default wakes each process 100 times a second.
 * Measured on this 2-core machine: a bare Node process with prom-client's default metrics spent
 * 9.4 ms of CPU per second idle, 3.3 ms at 50 ms; in an idle local cluster (`tessera start`) a
 * storage node went from about 5 to 3.5 ms/s. Each sample still records how late the loop was, to
 * the nanosecond; 20 samples a second still show stalls.
 */
export const eventLoopLagSampleIntervalMs = 50;

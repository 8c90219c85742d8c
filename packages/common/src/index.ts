/**
 * @packageDocumentation
 * Primitives shared by every Tessera package. Pure: no file system, network, timers or metrics.
 * The one exception, `configureServerHeap`, sets a V8 flag; only servers' `main.ts` call it.
 *
 * ```ts
 * import { assert, shardIndex, systemClock } from '@tessera/common';
 * assert(index < shardCount, 'shard index within the stripe');
 * ```
 */
export { AssertionError, assert, assertNever } from './assert';
export { forEachConcurrently } from './concurrency';
export type { Brand, LogIndex, ShardIndex, Term } from './branded';
export { logIndex, shardIndex, term } from './branded';
export type { Clock } from './clock';
export { ManualClock, systemClock } from './clock';
export type { Random } from './random';
export { SeededRandom, systemRandom } from './random';
export type { JsonLoggerOptions, LogFields, LogLevel, Logger } from './logger';
export { createJsonLogger, silentLogger } from './logger';
export type { Startable } from './lifecycle';
export { parseByteCount } from './byte-size';
export { checkHostPort, readJsonObjectFile } from './config-file';
export { configureServerHeap, configureServerThreadPool, eventLoopLagSampleIntervalMs, serverHeapFlag, serverHeapGrowingPercent, serverThreadPoolSize } from './server-heap';

/**
 * @packageDocumentation
 * The healing service of Tessera: rebuilds the shards of lost (down past a grace period) and
 * draining storage nodes elsewhere, repairs stripes queued by degraded reads, scrubs every
 * shard's checksums on its node at a bounded rate, respreads degraded stripes, and collects
 * shards no record maps to their node.
 *
 * ```ts
 * import { startHealer, healerDefaults } from '@tessera/healer';
 * const running = await startHealer({
 *   ...healerDefaults, metadataAddresses: ['127.0.0.1:7001'], workerId: 'healer-1', adminListen: '127.0.0.1:0',
 * });
 * // GET  http://<running.adminAddress>/admin/status, /metrics
 * // POST http://<running.adminAddress>/admin/heal {"rateBytesPerSecond": 209715200}
 * await running.stop();
 * ```
 */
export type { HealerComponents, HealerStatus, HealRoundReport } from './healer';
export { Healer, abortStaleUploads } from './healer';
export { applyLifecycle, currentVersionExpired, versionsToRemove } from './lifecycle';
export type { KeyVersion, LifecycleSweepResult } from './lifecycle';
export type { HealerOptions } from './healer-options';
export { healerDefaults, validateHealerOptions } from './healer-options';
export type { HealerMetrics } from './metrics';
export { createHealerMetrics } from './metrics';
export { RateLimiter } from './rate-limiter';
export type { RebuildOutcome, StripeTask } from './stripe-rebuilder';
export { StripeRebuilder, planMoves, shardSizeBytesOf } from './stripe-rebuilder';
export type { RunningHealer } from './start-healer';
export { startHealer } from './start-healer';
export { AdminServer } from './admin-server';

import { assert } from '@tessera/common';

/** Tunables of one healer process. Every duration carries its unit; every rate is bytes/s. */
export interface HealerOptions {
  /** Metadata node addresses (host:port). */
  readonly metadataAddresses: readonly string[];
  /** Names this healer in queue leases. */
  readonly workerId: string;
  /** A storage node `down` for this long has its shards rebuilt elsewhere (issue 7: 10 min). */
  readonly nodeLossGraceMs: number;
  /** Pause between healing rounds (node-loss scan + repair-queue claim). */
  readonly healIntervalMs: number;
  /** Rebuild throttle: reconstructed bytes written per second, all targets together. */
  readonly rebuildRateBytesPerSecond: number;
  /** Stripes rebuilt at the same time. */
  readonly rebuildConcurrency: number;
  /** Shard bytes read per source per window (rounded down to whole shard blocks, at least one). */
  readonly rebuildWindowBytes: number;
  /** Lease on a claimed repair-queue item; longer than a stripe rebuild takes. */
  readonly queueLeaseMs: number;
  /**
   * A queued repair whose rebuild failed (a target node not taking the write, too few shards
   * readable for now) is tried again after this long, within its lease, instead of after it.
   */
  readonly repairRetryDelayMs: number;
  /** Scrubber verify rate (shard bytes per second); raised if needed to meet the period. */
  readonly scrubRateBytesPerSecond: number;
  /** Every shard is verified at least once per period (issue 7: 7 days). */
  readonly scrubPeriodMs: number;
  /** 0 disables the scrubber. */
  readonly scrubEnabled: boolean;
  /** Pause between orphan-collection rounds; 0 disables it. */
  readonly orphanScanIntervalMs: number;
  /** A shard no record maps to its node is deleted only once its file is older than this. */
  readonly orphanSafetyDelayMs: number;
  /** Per storage-node call deadline (unary). */
  readonly storageCallTimeoutMs: number;
  /**
   * A multipart upload initiated this long ago and neither completed nor aborted is aborted, and
   * its parts' shards collected (an abandoned upload otherwise holds its parts' disk space
   * forever); 0 disables it.
   */
  readonly staleUploadExpiryMs: number;
  /** Pause between stale-upload sweeps. */
  readonly staleUploadScanIntervalMs: number;
  /** Pause between sweeps applying buckets' S3 lifecycle rules (lifecycle.ts); 0 disables them. */
  readonly lifecycleScanIntervalMs: number;
  /**
   * How long a lifecycle "day" is: 24 h (due times rounded up to midnight UTC, as S3 does).
   * Shorter for tests and trials, like RGW's lc debug interval.
   */
  readonly lifecycleDayMs: number;
}

export const healerDefaults = {
  nodeLossGraceMs: 10 * 60_000,
  healIntervalMs: 5_000,
  rebuildRateBytesPerSecond: 100 * 1024 * 1024,
  rebuildConcurrency: 2,
  rebuildWindowBytes: 1024 * 1024,
  queueLeaseMs: 5 * 60_000,
  repairRetryDelayMs: 10_000,
  scrubRateBytesPerSecond: 20 * 1024 * 1024,
  scrubPeriodMs: 7 * 24 * 3600_000,
  scrubEnabled: true,
  orphanScanIntervalMs: 10 * 60_000,
  // Longer than the metadata service's stale-write abort (1 h): a part written before its
  // RegisterPart, or a write in progress, is never collected under it.
  orphanSafetyDelayMs: 2 * 3600_000,
  storageCallTimeoutMs: 10_000,
  staleUploadExpiryMs: 7 * 24 * 3600_000,
  staleUploadScanIntervalMs: 3600_000,
  lifecycleScanIntervalMs: 3600_000,
  lifecycleDayMs: 86_400_000,
} as const satisfies Partial<HealerOptions>;

/** Relationships between the options, checked at startup. */
export function validateHealerOptions(options: HealerOptions): void {
  assert(options.metadataAddresses.length > 0, 'at least one metadata address');
  assert(options.workerId.length > 0, 'workerId required');
  assert(options.nodeLossGraceMs >= 0, 'nodeLossGraceMs >= 0');
  assert(options.healIntervalMs > 0, 'healIntervalMs > 0');
  assert(options.rebuildRateBytesPerSecond > 0, 'rebuildRateBytesPerSecond > 0');
  assert(Number.isInteger(options.rebuildConcurrency) && options.rebuildConcurrency >= 1, 'rebuildConcurrency >= 1');
  assert(options.rebuildWindowBytes >= 1, 'rebuildWindowBytes >= 1');
  assert(options.queueLeaseMs > 0, 'queueLeaseMs > 0');
  assert(options.repairRetryDelayMs >= 0 && options.repairRetryDelayMs < options.queueLeaseMs, 'repairRetryDelayMs in [0, queueLeaseMs)');
  assert(options.scrubRateBytesPerSecond > 0, 'scrubRateBytesPerSecond > 0');
  assert(options.scrubPeriodMs > 0, 'scrubPeriodMs > 0');
  assert(options.orphanScanIntervalMs >= 0, 'orphanScanIntervalMs >= 0');
  // A rebuild's new copies exist on their nodes before replaceShards maps them: the orphan
  // collector must not take them for garbage in between.
  assert(options.orphanSafetyDelayMs >= 1_000, 'orphanSafetyDelayMs >= 1 s');
  assert(options.staleUploadExpiryMs >= 0, 'staleUploadExpiryMs >= 0');
  assert(options.staleUploadScanIntervalMs > 0, 'staleUploadScanIntervalMs > 0');
  assert(options.lifecycleScanIntervalMs >= 0, 'lifecycleScanIntervalMs >= 0');
  assert(options.lifecycleDayMs >= 1, 'lifecycleDayMs >= 1');
}

/**
 * The two durability profiles. `short` runs every scenario in CI on every submission (small
 * objects, a few 6-12 MiB ones, short grace periods); `full` is `npm run test:durability`
 * (objects up to 100 MiB, longer workloads). Both use the same scenarios and checks.
 */
export type DurabilityProfileName = 'short' | 'full';

export interface DurabilityProfile {
  readonly name: DurabilityProfileName;
  /** Concurrent workload workers per scenario. */
  readonly workerCount: number;
  /** Upper bound on operations per worker in one workload phase; phases normally end when the scenario stops them, and are also bounded in time. */
  readonly opCountPerWorkerMax: number;
  readonly phaseDurationMsMax: number;
  /** Probability that a new object is a big one, and the big size range. */
  readonly bigObjectProbability: number;
  readonly bigObjectSizeBytesMin: number;
  readonly bigObjectSizeBytesMax: number;
  /** Big objects each workload writes first (so every scenario has some, multipart included). */
  readonly bigObjectsPerWorkloadCount: number;
  /** Objects at least this big go through @aws-sdk/lib-storage multipart. */
  readonly multipartThresholdBytes: number;
  /** Size of the objects uploaded while the gateway is killed (scenario 6). */
  readonly killedUploadSizeBytes: number;
  /** Bitrot scenario: how many shard files get a flipped byte. */
  readonly bitrotFileCount: number;
  /** How long a fault is held while the workload runs. */
  readonly faultHoldMs: number;
  /**
   * AZ outage: how long the zone stays down after the in-outage write/read probe. Longer than the
   * healer's node-loss grace plus a heal round, so the healer always rebuilds the zone's shards
   * during the outage, and the respread when the zone returns is always exercised.
   */
  readonly azOutageHoldMs: number;
  /**
   * Healer: shards no committed record names are deleted once older than this (the stray
   * shards of a write whose gateway died before its commit).
   */
  readonly orphanSafetyDelayMs: number;
  /** Bound on waiting for healing / GC to converge after a fault. */
  readonly healWaitMsMax: number;
  /** The heal wait also ends after this long without progress and with an empty healer backlog. */
  readonly healStallMs: number;
  /** Healer flags (packages/healer main): seconds instead of minutes/days so tests converge. */
  readonly healerArgs: readonly string[];
}

const mebibyte = 1024 * 1024;
const shortOrphanSafetyDelayMs = 20_000;
const fullOrphanSafetyDelayMs = 300_000;

export const shortProfile: DurabilityProfile = {
  name: 'short',
  workerCount: 2,
  opCountPerWorkerMax: 40,
  phaseDurationMsMax: 20_000,
  bigObjectProbability: 0.03,
  bigObjectSizeBytesMin: 6 * mebibyte,
  bigObjectSizeBytesMax: 12 * mebibyte,
  bigObjectsPerWorkloadCount: 1,
  multipartThresholdBytes: 8 * mebibyte,
  killedUploadSizeBytes: 12 * mebibyte,
  bitrotFileCount: 8,
  faultHoldMs: 4_000,
  azOutageHoldMs: 6_000,
  // Far longer than a healthy 12 MiB PUT takes from its first shard to its commit on a loaded
  // 2-core machine, so no shard of a write still in progress is ever taken for an orphan.
  orphanSafetyDelayMs: shortOrphanSafetyDelayMs,
  healWaitMsMax: 25_000,
  healStallMs: 10_000,
  healerArgs: [
    '--node-loss-grace-ms', '3000', '--heal-interval-ms', '1000', '--rebuild-concurrency', '2',
    '--scrub-rate-bytes-per-second', '104857600', '--scrub-period-ms', '10000',
    '--orphan-scan-interval-ms', '3000', '--orphan-safety-delay-ms', String(shortOrphanSafetyDelayMs),
  ],
};

export const fullProfile: DurabilityProfile = {
  name: 'full',
  workerCount: 4,
  opCountPerWorkerMax: 400,
  phaseDurationMsMax: 180_000,
  bigObjectProbability: 0.08,
  bigObjectSizeBytesMin: 6 * mebibyte,
  bigObjectSizeBytesMax: 100 * mebibyte,
  bigObjectsPerWorkloadCount: 1,
  multipartThresholdBytes: 8 * mebibyte,
  killedUploadSizeBytes: 100 * mebibyte,
  bitrotFileCount: 40,
  faultHoldMs: 15_000,
  azOutageHoldMs: 20_000,
  orphanSafetyDelayMs: fullOrphanSafetyDelayMs,
  healWaitMsMax: 240_000,
  healStallMs: 60_000,
  healerArgs: [
    '--node-loss-grace-ms', '10000', '--heal-interval-ms', '2000', '--rebuild-concurrency', '2',
    '--scrub-rate-bytes-per-second', '104857600', '--scrub-period-ms', '60000',
    '--orphan-scan-interval-ms', '10000', '--orphan-safety-delay-ms', String(fullOrphanSafetyDelayMs),
  ],
};

export function durabilityProfile(name: string | undefined): DurabilityProfile {
  if (name === undefined || name === '' || name === 'short') return shortProfile;
  if (name === 'full') return fullProfile;
  throw new Error(`TESSERA_DURABILITY_PROFILE must be short or full, got "${name}"`);
}

/**
 * The same profile for container mode: every fault and every look inside costs a `docker`
 * command (stop, start, exec) of a second or more on a loaded machine, so the heal bounds, which
 * are liveness bounds (how long to wait for the healer), are doubled. The data checks are
 * unchanged.
 */
export function forContainers(profile: DurabilityProfile): DurabilityProfile {
  return { ...profile, healWaitMsMax: profile.healWaitMsMax * 2, healStallMs: profile.healStallMs * 2 };
}

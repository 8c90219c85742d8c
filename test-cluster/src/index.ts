/**
 * @packageDocumentation
 * The failure-injection durability suite: a real local Tessera cluster, an S3 workload whose
 * every acknowledged write is recorded with its SHA-256, fault injectors, a Jepsen-style history
 * checker and the scenario runner that prints one line per scenario.
 *
 * ```ts
 * import { DurabilityCluster, durabilityProfile, runScenario, scenarioRunOrder, startHealerIfBuilt } from '@tessera/test-cluster';
 *
 * const profile = durabilityProfile('short');
 * const cluster = await DurabilityCluster.start(profile, { PATH: process.env['PATH'] });
 * const healer = await startHealerIfBuilt(cluster, profile.healerArgs); // absent: checks reported as awaiting it
 * try {
 *   for (const scenario of scenarioRunOrder) console.log((await runScenario(cluster, profile, scenario, 1, healer)).line);
 * } finally {
 *   await healer.stop();
 *   await cluster.stop();
 * }
 * ```
 */
export { durabilityProfile, fullProfile, shortProfile } from './profile';
export type { DurabilityProfile, DurabilityProfileName } from './profile';
export { History, nowMs } from './history';
export type { HistoryRecord, ListObservation, ListRecord, ReadObservation, ReadRecord, WriteOutcome, WriteRecord } from './history';
export { allowedWrites, checkHistory, checkList, checkRead } from './history-checker';
export type { CheckResult, Violation } from './history-checker';
export { createS3Client, S3Recorder, sha256Hex } from './s3-recorder';
export type { PutOptions, S3Target } from './s3-recorder';
export { pickObjectSizeBytes, randomBody, Workload } from './workload';
export type { WorkloadCounts, WorkloadOptions } from './workload';
export { corruptedBlockState, flipRandomDataByte, listShardFiles, listTempFiles, redundancyReport, unevenSpreadStripeIds } from './shard-files';
export type { FlippedByte, RedundancyReport, ShardFile } from './shard-files';
export { bucketName, DurabilityCluster, shardCount, sleep, waitFor } from './durability-cluster';
export type { MetadataNodeView } from './durability-cluster';
export { runScenario } from './scenario-runner';
export type { Scenario, ScenarioContext, ScenarioResult } from './scenario-runner';
export { scenarioRunOrder, scenarios } from './scenarios';
export { healerMainPath, startHealerIfBuilt } from './healer-integration';
export type { HealerProcess, HealerStatusView } from './healer-integration';
export { killEverything, killProcess, pauseProcess, resumeProcess, startProcess, startStorageNodeWithCapacity, stopProcess, wipeDataDir } from './fault-injectors';
export type { ManualStorageNode } from './fault-injectors';
export { summaryTable } from './summary-table';
export { placementReport } from './placement-check';
export type { PlacementReport } from './placement-check';

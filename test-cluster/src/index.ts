/**
 * @packageDocumentation
 * The failure-injection durability suite: a real Tessera cluster (local processes in a network
 * namespace of its own, or Docker containers of the project image), an S3 workload whose
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
 *
 * // The same scenarios against Docker containers of the project image:
 * const containers = await ContainerCluster.start(forContainers(profile), { repoRoot, buildEnv: process.env });
 * console.log((await runScenario(containers, profile, scenarioRunOrder[4], 1, containers.healer())).line);
 * await containers.stop();
 * ```
 */
export { durabilityProfile, forContainers, fullProfile, shortProfile } from './profile';
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
export type { DurabilityClusterOptions, PartitionMethod } from './durability-cluster';
export type { ClusterHandle, ClusterMode, MetadataNodeView, NetworkPartitioner, StorageNodeInfo } from './cluster-handle';
export { ContainerCluster, docker, dockerUnavailableReason } from './container-cluster';
export type { ContainerClusterOptions } from './container-cluster';
export { ObserverSession } from './container-observer';
export { NetworkNamespace, observerSourceAddress } from './network-namespace';
export type { IsolatedProcess, NetworkNamespaceResult } from './network-namespace';
export { LoopbackForwarder } from './loopback-forwarder';
export { runScenario } from './scenario-runner';
export type { Scenario, ScenarioContext, ScenarioResult } from './scenario-runner';
export { scenarioRunOrder, scenarios } from './scenarios';
export { healerMainPath, parseHealerStatus, startHealerIfBuilt } from './healer-integration';
export type { HealerProcess, HealerStatusView } from './healer-integration';
export { killEverything, killProcess, pauseProcess, resumeProcess, startProcess, startStorageNodeWithCapacity, stopProcess, wipeDataDir } from './fault-injectors';
export { containerScenarioNamesCi } from './scenarios';
export type { ManualStorageNode } from './fault-injectors';
export { summaryTable } from './summary-table';
export { acquireSuiteLock } from './suite-lock';
export type { SuiteLock } from './suite-lock';
export { placementReport } from './placement-check';
export type { PlacementReport } from './placement-check';

/**
 * What a scenario and the runner need from the cluster under test, whichever way it runs: as
 * local child processes (`DurabilityCluster`, durability-cluster.ts) or as Docker containers
 * (`ContainerCluster`, container-cluster.ts). Process names are the same in both modes
 * (`meta-1..3`, `storage-az-{a,b,c}-{1,2,3}`, `gateway`), and each storage node's data
 * directory is a directory on this machine (a bind mount in container mode), so the disk-level
 * fault injectors and checks (bitrot, lost disk, shard files vs placement) work unchanged.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { History } from './history';
import type { PlacementReport } from './placement-check';
import type { S3Recorder } from './s3-recorder';

export type ClusterMode = 'local' | 'containers';

export interface StorageNodeInfo {
  readonly name: string;
  readonly zone: string | undefined;
  /** On this machine (a bind-mounted volume in container mode). */
  readonly dataDir: string | undefined;
}

export interface MetadataNodeView {
  readonly name: string;
  readonly role: string;
  readonly term: number;
  readonly leaderId: string;
}

/**
 * Cuts one metadata node off from every other cluster process, both directions, and heals. In
 * both modes the test can still ask the isolated node for its role while it is cut off (to see
 * it step down by check-quorum): through the exempt observer address in the namespace, through
 * `docker exec` in its container.
 */
export interface NetworkPartitioner {
  /** One line for the verdict notes: how the partition is made. */
  readonly description: string;
  isolate(processName: string): Promise<void>;
  heal(): Promise<void>;
}

export interface ClusterHandle {
  readonly mode: ClusterMode;
  readonly history: History;
  readonly recorder: S3Recorder;
  readonly s3: S3Client;
  /** A real network partition, or the reason there is none (scenario 5 then uses SIGSTOP). */
  readonly partitioner: NetworkPartitioner | { readonly unavailableReason: string };

  storageNodes(): readonly StorageNodeInfo[];
  metadataNodeNames(): readonly string[];
  processNames(): readonly string[];
  /** Names of every process of a zone (its storage nodes and its metadata node). */
  zoneProcessNames(zone: string): readonly string[];

  /** kill -9; the process is started again on its own (local supervisor; the suite in container mode). */
  killProcess(name: string): Promise<void>;
  /** kill -9 of every process at once, then each is started again. */
  killEverything(): Promise<void>;
  /** Graceful stop; stays down until `startProcess`. */
  stopProcess(name: string): Promise<void>;
  startProcess(name: string): Promise<void>;
  /** Freezes / resumes a process (SIGSTOP / SIGCONT; docker pause in container mode). */
  pauseProcess(name: string): Promise<void>;
  resumeProcess(name: string): Promise<void>;
  /** Deletes a stopped storage node's whole data directory (the disk is lost for good). */
  wipeDisk(name: string): void;

  /** Resolves when every running process answers /health/ready. */
  waitReady(timeoutMs: number): Promise<void>;
  /** Starts every stopped process, then waits until all are ready and a leader is known. */
  restoreAll(timeoutMs: number): Promise<void>;
  /** GetClusterStatus of every running metadata node except `skipNames`; unanswered ones are left out. */
  metadataViews(skipNames?: ReadonlySet<string>): Promise<MetadataNodeView[]>;
  /** Metadata placement checked against the disks (placement-check.ts). */
  placementReport(): Promise<PlacementReport>;
  stop(keepDataDir?: boolean): Promise<void>;
}

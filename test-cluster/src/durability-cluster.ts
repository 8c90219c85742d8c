/**
 * One real Tessera cluster for the durability suite: LocalCluster (3 metadata nodes, 9 storage
 * nodes over 3 AZs, the gateway) as child processes on probed free loopback ports in a temp data
 * dir, with short liveness and GC timings, plus the S3 client, the history, and helpers to bring
 * every process back between scenarios. `stop()` removes every process and the temp dir.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import { defaultClusterLayoutOptions, generateRootCredentials, LocalCluster } from '@tessera/local-cluster';
import type { LocalClusterOptions, PlannedProcess, RootCredentials } from '@tessera/local-cluster';
import { findFreePortBlock, MetadataClient } from '@tessera/rpc';
import { History } from './history';
import { placementReport } from './placement-check';
import type { PlacementReport } from './placement-check';
import type { DurabilityProfile } from './profile';
import { LoopbackForwarder } from './loopback-forwarder';
import { NetworkNamespace } from './network-namespace';
import { listShardFiles } from './shard-files';
import type { ClusterHandle, MetadataNodeView, NetworkPartitioner, StorageNodeInfo } from './cluster-handle';
import { createS3Client, S3Recorder } from './s3-recorder';

export const dataShardCount = 6;
export const parityShardCount = 3;
export const shardCount = dataShardCount + parityShardCount;
export const bucketName = 'durability';

/** Liveness and GC timings shortened so faults are detected and garbage collected in seconds. */
export const storageHeartbeatIntervalMs = 500;
export const suspectAfterMs = 1_500;
export const downAfterMs = 3_000;
export const gcIntervalMs = 1_000;

/** Ports probed free per cluster: every planned address lies in [base, base + portBlockCount). */
const portBlockCount = 40;
/** The healer's admin port, inside the probed block (so it is forwarded into the namespace too). */
const healerAdminPortOffset = 38;

/**
 * How scenario 5 partitions the metadata leader: `netns` (the cluster runs in a network
 * namespace of its own and iptables isolates the leader) or `sigstop` (fallback when no
 * namespace can be created, or when asked for with TESSERA_DURABILITY_PARTITION=sigstop).
 */
export type PartitionMethod =
  | { readonly kind: 'netns'; readonly namespace: NetworkNamespace }
  | { readonly kind: 'sigstop'; readonly reason: string };

export interface DurabilityClusterOptions {
  /** 'auto': a network namespace when possible, else SIGSTOP; 'sigstop': never a namespace. */
  readonly partition: 'auto' | 'sigstop';
}

export type { MetadataNodeView };

export class DurabilityCluster implements ClusterHandle {
  readonly mode = 'local' as const;
  readonly partitioner: NetworkPartitioner | { readonly unavailableReason: string };
  readonly history = new History();
  readonly recorder: S3Recorder;
  private readonly metadataClient: MetadataClient;
  /** Retries across metadata nodes (finds the leader) for placement reads. */
  private readonly placementClient: MetadataClient;

  private constructor(
    readonly cluster: LocalCluster,
    readonly options: LocalClusterOptions,
    readonly rootDir: string,
    readonly credentials: RootCredentials,
    readonly s3: S3Client,
    readonly partitionMethod: PartitionMethod,
    private readonly forwarder: LoopbackForwarder | undefined,
    /** The healer's admin (metrics) port, in the cluster's port block. */
    readonly healerAdminPort: number,
  ) {
    this.recorder = new S3Recorder(s3, bucketName, this.history);
    this.partitioner = partitionMethod.kind === 'netns' ? namespacePartitioner(partitionMethod.namespace, cluster) : { unavailableReason: partitionMethod.reason };
    this.metadataClient = new MetadataClient({ addresses: cluster.layout.metadataAddresses, callTimeoutMs: 1_000, attemptCountMax: 1 });
    this.placementClient = new MetadataClient({ addresses: cluster.layout.metadataAddresses, callTimeoutMs: 5_000, attemptCountMax: 6 });
  }

  /** Metadata placement checked against the disks (see placement-check.ts). */
  placementReport(): Promise<PlacementReport> {
    const files = this.storageNodes().flatMap((n) => listShardFiles(n.name, n.dataDir ?? ''));
    return placementReport(this.placementClient, this.storageNodes(), files);
  }

  /** The node binary cluster processes are started with (the namespace wrapper in netns mode). */
  get nodeExecPath(): string {
    return this.options.nodeExecPath;
  }

  static async start(profile: DurabilityProfile, baseEnv: Readonly<Record<string, string | undefined>>, clusterOptions: DurabilityClusterOptions = { partition: 'auto' }): Promise<DurabilityCluster> {
    const rootDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-durability-'));
    const partitionMethod = createPartitionMethod(rootDir, clusterOptions);
    if (partitionMethod.kind === 'netns') {
      // Metadata nodes run under uids of their own inside the namespace: they must be able to
      // reach their data dirs (mkdtemp makes the root 0700).
      fs.chmodSync(rootDir, 0o755);
    }
    const credentials = generateRootCredentials();
    const base = await findFreePortBlock('127.0.0.1', portBlockCount);
    const options: LocalClusterOptions = {
      ...defaultClusterLayoutOptions,
      dataDir: path.join(rootDir, 'cluster'),
      gatewayPort: base, metadataPortBase: base + 1, storagePortBase: base + 5, metricsPortBase: base + 15,
      region: 'us-east-1', rootCredentials: credentials, baseEnv, logLevel: 'info', healthCheckIntervalMs: 250,
      gatewayMode: 'required',
      nodeExecPath: partitionMethod.kind === 'netns' ? partitionMethod.namespace.nodeExecWrapperPath : process.execPath,
      restartPolicy: { restartBackoffMsBase: 200, restartBackoffMsMax: 2_000, stableAfterMs: 10_000, stopGraceMs: 5_000 },
      extraArgs: {
        metadata: ['--suspect-after-ms', String(suspectAfterMs), '--down-after-ms', String(downAfterMs)],
        storage: ['--heartbeat-interval-ms', String(storageHeartbeatIntervalMs)],
        gateway: ['--gc-interval-ms', String(gcIntervalMs), '--read-hedge-after-ms', '300', '--shutdown-grace-ms', '2000'],
      },
    };
    const cluster = new LocalCluster(options);
    let s3: S3Client | undefined;
    let forwarder: LoopbackForwarder | undefined;
    try {
      await cluster.start();
      if (partitionMethod.kind === 'netns') {
        const ports = Array.from({ length: portBlockCount }, (_unused, i) => base + i);
        forwarder = await LoopbackForwarder.start(partitionMethod.namespace, rootDir, process.execPath, ports);
      }
      await cluster.waitReady(90_000);
      const client = createS3Client({ endpoint: cluster.layout.s3Endpoint, region: 'us-east-1', accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey, bucket: bucketName }, 120_000);
      s3 = client;
      // The gateway may answer /health/ready a moment before it can commit: retry, bounded.
      await retry(() => client.send(new CreateBucketCommand({ Bucket: bucketName })), 20, 500);
      return new DurabilityCluster(cluster, options, rootDir, credentials, client, partitionMethod, forwarder, base + healerAdminPortOffset);
    } catch (err) {
      s3?.destroy();
      await cluster.stop().catch(() => undefined);
      await forwarder?.stop();
      if (partitionMethod.kind === 'netns') partitionMethod.namespace.delete();
      fs.rmSync(rootDir, { recursive: true, force: true });
      throw err;
    }
  }

  storageNodes(): readonly PlannedProcess[] {
    return this.cluster.layout.storage;
  }

  metadataNodeNames(): readonly string[] {
    return this.cluster.layout.metadata.map((m) => m.name);
  }

  processNames(): readonly string[] {
    return this.cluster.processNames();
  }

  zoneProcessNames(zone: string): readonly string[] {
    const planned = [...this.cluster.layout.metadata, ...this.cluster.layout.storage];
    return planned.filter((p) => p.zone === zone).map((p) => p.name);
  }

  async killProcess(name: string): Promise<void> {
    // The supervisor sees a crash and restarts it after its backoff.
    this.cluster.process(name).kill('SIGKILL');
  }

  async killEverything(): Promise<void> {
    for (const name of this.cluster.processNames()) this.cluster.process(name).kill('SIGKILL');
  }

  async stopProcess(name: string): Promise<void> {
    await this.cluster.process(name).stop();
  }

  async startProcess(name: string): Promise<void> {
    this.cluster.process(name).start();
  }

  async pauseProcess(name: string): Promise<void> {
    this.cluster.process(name).kill('SIGSTOP');
  }

  async resumeProcess(name: string): Promise<void> {
    this.cluster.process(name).kill('SIGCONT');
  }

  wipeDisk(name: string): void {
    const node: StorageNodeInfo = this.storageNode(name);
    if (node.dataDir === undefined) throw new Error(`${name} has no data dir`);
    fs.rmSync(node.dataDir, { recursive: true, force: true });
    fs.mkdirSync(node.dataDir, { recursive: true });
  }

  waitReady(timeoutMs: number): Promise<void> {
    return this.cluster.waitReady(timeoutMs);
  }

  storageNode(name: string): PlannedProcess {
    const node = this.cluster.layout.storage.find((p) => p.name === name);
    if (node === undefined) throw new Error(`no storage node ${name}`);
    return node;
  }

  /**
   * GetClusterStatus of every running metadata node except `skipNames` (a frozen node would
   * only cost its call timeout); unanswered ones are left out.
   */
  async metadataViews(skipNames: ReadonlySet<string> = new Set()): Promise<MetadataNodeView[]> {
    const views = await Promise.all(this.cluster.layout.metadata.map(async (m) => {
      const proc = this.cluster.process(m.name);
      if (proc.state !== 'running' || skipNames.has(m.name)) return undefined;
      try {
        const s = await this.metadataClient.getClusterStatus(m.listenAddress);
        return { name: m.name, role: String(s.role), term: Number(s.term), leaderId: String(s.leaderId) };
      } catch {
        return undefined;
      }
    }));
    return views.filter((v): v is MetadataNodeView => v !== undefined);
  }

  /** Starts every stopped process, then waits until all are ready and a leader is known. */
  async restoreAll(timeoutMs: number): Promise<void> {
    for (const name of this.cluster.processNames()) {
      const proc = this.cluster.process(name);
      if (proc.state === 'stopped') proc.start();
    }
    await this.cluster.waitReady(timeoutMs);
    await waitFor(async () => ((await this.cluster.status()).metadata.leaderId === undefined ? undefined : true), timeoutMs, 'a metadata leader');
  }

  /** Stops every process; removes the temp dir unless `keepDataDir` (logs kept for a post-mortem). */
  async stop(keepDataDir = false): Promise<void> {
    this.s3.destroy();
    this.metadataClient.close();
    this.placementClient.close();
    try {
      await this.cluster.stop();
    } finally {
      await this.forwarder?.stop();
      if (this.partitionMethod.kind === 'netns') this.partitionMethod.namespace.delete();
    }
    if (!keepDataDir) fs.rmSync(this.rootDir, { recursive: true, force: true });
  }
}

/** iptables isolation inside the cluster's namespace: metadata node by its uid and gRPC port. */
function namespacePartitioner(namespace: NetworkNamespace, cluster: LocalCluster): NetworkPartitioner {
  return {
    description: `iptables in network namespace ${namespace.name} (the node's uid and gRPC port, both directions; observer exempt)`,
    isolate: async (processName) => {
      const planned = cluster.layout.metadata.find((m) => m.name === processName);
      const uid = NetworkNamespace.uidOf(processName);
      if (planned === undefined || uid === undefined) throw new Error(`${processName} is not a metadata node`);
      const port = Number(planned.listenAddress.slice(planned.listenAddress.lastIndexOf(':') + 1));
      namespace.isolate({ name: processName, uid, port });
    },
    heal: async () => namespace.heal(),
  };
}

function createPartitionMethod(rootDir: string, options: DurabilityClusterOptions): PartitionMethod {
  if (options.partition === 'sigstop') return { kind: 'sigstop', reason: 'TESSERA_DURABILITY_PARTITION=sigstop' };
  const result = NetworkNamespace.create(rootDir, process.execPath);
  return result.kind === 'created' ? { kind: 'netns', namespace: result.namespace } : { kind: 'sigstop', reason: result.reason };
}

export async function retry<T>(action: () => Promise<T>, attemptCountMax: number, delayMs: number): Promise<T> {
  let lastError: unknown;
  for (let attempt = 0; attempt < attemptCountMax; attempt++) {
    try {
      return await action();
    } catch (err) {
      lastError = err;
      await sleep(delayMs);
    }
  }
  throw lastError;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `probe` every 100 ms until it returns a value; throws after `timeoutMs`. */
export async function waitFor<T>(probe: () => Promise<T | undefined> | T | undefined, timeoutMs: number, what: string): Promise<T> {
  const deadlineMs = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadlineMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

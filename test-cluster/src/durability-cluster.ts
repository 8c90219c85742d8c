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
import { defaultClusterLayoutOptions, findFreePortBlock, generateRootCredentials, LocalCluster } from '@tessera/local-cluster';
import type { LocalClusterOptions, PlannedProcess, RootCredentials } from '@tessera/local-cluster';
import { MetadataClient } from '@tessera/rpc';
import { History } from './history';
import { placementReport } from './placement-check';
import type { PlacementReport } from './placement-check';
import type { DurabilityProfile } from './profile';
import { listShardFiles } from './shard-files';
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

export interface MetadataNodeView {
  readonly name: string;
  readonly role: string;
  readonly term: number;
  readonly leaderId: string;
}

export class DurabilityCluster {
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
  ) {
    this.recorder = new S3Recorder(s3, bucketName, this.history);
    this.metadataClient = new MetadataClient({ addresses: cluster.layout.metadataAddresses, callTimeoutMs: 1_000, attemptCountMax: 1 });
    this.placementClient = new MetadataClient({ addresses: cluster.layout.metadataAddresses, callTimeoutMs: 5_000, attemptCountMax: 6 });
  }

  /** Metadata placement checked against the disks (see placement-check.ts). */
  placementReport(): Promise<PlacementReport> {
    const files = this.storageNodes().flatMap((n) => listShardFiles(n.name, n.dataDir ?? ''));
    return placementReport(this.placementClient, this.storageNodes(), files);
  }

  static async start(profile: DurabilityProfile, baseEnv: Readonly<Record<string, string | undefined>>): Promise<DurabilityCluster> {
    const rootDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-durability-'));
    const credentials = generateRootCredentials();
    const base = await findFreePortBlock('127.0.0.1', 40);
    const options: LocalClusterOptions = {
      ...defaultClusterLayoutOptions,
      dataDir: path.join(rootDir, 'cluster'),
      gatewayPort: base, metadataPortBase: base + 1, storagePortBase: base + 5, metricsPortBase: base + 15,
      region: 'us-east-1', rootCredentials: credentials, baseEnv, logLevel: 'info', healthCheckIntervalMs: 250,
      gatewayMode: 'required', nodeExecPath: process.execPath,
      restartPolicy: { restartBackoffMsBase: 200, restartBackoffMsMax: 2_000, stableAfterMs: 10_000, stopGraceMs: 5_000 },
      extraArgs: {
        metadata: ['--suspect-after-ms', String(suspectAfterMs), '--down-after-ms', String(downAfterMs), '--stale-write-after-ms', String(profile.staleWriteAfterMs)],
        storage: ['--heartbeat-interval-ms', String(storageHeartbeatIntervalMs)],
        gateway: ['--gc-interval-ms', String(gcIntervalMs), '--read-hedge-after-ms', '300', '--shutdown-grace-ms', '2000'],
      },
    };
    const cluster = new LocalCluster(options);
    let s3: S3Client | undefined;
    try {
      await cluster.start();
      await cluster.waitReady(90_000);
      const client = createS3Client({ endpoint: cluster.layout.s3Endpoint, region: 'us-east-1', accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey, bucket: bucketName }, 120_000);
      s3 = client;
      // The gateway may answer /health/ready a moment before it can commit: retry, bounded.
      await retry(() => client.send(new CreateBucketCommand({ Bucket: bucketName })), 20, 500);
      return new DurabilityCluster(cluster, options, rootDir, credentials, client);
    } catch (err) {
      s3?.destroy();
      await cluster.stop().catch(() => undefined);
      fs.rmSync(rootDir, { recursive: true, force: true });
      throw err;
    }
  }

  storageNodes(): readonly PlannedProcess[] {
    return this.cluster.layout.storage;
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
    await this.cluster.stop();
    if (!keepDataDir) fs.rmSync(this.rootDir, { recursive: true, force: true });
  }
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

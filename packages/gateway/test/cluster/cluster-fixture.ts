/**
 * A real Tessera cluster for end-to-end tests, all on loopback in this process: 3 metadata
 * nodes (Raft + LevelDB in temp dirs), 9 storage nodes in az-a/az-b/az-c (each registering and
 * heartbeating with the metadata service through the storage node's MetadataHeartbeat), and the
 * real gateway from startGateway. Nodes can be stopped and restarted on their old address to
 * inject failures. Test code only.
 */
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { SeededRandom, silentLogger, systemClock } from '@tessera/common';
import { defaultMetadataNodeTiming, startMetadataNode } from '@tessera/metadata';
import type { RunningMetadataNode } from '@tessera/metadata';
import { findFreePortBlock, MetadataClient } from '@tessera/rpc';
import { MetadataHeartbeat, StorageNodeServer, parseShardFileName, shardsDirName, tmpDirName } from '@tessera/storage-node';
import { dataPathOptions } from '../../src/cluster/data-path-options';
import type { DataPathOptions } from '../../src/cluster/data-path-options';
import { startGateway } from '../../src/cluster/gateway-process';
import { DelayProxy } from './delay-proxy';
import { MetadataFaultProxy } from './metadata-fault-proxy';
import type { RunningGateway } from '../../src/cluster/gateway-process';

export const clusterAccessKeyId = 'TESSERACLUSTERTEST01';
export const clusterSecretAccessKey = 'cluster/test/secret+key/0123456789';

export interface StorageNodeHandle {
  readonly nodeId: string;
  readonly zone: string;
  readonly dataDir: string;
  address: string;
  server: StorageNodeServer | undefined;
  heartbeat: MetadataHeartbeat | undefined;
  /** For the nodes given in TestClusterOptions.slowableNodeIds: clients reach them through this. */
  proxy: DelayProxy | undefined;
}

export interface TestCluster {
  readonly rootDir: string;
  readonly metadataAddresses: readonly string[];
  readonly metadata: MetadataClient;
  readonly storageNodes: readonly StorageNodeHandle[];
  readonly gateway: RunningGateway;
  /** With TestClusterOptions.metadataFaultProxy: the gateway reaches the metadata group only through it. */
  readonly metadataProxy: MetadataFaultProxy | undefined;
  readonly s3: S3Client;
  stopStorageNode(nodeId: string): Promise<void>;
  startStorageNode(nodeId: string): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A free loopback port for a server that must be named before it starts. It comes from below
 * the kernel's ephemeral range: a port from `listen(0)` lies inside it, where an outgoing
 * connection of a test running alongside can take it before the server binds it.
 */
export async function reservePort(): Promise<number> {
  return findFreePortBlock('127.0.0.1', 1);
}

/** Every file on the storage nodes' disks: committed shard files (by stripe id) and temp files. */
export interface ShardFilesOnDisk {
  /** One entry per committed shard file: the stripe (objectVersionId) it belongs to. */
  readonly stripeIds: readonly string[];
  /** Writes in progress (or not yet cleaned up) in the nodes' tmp directories. */
  readonly tempFileCount: number;
}

export async function shardFilesOnDisk(cluster: Pick<TestCluster, 'storageNodes'>): Promise<ShardFilesOnDisk> {
  const stripeIds: string[] = [];
  let tempFileCount = 0;
  for (const node of cluster.storageNodes) {
    const shardsDir = path.join(node.dataDir, shardsDirName);
    const entries = await fs.readdir(shardsDir, { recursive: true, withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      const shardId = entry.isFile() ? parseShardFileName(entry.name) : undefined;
      if (shardId !== undefined) stripeIds.push(shardId.objectVersionId);
    }
    tempFileCount += (await fs.readdir(path.join(node.dataDir, tmpDirName)).catch(() => [])).length;
  }
  return { stripeIds, tempFileCount };
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadlineMs = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadlineMs) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting for ${what}${lastError === undefined ? '' : `: ${String(lastError)}`}`);
}

/**
 * Raft peers must know each other's addresses before they start, so their ports are picked free
 * beforehand (reservePort). Another test can still take one before the node binds it (tests run
 * in parallel), so a group that fails to bind is started again on fresh ports.
 */
async function startMetadataGroup(rootDir: string, partSizeBytesMin: number): Promise<{ nodes: RunningMetadataNode[]; addresses: string[] }> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await startMetadataGroupOnce(path.join(rootDir, `attempt-${attempt}`), partSizeBytesMin);
    } catch (error) {
      if (attempt >= 3) throw error;
    }
  }
}

async function startMetadataGroupOnce(rootDir: string, partSizeBytesMin: number): Promise<{ nodes: RunningMetadataNode[]; addresses: string[] }> {
  const ids = ['meta-1', 'meta-2', 'meta-3'];
  const addresses: string[] = [];
  for (let i = 0; i < ids.length; i += 1) addresses.push(`127.0.0.1:${await reservePort()}`);
  const peers = new Map(ids.map((id, i) => [id, addresses[i]!]));
  const settled = await Promise.allSettled(
    ids.map(async (nodeId, i) => {
      const dataDir = path.join(rootDir, nodeId);
      await fs.mkdir(dataDir, { recursive: true });
      return startMetadataNode(
        {
          ...defaultMetadataNodeTiming,
          nodeId,
          listenAddress: addresses[i]!,
          peers,
          dataDir,
          metricsListenAddress: undefined,
          tickIntervalMs: 50,
          catalogue: { partSizeBytesMin },
          join: false,
        },
        { clock: systemClock, random: new SeededRandom(100 + i), logger: silentLogger },
      );
    }),
  );
  const nodes = settled.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const failure = settled.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failure !== undefined) {
    // Leave nothing running when one node cannot start (jest must exit cleanly).
    await Promise.all(nodes.map((node) => node.stop()));
    throw failure.reason;
  }
  return { nodes, addresses };
}

async function runStorageNode(handle: StorageNodeHandle, metadataAddresses: readonly string[]): Promise<void> {
  const server = new StorageNodeServer({ nodeId: handle.nodeId, zone: handle.zone, dataDir: handle.dataDir, listen: handle.address, logger: silentLogger });
  await server.start();
  handle.server = server;
  handle.address = server.grpcAddress;
  const advertiseAddress = handle.proxy?.address ?? server.grpcAddress;
  const heartbeat = new MetadataHeartbeat(
    { nodeId: handle.nodeId, zone: handle.zone, advertiseAddress, metadataAddresses, heartbeatIntervalMs: 1_000 },
    { usage: () => server.store.usage(), logger: silentLogger },
  );
  await heartbeat.start();
  handle.heartbeat = heartbeat;
}

export interface TestClusterOptions {
  readonly dataPath?: Partial<DataPathOptions>;
  /** The metadata service's minimum part size (S3: 5 MiB, which the gateway also enforces). */
  readonly partSizeBytesMin?: number;
  /** These nodes are reached through a DelayProxy each (advertised to the metadata service). */
  readonly slowableNodeIds?: readonly string[];
  /** Put a MetadataFaultProxy between the gateway and the metadata group. */
  readonly metadataFaultProxy?: boolean;
}

export async function startTestCluster(options: TestClusterOptions = {}): Promise<TestCluster> {
  const rootDir = await fs.mkdtemp(path.join(os.tmpdir(), 'tessera-gw-cluster-'));
  let group: Awaited<ReturnType<typeof startMetadataGroup>>;
  try {
    group = await startMetadataGroup(rootDir, options.partSizeBytesMin ?? 5 * 1024 * 1024);
  } catch (error) {
    await fs.rm(rootDir, { recursive: true, force: true });
    throw error;
  }
  const metadata = new MetadataClient({ addresses: group.addresses });
  const storageNodes: StorageNodeHandle[] = [];
  for (const zone of ['az-a', 'az-b', 'az-c']) {
    for (let n = 1; n <= 3; n += 1) {
      const nodeId = `${zone}-n${n}`;
      storageNodes.push({ nodeId, zone, dataDir: path.join(rootDir, nodeId), address: `127.0.0.1:${await reservePort()}`, server: undefined, heartbeat: undefined, proxy: undefined });
    }
  }
  const handleOf = (nodeId: string): StorageNodeHandle => {
    const handle = storageNodes.find((h) => h.nodeId === nodeId);
    if (handle === undefined) throw new Error(`no storage node ${nodeId}`);
    return handle;
  };
  const stopStorageNode = async (nodeId: string): Promise<void> => {
    const handle = handleOf(nodeId);
    await handle.heartbeat?.stop();
    await handle.server?.stop();
    handle.heartbeat = undefined;
    handle.server = undefined;
  };
  let metadataProxy: MetadataFaultProxy | undefined;
  const stopEverything = async (): Promise<void> => {
    await Promise.all(storageNodes.map((h) => stopStorageNode(h.nodeId)));
    await Promise.all(storageNodes.map((h) => h.proxy?.stop()));
    await metadataProxy?.stop();
    metadata.close();
    await Promise.all(group.nodes.map((node) => node.stop()));
    await fs.rm(rootDir, { recursive: true, force: true });
  };
  let gateway: RunningGateway;
  try {
    if (options.metadataFaultProxy === true) metadataProxy = await MetadataFaultProxy.start(group.addresses);
    for (const handle of storageNodes) {
      // The proxy needs the node's port before the node starts, so that node gets a reserved one;
      // the others bind port 0 and keep the port they got across restarts.
      if (options.slowableNodeIds?.includes(handle.nodeId) === true) handle.proxy = await DelayProxy.start('127.0.0.1', Number(handle.address.split(':')[1]));
    }
    await Promise.all(storageNodes.map((handle) => runStorageNode(handle, group.addresses)));
    await waitFor('9 storage nodes up', async () => ((await metadata.listNodes()).filter((n) => n.state === 'up').length === 9 ? true : undefined));
    gateway = await startGateway(
      {
        listenHost: '127.0.0.1',
        listenPort: 0,
        metricsListen: undefined,
        metadataAddresses: metadataProxy === undefined ? group.addresses : [metadataProxy.address],
        region: 'us-east-1',
        virtualHostBaseDomains: ['s3.localhost'],
        rootAccessKeyId: clusterAccessKeyId,
        rootSecretAccessKey: clusterSecretAccessKey,
        dataPath: dataPathOptions({ readHedgeAfterMs: 300, ...options.dataPath }),
        shutdownGraceMs: 1_000,
        requestTimeoutMs: 120_000,
        keepAliveTimeoutMs: 65_000,
        // Tests run collection rounds themselves (gateway.collector.collectOnce()).
        gcIntervalMs: 0,
        logLevel: 'warn',
      },
      { clock: systemClock, logger: silentLogger },
    );
  } catch (error) {
    // Leave nothing running when the cluster cannot start (jest must exit cleanly).
    await stopEverything();
    throw error;
  }
  const s3 = new S3Client({
    endpoint: gateway.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: clusterAccessKeyId, secretAccessKey: clusterSecretAccessKey },
    // A 503 must reach the test as an error, not be retried for seconds.
    maxAttempts: 1,
  });
  return {
    rootDir,
    metadataAddresses: group.addresses,
    metadata,
    storageNodes,
    gateway,
    metadataProxy,
    s3,
    stopStorageNode,
    startStorageNode: (nodeId) => runStorageNode(handleOf(nodeId), group.addresses),
    stop: async () => {
      s3.destroy();
      await gateway.stop(0);
      await stopEverything();
    },
  };
}

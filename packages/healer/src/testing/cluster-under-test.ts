/**
 * A real cluster for healer tests, in this process: 3 metadata nodes (Raft + LevelDB in temp
 * dirs, fast liveness: suspect after 1.5 s, down after 2.5 s), 9 storage nodes in az-a/az-b/az-c
 * (StorageNodeServer + the storage node's own MetadataHeartbeat), and a writer/reader that
 * stores objects exactly like the gateway's data path (README-data-path "Layout"): BeginWrite,
 * blocks split into k data shards + m parity shards, shard `i` of every block appended to
 * file `<stripeId>.<i>` on `shardNodeIds[i]` with per-block xxh3-64, then CommitVersion.
 * Test and benchmark code only (not exported from the package).
 */
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { SeededRandom, silentLogger, systemClock } from '@tessera/common';
import { ReedSolomon, joinDataShards, splitBlockIntoDataShards } from '@tessera/erasure';
import { defaultMetadataNodeTiming, startMetadataNode } from '@tessera/metadata';
import type { RunningMetadataNode } from '@tessera/metadata';
import type { Stripe__Output } from '@tessera/proto/generated/tessera/metadata/v1/Stripe';
import { findFreePortBlock, MetadataClient, StorageNodeClient } from '@tessera/rpc';
import { MetadataHeartbeat, StorageNodeServer } from '@tessera/storage-node';

export interface ClusterShape {
  readonly dataShardCount: number;
  readonly parityShardCount: number;
  readonly blockSizeBytes: number;
}

export const testShape: ClusterShape = { dataShardCount: 4, parityShardCount: 2, blockSizeBytes: 64 * 1024 };

export interface StorageNodeHandle {
  readonly nodeId: string;
  readonly zone: string;
  readonly dataDir: string;
  address: string;
  server: StorageNodeServer | undefined;
  heartbeat: MetadataHeartbeat | undefined;
}

export interface HealerTestCluster {
  readonly rootDir: string;
  readonly metadataAddresses: string[];
  readonly metadata: MetadataClient;
  readonly storageNodes: StorageNodeHandle[];
  handle(nodeId: string): StorageNodeHandle;
  stopStorageNode(nodeId: string): Promise<void>;
  startStorageNode(nodeId: string): Promise<void>;
  client(nodeId: string): StorageNodeClient;
  putObject(bucket: string, key: string, body: Buffer): Promise<Stripe__Output>;
  /** Reads the object by decoding from its current placement: any k healthy shards. */
  readObject(bucket: string, key: string): Promise<Buffer>;
  stop(): Promise<void>;
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

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export async function startHealerTestCluster(shape: ClusterShape = testShape): Promise<HealerTestCluster> {
  const { dataShardCount, parityShardCount, blockSizeBytes } = shape;
  const rootDir = await fs.mkdtemp(path.join(os.tmpdir(), 'tessera-healer-'));
  const ids = ['meta-1', 'meta-2', 'meta-3'];
  // Every node's port is picked before anything starts (Raft peers name each other; a stopped
  // storage node restarts on its address). The block lies below the kernel's ephemeral range,
  // where no outgoing connection of a test running alongside can take a port before its bind.
  const portBase = await findFreePortBlock('127.0.0.1', ids.length + 9);
  const metadataAddresses = ids.map((_, i) => `127.0.0.1:${portBase + i}`);
  const peers = new Map(ids.map((id, i) => [id, metadataAddresses[i] ?? '']));
  const metadataNodes: RunningMetadataNode[] = await Promise.all(ids.map(async (nodeId, i) => {
    const dataDir = path.join(rootDir, nodeId);
    await fs.mkdir(dataDir, { recursive: true });
    return startMetadataNode({
      ...defaultMetadataNodeTiming, nodeId, listenAddress: metadataAddresses[i] ?? '', peers, dataDir, metricsListenAddress: undefined,
      tickIntervalMs: 50, catalogue: { partSizeBytesMin: 5 }, join: false,
      liveness: { ...defaultMetadataNodeTiming.liveness, suspectAfterMs: 1_500, downAfterMs: 2_500, checkIntervalMs: 200 },
    }, { clock: systemClock, random: new SeededRandom(200 + i), logger: silentLogger });
  }));
  const metadata = new MetadataClient({ addresses: metadataAddresses });
  const storageNodes: StorageNodeHandle[] = [];
  for (const zone of ['az-a', 'az-b', 'az-c']) {
    for (let n = 1; n <= 3; n++) {
      const nodeId = `${zone}-n${n}`;
      const port = portBase + ids.length + storageNodes.length;
      storageNodes.push({ nodeId, zone, dataDir: path.join(rootDir, nodeId), address: `127.0.0.1:${port}`, server: undefined, heartbeat: undefined });
    }
  }
  const clients = new Map<string, StorageNodeClient>();
  const handle = (nodeId: string): StorageNodeHandle => {
    const h = storageNodes.find((s) => s.nodeId === nodeId);
    if (h === undefined) throw new Error(`no storage node ${nodeId}`);
    return h;
  };
  const client = (nodeId: string): StorageNodeClient => {
    let c = clients.get(nodeId);
    if (c === undefined) {
      c = new StorageNodeClient({ address: handle(nodeId).address });
      clients.set(nodeId, c);
    }
    return c;
  };
  const run = async (h: StorageNodeHandle): Promise<void> => {
    const server = new StorageNodeServer({ nodeId: h.nodeId, zone: h.zone, dataDir: h.dataDir, listen: h.address, logger: silentLogger });
    await server.start();
    h.server = server;
    const heartbeat = new MetadataHeartbeat(
      { nodeId: h.nodeId, zone: h.zone, advertiseAddress: server.grpcAddress, metadataAddresses, heartbeatIntervalMs: 200 },
      { usage: () => server.store.usage(), logger: silentLogger },
    );
    await heartbeat.start();
    h.heartbeat = heartbeat;
  };
  const stopStorageNode = async (nodeId: string): Promise<void> => {
    const h = handle(nodeId);
    await h.heartbeat?.stop();
    await h.server?.stop();
    h.heartbeat = undefined;
    h.server = undefined;
  };
  await Promise.all(storageNodes.map(run));
  await waitFor('9 storage nodes up', async () => ((await metadata.listNodes()).filter((n) => n.state === 'up').length === 9 ? true : undefined));
  const codec = new ReedSolomon(dataShardCount, parityShardCount);

  const putObject = async (bucket: string, key: string, body: Buffer): Promise<Stripe__Output> => {
    const begun = await metadata.beginWrite({ bucket, key, dataShardCount, parityShardCount, blockSizeBytes });
    const stripe = begun.stripe;
    if (stripe === null) throw new Error('no stripe placed');
    const shardCount = dataShardCount + parityShardCount;
    const shardBlocks: Uint8Array[][] = Array.from({ length: shardCount }, () => []);
    for (let offset = 0; offset < body.length; offset += blockSizeBytes) {
      const block = body.subarray(offset, Math.min(body.length, offset + blockSizeBytes));
      const data = splitBlockIntoDataShards(block, dataShardCount).map((s) => Uint8Array.from(s));
      const parity = codec.encode(data);
      [...data, ...parity].forEach((shard, i) => shardBlocks[i]?.push(shard));
    }
    await Promise.all(stripe.shardNodeIds.map((nodeId, shardIndex) =>
      client(nodeId).writeShard({
        shardId: { objectVersionId: stripe.stripeId, shardIndex }, blockSizeBytes: Math.ceil(blockSizeBytes / dataShardCount),
        source: { kind: 'bytes', chunks: shardBlocks[shardIndex] ?? [] },
      })));
    const etag = createHash('md5').update(body).digest('hex');
    await metadata.commitVersion({
      writeId: begun.writeId, bucket, key, versionId: begun.versionId, sizeBytes: body.length, etag, checksums: {},
      contentType: 'application/octet-stream', systemMetadata: {}, userMetadata: {}, storageClass: 'STANDARD', stripe,
    });
    return stripe;
  };

  const readObject = async (bucket: string, key: string): Promise<Buffer> => {
    const version = await metadata.getObject({ bucket, key, versionId: '' });
    const stripe = version.stripe;
    if (stripe === null || stripe === undefined) throw new Error('not striped');
    const shards: (Uint8Array | undefined)[] = [];
    let present = 0;
    for (const [shardIndex, nodeId] of stripe.shardNodeIds.entries()) {
      if (present >= dataShardCount) {
        shards.push(undefined);
        continue;
      }
      try {
        shards.push(await client(nodeId).readShardToBuffer({ objectVersionId: stripe.stripeId, shardIndex }, { timeoutMs: 5_000 }));
        present++;
      } catch {
        shards.push(undefined);
      }
    }
    if (present < dataShardCount) throw new Error(`only ${present} shards readable`);
    const shardBlockBytes = Math.ceil(blockSizeBytes / dataShardCount);
    const out: Uint8Array[] = [];
    for (let offset = 0, shardOffset = 0; offset < version.sizeBytes; offset += blockSizeBytes, shardOffset += shardBlockBytes) {
      const blockBytes = Math.min(blockSizeBytes, version.sizeBytes - offset);
      const len = Math.ceil(blockBytes / dataShardCount);
      const slots = shards.map((s) => (s === undefined ? undefined : s.subarray(shardOffset, shardOffset + len)));
      const data = codec.reconstructData(slots);
      out.push(joinDataShards(data, blockBytes));
    }
    return Buffer.concat(out);
  };

  return {
    rootDir, metadataAddresses, metadata, storageNodes, handle, stopStorageNode, client, putObject, readObject,
    startStorageNode: (nodeId) => run(handle(nodeId)),
    stop: async () => {
      for (const c of clients.values()) c.close();
      await Promise.all(storageNodes.map((h) => stopStorageNode(h.nodeId)));
      metadata.close();
      await Promise.all(metadataNodes.map((node) => node.stop()));
      await fs.rm(rootDir, { recursive: true, force: true });
    },
  };
}

export function randomBody(sizeBytes: number): Buffer {
  return randomBytes(sizeBytes);
}

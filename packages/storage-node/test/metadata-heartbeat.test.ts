// A storage node announces itself to the metadata service and keeps its record fresh: it
// registers with its AZ, address and capacity, reports free space, and when its heartbeats stop
// the metadata leader marks it suspect. Real pieces: a one-node metadata group (Raft + LevelDB
// + gRPC) in process, a real storage node and the MetadataHeartbeat component between them.
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { SeededRandom, silentLogger, systemClock } from '@tessera/common';
import { defaultCatalogueOptions, defaultMetadataNodeTiming, startMetadataNode } from '@tessera/metadata';
import type { RunningMetadataNode } from '@tessera/metadata';
import { findFreePortBlock, MetadataClient } from '@tessera/rpc';
import { MetadataHeartbeat } from '../src/index';
import { chunksOf, randomShardBytes, shardIdOf, startNodeFixture, type NodeFixture } from './helpers';

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadlineMs = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadlineMs) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting for ${what}${lastError === undefined ? '' : `: ${String(lastError)}`}`);
}

describe('MetadataHeartbeat: storage node membership', () => {
  let metadataDir: string;
  let metadata: RunningMetadataNode;
  let metadataAddress: string;
  let storage: NodeFixture;
  let client: MetadataClient;

  beforeAll(async () => {
    metadataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'tessera-sn-meta-'));
    metadataAddress = `127.0.0.1:${await findFreePortBlock('127.0.0.1', 1)}`;
    metadata = await startMetadataNode(
      {
        ...defaultMetadataNodeTiming,
        nodeId: 'meta-1',
        listenAddress: metadataAddress,
        peers: new Map([['meta-1', metadataAddress]]),
        dataDir: metadataDir,
        metricsListenAddress: undefined,
        tickIntervalMs: 20,
        catalogue: defaultCatalogueOptions,
        join: false,
        liveness: { ...defaultMetadataNodeTiming.liveness, suspectAfterMs: 1_000, downAfterMs: 60_000, checkIntervalMs: 100, staleWriteAfterMs: 60_000 },
      },
      { clock: systemClock, random: new SeededRandom(1), logger: silentLogger },
    );
    client = new MetadataClient({ addresses: [metadataAddress], callTimeoutMs: 3_000 });
    storage = await startNodeFixture({ nodeId: 'storage-a1', zone: 'az-a', capacityBytes: 64 * 1024 * 1024 });
  });

  afterAll(async () => {
    client.close();
    await storage.close();
    await metadata.stop();
    await fs.rm(metadataDir, { recursive: true, force: true });
  });

  it('registers the node with its AZ, address and capacity, then marks it suspect when beats stop', async () => {
    const heartbeat = new MetadataHeartbeat(
      { nodeId: 'storage-a1', zone: 'az-a', advertiseAddress: storage.node.grpcAddress, metadataAddresses: [metadataAddress], heartbeatIntervalMs: 200 },
      { usage: () => storage.node.store.usage(), logger: silentLogger },
    );
    await heartbeat.start();
    const registered = await waitFor('the node to be registered and up', async () => {
      const nodes = await client.listNodes();
      return nodes.find((n) => n.nodeId === 'storage-a1' && n.state === 'up');
    });
    expect(registered.az).toBe('az-a');
    expect(registered.address).toBe(storage.node.grpcAddress);
    expect(Number(registered.capacityBytes)).toBe(64 * 1024 * 1024);
    expect(Number(registered.freeBytes)).toBeGreaterThan(0);
    expect(Number(registered.storedBytes)).toBe(0);
    expect(heartbeat.isRegistered).toBe(true);

    // The bytes of the node's shard files reach the catalogue with its next heartbeat (what
    // `tessera status` shows in its SHARDS column), and the free space shrinks by as much.
    await storage.client.writeShard({
      shardId: shardIdOf('reported'), blockSizeBytes: 64 * 1024,
      source: { kind: 'bytes', chunks: chunksOf(randomShardBytes(3 * 64 * 1024 + 17, 7), 100_000) },
    });
    const storedBytes = (await storage.node.store.usage()).usedBytes;
    expect(storedBytes).toBeGreaterThan(3 * 64 * 1024);
    const reported = await waitFor('the stored bytes in the catalogue', async () => {
      const node = (await client.listNodes()).find((n) => n.nodeId === 'storage-a1');
      return Number(node?.storedBytes) === storedBytes ? node : undefined;
    });
    expect(Number(reported.freeBytes)).toBeLessThanOrEqual(64 * 1024 * 1024 - storedBytes);

    // Heartbeats keep the record fresh for longer than the suspect timeout.
    const firstBeatMs = Number(registered.lastHeartbeatAtMs);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const fresh = (await client.listNodes()).find((n) => n.nodeId === 'storage-a1');
    expect(fresh?.state).toBe('up');
    expect(Number(fresh?.lastHeartbeatAtMs)).toBeGreaterThan(firstBeatMs);

    await heartbeat.stop();
    const suspect = await waitFor('the silent node to be marked suspect', async () => {
      const nodes = await client.listNodes();
      return nodes.find((n) => n.nodeId === 'storage-a1' && n.state === 'suspect');
    });
    expect(suspect.state).toBe('suspect');
  });
});

import { createServer } from 'node:http';
import type { Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import type { Clock, Logger, Random } from '@tessera/common';
import { loadProto } from '@tessera/proto';
import { MetadataClient, metadataMessageSizeBytesMax } from '@tessera/rpc';
import type { ProtoGrpcType as MetadataProto } from '@tessera/proto/generated/metadata';
import { Registry } from 'prom-client';
import type { CatalogueOptions } from './catalogue-state-machine';
import { approximateSize } from './level-raft-storage';
import { loadedLevelDbEngine } from './leveldb-engine';
import { metadataServiceHandlers } from './metadata-service';
import { createMetadataMetrics } from './metrics';
import type { MetadataMetrics } from './metrics';
import { RaftHost } from './raft-host';
import { GrpcRaftTransport, raftProto, raftTransportHandlers } from './raft-transport';
import { StorageNodeHeartbeats } from './storage-node-heartbeats';
import { StorageNodeLiveness } from './storage-node-liveness';
import type { LivenessOptions } from './storage-node-liveness';

export interface MetadataNodeOptions {
  readonly nodeId: string;
  /** host:port for gRPC (Metadata + RaftTransport services); must equal this node's peer address. */
  readonly listenAddress: string;
  /** Every founding member, including this one: node id -> host:port. */
  readonly peers: ReadonlyMap<string, string>;
  readonly dataDir: string;
  /** host:port for /metrics and /health/*; undefined: no HTTP server. */
  readonly metricsListenAddress: string | undefined;
  readonly tickIntervalMs: number;
  readonly electionTimeoutTicks: number;
  readonly heartbeatIntervalTicks: number;
  readonly snapshotEveryEntryCount: number;
  /** Snapshot sooner once the log since the last one holds this many data bytes (it is mirrored in memory). */
  readonly snapshotEveryLogBytes: number;
  readonly requestTimeoutMs: number;
  readonly pendingRequestCountMax: number;
  readonly liveness: LivenessOptions;
  readonly catalogue: CatalogueOptions;
  /** Joining an existing group (after `ChangeMembership addLearner`), not founding one. */
  readonly join: boolean;
}

export interface MetadataNodeComponents {
  readonly clock: Clock;
  readonly random: Random;
  readonly logger: Logger;
  /** The Raft loop failed (e.g. ENOSPC on the log): the process should exit and be restarted. */
  readonly onFatal?: (err: Error) => void;
  /** Where the node registers its metrics; main.ts passes one holding prom-client's process metrics. Default: a new empty one. */
  readonly registry?: Registry;
}

export interface RunningMetadataNode {
  readonly host: RaftHost;
  readonly registry: Registry;
  /** Bound gRPC port (useful with port 0). */
  readonly grpcPort: number;
  readonly metricsPort: number | undefined;
  /** Hands leadership away (if leader), then stops everything. For SIGTERM. */
  shutdownGracefully(): Promise<void>;
  stop(): Promise<void>;
}

/** Default timing: 100 ms ticks, elections after 1-2 s, leader heartbeats every 200 ms (5-10 per election timeout; reads send their own round at once). */
export const defaultMetadataNodeTiming = {
  tickIntervalMs: 100,
  electionTimeoutTicks: 10,
  heartbeatIntervalTicks: 2,
  snapshotEveryEntryCount: 10_000,
  snapshotEveryLogBytes: 32 * 1024 * 1024,
  requestTimeoutMs: 5_000,
  pendingRequestCountMax: 10_000,
  liveness: { suspectAfterMs: 15_000, downAfterMs: 60_000, checkIntervalMs: 1_000, staleWriteAfterMs: 3_600_000, requestDedupRetentionMs: 600_000 },
} as const;

/** Settings that contradict each other; thrown at startup, before anything is opened. */
export class InvalidMetadataNodeOptionsError extends Error {
  override readonly name = 'InvalidMetadataNodeOptionsError';
}

/** Validates the relationships between timing settings once, at startup. */
export function validateMetadataNodeOptions(options: MetadataNodeOptions): void {
  const problems: string[] = [];
  if (!options.peers.has(options.nodeId)) problems.push(`--peers must include this node (${options.nodeId})`);
  if (options.electionTimeoutTicks <= options.heartbeatIntervalTicks) problems.push('electionTimeoutTicks must exceed heartbeatIntervalTicks');
  // A request must outlive an election, or every leader change fails requests that would succeed.
  if (options.requestTimeoutMs < 2 * options.electionTimeoutTicks * options.tickIntervalMs) problems.push('requestTimeoutMs must be at least two election timeouts');
  if (options.liveness.downAfterMs <= options.liveness.suspectAfterMs) problems.push('liveness: downAfterMs must exceed suspectAfterMs');
  if (problems.length > 0) throw new InvalidMetadataNodeOptionsError(`invalid metadata node options: ${problems.join('; ')}`);
}

/** Starts one metadata node in this process: Raft host, gRPC services, liveness, metrics. */
export async function startMetadataNode(options: MetadataNodeOptions, components: MetadataNodeComponents): Promise<RunningMetadataNode> {
  validateMetadataNodeOptions(options);
  const registry = components.registry ?? new Registry();
  const metrics = createMetadataMetrics(registry);
  const logger = components.logger.child({ nodeId: options.nodeId });
  const engine = loadedLevelDbEngine();
  metrics.levelDbCompactionFix.set(engine.hasCompactionFix ? 1 : 0);
  if (!engine.hasCompactionFix) {
    logger.error('LevelDB engine without the compaction fix: after some compactions a read can return an overwritten record. Run `node native/leveldb/engine.mjs install` (part of `npm run build`) and restart; see native/leveldb/README.md');
  }
  const host = new RaftHost(
    {
      nodeId: options.nodeId, peers: options.peers, dataDir: options.dataDir, tickIntervalMs: options.tickIntervalMs,
      electionTimeoutTicks: options.electionTimeoutTicks, heartbeatIntervalTicks: options.heartbeatIntervalTicks,
      snapshotEveryEntryCount: options.snapshotEveryEntryCount, snapshotEveryLogBytes: options.snapshotEveryLogBytes, requestTimeoutMs: options.requestTimeoutMs,
      pendingRequestCountMax: options.pendingRequestCountMax, catalogue: options.catalogue, join: options.join,
    },
    {
      clock: components.clock, random: components.random, logger, metrics, createTransport: (h) => new GrpcRaftTransport(h, logger, metrics),
      ...(components.onFatal === undefined ? {} : { onLoopFailure: components.onFatal }),
      probeExistingGroup: () => probeExistingGroup(options.peers, options.nodeId),
    },
  );
  await host.start();

  const heartbeats = new StorageNodeHeartbeats();
  const server = new grpc.Server({ 'grpc.max_receive_message_length': metadataMessageSizeBytesMax });
  server.addService(raftProto().tessera.raft.v1.RaftTransport.service, raftTransportHandlers(host, logger, metrics));
  const metadataProto = loadProto('metadata.proto') as unknown as MetadataProto;
  server.addService(metadataProto.tessera.metadata.v1.Metadata.service, metadataServiceHandlers({ host, clock: components.clock, logger, heartbeats }));
  const grpcPort = await new Promise<number>((resolve, reject) => {
    server.bindAsync(options.listenAddress, grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port)));
  });

  const liveness = new StorageNodeLiveness(options.liveness, host, heartbeats, components.clock, logger);
  liveness.start();
  const sizeTimer = setInterval(() => void updateSizes(host, metrics), 10_000);
  // Counters are read at scrape time (one prefix scan of the bucket-counter table).
  const refreshStats = (): Promise<void> => updateCatalogueStats(host, metrics);
  sizeTimer.unref();
  const http = options.metricsListenAddress === undefined ? undefined : await startHttp(options.metricsListenAddress, registry, host, refreshStats);

  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    clearInterval(sizeTimer);
    liveness.stop();
    // Peers keep Raft streams open indefinitely, so a graceful shutdown gets a short grace
    // period for in-flight client calls and then cuts the rest.
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 500);
      server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    server.forceShutdown();
    if (http !== undefined) await new Promise<void>((resolve) => http.close(() => resolve()));
    await host.stop();
    logger.info('metadata node stopped');
  };
  return {
    host, registry, grpcPort,
    metricsPort: http === undefined ? undefined : (http.address() as AddressInfo).port,
    shutdownGracefully: async () => {
      await host.transferLeadership().catch(() => undefined);
      await stop();
    },
    stop,
  };
}

async function updateSizes(host: RaftHost, metrics: MetadataMetrics): Promise<void> {
  try {
    metrics.levelDbSizeBytes.set({ db: 'state' }, await approximateSize(host.machine.db));
    metrics.levelDbSizeBytes.set({ db: 'raft' }, await host.raftLogSizeBytes());
  } catch {
    // the state database may be switching after a snapshot install
  }
}

/**
 * Copies the catalogue counters of this node's applied state into the gauges. Buckets that
 * disappeared lose their series (reset first).
 */
export async function updateCatalogueStats(host: RaftHost, metrics: MetadataMetrics): Promise<void> {
  try {
    const stats = await host.machine.catalogueStats();
    metrics.bucketObjects.reset();
    metrics.bucketObjectBytes.reset();
    metrics.bucketMultipartUploads.reset();
    metrics.bucketNoncurrentVersions.reset();
    metrics.bucketNoncurrentVersionBytes.reset();
    metrics.bucketDeleteMarkers.reset();
    for (const bucket of stats.buckets) {
      metrics.bucketObjects.set({ bucket: bucket.bucket }, bucket.objectCount);
      metrics.bucketObjectBytes.set({ bucket: bucket.bucket }, bucket.objectBytes);
      metrics.bucketMultipartUploads.set({ bucket: bucket.bucket }, bucket.multipartUploadCount);
      metrics.bucketNoncurrentVersions.set({ bucket: bucket.bucket }, bucket.noncurrentVersionCount ?? 0);
      metrics.bucketNoncurrentVersionBytes.set({ bucket: bucket.bucket }, bucket.noncurrentVersionBytes ?? 0);
      metrics.bucketDeleteMarkers.set({ bucket: bucket.bucket }, bucket.deleteMarkerCount ?? 0);
    }
    metrics.objects.set(stats.objectCount);
    metrics.objectBytes.set(stats.objectBytes);
    metrics.multipartUploads.set(stats.multipartUploadCount);
  } catch {
    // the state database may be switching after a snapshot install; the next scrape retries
  }
}

function splitHostPort(address: string): { hostname: string; port: number } {
  const at = address.lastIndexOf(':');
  return { hostname: address.slice(0, at), port: Number(address.slice(at + 1)) };
}

async function startHttp(address: string, registry: Registry, host: RaftHost, beforeScrape: () => Promise<void>): Promise<HttpServer> {
  const server = createServer((req, res) => {
    void (async () => {
      if (req.url === '/metrics') {
        await beforeScrape();
        res.setHeader('content-type', registry.contentType);
        res.end(await registry.metrics());
      } else if (req.url === '/health/live') {
        res.end('ok');
      } else if (req.url === '/health/ready') {
        // Ready when a leader is known: this node can then answer reads and route writes.
        const ready = host.leaderId() !== undefined && host.failure === undefined;
        res.statusCode = ready ? 200 : 503;
        res.end(ready ? 'ready' : 'no leader');
      } else {
        res.statusCode = 404;
        res.end('not found');
      }
    })();
  });
  const { hostname, port } = splitHostPort(address);
  await new Promise<void>((resolve) => server.listen(port, hostname, resolve));
  return server;
}

/** How long a starting node with no Raft state waits for each other founding member's status. */
const existingGroupProbeTimeoutMs = 2_000;

/**
 * The other founding members' view, for a node that starts with no Raft state: the member with
 * the highest term above 0, or undefined when none answers with one (all starting together).
 */
async function probeExistingGroup(peers: ReadonlyMap<string, string>, selfId: string): Promise<{ nodeId: string; term: number } | undefined> {
  const addresses = [...peers].filter(([id]) => id !== selfId).map(([, address]) => address);
  if (addresses.length === 0) return undefined;
  const client = new MetadataClient({ addresses, callTimeoutMs: existingGroupProbeTimeoutMs, attemptCountMax: 1 });
  try {
    const answers = await Promise.all(addresses.map((address) => client.getClusterStatus(address).catch(() => undefined)));
    const running = answers.flatMap((status) => (status !== undefined && status.term > 0 ? [{ nodeId: status.nodeId, term: status.term }] : []));
    return running.sort((a, b) => b.term - a.term)[0];
  } finally {
    client.close();
  }
}

/**
 * `startGateway`: the whole gateway in this process: metadata client, storage-node pool, the
 * erasure-coded backend, the S3 app on its listener, and an optional separate listener for
 * /metrics and /health/*. main.ts wraps it with argv/env parsing and signal handling; tests and
 * benchmarks call it directly.
 */
import { readFile, stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import type { Clock, Logger } from '@tessera/common';
import { MetadataClient } from '@tessera/rpc';
import { createGatewayApp } from '../app';
import { MetadataMasterKeySource } from './metadata-master-key-source';
import { defaultGatewayLimits } from '../limits';
import { createGatewayMetrics } from '../metrics';
import type { GatewayMetrics } from '../metrics';
import { TlsCredentialsError, checkTlsCredentials, headerSectionBytesMaxDefault, startGatewayServer } from '../server';
import type { TlsCredentials } from '../server';
import { ClusterS3Backend } from './cluster-backend';
import { MetadataCredentialStore } from './metadata-credential-store';
import type { GatewayProcessConfig } from './gateway-process-config';
import { StorageNodePool } from './storage-node-pool';
import { StripeCollector } from './stripe-collector';

export interface GatewayProcessComponents {
  readonly clock: Clock;
  readonly logger: Logger;
  /** Where the gateway's metrics go; main.ts passes one with the process metrics added. Default: a fresh Registry. */
  readonly registry?: Registry;
}

export interface RunningGateway {
  /** http://host:port of the S3 listener. */
  readonly endpoint: string;
  readonly port: number;
  readonly metricsEndpoint: string | undefined;
  readonly backend: ClusterS3Backend;
  /** The gateway's view of the storage nodes: cached node list, connections, reachability. */
  readonly pool: StorageNodePool;
  readonly metrics: GatewayMetrics;
  /** Deletes the shards of stripes the metadata service queued as garbage. */
  readonly collector: StripeCollector;
  /**
   * Re-reads the TLS certificate and key files (SIGHUP; also done when they change) and serves
   * new connections with them. Resolves false, keeping the old ones (logged), when they cannot be
   * read or used; resolves false at once for a plain-HTTP gateway.
   */
  reloadTls(): Promise<boolean>;
  /** Stops accepting, lets requests in flight finish for up to graceMs, then cuts the rest. */
  stop(graceMs?: number): Promise<void>;
}

/** How often a TLS gateway looks whether its certificate files changed (cert-manager, certbot renewals). */
export const tlsFilesCheckIntervalMs = 60_000;

async function readTlsFiles(files: { readonly certFile: string; readonly keyFile: string }): Promise<TlsCredentials> {
  try {
    const [cert, key] = await Promise.all([readFile(files.certFile), readFile(files.keyFile)]);
    return { cert, key };
  } catch (error) {
    throw new TlsCredentialsError(`cannot read the TLS certificate ${files.certFile} or key ${files.keyFile}: ${(error as Error).message}`, { cause: error });
  }
}

/** Modification times and sizes of the files, to notice a renewal. */
async function tlsFilesVersion(files: { readonly certFile: string; readonly keyFile: string }): Promise<string> {
  const stats = await Promise.all([stat(files.certFile), stat(files.keyFile)]);
  return stats.map((s) => `${s.mtimeMs}:${s.size}`).join('/');
}

export class GatewayListenError extends Error {
  static readonly errorName = 'GatewayListenError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = GatewayListenError.errorName;
  }
}

async function listenOrExplain<T>(what: string, host: string, port: number, start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'EADDRINUSE' ? 'address already in use (is another gateway running?)' : code === 'EACCES' ? 'permission denied' : String(error);
    throw new GatewayListenError(`cannot listen on ${host}:${port} for ${what}: ${reason}`, { cause: error });
  }
}

function startOperationalServer(host: string, port: number, registry: Registry, backend: ClusterS3Backend): Promise<Server> {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const reply = (status: number, contentType: string, body: string): void => {
      res.writeHead(status, { 'content-type': contentType }).end(body);
    };
    if (req.url === '/health/live') return reply(200, 'application/json', '{"status":"live"}');
    if (req.url === '/health/ready') {
      void backend.isReady().then((ready) => reply(ready ? 200 : 503, 'application/json', JSON.stringify({ status: ready ? 'ready' : 'not-ready' })));
      return;
    }
    if (req.url === '/metrics') {
      void registry.metrics().then((text) => reply(200, registry.contentType, text), (error: unknown) => reply(500, 'text/plain', String(error)));
      return;
    }
    reply(404, 'text/plain', 'not found');
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}

/**
 * How long a node read around at a hedge counts as slow (StorageNodePool's slowReadAvoidanceMs):
 * longer than a GET's few windows, shorter than the keepalive pings take to declare a frozen
 * node's connection dead (about 4 s), after which it is unreachable anyway.
 */
export const gatewaySlowReadAvoidanceMs = 3_000;

export async function startGateway(config: GatewayProcessConfig, components: GatewayProcessComponents): Promise<RunningGateway> {
  const { clock, logger } = components;
  const registry = components.registry ?? new Registry();
  const metrics = createGatewayMetrics(registry);
  const metadata = new MetadataClient({ addresses: config.metadataAddresses });
  const pool = new StorageNodePool(metadata, clock, {
    nodeListTtlMs: config.dataPath.nodeListTtlMs,
    streamTimeoutMs: config.dataPath.shardStreamTimeoutMs,
    // Small messages keep the per-stream send window (4 messages) small: 9 streams per PUT.
    messageSizeBytesTarget: 256 * 1024,
    unreachableForMs: 2_000,
    reachableTrustMs: 1_000,
    // Bridges until placement learns the node is suspect: the leader marks it 15 s after its
    // last heartbeat (sent every 2 s), then the node list is re-read within nodeListTtlMs (5 s).
    writeAvoidanceMs: 30_000,
    slowReadAvoidanceMs: gatewaySlowReadAvoidanceMs,
  });
  const backend = new ClusterS3Backend({ dataPath: config.dataPath }, { metadata, pool, clock, logger, metrics });
  const app = createGatewayApp(
    {
      region: config.region,
      virtualHostBaseDomains: config.virtualHostBaseDomains,
      limits: defaultGatewayLimits,
    },
    {
      backend,
      credentials: new MetadataCredentialStore({ accessKeyId: config.rootAccessKeyId, secretAccessKey: config.rootSecretAccessKey }, metadata, clock),
      encryptionKeys: new MetadataMasterKeySource(metadata, clock),
      clock,
      logger,
      metrics,
    },
  );
  const cleanupClients = (): void => {
    backend.close();
    pool.close();
    metadata.close();
  };
  let s3: Awaited<ReturnType<typeof startGatewayServer>>;
  let operational: Server | undefined;
  const tlsFiles = config.tls;
  let tlsVersion: string | undefined;
  try {
    let tls: TlsCredentials | undefined;
    if (tlsFiles !== undefined) {
      tlsVersion = await tlsFilesVersion(tlsFiles).catch(() => undefined);
      tls = await readTlsFiles(tlsFiles);
      checkTlsCredentials(tls);
    }
    s3 = await listenOrExplain('S3', config.listenHost, config.listenPort, () =>
      startGatewayServer(app, {
        host: config.listenHost, port: config.listenPort, headerSectionBytesMax: headerSectionBytesMaxDefault, requestTimeoutMs: config.requestTimeoutMs,
        keepAliveTimeoutMs: config.keepAliveTimeoutMs, ...(tls === undefined ? {} : { tls }),
      }, logger),
    );
    const metricsListen = config.metricsListen;
    if (metricsListen !== undefined) {
      operational = await listenOrExplain('metrics', metricsListen.host, metricsListen.port, () => startOperationalServer(metricsListen.host, metricsListen.port, registry, backend)).catch(async (error: unknown) => {
        await s3.stop();
        throw error;
      });
    }
  } catch (error) {
    cleanupClients();
    throw error;
  }
  const collector = new StripeCollector({ intervalMs: config.gcIntervalMs, itemCountMax: 256, leaseMs: 60_000, concurrencyMax: 8 }, metadata, pool, logger);
  if (config.gcIntervalMs > 0) await collector.start();
  const metricsEndpoint = operational === undefined ? undefined : `http://${config.metricsListen?.host}:${(operational.address() as AddressInfo).port}`;
  logger.info('gateway listening', { endpoint: s3.endpoint, metricsEndpoint, metadata: config.metadataAddresses });
  const reloadTls = async (): Promise<boolean> => {
    if (tlsFiles === undefined) return false;
    try {
      const version = await tlsFilesVersion(tlsFiles).catch(() => undefined);
      s3.setTlsCredentials(await readTlsFiles(tlsFiles));
      tlsVersion = version;
      logger.info('TLS certificate loaded', { certFile: tlsFiles.certFile });
      return true;
    } catch (error) {
      logger.error('TLS certificate not reloaded; the previous one stays in use', { certFile: tlsFiles.certFile, error: (error as Error).message });
      return false;
    }
  };
  const tlsWatch = tlsFiles === undefined ? undefined : setInterval(() => {
    void tlsFilesVersion(tlsFiles).then(async (version) => {
      if (version !== tlsVersion) await reloadTls();
    }, () => undefined);
  }, tlsFilesCheckIntervalMs);
  tlsWatch?.unref();
  let stopping: Promise<void> | undefined;
  const stop = (graceMs = config.shutdownGraceMs): Promise<void> => {
    stopping ??= (async () => {
      clearInterval(tlsWatch);
      await s3.stop(graceMs);
      if (operational !== undefined) {
        const op = operational;
        await new Promise<void>((resolve) => op.close(() => resolve()));
        op.closeAllConnections();
      }
      await collector.stop();
      cleanupClients();
    })();
    return stopping;
  };
  return { endpoint: s3.endpoint, port: s3.port, metricsEndpoint, backend, pool, metrics, collector, reloadTls, stop };
}

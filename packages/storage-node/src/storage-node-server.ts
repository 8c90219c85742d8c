import * as http from 'node:http';
import type * as http2 from 'node:http2';
import * as net from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { type Clock, type Logger, type Startable, assert, silentLogger, systemClock } from '@tessera/common';
import { mayStartShardDataHello, storageNodeServiceDefinition } from '@tessera/rpc';
import { Registry } from 'prom-client';
import { FsShardStore } from './fs-shard-store';
import { createStorageNodeMetrics } from './metrics';
import { ShardDataSession } from './shard-data-session';
import { StorageNodeService } from './storage-node-service';

/** Version reported by GetNodeInfo. */
export const storageNodeVersion = '0.1.0';

export interface StorageNodeOptions {
  readonly nodeId: string;
  readonly zone: string;
  readonly dataDir: string;
  /**
   * Listen address `host:port` of gRPC and the shard data protocol (one port: each connection's
   * first bytes tell which); port 0 picks a free one (see `grpcAddress`).
   */
  readonly listen: string;
  /** `host:port` of the HTTP /metrics and /health endpoints; undefined = none. */
  readonly metricsListen?: string | undefined;
  /** Most bytes stored on disk; undefined = the file system's size. */
  readonly capacityBytes?: number | undefined;
  /** See FsShardStoreOptions.diskReserveBytes. */
  readonly diskReserveBytes?: number | undefined;
  readonly shardSizeBytesMax?: number;
  readonly blockSizeBytesMax?: number;
  readonly concurrentStreamCountMax?: number;
  readonly writeIdleTimeoutMs?: number;
  /** How long `stop()` lets streams in progress finish before cancelling them. */
  readonly shutdownGraceMs?: number;
  readonly readSizeBytesTarget?: number;
  readonly logger?: Logger;
  readonly clock?: Clock;
  /** Defaults to a fresh Registry; never the global default one. */
  readonly registry?: Registry;
}

/** Defaults that work on one machine. */
export const storageNodeDefaults = {
  shardSizeBytesMax: 4 * 1024 ** 3,
  blockSizeBytesMax: 8 * 1024 ** 2,
  concurrentStreamCountMax: 256,
  writeIdleTimeoutMs: 30_000,
  shutdownGraceMs: 10_000,
  readSizeBytesTarget: 1024 ** 2,
} as const;

/**
 * HTTP/2 receive window per stream. The HTTP/2 default (64 KiB) lets a writer have only 64 KiB
 * in flight per round trip through both event loops, which measured at about 100 MB/s per node;
 * see README.md, "Throughput". Memory per stream stays bounded by this window.
 */
export const http2WindowSizeBytes = 4 * 1024 * 1024;

/**
 * grpc-js (1.14, pinned) has no server option for the HTTP/2 window (`grpc-node.flow_control_window`
 * is client-only), so we set the initial window in the http2 server settings it passes to
 * `http2.createServer`. If a future grpc-js renames that field we only lose throughput, never
 * correctness, and say so in the log.
 */
function raiseReceiveWindow(server: grpc.Server, windowSizeBytes: number, logger: Logger): void {
  const internals = server as unknown as { commonServerOptions?: { settings?: Record<string, unknown> } };
  if (internals.commonServerOptions === undefined) {
    logger.warn('cannot raise the HTTP/2 receive window on this grpc-js version; write throughput will be lower');
    return;
  }
  internals.commonServerOptions.settings = { ...internals.commonServerOptions.settings, initialWindowSize: windowSizeBytes };
}

/**
 * The connection-level window (shared by all streams of a connection) is raised per session,
 * once it exists; again through a grpc-js internal, with the same fallback as above.
 */
function raiseConnectionWindow(server: grpc.Server, windowSizeBytes: number, logger: Logger): void {
  const internals = server as unknown as { http2Servers?: Map<http2.Http2Server, unknown> };
  if (!(internals.http2Servers instanceof Map)) {
    logger.warn('cannot raise the HTTP/2 connection window on this grpc-js version; throughput will be lower');
    return;
  }
  for (const http2Server of internals.http2Servers.keys()) {
    http2Server.on('session', (session: http2.ServerHttp2Session) => {
      session.once('localSettings', () => {
        if (!session.destroyed) session.setLocalWindowSize(windowSizeBytes);
      });
    });
  }
}

/** A connection must send its first bytes (HTTP/2 preface or shard data hello) within this long. */
const firstBytesTimeoutMs = 10_000;

/** Largest gRPC message accepted: the biggest block plus its checksum and framing. */
function messageSizeBytesMax(blockSizeBytesMax: number): number {
  return Math.max(blockSizeBytesMax, 1024 ** 2) * 2 + 64 * 1024;
}

/**
 * One storage node: the shard store, the gRPC server and the HTTP metrics/health endpoint.
 * `start()` opens the data directory (removing temp files of crashed writes) and binds;
 * `stop()` stops taking calls, lets streams in progress finish for `shutdownGraceMs`, then
 * cancels the rest (their temp files are removed) and closes.
 *
 * ```ts
 * const node = new StorageNodeServer({ nodeId: 'n1', zone: 'z1', dataDir: '/var/lib/tessera/n1', listen: '127.0.0.1:0' });
 * await node.start();
 * console.log(node.grpcAddress); // 127.0.0.1:41234
 * await node.stop();
 * ```
 */
export class StorageNodeServer implements Startable {
  readonly registry: Registry;
  readonly store: FsShardStore;
  private readonly service: StorageNodeService;
  private readonly logger: Logger;
  private grpcServer: grpc.Server | undefined;
  /** Accepts every connection of the listen port and hands it to gRPC or a ShardDataSession. */
  private listener: net.Server | undefined;
  /** Open shard data sessions and the promise of each one's run. */
  private readonly dataSessions = new Map<ShardDataSession, Promise<void>>();
  private httpServer: http.Server | undefined;
  private boundGrpcAddress: string | undefined;
  private boundMetricsAddress: string | undefined;
  private state: 'new' | 'starting' | 'running' | 'stopping' | 'stopped' = 'new';

  constructor(readonly options: StorageNodeOptions) {
    this.logger = (options.logger ?? silentLogger).child({ nodeId: options.nodeId });
    this.registry = options.registry ?? new Registry();
    const shardSizeBytesMax = options.shardSizeBytesMax ?? storageNodeDefaults.shardSizeBytesMax;
    const blockSizeBytesMax = options.blockSizeBytesMax ?? storageNodeDefaults.blockSizeBytesMax;
    let metricsRef: ReturnType<typeof createStorageNodeMetrics> | undefined;
    this.store = new FsShardStore({
      dataDir: options.dataDir,
      nodeId: options.nodeId,
      capacityBytes: options.capacityBytes,
      diskReserveBytes: options.diskReserveBytes,
      shardSizeBytesMax,
      blockSizeBytesMax,
      readSizeBytesTarget: options.readSizeBytesTarget ?? storageNodeDefaults.readSizeBytesTarget,
      logger: this.logger,
      onChecksumFailure: (source) => metricsRef?.checksumFailures.inc({ source }),
    });
    const metrics = createStorageNodeMetrics(this.registry, this.store);
    metricsRef = metrics;
    const clock = options.clock ?? systemClock;
    this.service = new StorageNodeService(this.store, metrics, this.logger, clock, {
      nodeId: options.nodeId,
      zone: options.zone,
      version: storageNodeVersion,
      startedAtMs: clock.nowMs(),
      concurrentStreamCountMax: options.concurrentStreamCountMax ?? storageNodeDefaults.concurrentStreamCountMax,
      writeIdleTimeoutMs: options.writeIdleTimeoutMs ?? storageNodeDefaults.writeIdleTimeoutMs,
    });
  }

  /** `host:port` the gRPC server listens on (after start). */
  get grpcAddress(): string {
    assert(this.boundGrpcAddress !== undefined, 'node started');
    return this.boundGrpcAddress;
  }

  /** `host:port` of /metrics and /health/* (after start), if enabled. */
  get metricsAddress(): string | undefined {
    return this.boundMetricsAddress;
  }

  get isReady(): boolean {
    return this.state === 'running' && this.store.isStarted;
  }

  async start(): Promise<void> {
    assert(this.state === 'new', 'start once');
    this.state = 'starting';
    try {
      await this.store.start();
      if (this.options.metricsListen !== undefined) await this.startHttp(this.options.metricsListen);
      await this.startGrpc();
    } catch (err) {
      await this.closeAll();
      this.state = 'stopped';
      throw err;
    }
    this.state = 'running';
    this.logger.info('storage node started', { grpcAddress: this.boundGrpcAddress, metricsAddress: this.boundMetricsAddress, dataDir: this.options.dataDir });
  }

  private async startGrpc(): Promise<void> {
    const blockSizeBytesMax = this.options.blockSizeBytesMax ?? storageNodeDefaults.blockSizeBytesMax;
    const server = new grpc.Server({
      'grpc.max_receive_message_length': messageSizeBytesMax(blockSizeBytesMax),
      'grpc.max_send_message_length': messageSizeBytesMax(blockSizeBytesMax),
    });
    raiseReceiveWindow(server, http2WindowSizeBytes, this.logger);
    server.addService(storageNodeServiceDefinition(), this.service.handlers());
    this.grpcServer = server;
    // We own the listening socket: gRPC gets the connections that open with the HTTP/2 preface,
    // the shard data protocol those that open with its hello.
    const injector = server.createConnectionInjector(grpc.ServerCredentials.createInsecure());
    raiseConnectionWindow(server, http2WindowSizeBytes * 4, this.logger);
    const frameBodySizeBytesMax = messageSizeBytesMax(blockSizeBytesMax);
    const listener = net.createServer((socket) => this.routeConnection(socket, injector, frameBodySizeBytesMax));
    this.listener = listener;
    const listen = this.options.listen;
    await new Promise<void>((resolve, reject) => {
      listener.once('error', (err) => reject(new Error(listenErrorMessage(listen, 'gRPC', err.message))));
      listener.listen(portOf(listen), hostOf(listen), () => resolve());
    });
    listener.on('error', (err) => this.logger.error('listener error', { err }));
    this.boundGrpcAddress = `${rawHostOf(listen)}:${(listener.address() as net.AddressInfo).port}`;
  }

  /** Waits for a connection's first bytes, then gives it to gRPC or to a shard data session. */
  private routeConnection(socket: net.Socket, injector: ReturnType<grpc.Server['createConnectionInjector']>, frameBodySizeBytesMax: number): void {
    // Both protocols' clients speak first, at once: a connection that says nothing is dropped.
    const silentTimer = setTimeout(() => socket.destroy(), firstBytesTimeoutMs);
    silentTimer.unref();
    const onEarlyError = (): void => {
      clearTimeout(silentTimer);
      socket.destroy();
    };
    const onFirstData = (chunk: Buffer): void => {
      clearTimeout(silentTimer);
      socket.pause();
      socket.removeListener('data', onFirstData);
      socket.removeListener('error', onEarlyError);
      socket.unshift(chunk);
      if (chunk.byteLength > 0 && mayStartShardDataHello(chunk[0]!)) {
        const session = new ShardDataSession(socket, this.service, frameBodySizeBytesMax);
        const run = session.run().finally(() => this.dataSessions.delete(session));
        this.dataSessions.set(session, run);
        this.service.track(run);
        socket.resume();
      } else {
        injector.injectConnection(socket);
      }
    };
    socket.on('error', onEarlyError);
    socket.on('data', onFirstData);
  }

  private async startHttp(listen: string): Promise<void> {
    const server = http.createServer((req, res) => void this.serveHttp(req, res));
    this.httpServer = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err) => reject(new Error(listenErrorMessage(listen, 'metrics', err.message))));
      server.listen(portOf(listen), hostOf(listen), () => resolve());
    });
    const address = server.address() as net.AddressInfo;
    this.boundMetricsAddress = `${rawHostOf(listen)}:${address.port}`;
  }

  private async serveHttp(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405).end();
    } else if (url === '/metrics') {
      try {
        const body = await this.registry.metrics();
        res.writeHead(200, { 'content-type': this.registry.contentType }).end(body);
      } catch (err) {
        res.writeHead(500).end(String(err));
      }
    } else if (url === '/health/live') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('live\n');
    } else if (url === '/health/ready') {
      const ready = this.isReady && (await this.store.usage().then(() => true, () => false));
      res.writeHead(ready ? 200 : 503, { 'content-type': 'text/plain' }).end(ready ? 'ready\n' : 'not ready\n');
    } else {
      res.writeHead(404).end();
    }
  }

  async stop(): Promise<void> {
    if (this.state === 'stopped' || this.state === 'stopping') return;
    this.state = 'stopping';
    const server = this.grpcServer;
    if (server !== undefined) {
      const graceMs = this.options.shutdownGraceMs ?? storageNodeDefaults.shutdownGraceMs;
      this.listener?.close();
      // Idle data connections close now, busy ones once their operation is done.
      for (const session of this.dataSessions.keys()) session.stop(false);
      const dataDone = Promise.allSettled(this.dataSessions.values());
      const graceful = Promise.all([new Promise<void>((resolve) => server.tryShutdown(() => resolve())), dataDone]).then(() => true);
      const timedOut = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), graceMs).unref());
      if (!(await Promise.race([graceful, timedOut]))) {
        this.logger.warn('streams still open after the shutdown grace period; cancelling them', { graceMs });
        server.forceShutdown();
        for (const session of this.dataSessions.keys()) session.stop(true);
      }
      // Cancelled writes remove their temp files before we report stopped.
      await this.service.drained();
    }
    await this.closeAll();
    this.state = 'stopped';
    this.logger.info('storage node stopped');
  }

  private async closeAll(): Promise<void> {
    this.grpcServer?.forceShutdown();
    this.grpcServer = undefined;
    for (const session of this.dataSessions.keys()) session.stop(true);
    const listener = this.listener;
    this.listener = undefined;
    if (listener !== undefined) await new Promise<void>((resolve) => listener.close(() => resolve()));
    const httpServer = this.httpServer;
    this.httpServer = undefined;
    if (httpServer !== undefined) {
      httpServer.closeAllConnections();
      await new Promise<void>((resolve) => httpServer.close(() => resolve()));
    }
    await this.store.stop();
  }
}

/** Creates and starts a node (for the local-cluster launcher and tests). */
export async function startStorageNode(options: StorageNodeOptions): Promise<StorageNodeServer> {
  const node = new StorageNodeServer(options);
  await node.start();
  return node;
}

/** Host part as written (IPv6 keeps its brackets). */
function rawHostOf(listen: string): string {
  const index = listen.lastIndexOf(':');
  assert(index > 0, 'listen address is host:port');
  return listen.slice(0, index);
}

function hostOf(listen: string): string {
  return rawHostOf(listen).replace(/^\[(.*)\]$/, '$1');
}

function portOf(listen: string): number {
  return Number(listen.slice(listen.lastIndexOf(':') + 1));
}

function listenErrorMessage(listen: string, what: string, cause: string): string {
  if (cause.includes('EADDRINUSE')) return `cannot listen on ${listen} for ${what}: address already in use (is another node running?)`;
  return `cannot listen on ${listen} for ${what}: ${cause}`;
}

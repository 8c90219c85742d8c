import * as net from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { RpcStatusError, fromWireError, type WireError } from './errors';
import { createPeerLookup } from './peer-lookup';
import {
  ShardDataFrameDecoder,
  ShardDataFrameType,
  decodeJsonBody,
  decodeShardDataHello,
  encodeJsonFrame,
  encodeShardDataHello,
  shardDataHelloSizeBytes,
  shardDataProtocolVersion,
  type ShardDataFrame,
} from './shard-data-protocol';

export interface ShardDataChannelOptions {
  /** `host:port` of the node (IPv6 hosts in brackets). */
  readonly address: string;
  /** A new connection must have the node's hello within this long. */
  readonly connectTimeoutMs: number;
  /** Largest frame body accepted from the node. */
  readonly frameBodySizeBytesMax: number;
  /** Connections kept open for reuse once their operation is done (default 64: a busy gateway runs tens of streams per node at once). */
  readonly idleConnectionsMax?: number;
  /** An unused connection is closed after this long (default 30 s). */
  readonly idleConnectionTimeoutMs?: number;
  /** While operations run, the node is pinged this often on a connection of its own (default 1 s). */
  readonly pingIntervalMs?: number;
  /** A ping unanswered for this long fails every operation on the node as UNAVAILABLE (default 3 s). */
  readonly pingTimeoutMs?: number;
}

/** Bytes queued in a connection's socket before a sender waits for it to drain. */
const sendBufferedBytesHighWater = 2 << 20;
/** Received frame bytes a connection holds before it stops reading its socket (TCP then pushes back). */
const receiveQueueBytesMax = 4 << 20;
/** One name lookup per storage node name in flight, failures remembered briefly (peer-lookup.ts). */
const peerLookup = createPeerLookup();

/**
 * The node answered with something else than a shard data hello (an older node's HTTP/2
 * server preface): it does not speak the protocol, and callers fall back to gRPC for it.
 */
export class ShardDataUnsupportedError extends RpcStatusError {
  constructor(address: string) {
    super(grpc.status.UNAVAILABLE, `storage node at ${address} does not speak the shard data protocol`);
  }
}

/** Turns a node's error frame back into the typed error the node threw. */
export function errorFromFrame(frame: ShardDataFrame): Error {
  const wire = decodeJsonBody(frame) as Partial<WireError>;
  return fromWireError({
    name: typeof wire.name === 'string' ? wire.name : '',
    code: typeof wire.code === 'number' ? wire.code : grpc.status.INTERNAL,
    message: typeof wire.message === 'string' ? wire.message : 'storage node error',
    fields: typeof wire.fields === 'object' && wire.fields !== null ? wire.fields : {},
  });
}

/**
 * One open connection to a node's shard data port: frames in (queued, with a bound), frames
 * out (with the socket's backpressure), and a failure that ends it for good.
 */
export class ShardDataConnection {
  private readonly decoder: ShardDataFrameDecoder;
  private readonly frames: ShardDataFrame[] = [];
  private queuedBytes = 0;
  private frameWaiter: { resolve: (frame: ShardDataFrame) => void; reject: (err: Error) => void } | undefined;
  private drainWaiter: { resolve: () => void; reject: (err: Error) => void } | undefined;
  private failure: Error | undefined;
  private readonly failureListeners = new Set<(err: Error) => void>();

  constructor(
    private readonly socket: net.Socket,
    readonly address: string,
    frameBodySizeBytesMax: number,
    leftover: Buffer,
  ) {
    this.decoder = new ShardDataFrameDecoder(frameBodySizeBytesMax);
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('drain', () => this.settleDrain(undefined));
    socket.on('error', (err) => this.fail(new RpcStatusError(grpc.status.UNAVAILABLE, `connection to storage node ${address}: ${err.message}`)));
    socket.on('close', () => this.fail(new RpcStatusError(grpc.status.UNAVAILABLE, `storage node ${address} closed the connection`)));
    if (leftover.byteLength > 0) this.receive(leftover);
  }

  get failed(): boolean {
    return this.failure !== undefined;
  }

  /** True when frames arrived that nobody asked for yet. */
  get hasReceivedFrames(): boolean {
    return this.frames.length > 0;
  }

  /** The next frame from the node; after a failure, frames received before it come first. */
  nextFrame(): Promise<ShardDataFrame> {
    if (this.frames.length > 0) return Promise.resolve(this.take());
    if (this.failure !== undefined) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => (this.frameWaiter = { resolve, reject }));
  }

  /**
   * Settles like `work`, or rejects as soon as the connection fails, whichever comes first. The
   * failure listener is removed once `work` settles: racing against a promise that lives as long
   * as the connection would keep every raced result (block buffers) reachable until it closed.
   */
  orFailure<T>(work: Promise<T>): Promise<T> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    return new Promise<T>((resolve, reject) => {
      this.failureListeners.add(reject);
      work.then(
        (value) => {
          this.failureListeners.delete(reject);
          resolve(value);
        },
        (err: unknown) => {
          this.failureListeners.delete(reject);
          reject(err);
        },
      );
    });
  }

  /** A frame already received, without waiting (a node's early error during a write). */
  takeReceivedFrame(): ShardDataFrame | undefined {
    return this.frames.length > 0 ? this.take() : undefined;
  }

  /** Sends buffers as one write; waits while the socket holds more than its high-water mark. */
  async send(buffers: readonly Buffer[]): Promise<void> {
    if (this.failure !== undefined) throw this.failure;
    this.socket.cork();
    let belowHighWater = true;
    for (const buffer of buffers) belowHighWater = this.socket.write(buffer);
    this.socket.uncork();
    if (belowHighWater) return;
    await new Promise<void>((resolve, reject) => (this.drainWaiter = { resolve, reject }));
  }

  /**
   * Ends the connection with `err` (idempotent: the first failure wins). `discardReceived`
   * drops frames not yet taken, for failures that must surface at once (deadline, cancel).
   */
  fail(err: Error, options: { discardReceived?: boolean } = {}): void {
    if (options.discardReceived === true) {
      this.frames.length = 0;
      this.queuedBytes = 0;
    }
    if (this.failure !== undefined) return;
    this.failure = err;
    for (const listener of this.failureListeners) listener(err);
    this.failureListeners.clear();
    this.socket.destroy();
    const waiter = this.frameWaiter;
    this.frameWaiter = undefined;
    if (waiter !== undefined) {
      if (this.frames.length > 0) waiter.resolve(this.take());
      else waiter.reject(err);
    }
    this.settleDrain(err);
  }

  private receive(chunk: Buffer): void {
    let frames: ShardDataFrame[];
    try {
      frames = this.decoder.push(chunk);
    } catch (err) {
      this.fail(new RpcStatusError(grpc.status.INTERNAL, `storage node ${this.address}: ${(err as Error).message}`));
      return;
    }
    let sawError = false;
    for (const frame of frames) {
      this.frames.push(frame);
      this.queuedBytes += frame.body.byteLength;
      if (frame.type === ShardDataFrameType.error) sawError = true;
    }
    if (this.queuedBytes > receiveQueueBytesMax) this.socket.pause();
    // A node's error arriving while we wait to send means the send is pointless: stop waiting.
    if (sawError) this.settleDrain(undefined);
    const waiter = this.frameWaiter;
    if (waiter !== undefined && this.frames.length > 0) {
      this.frameWaiter = undefined;
      waiter.resolve(this.take());
    }
  }

  private take(): ShardDataFrame {
    const frame = this.frames.shift()!;
    this.queuedBytes -= frame.body.byteLength;
    if (this.socket.isPaused() && this.queuedBytes <= receiveQueueBytesMax / 2 && this.failure === undefined) this.socket.resume();
    return frame;
  }

  private settleDrain(err: Error | undefined): void {
    const waiter = this.drainWaiter;
    this.drainWaiter = undefined;
    if (waiter === undefined) return;
    if (err === undefined) waiter.resolve();
    else waiter.reject(err);
  }
}

/**
 * The connections of one client to one node's shard data port: a pool of open connections (one
 * operation each at a time), and, while operations run, a ping every second on a connection of
 * its own. A node whose process hangs (frozen, or its host gone silent) keeps its TCP
 * connections open; the ping notices within `pingTimeoutMs` and fails its operations as
 * UNAVAILABLE, as gRPC keepalive pings did. A node merely slow on disk still answers pings (its
 * event loop is free while fsync runs on the thread pool) and is not dropped.
 */
export class ShardDataChannel {
  private readonly idle: { connection: ShardDataConnection; timer: NodeJS.Timeout }[] = [];
  private readonly busy = new Set<ShardDataConnection>();
  private readonly host: string;
  private readonly port: number;
  private pingTimer: NodeJS.Timeout | undefined;
  private pingConnection: ShardDataConnection | undefined;
  private pingInFlight = false;
  private closed = false;

  constructor(readonly options: ShardDataChannelOptions) {
    const index = options.address.lastIndexOf(':');
    this.host = options.address.slice(0, index).replace(/^\[(.*)\]$/, '$1');
    this.port = Number(options.address.slice(index + 1));
  }

  /** A connection for one operation: an idle one, or a new one. Give it back with `release`. */
  async acquire(signal?: AbortSignal): Promise<ShardDataConnection> {
    if (this.closed) throw new RpcStatusError(grpc.status.UNAVAILABLE, `client of storage node ${this.options.address} is closed`);
    for (let entry = this.idle.pop(); entry !== undefined; entry = this.idle.pop()) {
      clearTimeout(entry.timer);
      if (!entry.connection.failed && !entry.connection.hasReceivedFrames) return this.markBusy(entry.connection);
      entry.connection.fail(new RpcStatusError(grpc.status.UNAVAILABLE, 'stale connection'));
    }
    return this.markBusy(await this.connect(signal));
  }

  /** Returns a connection after its operation; `reusable` only when the operation ended cleanly. */
  release(connection: ShardDataConnection, reusable: boolean): void {
    this.busy.delete(connection);
    if (this.busy.size === 0) this.stopPinging();
    const keep = reusable && !this.closed && !connection.failed && !connection.hasReceivedFrames && this.idle.length < (this.options.idleConnectionsMax ?? 64);
    if (!keep) {
      connection.fail(new RpcStatusError(grpc.status.CANCELLED, 'connection released'));
      return;
    }
    const entry = {
      connection,
      timer: setTimeout(() => {
        const index = this.idle.indexOf(entry);
        if (index >= 0) this.idle.splice(index, 1);
        connection.fail(new RpcStatusError(grpc.status.CANCELLED, 'idle connection closed'));
      }, this.options.idleConnectionTimeoutMs ?? 30_000).unref(),
    };
    this.idle.push(entry);
  }

  close(): void {
    this.closed = true;
    this.failAll(new RpcStatusError(grpc.status.CANCELLED, `client of storage node ${this.options.address} closed`));
  }

  private markBusy(connection: ShardDataConnection): ShardDataConnection {
    this.busy.add(connection);
    this.startPinging();
    return connection;
  }

  private failAll(err: Error): void {
    for (const { connection, timer } of this.idle.splice(0)) {
      clearTimeout(timer);
      connection.fail(err);
    }
    for (const connection of this.busy) connection.fail(err, { discardReceived: true });
    this.pingConnection?.fail(err);
    this.pingConnection = undefined;
    this.stopPinging();
  }

  private startPinging(): void {
    if (this.pingTimer !== undefined) return;
    const intervalMs = this.options.pingIntervalMs ?? 1_000;
    this.pingTimer = setInterval(() => void this.ping(), intervalMs);
    this.pingTimer.unref();
  }

  private stopPinging(): void {
    clearInterval(this.pingTimer);
    this.pingTimer = undefined;
  }

  private async ping(): Promise<void> {
    if (this.pingInFlight || this.closed) return;
    this.pingInFlight = true;
    const timeoutMs = this.options.pingTimeoutMs ?? 3_000;
    let timer: NodeJS.Timeout | undefined;
    try {
      const timedOut = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new RpcStatusError(grpc.status.UNAVAILABLE, `storage node ${this.options.address} did not answer a ping within ${timeoutMs} ms`)), timeoutMs);
      });
      await Promise.race([
        (async () => {
          if (this.pingConnection === undefined || this.pingConnection.failed) this.pingConnection = await this.connect(undefined, timeoutMs);
          const connection = this.pingConnection;
          await connection.send([encodeJsonFrame(ShardDataFrameType.ping)]);
          const frame = await connection.nextFrame();
          if (frame.type !== ShardDataFrameType.pong) throw new RpcStatusError(grpc.status.INTERNAL, `storage node ${this.options.address} answered a ping with frame 0x${frame.type.toString(16)}`);
        })(),
        timedOut,
      ]);
    } catch (err) {
      // Only operations still running care; with none, the next operation finds out itself.
      if (this.busy.size > 0) this.failAll(err instanceof Error ? err : new Error(String(err)));
      else {
        this.pingConnection?.fail(err instanceof Error ? err : new Error(String(err)));
        this.pingConnection = undefined;
      }
    } finally {
      clearTimeout(timer);
      this.pingInFlight = false;
    }
  }

  private connect(signal: AbortSignal | undefined, timeoutMs = this.options.connectTimeoutMs): Promise<ShardDataConnection> {
    const address = this.options.address;
    return new Promise<ShardDataConnection>((resolve, reject) => {
      signal?.throwIfAborted();
      // A frame of ~1 MiB is handed to the socket whole; with the default 16 KiB high-water mark
      // every frame would make the sender wait for a 'drain' although the kernel took most of it.
      // (net.Socket passes stream options through; @types/node does not list them for connect.)
      const connectOptions: net.TcpNetConnectOpts & { writableHighWaterMark: number } = {
        host: this.host, port: this.port, writableHighWaterMark: sendBufferedBytesHighWater, lookup: peerLookup,
      };
      const socket = net.connect(connectOptions);
      socket.setNoDelay(true);
      let received: Buffer = Buffer.alloc(0);
      const finish = (err: Error | undefined, leftover?: Buffer): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        socket.removeListener('data', onData);
        socket.removeListener('error', onError);
        socket.removeListener('close', onClose);
        if (err !== undefined) {
          socket.destroy();
          reject(err);
          return;
        }
        resolve(new ShardDataConnection(socket, address, this.options.frameBodySizeBytesMax, leftover ?? Buffer.alloc(0)));
      };
      const timer = setTimeout(
        () => finish(new RpcStatusError(grpc.status.UNAVAILABLE, `no connection to ${address} within ${timeoutMs} ms (the node accepts TCP but does not answer)`)),
        timeoutMs,
      );
      const onAbort = (): void => finish(new RpcStatusError(grpc.status.CANCELLED, 'cancelled while connecting'));
      const onData = (chunk: Buffer): void => {
        received = received.byteLength === 0 ? chunk : Buffer.concat([received, chunk]);
        if (received.byteLength < shardDataHelloSizeBytes) return;
        const version = decodeShardDataHello(received);
        if (version === undefined) finish(new ShardDataUnsupportedError(address));
        else if (version !== shardDataProtocolVersion) {
          finish(new RpcStatusError(grpc.status.UNAVAILABLE, `storage node ${address} speaks shard data protocol version ${version}, this client ${shardDataProtocolVersion}`));
        } else finish(undefined, received.subarray(shardDataHelloSizeBytes));
      };
      const onError = (err: Error): void => finish(new RpcStatusError(grpc.status.UNAVAILABLE, `cannot connect to storage node ${address}: ${err.message}`));
      const onClose = (): void => finish(new RpcStatusError(grpc.status.UNAVAILABLE, `storage node ${address} closed the connection before its hello`));
      signal?.addEventListener('abort', onAbort, { once: true });
      socket.on('data', onData);
      socket.once('error', onError);
      socket.once('close', onClose);
      socket.once('connect', () => socket.write(encodeShardDataHello()));
    });
  }
}

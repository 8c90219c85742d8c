import type * as net from 'node:net';
import {
  InvalidShardRequestError,
  ShardDataFrameDecoder,
  ShardDataFrameType,
  ShardDataProtocolError,
  ShardStreamIdleError,
  decodeJsonBody,
  decodeShardDataHello,
  decodeWriteBlocks,
  encodeFrameHeader,
  encodeJsonFrame,
  encodeReadDataHead,
  encodeShardDataHello,
  shardDataHelloSizeBytes,
  shardDataProtocolVersion,
  toWireError,
  validateShardId,
  type ShardDataFrame,
  type StorageShardId,
} from '@tessera/rpc';
import type { ShardWriter } from './shard-writer';
import { StreamCancelledError, prefetchRecordsBytesFor, type StorageNodeService } from './storage-node-service';

/** Read frames queued for the socket before the node waits for the client to take them. */
const readBufferedBytesMax = 2 << 20;
/**
 * Received frame bytes held before the node stops reading the socket (TCP then pushes back). A
 * client that keeps to the write window (4 MiB) never gets there; this bounds one that does not.
 */
const receiveQueueBytesMax = 8 << 20;
/** After a failed write the node answers, then waits this long for the client to hang up. */
const lingerAfterErrorMs = 5_000;

/**
 * One client connection speaking the shard data protocol (see @tessera/rpc
 * shard-data-protocol.ts): the hello, then one operation at a time. Writes and reads go through
 * the same store, stream slots, idle limits, metrics and error mapping as the gRPC handlers.
 */
export class ShardDataSession {
  private readonly decoder: ShardDataFrameDecoder;
  private readonly frames: ShardDataFrame[] = [];
  private queuedBytes = 0;
  private hello: Buffer | undefined = Buffer.alloc(0);
  private waiter: (() => void) | undefined;
  private ended = false;
  private closed = false;
  private busy = false;
  private stopping = false;
  private protocolError: ShardDataProtocolError | undefined;

  constructor(
    private readonly socket: net.Socket,
    private readonly service: StorageNodeService,
    frameBodySizeBytesMax: number,
  ) {
    this.decoder = new ShardDataFrameDecoder(frameBodySizeBytesMax);
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 30_000);
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('end', () => {
      this.ended = true;
      this.wake();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }

  /** Serves the connection until the client hangs up or breaks the protocol. */
  async run(): Promise<void> {
    try {
      for (;;) {
        const frame = await this.nextFrame(undefined);
        // A stopping node has half-closed this connection: it could not answer, so it does not start.
        if (frame === undefined || this.stopping) return;
        this.busy = true;
        if (frame.type === ShardDataFrameType.ping) {
          this.socket.write(encodeFrameHeader(ShardDataFrameType.pong, 0));
        } else if (frame.type === ShardDataFrameType.writeHeader) {
          if (!(await this.serveWrite(frame))) return;
        } else if (frame.type === ShardDataFrameType.read) {
          await this.serveRead(frame);
        } else {
          this.sendError(new InvalidShardRequestError(`unexpected frame 0x${frame.type.toString(16)} between operations`));
          return this.linger();
        }
        this.busy = false;
        if (this.stopping) {
          this.socket.end();
          return;
        }
      }
    } catch (err) {
      if (err instanceof ShardDataProtocolError) {
        this.sendError(new InvalidShardRequestError(err.message));
        return this.linger();
      }
      this.socket.destroy();
    }
  }

  /**
   * The node is stopping: an idle connection closes now, a busy one after its operation.
   * `force` closes it at once (its operation fails and a write keeps nothing).
   */
  stop(force: boolean): void {
    this.stopping = true;
    if (force) this.socket.destroy();
    else if (!this.busy) this.socket.end();
  }

  private async serveWrite(headerFrame: ShardDataFrame): Promise<boolean> {
    const { metrics, store, options } = this.service;
    const stopTimer = metrics.operationDuration.startTimer({ operation: 'write' });
    let acquired = false;
    let writer: ShardWriter | undefined;
    try {
      this.service.acquireStream('write');
      acquired = true;
      const header = parseWriteHeader(decodeJsonBody(headerFrame));
      writer = await store.beginWrite(header);
      let finish: { shardSizeBytes: number; blockCount: number } | undefined;
      while (finish === undefined) {
        const frame = await this.nextFrame(options.writeIdleTimeoutMs);
        if (frame === undefined) throw new StreamCancelledError();
        if (frame.type === ShardDataFrameType.writeBlocks) {
          const { checksums, data } = decodeWriteBlocks(frame);
          await writer.appendBlocks(data, checksums);
          // Opens the client's window again; a finish already here makes `write done` the answer.
          if (this.frames[0]?.type !== ShardDataFrameType.writeFinish) this.socket.write(encodeFrameHeader(ShardDataFrameType.writeAck, 0));
        } else if (frame.type === ShardDataFrameType.writeFinish) {
          finish = parseWriteFinish(decodeJsonBody(frame));
        } else {
          throw new InvalidShardRequestError(`unexpected frame 0x${frame.type.toString(16)} in a shard write`);
        }
      }
      if (this.closed) throw new StreamCancelledError();
      const written = await writer.commit(finish);
      this.socket.write(encodeJsonFrame(ShardDataFrameType.writeDone, this.service.recordWritten(written)));
      return true;
    } catch (err) {
      await writer?.abort();
      const failure = err instanceof ShardDataProtocolError ? new InvalidShardRequestError(err.message) : err;
      this.service.recordWriteFailure(failure);
      // The client may still be sending this shard's frames: answer, then close.
      this.sendError(failure);
      void this.linger();
      return false;
    } finally {
      if (acquired) this.service.releaseStream('write');
      stopTimer();
    }
  }

  private async serveRead(requestFrame: ShardDataFrame): Promise<void> {
    const { metrics, store, options } = this.service;
    const stopTimer = metrics.operationDuration.startTimer({ operation: 'read' });
    let acquired = false;
    try {
      this.service.acquireStream('read');
      acquired = true;
      const request = parseReadRequest(decodeJsonBody(requestFrame));
      const reader = await store.openShard(request.shardId, { prefetchRecordsBytes: prefetchRecordsBytesFor(request.offsetBytes, request.lengthBytes) });
      let endSent = false;
      try {
        const range = reader.resolveRange(request.offsetBytes, request.lengthBytes);
        for await (const chunk of reader.readRange(range.offsetBytes, range.endBytes)) {
          if (this.closed) throw new StreamCancelledError();
          this.socket.cork();
          this.socket.write(encodeReadDataHead(chunk.offsetBytes, chunk.sizeBytes));
          for (const piece of chunk.pieces) this.socket.write(piece);
          // The end goes out with the last chunk: one write, one wake-up of the client.
          if (chunk.offsetBytes + chunk.sizeBytes >= range.endBytes) {
            this.socket.write(encodeFrameHeader(ShardDataFrameType.readEnd, 0));
            endSent = true;
          }
          this.socket.uncork();
          metrics.bytesRead.inc(chunk.sizeBytes);
          // Bounded memory: wait for the client to take what is queued (or drop a stalled one).
          if (this.socket.writableLength > readBufferedBytesMax) await this.drained(options.writeIdleTimeoutMs);
        }
      } finally {
        await reader.close();
      }
      if (!endSent) this.socket.write(encodeFrameHeader(ShardDataFrameType.readEnd, 0));
      metrics.operations.inc({ operation: 'read', result: 'ok' });
    } catch (err) {
      const failure = err instanceof ShardDataProtocolError ? new InvalidShardRequestError(err.message) : err;
      this.service.fail('read', failure);
      // Only whole frames were sent, so the connection stays in step after an error frame.
      if (!this.closed) this.sendError(failure);
    } finally {
      if (acquired) this.service.releaseStream('read');
      stopTimer();
    }
  }

  private sendError(err: unknown): void {
    if (this.closed) return;
    this.socket.write(encodeJsonFrame(ShardDataFrameType.error, toWireError(err)));
  }

  /** Half-closes after an error and drops what the client still sends, until it hangs up. */
  private async linger(): Promise<void> {
    this.frames.length = 0;
    this.queuedBytes = 0;
    this.hello = undefined;
    this.socket.removeAllListeners('data');
    this.socket.on('data', () => undefined);
    this.socket.resume();
    this.socket.end();
    const timer = setTimeout(() => this.socket.destroy(), lingerAfterErrorMs);
    timer.unref();
    await new Promise<void>((resolve) => (this.closed ? resolve() : this.socket.once('close', () => resolve())));
    clearTimeout(timer);
  }

  private drained(idleTimeoutMs: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const done = (err?: Error): void => {
        clearTimeout(timer);
        this.socket.removeListener('drain', onDrain);
        this.socket.removeListener('close', onClose);
        if (err === undefined) resolve();
        else reject(err);
      };
      const onDrain = (): void => done();
      const onClose = (): void => done(new StreamCancelledError());
      const timer = setTimeout(() => {
        this.socket.destroy();
        done(new ShardStreamIdleError(idleTimeoutMs));
      }, idleTimeoutMs);
      this.socket.once('drain', onDrain);
      this.socket.once('close', onClose);
    });
  }

  /**
   * The next frame; undefined when the client hung up. With `idleTimeoutMs`, a client that sends
   * nothing for that long loses its connection (ShardStreamIdleError).
   */
  private async nextFrame(idleTimeoutMs: number | undefined): Promise<ShardDataFrame | undefined> {
    let timer: NodeJS.Timeout | undefined;
    let idle = false;
    if (idleTimeoutMs !== undefined) {
      // The operation fails with ShardStreamIdleError, answered to the client, then closed.
      timer = setTimeout(() => {
        idle = true;
        this.wake();
      }, idleTimeoutMs);
    }
    try {
      for (;;) {
        if (this.frames.length > 0) {
          const frame = this.frames.shift()!;
          this.queuedBytes -= frame.body.byteLength;
          if (this.socket.isPaused() && this.queuedBytes <= receiveQueueBytesMax / 2 && !this.closed) this.socket.resume();
          return frame;
        }
        if (this.protocolError !== undefined) throw this.protocolError;
        if (idle) throw new ShardStreamIdleError(idleTimeoutMs ?? 0);
        if (this.closed || this.ended) return undefined;
        await new Promise<void>((resolve) => (this.waiter = resolve));
      }
    } finally {
      clearTimeout(timer);
    }
  }

  private receive(chunk: Buffer): void {
    let data = chunk;
    if (this.hello !== undefined) {
      const hello = Buffer.concat([this.hello, chunk]);
      if (hello.byteLength < shardDataHelloSizeBytes) {
        this.hello = hello;
        return;
      }
      this.hello = undefined;
      const version = decodeShardDataHello(hello);
      // Our hello either way: a client of another version learns ours and gives up.
      this.socket.write(encodeShardDataHello());
      if (version !== shardDataProtocolVersion) {
        this.service.logger.warn('shard data connection with an unknown protocol version; closed', { version, remoteAddress: this.socket.remoteAddress });
        this.socket.end();
        return;
      }
      data = hello.subarray(shardDataHelloSizeBytes);
    }
    let frames: ShardDataFrame[];
    try {
      frames = this.decoder.push(data);
    } catch (err) {
      this.protocolError = err instanceof ShardDataProtocolError ? err : new ShardDataProtocolError(String(err));
      this.socket.pause();
      this.wake();
      return;
    }
    for (const frame of frames) {
      this.frames.push(frame);
      this.queuedBytes += frame.body.byteLength;
    }
    if (this.queuedBytes > receiveQueueBytesMax) this.socket.pause();
    this.wake();
  }

  private wake(): void {
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.();
  }
}

function parseWriteHeader(value: unknown): { shardId: StorageShardId; blockSizeBytes: number; checksumAlgorithm: string; expectedShardSizeBytes: number } {
  const header = asRecord(value, 'write header');
  return {
    shardId: validateShardId(header['shardId'] as { objectVersionId?: unknown; shardIndex?: unknown }),
    blockSizeBytes: nonNegativeInteger(header['blockSizeBytes'], 'blockSizeBytes'),
    checksumAlgorithm: typeof header['checksumAlgorithm'] === 'string' ? header['checksumAlgorithm'] : '',
    expectedShardSizeBytes: nonNegativeInteger(header['expectedShardSizeBytes'] ?? 0, 'expectedShardSizeBytes'),
  };
}

function parseWriteFinish(value: unknown): { shardSizeBytes: number; blockCount: number } {
  const finish = asRecord(value, 'write finish');
  return { shardSizeBytes: nonNegativeInteger(finish['shardSizeBytes'], 'shardSizeBytes'), blockCount: nonNegativeInteger(finish['blockCount'], 'blockCount') };
}

function parseReadRequest(value: unknown): { shardId: StorageShardId; offsetBytes: number; lengthBytes: number } {
  const request = asRecord(value, 'read request');
  return {
    shardId: validateShardId(request['shardId'] as { objectVersionId?: unknown; shardIndex?: unknown }),
    offsetBytes: nonNegativeInteger(request['offsetBytes'] ?? 0, 'offsetBytes'),
    lengthBytes: nonNegativeInteger(request['lengthBytes'] ?? 0, 'lengthBytes'),
  };
}

function asRecord(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InvalidShardRequestError(`${what} must be a JSON object`);
  return value as Record<string, unknown>;
}

function nonNegativeInteger(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw new InvalidShardRequestError(`${field} must be a non-negative integer`);
  return value;
}

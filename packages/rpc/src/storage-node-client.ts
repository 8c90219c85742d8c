import * as grpc from '@grpc/grpc-js';
import { blockChecksumAlgorithm, blockChecksumSizeBytes } from '@tessera/checksum';
import type { StorageNodeClient as GrpcStorageNodeClient } from '@tessera/proto/generated/tessera/storage/v1/StorageNode';
import type { ShardInfo__Output } from '@tessera/proto/generated/tessera/storage/v1/ShardInfo';
import type { NodeInfo__Output } from '@tessera/proto/generated/tessera/storage/v1/NodeInfo';
import type { WriteShardRequest } from '@tessera/proto/generated/tessera/storage/v1/WriteShardRequest';
import { deadlineAfterMs } from './deadline';
import { RpcStatusError, fromGrpcError } from './errors';
import { InvalidShardRequestError } from './storage-node-errors';
import { type StorageShardId, validateShardId } from './storage-node-shard-id';
import { ShardBlockSplitter, type ShardBlock } from './storage-node-blocks';
import { type PreEncodedMessage, encodeWriteShardBlocks, storageNodeServiceDefinition } from './storage-node-codec';
import { ShardDataChannel, ShardDataUnsupportedError, errorFromFrame, type ShardDataConnection } from './shard-data-channel';
import {
  ShardDataFrameType,
  decodeJsonBody,
  decodeReadData,
  encodeJsonFrame,
  encodeWriteBlocksHead,
  shardDataWriteWindowBytes,
  type ShardDataFrame,
} from './shard-data-protocol';

/** What the node reports about one stored shard. */
export interface StoredShardInfo {
  readonly shardId: StorageShardId;
  readonly shardSizeBytes: number;
  readonly blockSizeBytes: number;
  readonly blockCount: number;
  readonly checksumAlgorithm: string;
  readonly storedSizeBytes: number;
  readonly modifiedAtMs: number;
}

export interface ListedShardInfo {
  readonly shardId: StorageShardId;
  readonly storedSizeBytes: number;
  readonly modifiedAtMs: number;
}

export interface ShardListPage {
  readonly shards: readonly ListedShardInfo[];
  /** Empty when the listing is complete. */
  readonly nextPageToken: string;
}

export interface ShardVerification {
  readonly shard: StoredShardInfo | undefined;
  readonly blocksChecked: number;
  readonly corruptBlockIndexes: readonly number[];
  readonly headerCorrupt: boolean;
  readonly ok: boolean;
}

export interface StorageNodeInfo {
  readonly nodeId: string;
  readonly zone: string;
  readonly capacityBytes: number;
  readonly usedBytes: number;
  readonly freeBytes: number;
  readonly shardCount: number;
  readonly version: string;
  readonly diskTotalBytes: number;
  readonly diskFreeBytes: number;
  readonly startedAtMs: number;
}

/** A verified piece of a ranged read: `data` holds the shard bytes starting at `offsetBytes`. */
export interface ShardReadChunk {
  readonly offsetBytes: number;
  readonly data: Buffer;
}

/**
 * The bytes of a shard to write. `bytes`: any chunking of the raw shard bytes (an async
 * iterable or a Readable); the client cuts blocks and computes each block's xxh3-64 checksum.
 * `blocks`: whole blocks in order with checksums the caller computed (e.g. right after erasure
 * coding, so the checksum covers the bytes end to end); every block but the last must be
 * exactly `blockSizeBytes` long.
 */
export type ShardWriteSource =
  | { readonly kind: 'bytes'; readonly chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array> }
  | { readonly kind: 'blocks'; readonly blocks: AsyncIterable<ShardBlock> | Iterable<ShardBlock> };

export interface WriteShardParams {
  readonly shardId: StorageShardId;
  readonly blockSizeBytes: number;
  readonly source: ShardWriteSource;
  /** Optional size hint so the node can refuse a too-large or no-room write up front. */
  readonly expectedShardSizeBytes?: number;
}

export interface CallOptions {
  /** Deadline for the whole call (for streams: the whole stream), from now. */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

export interface ReadShardOptions extends CallOptions {
  readonly offsetBytes?: number;
  /** Omitted or 0: to the end of the shard. */
  readonly lengthBytes?: number;
}

export interface StorageNodeClientOptions {
  /** host:port of the node. */
  readonly address: string;
  /** Deadline of unary calls unless a call says otherwise (default 10 s). */
  readonly unaryTimeoutMs?: number;
  /** Deadline of a whole read or write stream unless a call says otherwise (default 5 min). */
  readonly streamTimeoutMs?: number;
  /** Blocks are grouped into messages of about this size (default 1 MiB). */
  readonly messageSizeBytesTarget?: number;
  /** Extra grpc-js channel options. */
  readonly channelOptions?: grpc.ChannelOptions;
  /**
   * A write waits at most this long for a connection that is still being set up (default 3 s),
   * then fails as UNAVAILABLE. A frozen node accepts TCP but never answers the HTTP/2 handshake,
   * and grpc-js has no handshake timeout: without this a write to it waited for its deadline.
   */
  readonly connectTimeoutMs?: number;
  /**
   * How shard writes and reads travel: `data` (default), the node's shard data protocol on the
   * same port (see shard-data-protocol.ts), falling back to gRPC for a node that does not speak
   * it; `grpc`, the WriteShard and ReadShard gRPC streams. Other calls always use gRPC.
   */
  readonly shardTransport?: 'data' | 'grpc';
  /** While shard streams run, the node is pinged this often (data transport; default 1 s). */
  readonly pingIntervalMs?: number;
  /** An unanswered ping fails the node's shard streams as UNAVAILABLE after this long (default 3 s). */
  readonly pingTimeoutMs?: number;
}

const unaryTimeoutMsDefault = 10_000;
const connectTimeoutMsDefault = 3_000;
const streamTimeoutMsDefault = 300_000;
const messageSizeBytesTargetDefault = 1 << 20;
const writeMessagesInFlightMax = 4;
/** Leaves room for blocks up to the node's 8 MiB block size limit plus framing. */
const messageSizeBytesMax = 16 << 20;
/** After a node answered that it does not speak the shard data protocol, gRPC is used this long. */
const dataProtocolRetryAfterMs = 60_000;

/**
 * Typed client of one storage node. Every call carries a deadline; every failure is rebuilt
 * as the typed error the node threw (ShardNotFoundError, ShardChecksumMismatchError, …) or an
 * RpcStatusError for transport trouble.
 *
 * ```ts
 * const client = new StorageNodeClient({ address: '127.0.0.1:7100' });
 * await client.writeShard({ shardId, blockSizeBytes: 262144, source: { kind: 'bytes', chunks: readable } });
 * for await (const chunk of client.readShard(shardId, { offsetBytes: 0, lengthBytes: 4096 })) use(chunk.data);
 * client.close();
 * ```
 */
export class StorageNodeClient {
  private readonly grpcClient: GrpcStorageNodeClient;
  private readonly unaryTimeoutMs: number;
  private readonly streamTimeoutMs: number;
  private readonly messageSizeBytesTarget: number;
  private readonly connectTimeoutMs: number;
  private readonly dataChannel: ShardDataChannel | undefined;
  /** Date.now() until which shard streams use gRPC (the node did not speak the data protocol). */
  private grpcOnlyUntilMs = 0;

  constructor(readonly options: StorageNodeClientOptions) {
    const constructor = grpc.makeClientConstructor(storageNodeServiceDefinition(), 'StorageNode') as unknown as new (
      address: string,
      credentials: grpc.ChannelCredentials,
      options: grpc.ChannelOptions,
    ) => GrpcStorageNodeClient;
    this.grpcClient = new constructor(options.address, grpc.credentials.createInsecure(), {
      'grpc.max_receive_message_length': messageSizeBytesMax,
      'grpc.max_send_message_length': messageSizeBytesMax,
      // A larger HTTP/2 window than the 64 KiB default keeps a loopback or LAN pipe full.
      'grpc-node.flow_control_window': 8 << 20,
      ...options.channelOptions,
    });
    this.unaryTimeoutMs = options.unaryTimeoutMs ?? unaryTimeoutMsDefault;
    this.streamTimeoutMs = options.streamTimeoutMs ?? streamTimeoutMsDefault;
    this.messageSizeBytesTarget = options.messageSizeBytesTarget ?? messageSizeBytesTargetDefault;
    this.connectTimeoutMs = options.connectTimeoutMs ?? connectTimeoutMsDefault;
    this.dataChannel =
      options.shardTransport === 'grpc'
        ? undefined
        : new ShardDataChannel({
            address: options.address,
            connectTimeoutMs: this.connectTimeoutMs,
            frameBodySizeBytesMax: messageSizeBytesMax,
            ...(options.pingIntervalMs === undefined ? {} : { pingIntervalMs: options.pingIntervalMs }),
            ...(options.pingTimeoutMs === undefined ? {} : { pingTimeoutMs: options.pingTimeoutMs }),
          });
  }

  /** The data channel to use now, or undefined for gRPC. */
  private dataChannelNow(): ShardDataChannel | undefined {
    return this.dataChannel !== undefined && Date.now() >= this.grpcOnlyUntilMs ? this.dataChannel : undefined;
  }

  /** A connection of the data channel, or undefined when this node wants gRPC. */
  private async acquireDataConnection(channel: ShardDataChannel, signal: AbortSignal | undefined): Promise<ShardDataConnection | undefined> {
    try {
      return await channel.acquire(signal);
    } catch (err) {
      if (!(err instanceof ShardDataUnsupportedError)) throw err;
      this.grpcOnlyUntilMs = Date.now() + dataProtocolRetryAfterMs;
      return undefined;
    }
  }

  /**
   * Resolves at once when the channel is ready or has failed (a call then fails fast); while it
   * is idle or connecting, waits for that to change for at most `connectTimeoutMs`, then
   * rejects with UNAVAILABLE. An abort of `signal` ends the wait at once.
   */
  private async awaitConnection(signal: AbortSignal | undefined): Promise<void> {
    const channel = this.grpcClient.getChannel();
    const deadline = Date.now() + this.connectTimeoutMs;
    let state = channel.getConnectivityState(true);
    while (state === grpc.connectivityState.IDLE || state === grpc.connectivityState.CONNECTING) {
      signal?.throwIfAborted();
      const changed = await new Promise<boolean | 'aborted'>((resolve) => {
        const onAbort = (): void => resolve('aborted');
        signal?.addEventListener('abort', onAbort, { once: true });
        channel.watchConnectivityState(state, deadline, (err) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(err === undefined);
        });
      });
      if (changed === 'aborted') signal?.throwIfAborted();
      if (changed !== true) {
        throw new RpcStatusError(grpc.status.UNAVAILABLE, `no connection to ${this.options.address} within ${this.connectTimeoutMs} ms (the node accepts TCP but does not answer)`);
      }
      state = channel.getConnectivityState(false);
    }
  }

  close(): void {
    this.dataChannel?.close();
    this.grpcClient.close();
  }

  /**
   * Streams a shard to the node. Resolves once the shard is durable on the node (fsync'd and
   * renamed into place); on any error nothing of it is kept. Memory: at most 4 messages
   * (~4 MiB) queued in this process per write; a slow node slows the source down.
   */
  async writeShard(params: WriteShardParams, options: CallOptions = {}): Promise<StoredShardInfo> {
    const shardId = validateShardId(params.shardId);
    options.signal?.throwIfAborted();
    const timeoutMs = options.timeoutMs ?? this.streamTimeoutMs;
    const channel = this.dataChannelNow();
    if (channel !== undefined) {
      const connection = await this.acquireDataConnection(channel, options.signal);
      if (connection !== undefined) return this.writeShardOverData(channel, connection, shardId, params, options.signal, timeoutMs);
    }
    await this.awaitConnection(options.signal);
    let call: grpc.ClientWritableStream<WriteShardRequest> | undefined;
    const response = new Promise<ShardInfo__Output | null | undefined>((resolve, reject) => {
      call = this.grpcClient.writeShard({ deadline: deadlineAfterMs(timeoutMs) }, (err, value) => {
        if (err !== null && err !== undefined) reject(fromGrpcError(err));
        else resolve(value?.shard);
      });
    });
    // The response promise may settle (with an error) before we finish sending; keep it observed.
    response.catch(() => undefined);
    const stream = call as unknown as grpc.ClientWritableStream<WriteShardRequest>;
    const onAbort = (): void => stream.cancel();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await this.sendShard(stream, shardId, params, response);
      return toStoredShardInfo(await response);
    } catch (err) {
      stream.cancel();
      // A server-side error explains a failed send better than the send failure itself.
      const serverError = await Promise.race([response.then(() => undefined, (e: unknown) => e), delay(50)]);
      throw serverError ?? err;
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
    }
  }

  private async sendShard(
    stream: grpc.ClientWritableStream<WriteShardRequest>,
    shardId: StorageShardId,
    params: WriteShardParams,
    response: Promise<unknown>,
  ): Promise<void> {
    // Once the node has answered with an error, stop reading the source at once (it may be a
    // large Readable) instead of streaming the rest into a finished call.
    let failure: unknown;
    const failed = response.then(
      () => undefined,
      (err: unknown) => (failure = err),
    );
    // Backpressure with bounded memory: at most `writeMessagesInFlightMax` messages handed to
    // grpc-js and not yet taken by HTTP/2 (which itself stops at the node's flow-control window).
    const inFlight: Promise<undefined>[] = [];
    const send = async (message: WriteShardRequest | PreEncodedMessage): Promise<void> => {
      inFlight.push(new Promise<undefined>((resolve) => stream.write(message as WriteShardRequest, () => resolve(undefined))));
      if (inFlight.length < writeMessagesInFlightMax) return;
      const outcome = await Promise.race([inFlight.shift(), failed]);
      if (outcome !== undefined) throw outcome;
    };
    await send({ header: shardWriteHeader(shardId, params) });
    let shardSizeBytes = 0;
    let blockCount = 0;
    const batch: ShardBlock[] = [];
    let batchSizeBytes = 0;
    const flush = async (): Promise<void> => {
      if (batch.length === 0) return;
      const checksums = Buffer.allocUnsafe(batch.length * blockChecksumSizeBytes);
      batch.forEach((block, i) => checksums.writeBigUInt64LE(block.checksum, i * blockChecksumSizeBytes));
      // Encoded straight from the block buffers: one copy, one allocation per message.
      const message = encodeWriteShardBlocks(batch.map((b) => b.data), checksums);
      batch.length = 0;
      batchSizeBytes = 0;
      await send(message);
    };
    for await (const block of blocksOf(params)) {
      if (failure !== undefined) throw failure;
      if (block.data.byteLength === 0 || block.data.byteLength > params.blockSizeBytes) {
        throw new InvalidShardRequestError(`block ${blockCount} has ${block.data.byteLength} bytes (block size ${params.blockSizeBytes})`);
      }
      batch.push(block);
      batchSizeBytes += block.data.byteLength;
      shardSizeBytes += block.data.byteLength;
      blockCount += 1;
      if (batchSizeBytes >= this.messageSizeBytesTarget) await flush();
    }
    await flush();
    await send({ finish: { shardSizeBytes, blockCount } });
    stream.end();
  }

  /**
   * Reads `lengthBytes` from `offsetBytes` (default: the whole shard) as verified chunks, in
   * order. Ends with ShardChecksumMismatchError (blockIndex set) if a block on disk is bad.
   * Stop iterating early to cancel the stream.
   */
  async *readShard(shardIdInput: StorageShardId, options: ReadShardOptions = {}): AsyncGenerator<ShardReadChunk> {
    const shardId = validateShardId(shardIdInput);
    options.signal?.throwIfAborted();
    const channel = this.dataChannelNow();
    if (channel !== undefined) {
      const connection = await this.acquireDataConnection(channel, options.signal);
      if (connection !== undefined) {
        yield* this.readShardOverData(channel, connection, shardId, options);
        return;
      }
    }
    const call = this.grpcClient.readShard(
      { shardId, offsetBytes: options.offsetBytes ?? 0, lengthBytes: options.lengthBytes ?? 0 },
      { deadline: deadlineAfterMs(options.timeoutMs ?? this.streamTimeoutMs) },
    );
    const onAbort = (): void => call.cancel();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    let done = false;
    try {
      for await (const message of call as AsyncIterable<{ offsetBytes: number; data: Buffer }>) {
        yield { offsetBytes: message.offsetBytes, data: message.data };
      }
      done = true;
    } catch (err) {
      throw fromGrpcError(err);
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
      if (!done) call.cancel();
    }
  }

  /**
   * A shard write over the data protocol: header, block frames sent as the source yields them
   * (at most `shardDataWriteWindowBytes` unacknowledged, and waiting whenever the socket holds
   * more than its high-water mark, so a slow node slows the source down), finish, then the
   * node's answer once the shard is durable.
   */
  private async writeShardOverData(
    channel: ShardDataChannel,
    connection: ShardDataConnection,
    shardId: StorageShardId,
    params: WriteShardParams,
    signal: AbortSignal | undefined,
    timeoutMs: number,
  ): Promise<StoredShardInfo> {
    let reusable = false;
    const stop = this.bindDataOperation(connection, signal, timeoutMs, 'shard write');
    // Sizes of the write-blocks frames sent and not yet acknowledged, oldest first.
    const unackedFrameSizes: number[] = [];
    let unackedBytes = 0;
    const takeAck = (frame: ShardDataFrame): void => {
      if (frame.type !== ShardDataFrameType.writeAck || unackedFrameSizes.length === 0) throw this.frameToError(frame, 'a shard write');
      unackedBytes -= unackedFrameSizes.shift()!;
    };
    // Acknowledgements so far; the node refuses early (busy, full, bad header) with an error
    // frame, then closes, and takeAck throws that error.
    const takeReceivedAcks = (): void => {
      for (let frame = connection.takeReceivedFrame(); frame !== undefined; frame = connection.takeReceivedFrame()) takeAck(frame);
    };
    try {
      // Frames are written in as few writes as possible: the header goes out with the first
      // blocks, the finish with the last, so a shard that fits one frame (every shard of an
      // object up to ~6 MiB in RS(6,3)) costs one write here and wakes the node once.
      let unsent: Buffer[] = [encodeJsonFrame(ShardDataFrameType.writeHeader, shardWriteHeader(shardId, params))];
      let shardSizeBytes = 0;
      let blockCount = 0;
      const batch: Buffer[] = [];
      const batchChecksums: bigint[] = [];
      let batchSizeBytes = 0;
      const flush = async (last: boolean): Promise<void> => {
        if (batch.length > 0) {
          // Flow control: wait for acknowledgements while this frame would overfill the window.
          while (unackedBytes > 0 && unackedBytes + batchSizeBytes > shardDataWriteWindowBytes) takeAck(await connection.nextFrame());
          const checksums = Buffer.allocUnsafe(batch.length * blockChecksumSizeBytes);
          batchChecksums.forEach((checksum, i) => checksums.writeBigUInt64LE(checksum, i * blockChecksumSizeBytes));
          // The block buffers go to the socket as they are: no copy into a message.
          unsent.push(encodeWriteBlocksHead(checksums, batchSizeBytes), ...batch);
          unackedFrameSizes.push(batchSizeBytes);
          unackedBytes += batchSizeBytes;
          batch.length = 0;
          batchChecksums.length = 0;
          batchSizeBytes = 0;
        }
        if (last) unsent.push(encodeJsonFrame(ShardDataFrameType.writeFinish, { shardSizeBytes, blockCount }));
        const buffers = unsent;
        unsent = [];
        await connection.send(buffers);
        takeReceivedAcks();
      };
      // The source is raced with the connection: a node that fails (or stops answering pings)
      // while the source has nothing to give fails this write now, not when the source yields.
      const blocks = toAsyncIterator(blocksOf(params));
      for (;;) {
        let next: IteratorResult<ShardBlock>;
        try {
          next = await connection.orFailure(Promise.resolve(blocks.next()));
        } catch (err) {
          if (connection.failed) void Promise.resolve(blocks.return?.(undefined)).catch(() => undefined);
          throw err;
        }
        if (next.done === true) break;
        const block = next.value;
        takeReceivedAcks();
        if (block.data.byteLength === 0 || block.data.byteLength > params.blockSizeBytes) {
          throw new InvalidShardRequestError(`block ${blockCount} has ${block.data.byteLength} bytes (block size ${params.blockSizeBytes})`);
        }
        batch.push(Buffer.from(block.data.buffer, block.data.byteOffset, block.data.byteLength));
        batchChecksums.push(block.checksum);
        batchSizeBytes += block.data.byteLength;
        shardSizeBytes += block.data.byteLength;
        blockCount += 1;
        if (batchSizeBytes >= this.messageSizeBytesTarget) await flush(false);
      }
      await flush(true);
      let frame = await connection.nextFrame();
      while (frame.type === ShardDataFrameType.writeAck) {
        takeAck(frame);
        frame = await connection.nextFrame();
      }
      if (frame.type !== ShardDataFrameType.writeDone) throw this.frameToError(frame, 'a shard write');
      const info = toStoredShardInfo(decodeJsonBody(frame) as ShardInfo__Output);
      reusable = true;
      return info;
    } catch (err) {
      // A node's error frame explains a failed send better than the send failure itself.
      for (let frame = connection.takeReceivedFrame(); frame !== undefined; frame = connection.takeReceivedFrame()) {
        if (frame.type === ShardDataFrameType.error) throw errorFromFrame(frame);
      }
      throw err;
    } finally {
      stop();
      channel.release(connection, reusable);
    }
  }

  private async *readShardOverData(channel: ShardDataChannel, connection: ShardDataConnection, shardId: StorageShardId, options: ReadShardOptions): AsyncGenerator<ShardReadChunk> {
    let reusable = false;
    const stop = this.bindDataOperation(connection, options.signal, options.timeoutMs ?? this.streamTimeoutMs, 'shard read');
    try {
      await connection.send([encodeJsonFrame(ShardDataFrameType.read, { shardId, offsetBytes: options.offsetBytes ?? 0, lengthBytes: options.lengthBytes ?? 0 })]);
      for (;;) {
        const frame = await connection.nextFrame();
        if (frame.type === ShardDataFrameType.readData) {
          yield decodeReadData(frame);
        } else if (frame.type === ShardDataFrameType.readEnd) {
          reusable = true;
          return;
        } else {
          // After an error frame for a read the connection is still in step.
          reusable = frame.type === ShardDataFrameType.error;
          throw this.frameToError(frame, 'a shard read');
        }
      }
    } finally {
      stop();
      channel.release(connection, reusable);
    }
  }

  /** Deadline and cancellation of one data operation; returns the function that unbinds them. */
  private bindDataOperation(connection: ShardDataConnection, signal: AbortSignal | undefined, timeoutMs: number, what: string): () => void {
    const timer = setTimeout(
      () => connection.fail(new RpcStatusError(grpc.status.DEADLINE_EXCEEDED, `${what} on ${this.options.address} did not finish within ${timeoutMs} ms`), { discardReceived: true }),
      timeoutMs,
    );
    const onAbort = (): void => connection.fail(new RpcStatusError(grpc.status.CANCELLED, `${what} cancelled`), { discardReceived: true });
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted === true) onAbort();
    return () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
  }

  private frameToError(frame: ShardDataFrame, what: string): Error {
    if (frame.type === ShardDataFrameType.error) return errorFromFrame(frame);
    return new RpcStatusError(grpc.status.INTERNAL, `storage node ${this.options.address} sent frame 0x${frame.type.toString(16)} during ${what}`);
  }

  /** Reads a range into one Buffer (for small ranges; prefer `readShard` for big ones). */
  async readShardToBuffer(shardId: StorageShardId, options: ReadShardOptions = {}): Promise<Buffer> {
    const parts: Buffer[] = [];
    for await (const chunk of this.readShard(shardId, options)) parts.push(chunk.data);
    // A range that came in one message (up to ~1 MiB: every shard range of a 1 MiB object) is
    // returned as it is, a view of that message's own buffer, instead of copied into a new one.
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  }

  async statShard(shardIdInput: StorageShardId, options: CallOptions = {}): Promise<StoredShardInfo> {
    const shardId = validateShardId(shardIdInput);
    const info = await this.unary<ShardInfo__Output>(options, (o, cb) => this.grpcClient.statShard({ shardId }, o, cb));
    return toStoredShardInfo(info);
  }

  /** Deletes a shard durably; resolves false when it did not exist (deletes are idempotent). */
  async deleteShard(shardIdInput: StorageShardId, options: CallOptions = {}): Promise<boolean> {
    const shardId = validateShardId(shardIdInput);
    const response = await this.unary<{ deleted: boolean }>(options, (o, cb) => this.grpcClient.deleteShard({ shardId }, o, cb));
    return response.deleted;
  }

  async listShards(page: { pageSize?: number; pageToken?: string } = {}, options: CallOptions = {}): Promise<ShardListPage> {
    const response = await this.unary<{ shards: { shardId: { objectVersionId: string; shardIndex: number } | null; storedSizeBytes: number; modifiedAtMs: number }[]; nextPageToken: string }>(
      options,
      (o, cb) => this.grpcClient.listShards({ pageSize: page.pageSize ?? 0, pageToken: page.pageToken ?? '' }, o, cb),
    );
    return {
      shards: response.shards.map((s) => ({ shardId: validateShardId(s.shardId), storedSizeBytes: s.storedSizeBytes, modifiedAtMs: s.modifiedAtMs })),
      nextPageToken: response.nextPageToken,
    };
  }

  /** Every shard on the node, page by page (each page its own call and deadline). */
  async *listAllShards(pageSize = 1000, options: CallOptions = {}): AsyncGenerator<ListedShardInfo> {
    let pageToken = '';
    do {
      const page = await this.listShards({ pageSize, pageToken }, options);
      yield* page.shards;
      pageToken = page.nextPageToken;
    } while (pageToken !== '');
  }

  /** Has the node re-read and check every block of a shard, without sending the data. */
  async verifyShard(shardIdInput: StorageShardId, options: CallOptions = {}): Promise<ShardVerification> {
    const shardId = validateShardId(shardIdInput);
    const r = await this.unary<{ shard: ShardInfo__Output | null; blocksChecked: number; corruptBlockIndexes: number[]; headerCorrupt: boolean; ok: boolean }>(
      options,
      (o, cb) => this.grpcClient.verifyShard({ shardId }, o, cb),
    );
    return {
      shard: r.shard === null ? undefined : toStoredShardInfo(r.shard),
      blocksChecked: r.blocksChecked,
      corruptBlockIndexes: r.corruptBlockIndexes,
      headerCorrupt: r.headerCorrupt,
      ok: r.ok,
    };
  }

  async getNodeInfo(options: CallOptions = {}): Promise<StorageNodeInfo> {
    const info = await this.unary<NodeInfo__Output>(options, (o, cb) => this.grpcClient.getNodeInfo({}, o, cb));
    return { ...info };
  }

  private unary<T>(
    options: CallOptions,
    start: (callOptions: grpc.CallOptions, callback: (err: grpc.ServiceError | null, value?: T) => void) => grpc.ClientUnaryCall,
  ): Promise<T> {
    options.signal?.throwIfAborted();
    return new Promise<T>((resolve, reject) => {
      const call = start({ deadline: deadlineAfterMs(options.timeoutMs ?? this.unaryTimeoutMs) }, (err, value) => {
        options.signal?.removeEventListener('abort', onAbort);
        if (err !== null) reject(fromGrpcError(err));
        else if (value === undefined) reject(new Error('storage node sent no response'));
        else resolve(value);
      });
      const onAbort = (): void => call.cancel();
      options.signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}

function blocksOf(params: WriteShardParams): AsyncIterable<ShardBlock> | Iterable<ShardBlock> {
  if (params.source.kind === 'blocks') return params.source.blocks;
  const chunks = params.source.chunks;
  const blockSizeBytes = params.blockSizeBytes;
  return (async function* () {
    const splitter = new ShardBlockSplitter(blockSizeBytes);
    for await (const chunk of chunks) yield* splitter.push(chunk);
    yield* splitter.end();
  })();
}

/** The header of a shard write, the same on both transports. */
function shardWriteHeader(shardId: StorageShardId, params: WriteShardParams): { shardId: StorageShardId; blockSizeBytes: number; checksumAlgorithm: string; expectedShardSizeBytes: number } {
  return { shardId, blockSizeBytes: params.blockSizeBytes, checksumAlgorithm: blockChecksumAlgorithm, expectedShardSizeBytes: params.expectedShardSizeBytes ?? 0 };
}

function toAsyncIterator<T>(source: AsyncIterable<T> | Iterable<T>): AsyncIterator<T> | Iterator<T> {
  return Symbol.asyncIterator in source ? source[Symbol.asyncIterator]() : source[Symbol.iterator]();
}

function toStoredShardInfo(info: ShardInfo__Output | null | undefined): StoredShardInfo {
  if (info === null || info === undefined) throw new Error('storage node sent no shard info');
  return {
    shardId: validateShardId(info.shardId),
    shardSizeBytes: info.shardSizeBytes,
    blockSizeBytes: info.blockSizeBytes,
    blockCount: info.blockCount,
    checksumAlgorithm: info.checksumAlgorithm,
    storedSizeBytes: info.storedSizeBytes,
    modifiedAtMs: info.modifiedAtMs,
  };
}

function delay(ms: number): Promise<undefined> {
  return new Promise((resolve) => setTimeout(() => resolve(undefined), ms).unref());
}

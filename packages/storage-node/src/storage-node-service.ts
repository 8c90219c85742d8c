import * as grpc from '@grpc/grpc-js';
import { blockChecksumAlgorithm } from '@tessera/checksum';
import { type Clock, type Logger, assert } from '@tessera/common';
import type { StorageNodeHandlers } from '@tessera/proto/generated/tessera/storage/v1/StorageNode';
import type { ReadShardRequest__Output } from '@tessera/proto/generated/tessera/storage/v1/ReadShardRequest';
import type { ReadShardResponse } from '@tessera/proto/generated/tessera/storage/v1/ReadShardResponse';
import type { WriteShardRequest__Output } from '@tessera/proto/generated/tessera/storage/v1/WriteShardRequest';
import type { WriteShardResponse } from '@tessera/proto/generated/tessera/storage/v1/WriteShardResponse';
import type { ShardInfo } from '@tessera/proto/generated/tessera/storage/v1/ShardInfo';
import {
  InvalidShardRequestError,
  ShardChecksumMismatchError,
  ShardStreamIdleError,
  StorageNodeBusyError,
  TesseraError,
  encodeReadShardResponse,
  shardKey,
  toGrpcError,
  validateShardId,
} from '@tessera/rpc';
import type { FsShardStore, ShardStat } from './fs-shard-store';
import type { ShardOperation, StorageNodeMetrics } from './metrics';
import type { ShardWriter, WrittenShard } from './shard-writer';

export interface StorageNodeServiceOptions {
  readonly nodeId: string;
  readonly zone: string;
  readonly version: string;
  readonly startedAtMs: number;
  /** Read, write and verify streams served at once; more are refused with RESOURCE_EXHAUSTED. */
  readonly concurrentStreamCountMax: number;
  /**
   * A write stream that sends nothing, or a read stream whose client reads nothing, for this
   * long is dropped (frees its slot; a dropped write keeps nothing).
   */
  readonly writeIdleTimeoutMs: number;
}

/**
 * The caller went away (cancelled, deadline passed, connection lost, server force-stopped).
 * Never reaches the caller; it labels metrics and logs as CANCELLED rather than INTERNAL.
 */
export class StreamCancelledError extends TesseraError {
  static readonly errorName = 'StreamCancelledError';
  readonly grpcCode = grpc.status.CANCELLED;
  constructor() {
    super('stream cancelled by the client, its deadline, or shutdown');
    this.name = StreamCancelledError.errorName;
  }
}

/** Read responses in flight per stream: one being sent while the next is read from disk. */
const readMessagesInFlightMax = 2;

/**
 * gRPC handlers of the StorageNode service over a FsShardStore: protocol checks, stream
 * limits, idle timeouts, metrics and error mapping. Every failure leaves as a typed error.
 */
export class StorageNodeService {
  private openStreamCount = 0;
  private readonly activeCalls = new Set<Promise<void>>();

  constructor(
    readonly store: FsShardStore,
    readonly metrics: StorageNodeMetrics,
    readonly logger: Logger,
    readonly clock: Clock,
    readonly options: StorageNodeServiceOptions,
  ) {}

  /** Resolves when every call in progress has finished (after the server stopped taking new ones). */
  async drained(): Promise<void> {
    while (this.activeCalls.size > 0) await Promise.allSettled([...this.activeCalls]);
  }

  handlers(): StorageNodeHandlers {
    return {
      WriteShard: (call, callback) => this.track(this.writeShard(call, callback)),
      ReadShard: (call) => this.track(this.readShard(call)),
      StatShard: (call, callback) =>
        this.track(this.unary('stat', callback, async () => toShardInfo(await this.store.stat(validateShardId(call.request.shardId))))),
      DeleteShard: (call, callback) =>
        this.track(this.unary('delete', callback, async () => ({ deleted: await this.store.delete(validateShardId(call.request.shardId)) }))),
      ListShards: (call, callback) =>
        this.track(
          this.unary('list', callback, async () => {
            const page = await this.store.list(call.request.pageSize, call.request.pageToken);
            return { shards: page.shards, nextPageToken: page.nextPageToken };
          }),
        ),
      VerifyShard: (call, callback) => this.track(this.unary('verify', callback, () => this.verifyShard(call.request.shardId))),
      GetNodeInfo: (_call, callback) =>
        this.track(
          this.unary('node_info', callback, async () => ({
            nodeId: this.options.nodeId,
            zone: this.options.zone,
            version: this.options.version,
            startedAtMs: this.options.startedAtMs,
            ...(await this.store.usage()),
          })),
        ),
    };
  }

  /** Keeps `work` among the calls `drained()` waits for; logs what it throws. */
  track(work: Promise<void>): void {
    const tracked = work.catch((err: unknown) => this.logger.error('unhandled error in a call', { err }));
    this.activeCalls.add(tracked);
    void tracked.finally(() => this.activeCalls.delete(tracked));
  }

  private async unary<T>(operation: ShardOperation, callback: grpc.sendUnaryData<T>, action: () => Promise<T>): Promise<void> {
    const stopTimer = this.metrics.operationDuration.startTimer({ operation });
    try {
      const value = await action();
      this.metrics.operations.inc({ operation, result: 'ok' });
      callback(null, value);
    } catch (err) {
      this.fail(operation, err);
      callback(toGrpcError(err));
    } finally {
      stopTimer();
    }
  }

  private async verifyShard(shardIdInput: unknown): Promise<object> {
    const shardId = validateShardId(shardIdInput as { objectVersionId?: unknown; shardIndex?: unknown });
    this.acquireStream('verify');
    try {
      const result = await this.store.verify(shardId);
      const ok = !result.headerCorrupt && result.corruptBlockIndexes.length === 0;
      if (!ok) this.logger.warn('shard failed verification', { shard: shardKey(shardId), headerCorrupt: result.headerCorrupt, corruptBlockIndexes: result.corruptBlockIndexes });
      return { ...result, shard: result.shard === undefined ? null : toShardInfo(result.shard), ok };
    } finally {
      this.releaseStream('verify');
    }
  }

  private async writeShard(
    call: grpc.ServerReadableStream<WriteShardRequest__Output, WriteShardResponse>,
    callback: grpc.sendUnaryData<WriteShardResponse>,
  ): Promise<void> {
    const stopTimer = this.metrics.operationDuration.startTimer({ operation: 'write' });
    try {
      this.acquireStream('write');
    } catch (err) {
      this.fail('write', err);
      callback(toGrpcError(err));
      return;
    }
    let writer: ShardWriter | undefined;
    try {
      const written = await this.receiveShard(call, (w) => (writer = w));
      callback(null, { shard: this.recordWritten(written) });
    } catch (err) {
      await writer?.abort();
      this.recordWriteFailure(err);
      callback(toGrpcError(err));
    } finally {
      this.releaseStream('write');
      stopTimer();
    }
  }

  /**
   * Consumes the request stream one message at a time (so gRPC flow control slows a writer
   * down to the disk's pace) and commits once the client half-closes after `finish`.
   */
  private async receiveShard(
    call: grpc.ServerReadableStream<WriteShardRequest__Output, WriteShardResponse>,
    onWriter: (writer: ShardWriter) => void,
  ): Promise<WrittenShard> {
    const idleTimeoutMs = this.options.writeIdleTimeoutMs;
    let idleTimer: NodeJS.Timeout | undefined;
    const armIdleTimer = (): void => {
      clearTimeout(idleTimer);
      idleTimer = setTimeout(() => call.destroy(new ShardStreamIdleError(idleTimeoutMs)), idleTimeoutMs);
    };
    // A cancelled call (client gone, deadline passed, server force-stopped) never ends the
    // request stream by itself: destroying it makes the loop below throw, so we clean up.
    const onCancelled = (): void => {
      call.destroy(new StreamCancelledError());
    };
    call.once('cancelled', onCancelled);
    let writer: ShardWriter | undefined;
    let finish: { shardSizeBytes: number; blockCount: number } | undefined;
    try {
      armIdleTimer();
      // destroyOnReturn false: when the request stream has ended the call is still open (its
      // response is not sent yet), and the default iterator would destroy it on leaving the
      // loop, building an AbortError and two more errors with stack traces in grpc-js for every
      // shard written. A call that fails is answered with its status by the caller instead.
      const requests = call.iterator({ destroyOnReturn: false }) as AsyncIterable<WriteShardRequest__Output>;
      for await (const request of requests) {
        armIdleTimer();
        if (finish !== undefined) throw new InvalidShardRequestError('message after finish');
        if (request.part === 'header' && request.header) {
          if (writer !== undefined) throw new InvalidShardRequestError('header sent twice');
          const header = request.header;
          writer = await this.store.beginWrite({
            shardId: validateShardId(header.shardId),
            blockSizeBytes: header.blockSizeBytes,
            checksumAlgorithm: header.checksumAlgorithm,
            expectedShardSizeBytes: header.expectedShardSizeBytes,
          });
          onWriter(writer);
        } else if (request.part === 'blocks' && request.blocks) {
          if (writer === undefined) throw new InvalidShardRequestError('blocks before the header');
          await writer.appendBlocks(request.blocks.data, request.blocks.blockChecksums);
        } else if (request.part === 'finish' && request.finish) {
          if (writer === undefined) throw new InvalidShardRequestError('finish before the header');
          finish = request.finish;
        } else {
          throw new InvalidShardRequestError('empty write message');
        }
      }
      clearTimeout(idleTimer);
      if (writer === undefined) throw new InvalidShardRequestError('write stream without a header');
      if (finish === undefined) throw new InvalidShardRequestError('write stream ended without finish; incomplete shard dropped');
      if (call.cancelled) throw new StreamCancelledError();
      return await writer.commit(finish);
    } finally {
      clearTimeout(idleTimer);
      call.removeListener('cancelled', onCancelled);
    }
  }

  private async readShard(call: grpc.ServerWritableStream<ReadShardRequest__Output, ReadShardResponse>): Promise<void> {
    const stopTimer = this.metrics.operationDuration.startTimer({ operation: 'read' });
    let acquired = false;
    try {
      this.acquireStream('read');
      acquired = true;
      await this.sendShard(call);
      this.metrics.operations.inc({ operation: 'read', result: call.cancelled ? 'CANCELLED' : 'ok' });
      if (!call.cancelled) call.end();
    } catch (err) {
      this.fail('read', err);
      if (!call.cancelled) call.emit('error', toGrpcError(err));
    } finally {
      if (acquired) this.releaseStream('read');
      stopTimer();
    }
  }

  private async sendShard(call: grpc.ServerWritableStream<ReadShardRequest__Output, ReadShardResponse>): Promise<void> {
    const shardId = validateShardId(call.request.shardId);
    const reader = await this.store.openShard(shardId, { prefetchRecordsBytes: prefetchRecordsBytesFor(call.request.offsetBytes, call.request.lengthBytes) });
    const inFlight: Promise<void>[] = [];
    let cancelled = false;
    const cancelledPromise = new Promise<void>((resolve) => {
      if (call.cancelled) resolve();
      call.once('cancelled', () => resolve());
    });
    void cancelledPromise.then(() => (cancelled = true));
    try {
      const range = reader.resolveRange(call.request.offsetBytes, call.request.lengthBytes);
      for await (const chunk of reader.readRange(range.offsetBytes, range.endBytes)) {
        if (cancelled || call.cancelled) return;
        // Pre-encoded straight from the verified block views (see @tessera/rpc storage-node-codec).
        const message = encodeReadShardResponse(chunk.offsetBytes, chunk.pieces) as unknown as ReadShardResponse;
        const written = new Promise<void>((resolve) => call.write(message, () => resolve()));
        inFlight.push(written);
        this.metrics.bytesRead.inc(chunk.sizeBytes);
        // Bounded memory: wait until the oldest message left for the socket (or the call ended).
        // A reader that stops reading for the idle limit loses its stream (and its slot).
        if (inFlight.length >= readMessagesInFlightMax) {
          let idleTimer: NodeJS.Timeout | undefined;
          const idle = new Promise<'idle'>((resolve) => (idleTimer = setTimeout(() => resolve('idle'), this.options.writeIdleTimeoutMs)));
          const outcome = await Promise.race([inFlight.shift(), cancelledPromise, idle]);
          clearTimeout(idleTimer);
          if (outcome === 'idle') throw new ShardStreamIdleError(this.options.writeIdleTimeoutMs);
        }
      }
    } finally {
      await reader.close();
    }
  }

  /** Takes one of the node's stream slots (shared by gRPC and the shard data protocol), or throws busy. */
  acquireStream(kind: 'read' | 'write' | 'verify'): void {
    if (this.openStreamCount >= this.options.concurrentStreamCountMax) throw new StorageNodeBusyError(this.options.concurrentStreamCountMax);
    this.openStreamCount += 1;
    this.metrics.openStreams.inc({ kind });
  }

  releaseStream(kind: 'read' | 'write' | 'verify'): void {
    this.openStreamCount -= 1;
    assert(this.openStreamCount >= 0, 'stream count never negative');
    this.metrics.openStreams.dec({ kind });
  }

  /** Counts a committed shard write (either protocol); returns the shard info to answer with. */
  recordWritten(written: WrittenShard): ShardInfo {
    this.metrics.bytesWritten.inc(written.shardSizeBytes);
    this.metrics.operations.inc({ operation: 'write', result: 'ok' });
    return toShardInfo({ ...written, checksumAlgorithm: blockChecksumAlgorithm, modifiedAtMs: this.clock.nowMs() });
  }

  /** Counts and logs a failed shard write (either protocol); its writer is already aborted. */
  recordWriteFailure(err: unknown): void {
    if (err instanceof ShardChecksumMismatchError) this.metrics.checksumFailures.inc({ source: 'upload' });
    this.fail('write', err);
  }

  /** Counts and logs a failed operation by the gRPC status its error travels as. */
  fail(operation: ShardOperation, err: unknown): void {
    const status = toGrpcError(err).code ?? grpc.status.INTERNAL;
    const result = grpc.status[status] ?? String(status);
    this.metrics.operations.inc({ operation, result });
    const fields = { operation, result, err };
    if (status === grpc.status.INTERNAL || status === grpc.status.UNAVAILABLE || status === grpc.status.DATA_LOSS) this.logger.error('shard operation failed', fields);
    else this.logger.debug('shard operation refused', fields);
  }
}

/**
 * Record bytes worth reading with the header of a shard read: none unless it starts at the first
 * block and says how long it is (the gateway's and healer's reads do; with length 0, "to the
 * end", the size is unknown until the header is read, and a guess would allocate more than the
 * shard). A range of L data bytes spans at most L + 8 bytes of checksum per block; L/64 + 64
 * covers blocks of 512 bytes and more (with smaller blocks the first span is read apart).
 */
export function prefetchRecordsBytesFor(offsetBytes: number, lengthBytes: number): number {
  if (offsetBytes !== 0 || lengthBytes === 0) return 0;
  return lengthBytes + Math.ceil(lengthBytes / 64) + 64;
}

function toShardInfo(stat: ShardStat): ShardInfo {
  return { ...stat };
}

/**
 * Streams one body into one stripe: cuts blocks of blockSizeBytes as bytes arrive, splits each
 * into k data shards (ceil(block / k) bytes, the tail zero-padded; the padding is implied by the
 * recorded size and never returned), encodes m parity shards, and streams shard i of every block
 * to the node placed for shard i, all k + m streams in parallel, each block with its xxh3-64
 * checksum computed right after encoding (so it covers the bytes end to end).
 *
 * Memory is bounded whatever the object size: one block being filled, at most
 * `writeBlocksInFlightMax` encoded blocks queued per shard stream, and the storage-node
 * client's own bounded send window. A slow stream slows the body reader (backpressure); one
 * that takes no block for `writeShardStallMs` is dropped if the others still make the quorum.
 * Once the body is sent and the quorum is durable, streams still unfinished get
 * `writeStragglerGraceMs` (at least as long as the quorum took to finish after the body was
 * sent), then are dropped the same way.
 *
 * Resolves when every stream has finished: each successful shard is durable on its node. A
 * shard stream that failed is reported in `failedShardIndexes`; fewer than
 * `writeQuorumShardCount` successes throws QuorumUnavailableError. The caller commits (or
 * aborts and deletes) afterwards: this class never touches the metadata.
 */
import { blockChecksum } from '@tessera/checksum';
import { assert } from '@tessera/common';
import type { Logger } from '@tessera/common';
import { ReedSolomon, splitBlockIntoDataShards } from '@tessera/erasure';
import { StorageFullError, type ShardBlock } from '@tessera/rpc';
import { BoundedChannel } from './bounded-channel';
import type { DataPathOptions } from './data-path-options';
import type { StorageNodePool } from './storage-node-pool';
import { QuorumUnavailableError, isTransportFailure, shardCountOf, shardIdOf } from './stripe';
import type { Stripe } from './stripe';

export interface StripeWriteResult {
  readonly sizeBytes: number;
  readonly blockCount: number;
  /** Shard indexes whose stream failed or was dropped: to be healed. */
  readonly failedShardIndexes: readonly number[];
}

interface ShardStream {
  readonly shardIndex: number;
  readonly nodeId: string;
  readonly channel: BoundedChannel<ShardBlock>;
  readonly abort: AbortController;
  /** Settles (never rejects) when the stream ended; `failure` says how. */
  done: Promise<void>;
  failure: unknown;
  /** True once `done` has settled. */
  ended: boolean;
}

export class StripeWriter {
  private readonly codecs = new Map<string, ReedSolomon>();

  constructor(
    private readonly pool: StorageNodePool,
    private readonly options: DataPathOptions,
    private readonly logger: Logger,
  ) {}

  /** `source` is the whole body; iteration errors (client gone) cancel every stream and rethrow. */
  async write(stripe: Stripe, source: AsyncIterable<Uint8Array>): Promise<StripeWriteResult> {
    assert(stripe.shardNodeIds.length === shardCountOf(stripe), 'one node per shard');
    const quorum = Math.min(this.options.writeQuorumShardCount, shardCountOf(stripe));
    const streams = stripe.shardNodeIds.map((nodeId, shardIndex) => this.openStream(stripe, nodeId, shardIndex));
    const liveCount = (): number => streams.filter((s) => s.failure === undefined).length;
    let sizeBytes = 0;
    let blockCount = 0;
    try {
      const blocks = cutBlocks(source, stripe.blockSizeBytes);
      for await (const block of blocks) {
        if (liveCount() < quorum) break;
        await this.emitBlock(stripe, block, streams, quorum);
        sizeBytes += block.byteLength;
        blockCount += 1;
      }
      for (const stream of streams) stream.channel.close();
      await this.awaitStreams(stripe, streams, quorum);
    } catch (error) {
      for (const stream of streams) cancel(stream, error);
      await Promise.all(streams.map((s) => s.done));
      throw error;
    }
    const failedShardIndexes = streams.filter((s) => s.failure !== undefined).map((s) => s.shardIndex);
    if (shardCountOf(stripe) - failedShardIndexes.length < quorum) {
      const causes = streams.filter((s) => s.failure !== undefined).map((s) => `${s.shardIndex}: ${String(s.failure)}`);
      // Out of space on enough nodes to miss the quorum by that alone: say so, not "unreachable".
      const fullCount = streams.filter((s) => s.failure instanceof StorageFullError).length;
      const storageFull = shardCountOf(stripe) - fullCount < quorum;
      throw new QuorumUnavailableError('write', `stripe ${stripe.stripeId}: only ${liveCount()} of ${shardCountOf(stripe)} shards written, quorum ${quorum} (${causes.join('; ')})`, { storageFull });
    }
    return { sizeBytes, blockCount, failedShardIndexes };
  }

  private codecFor(stripe: Stripe): ReedSolomon {
    const key = `${stripe.dataShardCount}+${stripe.parityShardCount}`;
    let codec = this.codecs.get(key);
    if (codec === undefined) {
      codec = new ReedSolomon(stripe.dataShardCount, stripe.parityShardCount);
      this.codecs.set(key, codec);
    }
    return codec;
  }

  private openStream(stripe: Stripe, nodeId: string, shardIndex: number): ShardStream {
    const channel = new BoundedChannel<ShardBlock>(this.options.writeBlocksInFlightMax);
    const abort = new AbortController();
    const stream: ShardStream = { shardIndex, nodeId, channel, abort, done: Promise.resolve(), failure: undefined, ended: false };
    const shardBlockSizeBytes = Math.ceil(stripe.blockSizeBytes / stripe.dataShardCount);
    const run = async (): Promise<void> => {
      const client = await this.pool.clientFor(nodeId);
      await client.writeShard(
        { shardId: shardIdOf(stripe, shardIndex), blockSizeBytes: shardBlockSizeBytes, source: { kind: 'blocks', blocks: channel } },
        { signal: abort.signal, timeoutMs: this.options.shardStreamTimeoutMs },
      );
      this.pool.markReachable(nodeId);
    };
    stream.done = run()
      .catch((error: unknown) => {
        if (stream.failure === undefined) stream.failure = error;
        // The node failed, not this write (which cancels its own streams through `abort`).
        if (!abort.signal.aborted && isTransportFailure(error)) this.pool.avoidForWrites(nodeId);
        channel.discard();
        this.logger.warn('shard write failed', { stripeId: stripe.stripeId, shardIndex, nodeId, error: String(error) });
      })
      .finally(() => {
        stream.ended = true;
      });
    return stream;
  }

  /**
   * Waits for every stream after the last block was queued. As soon as `quorum` of them have
   * succeeded, the others get the straggler grace: writeStragglerGraceMs, or as long as the
   * quorum took from here if that is longer, so a loaded machine (slow fsyncs everywhere) does
   * not drop healthy streams. Streams still running then are cancelled and become failed shards.
   */
  private async awaitStreams(stripe: Stripe, streams: readonly ShardStream[], quorum: number): Promise<void> {
    const bodySentMs = performance.now();
    let graceTimer: NodeJS.Timeout | undefined;
    const startGraceOnQuorum = (): void => {
      if (graceTimer !== undefined) return;
      const succeeded = streams.filter((s) => s.ended && s.failure === undefined).length;
      if (succeeded < quorum || streams.every((s) => s.ended)) return;
      const graceMs = Math.max(this.options.writeStragglerGraceMs, performance.now() - bodySentMs);
      graceTimer = setTimeout(() => {
        for (const stream of streams) {
          if (stream.ended) continue;
          this.logger.warn('shard write dropped: still unfinished after the write quorum was reached', { stripeId: stripe.stripeId, shardIndex: stream.shardIndex, graceMs: Math.round(graceMs) });
          cancel(stream, new Error(`shard stream unfinished ${Math.round(graceMs)} ms after the write quorum was reached`));
          this.pool.avoidForWrites(stream.nodeId);
        }
      }, graceMs);
    };
    try {
      startGraceOnQuorum();
      await Promise.all(streams.map((s) => s.done.then(startGraceOnQuorum)));
    } finally {
      clearTimeout(graceTimer);
    }
  }

  private async emitBlock(stripe: Stripe, block: Uint8Array, streams: readonly ShardStream[], quorum: number): Promise<void> {
    const dataShards = splitBlockIntoDataShards(block, stripe.dataShardCount);
    const shards = [...dataShards, ...this.codecFor(stripe).encode(dataShards)];
    await Promise.all(
      streams.map(async (stream) => {
        if (stream.failure !== undefined) return;
        const shard = shards[stream.shardIndex];
        assert(shard !== undefined, 'a shard for every stream');
        await this.pushOrDrop(stream, { data: shard, checksum: blockChecksum(shard) }, streams, quorum);
      }),
    );
  }

  /** Queues a block; a stream stalled for writeShardStallMs is dropped if the quorum allows. */
  private async pushOrDrop(stream: ShardStream, block: ShardBlock, streams: readonly ShardStream[], quorum: number): Promise<void> {
    const pushed = stream.channel.push(block);
    for (;;) {
      let timer: NodeJS.Timeout | undefined;
      const stalled = new Promise<'stalled'>((resolve) => (timer = setTimeout(() => resolve('stalled'), this.options.writeShardStallMs)));
      const outcome = await Promise.race([pushed.then(() => 'pushed' as const), stalled]);
      clearTimeout(timer);
      if (outcome === 'pushed') return;
      const liveCount = streams.filter((s) => s.failure === undefined).length;
      if (liveCount - 1 >= quorum) {
        cancel(stream, new Error(`shard stream stalled for ${this.options.writeShardStallMs} ms`));
        this.pool.avoidForWrites(stream.nodeId);
        await pushed;
        return;
      }
    }
  }
}

function cancel(stream: ShardStream, reason: unknown): void {
  if (stream.failure === undefined) stream.failure = reason;
  stream.channel.discard();
  stream.abort.abort();
}

/** Whole blocks of exactly blockSizeBytes (the last one shorter), each a fresh buffer. */
export async function* cutBlocks(source: AsyncIterable<Uint8Array>, blockSizeBytes: number): AsyncGenerator<Uint8Array> {
  let block = Buffer.allocUnsafe(blockSizeBytes);
  let filledBytes = 0;
  for await (const chunk of source) {
    let offset = 0;
    while (offset < chunk.byteLength) {
      const takenBytes = Math.min(blockSizeBytes - filledBytes, chunk.byteLength - offset);
      block.set(chunk.subarray(offset, offset + takenBytes), filledBytes);
      filledBytes += takenBytes;
      offset += takenBytes;
      if (filledBytes === blockSizeBytes) {
        // A fresh buffer per block: the shards are views into it while the streams send them.
        yield block;
        block = Buffer.allocUnsafe(blockSizeBytes);
        filledBytes = 0;
      }
    }
  }
  if (filledBytes > 0) yield block.subarray(0, filledBytes);
}

/**
 * Tunables of the erasure-coded data path, with defaults and the relationships between them
 * checked once at startup (STYLE habit 15). Every number carries its unit in its name.
 */
import { assert } from '@tessera/common';

export interface DataPathOptions {
  /** k: data shards per stripe. */
  readonly dataShardCount: number;
  /** m: parity shards per stripe; any m shards of a block may be lost. */
  readonly parityShardCount: number;
  /** Object bytes per erasure-coded block (the unit of encoding, checksums and degraded reads). */
  readonly blockSizeBytes: number;
  /**
   * Shard streams that must succeed for a PUT to commit. Default k + 1: every committed block
   * can lose one more shard before it is unreadable, so a write never starts life one failure
   * away from data loss. Must be in [k, k + m].
   */
  readonly writeQuorumShardCount: number;
  /** Objects (and parts) smaller than this are stored inline in the metadata (Raft-replicated). */
  readonly inlineSizeBytesMax: number;
  /** Blocks queued per shard stream before the body reader waits (bounds PUT memory). */
  readonly writeBlocksInFlightMax: number;
  /**
   * A shard stream that has not taken a block for this long is dropped (and recorded as a
   * failed shard) if the others still make the quorum, so one slow node cannot stall a PUT.
   */
  readonly writeShardStallMs: number;
  /**
   * Once the body is sent and the write quorum of shards is durable, the remaining shard
   * streams get this long to finish (or as long as the quorum took after the body was sent, if
   * that is longer); then they are cancelled and recorded as failed shards, healed later. A
   * node that hangs (a frozen process, a stuck disk) keeps its connection open and never
   * fails, so without this a PUT waited for the stream deadline.
   */
  readonly writeStragglerGraceMs: number;
  /** A data-shard read not answered by then is hedged with reads of parity shards. */
  readonly readHedgeAfterMs: number;
  /**
   * When a read window is left with fewer than k readable shards and some of the failures were
   * in transport (a connection reset, a node that missed its keepalive pings while overloaded),
   * those shard reads are tried again up to this many times before the window fails. Past the
   * first window the response status has gone out, so a failed window cuts the body.
   */
  readonly readTransportRetriesMax: number;
  /** Wait before the n-th such retry: n times this. */
  readonly readTransportRetryDelayMs: number;
  /** Object bytes fetched per read window (every shard read of a window covers the same range). */
  readonly readWindowBytes: number;
  /**
   * Windows fetched ahead of the one being sent: a GET holds at most (1 + this) windows. Measured
   * (16 MiB objects, one reader): 4 MiB windows with 2 ahead read 10% faster on average than 8 MiB
   * windows with 1 ahead, with a lower p99 and 12 instead of 16 MiB per GET.
   */
  readonly readWindowsAheadMax: number;
  /**
   * Shard data all GETs of this gateway may hold at once (read windows being fetched or sent).
   * A GET waits for budget before fetching the window it sends next; windows ahead are fetched
   * only from spare budget. Bounds the gateway's memory under many concurrent GETs.
   */
  readonly readBufferBytesMax: number;
  /**
   * Buffers all PUTs, UploadParts and copies of this gateway may hold at once: each striped
   * write reserves what it can hold (the block being cut plus `writeBlocksInFlightMax` encoded
   * blocks, k + m shards each; less for a smaller body) before it reads its body.
   */
  readonly writeBufferBytesMax: number;
  /** A write that cannot reserve its buffers within this long is refused with 503 SlowDown. */
  readonly writeBufferWaitMsMax: number;
  /** Deadline of one shard stream (read or write). */
  readonly shardStreamTimeoutMs: number;
  /** How long the storage node list from the metadata service is cached. */
  readonly nodeListTtlMs: number;
}

export const defaultDataPathOptions: DataPathOptions = {
  dataShardCount: 6,
  parityShardCount: 3,
  blockSizeBytes: 1024 * 1024,
  writeQuorumShardCount: 7,
  inlineSizeBytesMax: 64 * 1024,
  writeBlocksInFlightMax: 4,
  writeShardStallMs: 10_000,
  writeStragglerGraceMs: 2_000,
  readHedgeAfterMs: 400,
  readTransportRetriesMax: 2,
  readTransportRetryDelayMs: 250,
  readWindowBytes: 4 * 1024 * 1024,
  readWindowsAheadMax: 2,
  readBufferBytesMax: 256 * 1024 * 1024,
  writeBufferBytesMax: 256 * 1024 * 1024,
  writeBufferWaitMsMax: 60_000,
  shardStreamTimeoutMs: 300_000,
  nodeListTtlMs: 5_000,
};

/**
 * Defaults with k, m and the block size overridden. Unless given: the quorum follows k, a read
 * window holds at least one block, and the read and write buffer budgets hold at least 8 windows
 * and 8 writes of the resulting shape (large blocks make each hold more).
 */
export function dataPathOptions(overrides: Partial<DataPathOptions> = {}): DataPathOptions {
  const dataShardCount = overrides.dataShardCount ?? defaultDataPathOptions.dataShardCount;
  const parityShardCount = overrides.parityShardCount ?? defaultDataPathOptions.parityShardCount;
  const blockSizeBytes = overrides.blockSizeBytes ?? defaultDataPathOptions.blockSizeBytes;
  const readWindowBytes = overrides.readWindowBytes ?? Math.max(defaultDataPathOptions.readWindowBytes, blockSizeBytes);
  const shaped: DataPathOptions = {
    ...defaultDataPathOptions,
    writeQuorumShardCount: Math.min(dataShardCount + 1, dataShardCount + parityShardCount),
    readWindowBytes,
    readBufferBytesMax: Math.max(defaultDataPathOptions.readBufferBytesMax, 8 * readWindowBytes),
    ...overrides,
  };
  const options: DataPathOptions = {
    ...shaped,
    writeBufferBytesMax: overrides.writeBufferBytesMax ?? Math.max(defaultDataPathOptions.writeBufferBytesMax, 8 * writeBufferBytesOf(shaped, Number.POSITIVE_INFINITY)),
  };
  validateDataPathOptions(options);
  return options;
}

export function validateDataPathOptions(options: DataPathOptions): void {
  const { dataShardCount: k, parityShardCount: m } = options;
  assert(Number.isInteger(k) && k >= 1, 'dataShardCount >= 1');
  assert(Number.isInteger(m) && m >= 1, 'parityShardCount >= 1');
  // GF(2^8) codecs of the erasure package support at most 32 shards per stripe.
  assert(k + m <= 32, 'dataShardCount + parityShardCount <= 32');
  // Fewer than k shards cannot be decoded; more than k + m cannot exist.
  assert(options.writeQuorumShardCount >= k && options.writeQuorumShardCount <= k + m, 'writeQuorumShardCount in [k, k + m]');
  // The storage node refuses blocks over 8 MiB; each shard block is blockSizeBytes / k.
  assert(Number.isInteger(options.blockSizeBytes) && options.blockSizeBytes >= k && options.blockSizeBytes <= 64 * 1024 * 1024, 'blockSizeBytes in [k, 64 MiB]');
  assert(Math.ceil(options.blockSizeBytes / k) <= 8 * 1024 * 1024, 'shard block size <= 8 MiB');
  // Inline objects travel in one Raft entry: keep them far below the 4 MiB gRPC message limit.
  assert(options.inlineSizeBytesMax >= 0 && options.inlineSizeBytesMax <= 1024 * 1024, 'inlineSizeBytesMax in [0, 1 MiB]');
  assert(options.writeBlocksInFlightMax >= 1, 'writeBlocksInFlightMax >= 1');
  assert(options.readWindowBytes >= options.blockSizeBytes, 'readWindowBytes >= blockSizeBytes');
  assert(Number.isInteger(options.readWindowsAheadMax) && options.readWindowsAheadMax >= 0, 'readWindowsAheadMax >= 0');
  assert(options.writeBufferWaitMsMax > 0, 'writeBufferWaitMsMax > 0');
  // One write must fit, or every write would be served alone.
  assert(options.writeBufferBytesMax >= writeBufferBytesOf(options, Number.POSITIVE_INFINITY), 'writeBufferBytesMax holds one write');
  // One window must fit, or every GET would be served alone.
  assert(options.readBufferBytesMax >= options.readWindowBytes, 'readBufferBytesMax >= readWindowBytes');
  assert(Number.isInteger(options.readTransportRetriesMax) && options.readTransportRetriesMax >= 0 && options.readTransportRetryDelayMs >= 0, 'readTransportRetriesMax and readTransportRetryDelayMs >= 0');
  assert(options.readHedgeAfterMs > 0 && options.writeShardStallMs > 0 && options.writeStragglerGraceMs > 0 && options.shardStreamTimeoutMs > 0, 'timeouts > 0');
}

/**
 * What one striped write of a body of `bodySizeBytesMax` can hold: the block being cut, and up
 * to writeBlocksInFlightMax encoded blocks queued per shard stream (k + m shards of
 * ceil(block / k) bytes each), never more than the body in either.
 */
export function writeBufferBytesOf(options: DataPathOptions, bodySizeBytesMax: number): number {
  const { blockSizeBytes, dataShardCount: k, parityShardCount: m } = options;
  const shardBlockBytes = Math.ceil(blockSizeBytes / k);
  const queuedBlocks = Math.min(options.writeBlocksInFlightMax, Math.ceil(bodySizeBytesMax / blockSizeBytes));
  return Math.min(blockSizeBytes, bodySizeBytesMax) + queuedBlocks * shardBlockBytes * (k + m);
}

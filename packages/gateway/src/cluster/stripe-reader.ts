/**
 * Reads a byte range of one stripe. The range is planned with the erasure stripe layout
 * (planRangeRead): only the blocks it touches are read, in windows of about readWindowBytes,
 * up to readWindowsAheadMax windows fetched while the current one is sent, all within the
 * gateway-wide read budget (readBufferBytesMax).
 *
 * Per window every shard read covers the same shard-file byte range R (Reed-Solomon works byte
 * position by byte position, so any k shards' bytes in R rebuild every shard's bytes in R).
 * Fast path: read R from the data shards the range touches only, no decode. Degraded path: a
 * data shard that fails (node down, shard missing, DATA_LOSS from a corrupt block: the storage
 * node verifies every block before sending it), or that has not answered after readHedgeAfterMs,
 * makes the reader fetch R from other shards until it holds k, then reconstruct. When fewer
 * than k are left and some reads failed in transport (a connection reset, missed keepalive
 * pings), those reads are tried again (readTransportRetriesMax, after a short pause) on a new
 * connection. With fewer than k shards available after that it throws QuorumUnavailableError
 * before yielding any byte of the window: never wrong bytes.
 */
import { assert } from '@tessera/common';
import type { Logger } from '@tessera/common';
import { ReedSolomon, planRangeRead, stripeLayout } from '@tessera/erasure';
import type { BlockRead, RangeReadPlan } from '@tessera/erasure';
import type { ByteBudget } from './byte-budget';
import type { DataPathOptions } from './data-path-options';
import type { StorageNodePool } from './storage-node-pool';
import { QuorumUnavailableError, isTransportFailure, shardCountOf, shardIdOf } from './stripe';
import type { Stripe } from './stripe';

/** What happened while reading, for metrics and the repair log. */
export interface ReadObserver {
  /**
   * Called once per window that needed parity: the shards whose read failed (missing, corrupt,
   * unreachable) and those only too slow (hedged around, still healthy as far as is known).
   */
  degraded(stripe: Stripe, shards: { readonly failed: readonly number[]; readonly slow: readonly number[] }, reconstructedBlockCount: number): void;
}

interface Window {
  readonly blocks: readonly BlockRead[];
  /** Shard-file byte range every shard read of this window covers. */
  readonly shardStartByte: number;
  readonly shardEndByteInclusive: number;
}

type ShardOutcome = { readonly shardIndex: number; readonly data: Buffer } | { readonly shardIndex: number; readonly error: unknown };

export class StripeReader {
  private readonly codecs = new Map<string, ReedSolomon>();

  constructor(
    private readonly pool: StorageNodePool,
    private readonly options: DataPathOptions,
    private readonly logger: Logger,
    private readonly readBudget: ByteBudget,
  ) {}

  /**
   * Yields object bytes [startByte, endByteInclusive] of a stripe holding `objectSizeBytes`.
   * Every window's shard data is reserved from the gateway-wide read budget before it is
   * fetched and released once its bytes are handed on: the window being sent waits for budget,
   * windows ahead are fetched only when budget is spare.
   */
  async *read(stripe: Stripe, objectSizeBytes: number, startByte: number, endByteInclusive: number, observer: ReadObserver): AsyncGenerator<Uint8Array> {
    const plan = planRangeRead(stripeLayout(objectSizeBytes, stripe.dataShardCount, stripe.blockSizeBytes), startByte, endByteInclusive);
    const windows = this.windowsOf(plan);
    const ahead = this.options.readWindowsAheadMax;
    const costOf = (window: Window): number => (window.shardEndByteInclusive - window.shardStartByte + 1) * stripe.dataShardCount;
    const inFlight: { readonly read: Promise<Buffer[][]>; readonly costBytes: number }[] = [];
    const startWindow = (window: Window): void => {
      const read = this.readWindow(stripe, window, observer);
      // Keep prefetches observed: if this window fails, a later one's failure must not crash.
      read.catch(() => undefined);
      inFlight.push({ read, costBytes: costOf(window) });
    };
    let started = 0;
    try {
      for (let index = 0; index < windows.length; index += 1) {
        if (started === index) {
          await this.readBudget.reserve(costOf(windows[index]!));
          startWindow(windows[index]!);
          started += 1;
        }
        while (started < windows.length && started <= index + ahead && this.readBudget.tryReserve(costOf(windows[started]!))) {
          startWindow(windows[started]!);
          started += 1;
        }
        const current = inFlight.shift()!;
        try {
          for (const blockPieces of await current.read) yield* blockPieces;
        } finally {
          this.readBudget.release(current.costBytes);
        }
      }
    } finally {
      // Windows read ahead and not sent (a failed window, a client gone): their budget comes
      // back once their reads have ended, not before (their buffers are live until then).
      for (const { read, costBytes } of inFlight) void read.then(() => this.readBudget.release(costBytes), () => this.readBudget.release(costBytes));
    }
  }

  private windowsOf(plan: RangeReadPlan): Window[] {
    const blocksPerWindow = Math.max(1, Math.floor(this.options.readWindowBytes / Math.max(1, plan.blocks[0]?.block.blockSizeBytes ?? 1)));
    const windows: Window[] = [];
    for (let first = 0; first < plan.blocks.length; first += blocksPerWindow) {
      const blocks = plan.blocks.slice(first, first + blocksPerWindow);
      const firstBlock = blocks[0]!;
      const lastBlock = blocks[blocks.length - 1]!;
      windows.push({
        blocks,
        shardStartByte: firstBlock.block.shardFileStartByte + firstBlock.degradedShardStartByte,
        shardEndByteInclusive: lastBlock.block.shardFileStartByte + lastBlock.degradedShardEndByteInclusive,
      });
    }
    return windows;
  }

  /** The window's object bytes, as pieces per block in object order. */
  private async readWindow(stripe: Stripe, window: Window, observer: ReadObserver): Promise<Buffer[][]> {
    const neededDataShards = new Set<number>();
    for (const block of window.blocks) for (const read of block.dataShardReads) neededDataShards.add(read.shardIndex);
    const shardData = await this.fetchShards(stripe, window, [...neededDataShards].sort((a, b) => a - b), observer);
    return window.blocks.map((block) =>
      block.dataShardReads.map((read) => {
        const data = shardData.get(read.shardIndex);
        assert(data !== undefined, 'every needed data shard is present after fetch');
        const offset = read.shardFileStartByte - window.shardStartByte;
        return data.subarray(offset, offset + read.lengthBytes);
      }),
    );
  }

  /** Data shard bytes of R for every needed shard, reading and decoding parity as needed. */
  private async fetchShards(stripe: Stripe, window: Window, needed: readonly number[], observer: ReadObserver): Promise<Map<number, Buffer>> {
    const k = stripe.dataShardCount;
    const lengthBytes = window.shardEndByteInclusive - window.shardStartByte + 1;
    const abort = new AbortController();
    let hedged = false;
    const outcomes = new Map<number, ShardOutcome>();
    const started = new Set<number>();
    const startedAfterHedge = new Set<number>();
    let wake: (() => void) | undefined;
    const start = (shardIndex: number): void => {
      started.add(shardIndex);
      if (hedged) startedAfterHedge.add(shardIndex);
      void this.readShardRange(stripe, shardIndex, window.shardStartByte, lengthBytes, abort.signal).then((outcome) => {
        outcomes.set(shardIndex, outcome);
        wake?.();
      });
    };
    const successes = (): number[] => [...outcomes.values()].filter((o) => 'data' in o).map((o) => o.shardIndex);
    const failures = (): number[] => [...outcomes.values()].filter((o) => 'error' in o).map((o) => o.shardIndex);
    const fastPathDone = (): boolean => needed.every((i) => outcomes.get(i) !== undefined && 'data' in outcomes.get(i)!);
    // Start more reads (data shards first, then parity, nodes known to be unreachable last) until
    // k reads are running or done that can still succeed.
    // After the hedge delay, reads still pending from before it count as lost causes.
    const hopeful = (): number =>
      [...started].filter((i) => {
        const outcome = outcomes.get(i);
        if (outcome !== undefined) return 'data' in outcome;
        return !this.isUnreachable(stripe, i) && (!hedged || startedAfterHedge.has(i));
      }).length;
    const widen = (): void => {
      const candidates = Array.from({ length: shardCountOf(stripe) }, (_, i) => i).filter((i) => !started.has(i));
      candidates.sort((a, b) => Number(this.isUnreachable(stripe, a)) - Number(this.isUnreachable(stripe, b)));
      for (const shardIndex of candidates) {
        if (hopeful() >= k) break;
        start(shardIndex);
      }
    };
    // Reads that failed in transport, tried again: the node may only have dropped a connection.
    let transportRetries = 0;
    const retryTransportFailures = async (): Promise<boolean> => {
      const retryable = [...outcomes.values()].filter((o) => 'error' in o && isTransportFailure(o.error)).map((o) => o.shardIndex);
      if (retryable.length === 0 || transportRetries >= this.options.readTransportRetriesMax || successes().length + retryable.length < k) return false;
      transportRetries += 1;
      this.logger.warn('read window: retrying shard reads that failed in transport', { stripeId: stripe.stripeId, shardIndexes: retryable, attempt: transportRetries, failures: this.describeFailures(outcomes) });
      await new Promise((resolve) => setTimeout(resolve, this.options.readTransportRetryDelayMs * transportRetries));
      for (const shardIndex of retryable) {
        outcomes.delete(shardIndex);
        start(shardIndex);
      }
      return true;
    };
    needed.forEach(start);
    // A needed shard on a node known to be down: go to parity now rather than after the hedge delay.
    if (needed.some((i) => this.isUnreachable(stripe, i))) widen();
    const hedgeTimer = setTimeout(() => {
      hedged = true;
      wake?.();
    }, this.options.readHedgeAfterMs);
    try {
      for (;;) {
        if (fastPathDone()) return this.collect(outcomes, needed);
        if (successes().length >= k) return this.reconstruct(stripe, window, outcomes, needed, started, observer);
        if (failures().length > 0 || hedged) widen();
        if (started.size === outcomes.size && successes().length < k) {
          if (await retryTransportFailures()) continue;
          throw new QuorumUnavailableError('read', `stripe ${stripe.stripeId}: ${successes().length} of ${shardCountOf(stripe)} shards readable, ${k} needed (${this.describeFailures(outcomes)})`);
        }
        await new Promise<void>((resolve) => (wake = resolve));
      }
    } finally {
      clearTimeout(hedgeTimer);
      // Cancels the hedged reads still running once k shards (or the fast path) answered.
      abort.abort();
    }
  }

  private collect(outcomes: ReadonlyMap<number, ShardOutcome>, needed: readonly number[]): Map<number, Buffer> {
    const result = new Map<number, Buffer>();
    for (const shardIndex of needed) {
      const outcome = outcomes.get(shardIndex);
      assert(outcome !== undefined && 'data' in outcome, 'fast path has every needed shard');
      result.set(shardIndex, outcome.data);
    }
    return result;
  }

  private reconstruct(
    stripe: Stripe,
    window: Window,
    outcomes: ReadonlyMap<number, ShardOutcome>,
    needed: readonly number[],
    started: ReadonlySet<number>,
    observer: ReadObserver,
  ): Map<number, Buffer> {
    const k = stripe.dataShardCount;
    const sources = [...outcomes.values()].filter((o): o is { shardIndex: number; data: Buffer } => 'data' in o).slice(0, k);
    const result = new Map<number, Buffer>();
    const missing = needed.filter((i) => !sources.some((s) => s.shardIndex === i));
    for (const source of sources) if (source.shardIndex < k) result.set(source.shardIndex, source.data);
    // One buffer per missing data shard covering R; each block's slice of R is decoded alone,
    // because blocks can have different shard sizes (the object's last block is shorter).
    const rebuilt = new Map(missing.map((i) => [i, Buffer.alloc(window.shardEndByteInclusive - window.shardStartByte + 1)]));
    const codec = this.codecFor(stripe);
    for (const block of window.blocks) {
      const from = Math.max(window.shardStartByte, block.block.shardFileStartByte) - window.shardStartByte;
      const to = Math.min(window.shardEndByteInclusive, block.block.shardFileStartByte + block.block.shardSizeBytes - 1) - window.shardStartByte;
      const slots: (Uint8Array | undefined)[] = Array.from({ length: shardCountOf(stripe) }, () => undefined);
      for (const source of sources) slots[source.shardIndex] = source.data.subarray(from, to + 1);
      const data = codec.reconstructData(slots);
      for (const [shardIndex, buffer] of rebuilt) buffer.set(data[shardIndex]!, from);
    }
    for (const [shardIndex, buffer] of rebuilt) result.set(shardIndex, buffer);
    const unused = [...started].filter((i) => !sources.some((s) => s.shardIndex === i));
    const failed = unused.filter((i) => { const outcome = outcomes.get(i); return outcome !== undefined && 'error' in outcome; });
    const slow = unused.filter((i) => outcomes.get(i) === undefined);
    observer.degraded(stripe, { failed, slow }, window.blocks.length);
    const details = { stripeId: stripe.stripeId, failedShardIndexes: failed, slowShardIndexes: slow, failures: this.describeFailures(outcomes) };
    if (failed.length > 0) this.logger.warn('degraded read: reconstructed from parity', details);
    else this.logger.debug('read hedged around slow shards: reconstructed from parity', details);
    return result;
  }

  private isUnreachable(stripe: Stripe, shardIndex: number): boolean {
    const nodeId = stripe.shardNodeIds[shardIndex];
    return nodeId === undefined || this.pool.isUnreachable(nodeId);
  }

  /** Throws QuorumUnavailableError now if more than m shard nodes are known to be unreachable. */
  checkReadable(stripe: Stripe): void {
    const unreachable = stripe.shardNodeIds.filter((nodeId) => this.pool.isUnreachable(nodeId)).length;
    if (unreachable > stripe.parityShardCount) {
      throw new QuorumUnavailableError('read', `stripe ${stripe.stripeId}: ${unreachable} of ${shardCountOf(stripe)} shard nodes unreachable, at most ${stripe.parityShardCount} may be`);
    }
  }

  private describeFailures(outcomes: ReadonlyMap<number, ShardOutcome>): string {
    return [...outcomes.values()]
      .filter((o): o is { shardIndex: number; error: unknown } => 'error' in o)
      .map((o) => `${o.shardIndex}: ${o.error instanceof Error ? `${o.error.name} ${o.error.message.slice(0, 160)}` : String(o.error)}`)
      .join(', ');
  }

  private async readShardRange(stripe: Stripe, shardIndex: number, offsetBytes: number, lengthBytes: number, signal: AbortSignal): Promise<ShardOutcome> {
    try {
      const nodeId = stripe.shardNodeIds[shardIndex];
      assert(nodeId !== undefined, 'every shard index has a node');
      const client = await this.pool.clientFor(nodeId);
      const data = await client.readShardToBuffer(shardIdOf(stripe, shardIndex), { offsetBytes, lengthBytes, signal, timeoutMs: this.options.shardStreamTimeoutMs });
      // A node must return exactly the bytes asked for; anything else is treated as a failure.
      if (data.byteLength !== lengthBytes) return { shardIndex, error: new Error(`short read: ${data.byteLength} of ${lengthBytes} bytes`) };
      this.pool.markReachable(nodeId);
      return { shardIndex, data };
    } catch (error) {
      const nodeId = stripe.shardNodeIds[shardIndex];
      // Cancelled hedges are not failures of the node.
      if (nodeId !== undefined && !signal.aborted && isTransportFailure(error)) this.pool.markUnreachable(nodeId);
      return { shardIndex, error };
    }
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
}

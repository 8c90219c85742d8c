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
 * makes the reader fetch R from other shards until it holds k, then reconstruct. A node read
 * around that way counts as slow for a few seconds (the pool's slowReadAvoidanceMs): the later
 * windows of the GET, and other GETs, read other shards instead of waiting the hedge delay for
 * it each time (a frozen AZ otherwise cost a 30 MB GET 4.5 s: one hedge delay per window,
 * until the keepalive pings declared the connections dead). When fewer
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
  /** Called once per window whose hedge delay passed with these shards' reads unanswered. */
  hedged(stripe: Stripe, slowShardIndexes: readonly number[]): void;
}

interface Window {
  readonly blocks: readonly BlockRead[];
  /** Shard-file byte range every shard read of this window covers. */
  readonly shardStartByte: number;
  readonly shardEndByteInclusive: number;
}

/** Hedge rounds per window: the first reads around slow shards, the second around slow replacements. */
const hedgeRoundsMax = 2;

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
    /** How many times the hedge delay has passed in this window (at most hedgeRoundsMax). */
    let hedgeRound = 0;
    const outcomes = new Map<number, ShardOutcome>();
    const started = new Set<number>();
    /** shard index -> the hedge round in which its read started. */
    const startedInRound = new Map<number, number>();
    let wake: (() => void) | undefined;
    const start = (shardIndex: number): void => {
      started.add(shardIndex);
      startedInRound.set(shardIndex, hedgeRound);
      void this.readShardRange(stripe, shardIndex, window.shardStartByte, lengthBytes, abort.signal).then((outcome) => {
        outcomes.set(shardIndex, outcome);
        wake?.();
      });
    };
    const successes = (): number[] => [...outcomes.values()].filter((o) => 'data' in o).map((o) => o.shardIndex);
    const failures = (): number[] => [...outcomes.values()].filter((o) => 'error' in o).map((o) => o.shardIndex);
    const fastPathDone = (): boolean => needed.every((i) => outcomes.get(i) !== undefined && 'data' in outcomes.get(i)!);
    // Start more reads (data shards first, then parity; nodes in the AZ of a slow or unreachable
    // node, nodes recently too slow, then nodes known to be unreachable, last) until k reads are
    // running or done that can still succeed. Each time the hedge delay passes, reads still
    // pending from before it count as lost causes.
    const hopeful = (): number =>
      [...started].filter((i) => {
        const outcome = outcomes.get(i);
        if (outcome !== undefined) return 'data' in outcome;
        return !this.isUnreachable(stripe, i) && startedInRound.get(i) === hedgeRound;
      }).length;
    const widen = (): void => {
      const candidates = Array.from({ length: shardCountOf(stripe) }, (_, i) => i).filter((i) => !started.has(i));
      const suspectZones = this.suspectZones(stripe, [...started].filter((i) => !outcomes.has(i) && startedInRound.get(i)! < hedgeRound));
      const rank = (i: number): number => {
        const avoidance = this.avoidanceRank(stripe, i);
        return avoidance > 0 ? avoidance + 1 : suspectZones.has(this.zoneOf(stripe, i)) ? 1 : 0;
      };
      candidates.sort((a, b) => rank(a) - rank(b));
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
    // A needed shard on a node known to be down or recently too slow: go to parity now rather
    // than after the hedge delay. A slow node's read is started only if too few others are left.
    for (const shardIndex of needed) if (!this.isSlow(stripe, shardIndex)) start(shardIndex);
    if (needed.some((i) => this.avoidanceRank(stripe, i) > 0)) widen();
    // A second round catches a read started by the first that went to another stalled node;
    // no more, so that under overload (every read slow) a window reads at most every shard once.
    let hedgeTimer: NodeJS.Timeout | undefined;
    const armHedge = (): void => {
      hedgeTimer = setTimeout(() => {
        hedgeRound += 1;
        const unanswered = [...started].filter((i) => !outcomes.has(i));
        if (unanswered.length > 0) {
          for (const shardIndex of unanswered) {
            const nodeId = stripe.shardNodeIds[shardIndex];
            if (nodeId !== undefined) this.pool.markSlowForReads(nodeId);
          }
          if (hedgeRound === 1) observer.hedged(stripe, unanswered);
        }
        if (hedgeRound < hedgeRoundsMax) armHedge();
        wake?.();
      }, this.options.readHedgeAfterMs);
    };
    armHedge();
    try {
      for (;;) {
        if (fastPathDone()) return this.collect(outcomes, needed);
        if (successes().length >= k) return this.reconstruct(stripe, window, outcomes, needed, started, observer);
        if (failures().length > 0 || hedgeRound > 0) widen();
        if (started.size === outcomes.size && successes().length < k) {
          if (await retryTransportFailures()) continue;
          throw new QuorumUnavailableError('read', `stripe ${stripe.stripeId}: ${successes().length} of ${shardCountOf(stripe)} shards readable, ${k} needed (${this.describeFailures(outcomes)})`);
        }
        await new Promise<void>((resolve) => (wake = resolve));
      }
    } finally {
      clearTimeout(hedgeTimer);
      // Cancels the hedged reads still running once k shards (or the fast path) answered. Only
      // then: an abort builds a DOMException, which on every window of every GET was about 1% of
      // the gateway's CPU.
      if (started.size > outcomes.size) abort.abort();
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

  private isSlow(stripe: Stripe, shardIndex: number): boolean {
    const nodeId = stripe.shardNodeIds[shardIndex];
    return nodeId !== undefined && this.pool.isSlowForReads(nodeId);
  }

  private zoneOf(stripe: Stripe, shardIndex: number): string | undefined {
    const nodeId = stripe.shardNodeIds[shardIndex];
    return nodeId === undefined ? undefined : this.pool.zoneOf(nodeId);
  }

  /**
   * Zones that look stalled from this window: those of its lost-cause reads and of the stripe's
   * nodes known unreachable or recently too slow. A zone tends to fail whole (its network or
   * power), so a replacement read goes to another zone first: when an AZ froze, reads around
   * its slow data shards used to pick its parity shard too, and wait again.
   */
  private suspectZones(stripe: Stripe, lostCauses: readonly number[]): Set<string | undefined> {
    const zones = new Set<string | undefined>();
    for (const shardIndex of lostCauses) zones.add(this.zoneOf(stripe, shardIndex));
    stripe.shardNodeIds.forEach((_, shardIndex) => {
      if (this.avoidanceRank(stripe, shardIndex) > 0) zones.add(this.zoneOf(stripe, shardIndex));
    });
    zones.delete(undefined);
    return zones;
  }

  /** Which shards a window reads first: 0 healthy, 1 recently too slow, 2 known unreachable. */
  private avoidanceRank(stripe: Stripe, shardIndex: number): number {
    if (this.isUnreachable(stripe, shardIndex)) return 2;
    return this.isSlow(stripe, shardIndex) ? 1 : 0;
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

import { assert, forEachConcurrently } from '@tessera/common';
import type { Clock, Logger, Startable } from '@tessera/common';
import type { StorageNode__Output } from '@tessera/proto/generated/tessera/metadata/v1/StorageNode';
import type { StripeLocation__Output } from '@tessera/proto/generated/tessera/metadata/v1/StripeLocation';
import type { NodeShard__Output } from '@tessera/proto/generated/tessera/metadata/v1/NodeShard';
import type { QueueItem__Output } from '@tessera/proto/generated/tessera/metadata/v1/QueueItem';
import { NoSuchBucketError, NoSuchUploadError, ShardNotFoundError } from '@tessera/rpc';
import type { MetadataClient } from '@tessera/rpc';
import type { HealerOptions } from './healer-options';
import { validateHealerOptions } from './healer-options';
import type { HealerMetrics } from './metrics';
import { RateLimiter } from './rate-limiter';
import { StripeRebuilder, inFlightKey, isSpreadDegraded, planMoves, shardSizeBytesOf } from './stripe-rebuilder';
import type { RebuildOutcome, StripeTask } from './stripe-rebuilder';
import { StorageNodePool } from './storage-node-pool';
import { applyLifecycle } from './lifecycle';
import type { LifecycleSweepResult } from './lifecycle';

export interface HealerComponents {
  readonly metadata: MetadataClient;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: HealerMetrics;
}

/** What one healing round found and did. */
export interface HealRoundReport {
  readonly lostNodeIds: readonly string[];
  readonly stripeCount: number;
  readonly backlogBytes: number;
  readonly outcomes: Readonly<Record<RebuildOutcome['kind'], number>>;
  readonly bytesWritten: number;
  readonly durationMs: number;
}

/** The two loops an operator can pause (`tessera heal stop`, `tessera scrub stop`). */
export type PausableLoop = 'heal' | 'scrub';

/** JSON of GET /admin/status (for `tessera heal --watch`). */
export interface HealerStatus {
  readonly workerId: string;
  /** Rebuilds paused by the operator (`POST /admin/heal/stop`); the backlog is still measured. */
  readonly healPaused: boolean;
  /**
   * Heal rounds completed since start. A watcher that has just resumed rebuilds waits until two
   * more have completed: the second one began after the resume, so its backlog is current.
   */
  readonly healRoundCount: number;
  readonly rebuildRateLimitBytesPerSecond: number;
  readonly measuredRebuildRateBytesPerSecond: number;
  readonly backlogStripes: number;
  readonly backlogBytes: number;
  readonly etaSeconds: number;
  /**
   * Queued repairs of stripes with a shard on a node that is suspect, in its grace period or not
   * answering: kept and probed again every round, since the damage may be on that node.
   */
  readonly repairsAwaitingNodes: number;
  readonly totals: { stripesRebuilt: number; shardsRebuilt: number; bytesRebuilt: number; stale: number; unrecoverable: number; orphansDeleted: number; staleUploadsAborted: number };
  readonly lastRound: HealRoundReport | undefined;
  readonly scrub: {
    passCount: number; shardsVerifiedThisPass: number; shardsLastPass: number; progressRatio: number;
    effectiveRateBytesPerSecond: number; oldestUnverifiedAgeSeconds: number; corruptShardsFound: number;
    /** Paused by the operator (`POST /admin/scrub/stop`): a pass in progress waits where it is. */
    paused: boolean;
    /** A pass is in progress (possibly paused). */
    passRunning: boolean;
    /** Wall-clock start of the pass in progress, or of the last one when none runs. */
    passStartedAtMs: number | undefined;
    bytesVerifiedThisPass: number; bytesLastPass: number;
    /** Passes that ended early on an error (e.g. a node unreachable mid-pass), and the last error. */
    passFailureCount: number; lastPassError: string | undefined;
    /** Up nodes the last pass skipped because they stopped answering (verified next pass). */
    nodesSkippedLastPass: readonly string[];
  };
}

interface PendingTask {
  task: StripeTask;
  /** Queue items behind this task (none for a lost node's stripe), acked when it is done. */
  readonly items: LeasedRepair[];
  /** Some shard on a node that is not up (and not being moved) or did not answer its probe. */
  unchecked: boolean;
}

/**
 * A repair item leased by this healer; if held (see Healer.heldRepairs), probed again in the
 * rounds from `retryAtMs` until `heldUntilMs`, short of the lease's end.
 */
interface LeasedRepair {
  readonly item: QueueItem__Output;
  readonly heldUntilMs: number;
  readonly retryAtMs: number;
}

/** The share of the queue lease a healer keeps re-probing an item before leaving it to a new claim. */
const heldRepairLeaseFraction = 0.9;

/**
 * The healing service. Three loops, each a Startable-managed timer chain:
 * - heal: nodes down past the grace period or draining → every stripe with a shard there;
 *   plus leased `repairStripe` queue items (degraded reads, scrubber) → rebuild, fewest
 *   surviving shards first;
 * - scrub: every shard of every up node verified on its node (VerifyShard) at a bounded
 *   rate; missing/corrupt shards are rebuilt, degraded spreads respread;
 * - orphans: shards on a node that no record maps there, older than the safety delay, deleted.
 * Invariants: a new placement is committed (compare-and-set) before any old copy is deleted,
 * and a shard is never deleted while a record maps it or a write may still own it.
 */
export class Healer implements Startable {
  readonly pool: StorageNodePool;
  readonly rebuildLimiter: RateLimiter;
  private readonly scrubLimiter: RateLimiter;
  private readonly rebuilder: StripeRebuilder;
  private readonly inFlight = new Set<string>();
  /**
   * Repair items leased by this healer and not acked because a shard of the stripe could not be
   * checked (its node suspect, in the grace period, or not answering): probed again every round.
   * Acking such an item on a partial probe would drop the repair (the missing shard is on the
   * node that did not answer, e.g. a write that failed on a frozen AZ). Items whose rebuild
   * failed or was busy are held too, and tried again after repairRetryDelayMs, not only once
   * their lease has run out minutes later.
   */
  private readonly heldRepairs = new Map<string, LeasedRepair>();
  /** Stripes with a rebuild running in this healer (see rebuildOne). */
  private readonly stripesRebuilding = new Set<string>();
  private readonly abort = new AbortController();
  private loops: Promise<void>[] = [];
  private readonly startedAtMs: number;
  private lastRound: HealRoundReport | undefined;
  private healRoundCount = 0;
  private measuredRateBytesPerSecond = 0;
  private backlog = { stripes: 0, bytes: 0 };
  private readonly totals = { stripesRebuilt: 0, shardsRebuilt: 0, bytesRebuilt: 0, stale: 0, unrecoverable: 0, orphansDeleted: 0, staleUploadsAborted: 0 };
  private readonly scrub = {
    passCount: 0, shardsVerifiedThisPass: 0, shardsLastPass: 0, bytesVerifiedThisPass: 0, bytesLastPass: 0, corruptShardsFound: 0,
    lastCompletePassStartedAtMs: undefined as number | undefined, passStartedAtMs: undefined as number | undefined, passRunning: false,
    passFailureCount: 0, lastPassError: undefined as string | undefined, nodesSkippedLastPass: [] as readonly string[],
  };
  /**
   * Operator pause switches. In memory only: a restarted healer heals and scrubs again, which
   * is the safe default for durability (an operator who forgot a pause must not lose data).
   */
  private readonly paused: Record<PausableLoop, boolean> = { heal: false, scrub: false };
  /** Waiters of a paused scrub pass, released by resume or stop. */
  private scrubResumeWaiters: Array<() => void> = [];
  /** Cuts a loop's sleep short so `start` runs a round now rather than after the interval. */
  private readonly wakers = new Map<string, AbortController>();

  constructor(readonly options: HealerOptions, private readonly components: HealerComponents) {
    validateHealerOptions(options);
    this.pool = new StorageNodePool(options.storageCallTimeoutMs);
    this.rebuildLimiter = new RateLimiter(options.rebuildRateBytesPerSecond);
    this.scrubLimiter = new RateLimiter(options.scrubRateBytesPerSecond);
    this.rebuilder = new StripeRebuilder(options.rebuildWindowBytes, {
      metadata: components.metadata, pool: this.pool, limiter: this.rebuildLimiter, logger: components.logger, inFlight: this.inFlight,
    });
    this.startedAtMs = components.clock.nowMs();
    components.metrics.rateLimit.set(options.rebuildRateBytesPerSecond);
    components.metrics.scrubRate.set(options.scrubRateBytesPerSecond);
    for (const loop of ['heal', 'scrub'] as const) components.metrics.paused.set({ loop }, 0);
  }

  async start(): Promise<void> {
    this.loops.push(this.loop('heal', this.options.healIntervalMs, () => this.healOnce()));
    if (this.options.scrubEnabled) this.loops.push(this.loop('scrub', this.options.scrubPeriodMs / 2, () => this.scrubOnce()));
    if (this.options.orphanScanIntervalMs > 0) this.loops.push(this.loop('orphans', this.options.orphanScanIntervalMs, () => this.collectOrphansOnce()));
    if (this.options.staleUploadExpiryMs > 0) this.loops.push(this.loop('uploads', this.options.staleUploadScanIntervalMs, () => this.abortStaleUploadsOnce()));
    if (this.options.lifecycleScanIntervalMs > 0) this.loops.push(this.loop('lifecycle', this.options.lifecycleScanIntervalMs, () => this.applyLifecycleOnce()));
  }

  async stop(): Promise<void> {
    this.abort.abort();
    this.releaseScrubWaiters();
    await Promise.allSettled(this.loops);
    this.loops = [];
    this.pool.close();
  }

  /** Operator priority: the rebuild throttle, effective within a second. */
  setRebuildRate(rateBytesPerSecond: number): void {
    this.rebuildLimiter.setRate(rateBytesPerSecond);
    this.components.metrics.rateLimit.set(rateBytesPerSecond);
  }

  /**
   * Operator stop (`tessera heal stop` / `tessera scrub stop`). Heal: no new stripe rebuild
   * starts (those in flight finish, within one stripe), repair-queue items are no longer
   * claimed, and shards the scrubber finds bad are queued for repair instead of rebuilt; rounds
   * still measure the node-loss backlog so status and ETA stay true. Scrub: the pass in
   * progress waits before its next shard, and no new pass starts. Orphan collection goes on.
   */
  pause(loop: PausableLoop): void {
    if (this.paused[loop]) return;
    this.paused[loop] = true;
    this.components.metrics.paused.set({ loop }, 1);
    this.components.logger.info('paused by operator', { loop });
  }

  /**
   * Operator start: undoes `pause` and runs the loop now instead of after its interval (heal:
   * a round; scrub: the paused pass continues, or a new pass starts when none is running).
   */
  resume(loop: PausableLoop): void {
    const wasPaused = this.paused[loop];
    this.paused[loop] = false;
    this.components.metrics.paused.set({ loop }, 0);
    if (loop === 'scrub') this.releaseScrubWaiters();
    this.wakers.get(loop)?.abort();
    if (wasPaused) this.components.logger.info('resumed by operator', { loop });
  }

  isPaused(loop: PausableLoop): boolean {
    return this.paused[loop];
  }

  private releaseScrubWaiters(): void {
    const waiters = this.scrubResumeWaiters;
    this.scrubResumeWaiters = [];
    for (const release of waiters) release();
  }

  /** Resolves at once unless the scrubber is paused; then when it is resumed or the healer stops. */
  private async scrubNotPaused(): Promise<void> {
    while (this.paused.scrub && !this.abort.signal.aborted) {
      await new Promise<void>((resolve) => this.scrubResumeWaiters.push(resolve));
    }
  }

  status(): HealerStatus {
    const eta = this.measuredRateBytesPerSecond > 0 ? this.backlog.bytes / this.measuredRateBytesPerSecond : 0;
    const progress = this.scrub.shardsLastPass === 0 ? 0 : Math.min(1, this.scrub.shardsVerifiedThisPass / this.scrub.shardsLastPass);
    return {
      workerId: this.options.workerId,
      healPaused: this.paused.heal,
      healRoundCount: this.healRoundCount,
      rebuildRateLimitBytesPerSecond: this.rebuildLimiter.rateBytesPerSecond,
      measuredRebuildRateBytesPerSecond: this.measuredRateBytesPerSecond,
      backlogStripes: this.backlog.stripes, backlogBytes: this.backlog.bytes, etaSeconds: eta,
      repairsAwaitingNodes: this.heldRepairs.size,
      totals: { ...this.totals }, lastRound: this.lastRound,
      scrub: {
        passCount: this.scrub.passCount, shardsVerifiedThisPass: this.scrub.shardsVerifiedThisPass, shardsLastPass: this.scrub.shardsLastPass,
        progressRatio: progress, effectiveRateBytesPerSecond: this.scrubLimiter.rateBytesPerSecond,
        oldestUnverifiedAgeSeconds: this.oldestUnverifiedAgeSeconds(), corruptShardsFound: this.scrub.corruptShardsFound,
        paused: this.paused.scrub, passRunning: this.scrub.passRunning, passStartedAtMs: this.scrub.passStartedAtMs,
        bytesVerifiedThisPass: this.scrub.bytesVerifiedThisPass, bytesLastPass: this.scrub.bytesLastPass,
        passFailureCount: this.scrub.passFailureCount, lastPassError: this.scrub.lastPassError,
        nodesSkippedLastPass: this.scrub.nodesSkippedLastPass,
      },
    };
  }

  private async loop(name: string, intervalMs: number, round: () => Promise<unknown>): Promise<void> {
    const signal = this.abort.signal;
    while (!signal.aborted) {
      const startedMs = performance.now();
      // A paused scrubber starts no pass; a paused healer still runs its rounds (to measure
      // the backlog) but rebuilds nothing (healOnce).
      if (!(name === 'scrub' && this.paused.scrub)) {
        try {
          await round();
        } catch (err) {
          if (!signal.aborted) this.components.logger.warn('healer round failed', { loop: name, err: (err as Error).message });
        }
      }
      const waitMs = Math.max(0, intervalMs - (performance.now() - startedMs));
      const waker = new AbortController();
      this.wakers.set(name, waker);
      await sleep(Math.max(waitMs, 50), AbortSignal.any([signal, waker.signal]));
      this.wakers.delete(name);
    }
  }

  // ---- healing ----

  /** One round: find stripes below full redundancy, rebuild them risk-ordered. */
  async healOnce(): Promise<HealRoundReport> {
    const startedMs = performance.now();
    const nodes = await this.components.metadata.listNodes();
    const nowMs = this.components.clock.nowMs();
    // A node the operator removed with --force (its disk is gone) will not come back: no grace.
    const removedIds = new Set((await this.components.metadata.listRemovedNodes()).map((n) => n.nodeId));
    const graceIds = new Set(nodes.filter((n) => n.state === 'down' && !removedIds.has(n.nodeId) && nowMs - n.stateChangedAtMs < this.options.nodeLossGraceMs).map((n) => n.nodeId));
    const lostNodes = nodes.filter((n) => (n.state === 'down' && !graceIds.has(n.nodeId)) || n.state === 'draining');
    const pending = new Map<string, PendingTask>();
    for (const node of lostNodes) {
      for await (const shard of this.nodeShards(node.nodeId)) {
        const location = shard.location;
        if (location?.found !== true || location.stripe === null || location.owner === null) continue;
        if (!pending.has(shard.stripeId)) pending.set(shard.stripeId, { task: taskOf(location, new Set(), `node ${node.nodeId} ${node.state}`), items: [], unchecked: false });
      }
    }
    // Claiming leases items for queueLeaseMs: a paused healer leaves them to others (or to itself later).
    if (!this.paused.heal) await this.addQueuedRepairs(pending, nodes, new Set(lostNodes.map((n) => n.nodeId)));
    const ordered = [...pending.values()].sort((a, b) => survivingShardCount(a.task, nodes) - survivingShardCount(b.task, nodes));
    this.backlog = { stripes: ordered.length, bytes: ordered.reduce((sum, p) => sum + backlogBytesOf(p.task, nodes), 0) };
    this.publishBacklog();
    const outcomes: Record<RebuildOutcome['kind'], number> = { healthy: 0, busy: 0, rebuilt: 0, stale: 0, unrecoverable: 0 };
    let bytesWritten = 0;
    await forEachConcurrently(ordered, this.options.rebuildConcurrency, async (p) => {
      if (this.abort.signal.aborted || this.paused.heal) return;
      const outcome = await this.rebuildOne(p.task, nodes, graceIds);
      outcomes[outcome.kind]++;
      if (outcome.kind === 'rebuilt') bytesWritten += outcome.bytesWritten;
      this.backlog = { stripes: Math.max(0, this.backlog.stripes - 1), bytes: Math.max(0, this.backlog.bytes - backlogBytesOf(p.task, nodes)) };
      this.publishBacklog();
      // An unrecoverable stripe keeps its queue item, and so does one whose rebuild was already
      // running (planned before this item's damage was known): held, tried again after the retry
      // delay (a target that did not take the write may be back by then). One probed only in
      // part is probed again next round.
      if (outcome.kind === 'unrecoverable' || outcome.kind === 'busy') {
        const retryAtMs = this.components.clock.nowMs() + this.options.repairRetryDelayMs;
        for (const repair of p.items) this.heldRepairs.set(repair.item.itemId, { ...repair, retryAtMs });
        return;
      }
      if (p.unchecked && outcome.kind !== 'stale') {
        for (const repair of p.items) this.heldRepairs.set(repair.item.itemId, { ...repair, retryAtMs: 0 });
        return;
      }
      for (const { item } of p.items) await this.components.metadata.ackQueueItem({ itemId: item.itemId });
    });
    const durationMs = performance.now() - startedMs;
    if (bytesWritten > 0) this.measuredRateBytesPerSecond = bytesWritten / (durationMs / 1000);
    this.components.metrics.rebuildRate.set(this.measuredRateBytesPerSecond);
    const report: HealRoundReport = { lostNodeIds: lostNodes.map((n) => n.nodeId), stripeCount: ordered.length, backlogBytes: this.backlog.bytes, outcomes, bytesWritten, durationMs };
    this.lastRound = report;
    this.healRoundCount++;
    return report;
  }

  /** Rebuilds one stripe now (scrubber, tests); errors become `unrecoverable`. */
  async rebuildOne(task: StripeTask, nodes: readonly StorageNode__Output[], graceIds: ReadonlySet<string>): Promise<RebuildOutcome> {
    const stripeId = task.stripe.stripeId;
    // One rebuild per stripe at a time: the heal loop, the scrubber's repairs and respreads all
    // come through here, and two rebuilds of one stripe planned from the same placement write
    // the same target files; the loser's clean-up would then delete the winner's copies.
    if (this.stripesRebuilding.has(stripeId)) {
      this.components.metrics.stripes.inc({ outcome: 'busy' });
      return { kind: 'busy' };
    }
    this.stripesRebuilding.add(stripeId);
    let outcome: RebuildOutcome;
    try {
      outcome = await this.rebuilder.rebuild(task, nodes, graceIds);
    } catch (err) {
      outcome = { kind: 'unrecoverable', reason: (err as Error).message };
    } finally {
      this.stripesRebuilding.delete(stripeId);
    }
    const { metrics, logger } = this.components;
    metrics.stripes.inc({ outcome: outcome.kind });
    if (outcome.kind === 'rebuilt') {
      this.totals.stripesRebuilt++;
      this.totals.shardsRebuilt += outcome.shardCount;
      this.totals.bytesRebuilt += outcome.bytesWritten;
      metrics.rebuiltShards.inc({ placement: 'moved' }, outcome.movedShardCount);
      metrics.rebuiltShards.inc({ placement: 'in-place' }, outcome.shardCount - outcome.movedShardCount);
      metrics.rebuiltBytes.inc(outcome.bytesWritten);
      logger.info('stripe rebuilt', { stripeId: task.stripe.stripeId, reason: task.reason, shardCount: outcome.shardCount, movedShardCount: outcome.movedShardCount });
    } else if (outcome.kind === 'stale') {
      this.totals.stale++;
      logger.info('stripe changed during rebuild; new copies removed', { stripeId: task.stripe.stripeId, reason: outcome.reason });
    } else if (outcome.kind === 'unrecoverable') {
      this.totals.unrecoverable++;
      logger.warn('stripe not rebuilt', { stripeId: task.stripe.stripeId, reason: outcome.reason });
    }
    return outcome;
  }

  private publishBacklog(): void {
    const { metrics } = this.components;
    metrics.backlogStripes.set(this.backlog.stripes);
    metrics.backlogBytes.set(this.backlog.bytes);
    metrics.etaSeconds.set(this.measuredRateBytesPerSecond > 0 ? this.backlog.bytes / this.measuredRateBytesPerSecond : 0);
  }

  /**
   * Leases repairStripe items (and takes back the ones held from earlier rounds) and probes
   * their stripes' shards to learn which are bad. `movingNodeIds`: nodes whose shards this
   * round moves anyway (down past the grace period, draining), so not checking them is no gap.
   */
  private async addQueuedRepairs(pending: Map<string, PendingTask>, nodes: readonly StorageNode__Output[], movingNodeIds: ReadonlySet<string>): Promise<void> {
    const { metadata, clock } = this.components;
    const nowMs = clock.nowMs();
    // Held items due now are taken out to be probed (and held again if need be); those waiting
    // out their retry delay stay; those near their lease's end are left to a new claim.
    const held: LeasedRepair[] = [];
    for (const [itemId, repair] of this.heldRepairs) {
      if (repair.heldUntilMs > nowMs && repair.retryAtMs > nowMs) continue;
      this.heldRepairs.delete(itemId);
      if (repair.heldUntilMs > nowMs) held.push(repair);
    }
    const claimed = await metadata.claimQueueItems({ kind: 'repairStripe', workerId: this.options.workerId, leaseMs: this.options.queueLeaseMs, limit: 100 });
    const heldUntilMs = nowMs + this.options.queueLeaseMs * heldRepairLeaseFraction;
    // A node that did not answer one probe this round is not asked again this round: a frozen
    // node would otherwise cost a storage call timeout per item.
    const unanswering = new Set<string>();
    for (const repair of [...held, ...claimed.map((item) => ({ item, heldUntilMs, retryAtMs: 0 }))]) {
      const { item } = repair;
      if (item.stripe === null) continue;
      const location = await metadata.locateStripe(item.stripe);
      if (!location.found || location.stripe === null || location.owner === null) {
        await metadata.ackQueueItem({ itemId: item.itemId }); // deleted or overwritten meanwhile: nothing to repair
        continue;
      }
      const { lost, unchecked } = await this.probe(location.stripe, nodes, movingNodeIds, unanswering);
      const existing = pending.get(location.stripe.stripeId);
      if (existing !== undefined) {
        existing.items.push(repair);
        existing.unchecked ||= unchecked;
        existing.task = { ...existing.task, lostShardIndexes: new Set([...existing.task.lostShardIndexes, ...lost]) };
      } else {
        pending.set(location.stripe.stripeId, { task: taskOf(location, lost, `queued: ${item.reason}`), items: [repair], unchecked });
      }
    }
  }

  /**
   * VerifyShard on every shard of a stripe held by an up node: the missing or corrupt ones, and
   * whether some shard could not be checked (its node not up and not being moved, or not answering).
   */
  private async probe(
    stripe: NonNullable<StripeLocation__Output['stripe']>, nodes: readonly StorageNode__Output[], movingNodeIds: ReadonlySet<string>, unanswering: Set<string>,
  ): Promise<{ lost: Set<number>; unchecked: boolean }> {
    const byId = new Map(nodes.map((n) => [n.nodeId, n]));
    const lost = new Set<number>();
    let unchecked = false;
    await Promise.all(stripe.shardNodeIds.map(async (nodeId, shardIndex) => {
      const node = byId.get(nodeId);
      if (node?.state !== 'up' || unanswering.has(nodeId)) {
        if (!movingNodeIds.has(nodeId)) unchecked = true;
        return;
      }
      try {
        const result = await this.pool.clientFor(node).verifyShard({ objectVersionId: stripe.stripeId, shardIndex });
        if (!result.ok) lost.add(shardIndex);
      } catch (err) {
        if (err instanceof ShardNotFoundError) lost.add(shardIndex);
        else {
          unanswering.add(nodeId);
          unchecked = true;
        }
      }
    }));
    return { lost, unchecked };
  }

  private async *nodeShards(nodeId: string): AsyncGenerator<NodeShard__Output> {
    let afterStripeId = '';
    let afterShardIndex = 0;
    for (;;) {
      const page = await this.components.metadata.listNodeShards({ nodeId, afterStripeId, afterShardIndex, limit: 1000 });
      for (const shard of page.shards) yield shard;
      const last = page.shards[page.shards.length - 1];
      if (!page.isTruncated || last === undefined) return;
      afterStripeId = last.stripeId;
      afterShardIndex = last.shardIndex;
    }
  }

  // ---- scrubbing ----

  /**
   * One scrub pass over every up node's shards (as the catalogue places them): VerifyShard on
   * the node (every block's checksum), at the scrub rate; a missing or corrupt shard is
   * rebuilt at once, and a stripe flagged degradedSpread is respread.
   */
  async scrubOnce(): Promise<{ verifiedShardCount: number; corruptShardCount: number; respreadStripeCount: number }> {
    const passStartedAtMs = this.components.clock.nowMs();
    this.scrub.shardsVerifiedThisPass = 0;
    this.scrub.bytesVerifiedThisPass = 0;
    this.scrub.passStartedAtMs = passStartedAtMs;
    this.scrub.passRunning = true;
    this.components.metrics.scrubPassRunning.set(1);
    try {
      const result = await this.scrubPass(passStartedAtMs);
      this.components.metrics.scrubPasses.inc({ outcome: 'complete' });
      return result;
    } catch (err) {
      // Reported so that a watcher of this pass (`tessera scrub start --watch`) learns it ended.
      this.scrub.passFailureCount++;
      this.scrub.lastPassError = (err as Error).message;
      this.components.metrics.scrubPasses.inc({ outcome: 'failed' });
      throw err;
    } finally {
      this.scrub.passRunning = false;
      this.components.metrics.scrubPassRunning.set(0);
    }
  }

  private async scrubPass(passStartedAtMs: number): Promise<{ verifiedShardCount: number; corruptShardCount: number; respreadStripeCount: number }> {
    let bytes = 0;
    let corrupt = 0;
    let respread = 0;
    const nodes = await this.components.metadata.listNodes();
    const respreadDone = new Set<string>();
    const skippedNodeIds: string[] = [];
    for (const node of nodes.filter((n) => n.state === 'up')) {
      try {
        bytes += await this.scrubNode(node, nodes, respreadDone, (count) => (corrupt += count), (count) => (respread += count));
      } catch (err) {
        if (!(err instanceof ScrubNodeUnreachableError) || this.abort.signal.aborted) throw err;
        // One node that stops answering (restarting, partitioned) must not end the pass for all
        // the others: its shards wait for the next pass, and the liveness checks and the node
        // loss path deal with the node itself. (A metadata error still fails the pass.)
        skippedNodeIds.push(node.nodeId);
        this.components.logger.warn('scrub skipped a node that did not answer', { nodeId: node.nodeId, err: String(err) });
      }
    }
    this.scrub.passCount++;
    this.scrub.shardsLastPass = this.scrub.shardsVerifiedThisPass;
    this.scrub.bytesLastPass = bytes;
    this.scrub.nodesSkippedLastPass = skippedNodeIds;
    // Only a pass that verified every up node bounds the age of the oldest unverified shard.
    if (skippedNodeIds.length === 0) this.scrub.lastCompletePassStartedAtMs = passStartedAtMs;
    // Meet the period: a pass may take at most half of it (passes start every half period).
    const neededRate = bytes / (this.options.scrubPeriodMs / 2 / 1000);
    this.scrubLimiter.setRate(Math.max(this.options.scrubRateBytesPerSecond, neededRate));
    this.components.metrics.scrubRate.set(this.scrubLimiter.rateBytesPerSecond);
    this.updateScrubGauges();
    return { verifiedShardCount: this.scrub.shardsVerifiedThisPass, corruptShardCount: corrupt, respreadStripeCount: respread };
  }

  /** Verifies (and repairs) one node's shards; returns the bytes verified. Throws if the node stops answering. */
  private async scrubNode(
    node: StorageNode__Output,
    nodes: readonly StorageNode__Output[],
    respreadDone: Set<string>,
    addCorrupt: (count: number) => void,
    addRespread: (count: number) => void,
  ): Promise<number> {
    let bytes = 0;
    for await (const shard of this.nodeShards(node.nodeId)) {
      await this.scrubNotPaused();
      if (this.abort.signal.aborted) throw new Error('healer stopped');
      const location = shard.location;
      if (location?.found !== true || location.stripe === null || location.owner === null) continue;
      if (location.stripe.shardNodeIds[shard.shardIndex] !== node.nodeId) continue;
      const shardBytes = shardSizeBytesOf(location.dataSizeBytes, location.stripe.dataShardCount, location.stripe.blockSizeBytes);
      await this.scrubLimiter.take(shardBytes, this.abort.signal);
      const healthy = await this.verifyOne(node, shard.stripeId, shard.shardIndex);
      this.scrub.shardsVerifiedThisPass++;
      this.scrub.bytesVerifiedThisPass += shardBytes;
      bytes += shardBytes;
      this.components.metrics.scrubBytes.inc(shardBytes);
      this.components.metrics.scrubShards.inc({ result: healthy ? 'ok' : 'bad' });
      this.updateScrubGauges();
      if (!healthy) {
        addCorrupt(1);
        this.scrub.corruptShardsFound++;
        const reason = `scrub: shard ${shard.shardIndex} on ${node.nodeId}`;
        // Left to the repair queue (drained by a later heal round) while rebuilds are paused, or
        // when the stripe is already being rebuilt from a plan made before this damage was seen.
        const outcome = this.paused.heal ? undefined : await this.rebuildOne(taskOf(location, new Set([shard.shardIndex]), reason), nodes, new Set());
        if (outcome === undefined || outcome.kind === 'busy') await this.components.metadata.enqueueRepair({ stripe: location.stripe, reason });
      } else if (!this.paused.heal && !respreadDone.has(shard.stripeId) && (location.stripe.degradedSpread || isSpreadDegraded(location.stripe.shardNodeIds, nodes))) {
        // Flagged at write or rebuild time, or found unbalanced now (an AZ holding more than
        // its share): respread once nodes of the under-filled AZ are up.
        respreadDone.add(shard.stripeId);
        const flagged = { ...location, stripe: { ...location.stripe, degradedSpread: true } };
        if (planMoves(flagged.stripe, nodes, new Set()).length > 0) {
          addRespread(1);
          await this.rebuildOne(taskOf(flagged, new Set(), 'respread degraded stripe'), nodes, new Set());
        }
      }
    }
    return bytes;
  }

  private async verifyOne(node: StorageNode__Output, stripeId: string, shardIndex: number): Promise<boolean> {
    try {
      return (await this.pool.clientFor(node).verifyShard({ objectVersionId: stripeId, shardIndex })).ok;
    } catch (err) {
      if (err instanceof ShardNotFoundError) return false;
      // Unreachable node: not evidence of a bad shard; the pass skips the node.
      throw new ScrubNodeUnreachableError(node.nodeId, err);
    }
  }

  /**
   * Every shard not yet verified in the current pass was verified during the last complete
   * pass, so its age is at most now − that pass's start. Before the first complete pass, the
   * time since this healer started (a lower bound: older verifications are not known).
   */
  private oldestUnverifiedAgeSeconds(): number {
    const sinceMs = this.scrub.lastCompletePassStartedAtMs ?? this.startedAtMs;
    return Math.max(0, (this.components.clock.nowMs() - sinceMs) / 1000);
  }

  private updateScrubGauges(): void {
    const { metrics } = this.components;
    metrics.oldestUnverifiedAge.set(this.oldestUnverifiedAgeSeconds());
    metrics.scrubProgress.set(this.scrub.shardsLastPass === 0 ? 0 : Math.min(1, this.scrub.shardsVerifiedThisPass / this.scrub.shardsLastPass));
  }

  // ---- stale multipart uploads ----

  async abortStaleUploadsOnce(): Promise<{ abortedUploadCount: number }> {
    const result = await abortStaleUploads(this.components.metadata, this.components.clock.nowMs(), this.options.staleUploadExpiryMs, this.abort.signal);
    if (result.abortedUploadCount > 0) {
      this.totals.staleUploadsAborted += result.abortedUploadCount;
      this.components.metrics.staleUploadsAborted.inc(result.abortedUploadCount);
      this.components.logger.info('aborted stale multipart uploads', { count: result.abortedUploadCount, expiryMs: this.options.staleUploadExpiryMs });
    }
    return result;
  }

  // ---- lifecycle rules ----

  async applyLifecycleOnce(): Promise<LifecycleSweepResult> {
    const result = await applyLifecycle(this.components.metadata, this.components.clock.nowMs(), this.options.lifecycleDayMs, this.abort.signal);
    const { lifecycleActions } = this.components.metrics;
    lifecycleActions.inc({ action: 'expire' }, result.expiredObjectCount);
    lifecycleActions.inc({ action: 'expire_noncurrent' }, result.expiredNoncurrentVersionCount);
    lifecycleActions.inc({ action: 'delete_marker' }, result.removedDeleteMarkerCount);
    lifecycleActions.inc({ action: 'abort_upload' }, result.abortedUploadCount);
    const total = result.expiredObjectCount + result.expiredNoncurrentVersionCount + result.removedDeleteMarkerCount + result.abortedUploadCount;
    if (total > 0) this.components.logger.info('applied lifecycle rules', { ...result });
    return result;
  }

  // ---- orphans ----

  /**
   * Lists every up node's shards (paged) and deletes those the catalogue does not map to that
   * node, unless a write in progress may own them or the file is younger than the safety delay
   * (parts before RegisterPart, rebuild copies before their commit), or a rebuild is writing it.
   */
  async collectOrphansOnce(): Promise<{ deletedShardCount: number }> {
    let deleted = 0;
    const nodes = await this.components.metadata.listNodes();
    for (const node of nodes.filter((n) => n.state === 'up')) {
      const client = this.pool.clientFor(node);
      let batch: { stripeId: string; shardIndex: number; modifiedAtMs: number }[] = [];
      const flush = async (): Promise<void> => {
        if (batch.length === 0) return;
        const refs = batch;
        batch = [];
        const { results } = await this.components.metadata.lookupShards({ nodeId: node.nodeId, shards: refs.map((r) => ({ stripeId: r.stripeId, shardIndex: r.shardIndex })) });
        assert(results.length === refs.length, 'one lookup result per shard');
        const nowMs = this.components.clock.nowMs();
        for (const [i, ref] of refs.entries()) {
          const result = results[i];
          if (result === undefined || result.mapped || result.inProgressWrite) continue;
          if (nowMs - ref.modifiedAtMs < this.options.orphanSafetyDelayMs) continue;
          if (this.inFlight.has(inFlightKey(node.nodeId, ref.stripeId, ref.shardIndex))) continue;
          if (await client.deleteShard({ objectVersionId: ref.stripeId, shardIndex: ref.shardIndex })) {
            deleted++;
            this.totals.orphansDeleted++;
            this.components.metrics.orphansDeleted.inc();
          }
        }
      };
      for await (const shard of client.listAllShards(1000)) {
        if (this.abort.signal.aborted) throw new Error('healer stopped');
        batch.push({ stripeId: shard.shardId.objectVersionId, shardIndex: shard.shardId.shardIndex, modifiedAtMs: shard.modifiedAtMs });
        if (batch.length >= 500) await flush();
      }
      await flush();
    }
    return { deletedShardCount: deleted };
  }
}

/**
 * Aborts the multipart uploads of every bucket initiated more than `staleUploadExpiryMs` ago.
 * An abort is the same metadata command a client's AbortMultipartUpload is: the parts' stripes
 * go to the garbage-collection queue. An upload completed or aborted meanwhile (NoSuchUpload),
 * or a bucket deleted meanwhile, is skipped; several healers sweeping at once only repeat aborts.
 */
export async function abortStaleUploads(metadata: HealerComponents['metadata'], nowMs: number, expiryMs: number, signal: AbortSignal): Promise<{ abortedUploadCount: number }> {
  let aborted = 0;
  for (const bucket of await metadata.listBuckets()) {
    let keyMarker = '';
    let uploadIdMarker = '';
    for (;;) {
      if (signal.aborted) throw new Error('healer stopped');
      let page;
      try {
        page = await metadata.listMultipartUploads({ bucket: bucket.name, prefix: '', keyMarker, uploadIdMarker, maxUploads: 1000 });
      } catch (error) {
        if (error instanceof NoSuchBucketError) break;
        throw error;
      }
      for (const upload of page.uploads) {
        if (nowMs - upload.initiatedAtMs < expiryMs) continue;
        try {
          await metadata.abortMultipartUpload({ bucket: upload.bucket, key: upload.key, uploadId: upload.uploadId });
          aborted++;
        } catch (error) {
          if (!(error instanceof NoSuchUploadError) && !(error instanceof NoSuchBucketError)) throw error;
        }
      }
      if (!page.isTruncated) break;
      keyMarker = page.nextKeyMarker;
      uploadIdMarker = page.nextUploadIdMarker;
    }
  }
  return { abortedUploadCount: aborted };
}

/** VerifyShard failed for a reason other than a missing shard: the node is skipped this pass. */
class ScrubNodeUnreachableError extends Error {
  constructor(nodeId: string, cause: unknown) {
    super(`storage node ${nodeId} did not answer VerifyShard: ${String(cause)}`, { cause });
  }
}

function taskOf(location: StripeLocation__Output, lost: ReadonlySet<number>, reason: string): StripeTask {
  assert(location.stripe !== null && location.owner !== null, 'a found location has a stripe and an owner');
  return { owner: location.owner, stripe: location.stripe, dataSizeBytes: location.dataSizeBytes, lostShardIndexes: lost, reason };
}

function survivingShardCount(task: StripeTask, nodes: readonly StorageNode__Output[]): number {
  const up = new Set(nodes.filter((n) => n.state === 'up' || n.state === 'suspect').map((n) => n.nodeId));
  return task.stripe.shardNodeIds.filter((nodeId, i) => up.has(nodeId) && !task.lostShardIndexes.has(i)).length;
}

function backlogBytesOf(task: StripeTask, nodes: readonly StorageNode__Output[]): number {
  const missing = task.stripe.shardNodeIds.length - survivingShardCount(task, nodes);
  return missing * shardSizeBytesOf(task.dataSizeBytes, task.stripe.dataShardCount, task.stripe.blockSizeBytes);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done);
  });
}

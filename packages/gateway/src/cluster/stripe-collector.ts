/**
 * Collects garbage stripes: the metadata service queues a `gcStripe` item whenever no committed
 * version references a stripe any more (write aborted, object overwritten or deleted, part
 * replaced or left out of a completed upload, upload aborted). This loop deletes each such
 * stripe's shards on its nodes and then acknowledges the item. Items are claimed with a lease (several gateways
 * collect without duplicating work) and deletes are idempotent, so an item handled twice (a
 * crash before the ack, an expired lease) is harmless; an item whose nodes
 * cannot all be reached stays queued and is retried next round. `repairStripe` items are left
 * for the healer.
 *
 * Throughput: a round collects up to `concurrencyMax` stripes at once (their acks share Raft
 * commits), and a round that claimed a full batch is followed at once by the next, so garbage
 * is collected as fast as it is made; the interval is only the pause once the queue is drained.
 * (With one stripe at a time and the interval after every round, 100 stripes per 30 s, a
 * sustained overwrite workload made garbage faster than that and filled the disks.)
 */
import { randomUUID } from 'node:crypto';
import { forEachConcurrently } from '@tessera/common';
import type { Logger, Startable } from '@tessera/common';
import type { MetadataClient } from '@tessera/rpc';
import { stripeFromRecord } from './metadata-records';
import type { StorageNodePool } from './storage-node-pool';
import { shardIdOf, type Stripe } from './stripe';

export interface StripeCollectorOptions {
  /** Pause between rounds. */
  readonly intervalMs: number;
  /** Queue items claimed per round. */
  readonly itemCountMax: number;
  /** How long a claimed item is reserved for this collector. */
  readonly leaseMs: number;
  /** Stripes deleted at once within a round. */
  readonly concurrencyMax: number;
}

/** What one round did. */
export interface CollectionRound {
  /** Items claimed from the queue. */
  readonly claimedCount: number;
  /** Stripes whose shards are all deleted and whose item is acknowledged. */
  readonly collectedCount: number;
}

export class StripeCollector implements Startable {
  private timer: NodeJS.Timeout | undefined;
  private round: Promise<void> | undefined;
  private stopped = false;
  private readonly workerId = `gateway-gc-${randomUUID()}`;

  constructor(
    private readonly options: StripeCollectorOptions,
    private readonly metadata: MetadataClient,
    private readonly pool: StorageNodePool,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    this.stopped = false;
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.round;
  }

  /** One round: returns how many stripes were collected (exposed for tests). */
  async collectOnce(): Promise<number> {
    return (await this.collectRound()).collectedCount;
  }

  async collectRound(): Promise<CollectionRound> {
    // A lease keeps other collectors (other gateways) off these items while this one works.
    const items = await this.metadata.claimQueueItems({ kind: 'gcStripe', workerId: this.workerId, leaseMs: this.options.leaseMs, limit: this.options.itemCountMax });
    let collectedCount = 0;
    await forEachConcurrently(items, this.options.concurrencyMax, async (item) => {
      if (this.stopped || item.kind !== 'gcStripe' || item.stripe === null || item.stripe === undefined) return;
      if (await this.collectStripe(item.itemId, stripeFromRecord(item.stripe))) collectedCount += 1;
    });
    return { claimedCount: items.length, collectedCount };
  }

  /** Deletes every shard of `stripe`, then acknowledges its item; false when a delete failed (retried in a later round). */
  private async collectStripe(itemId: string, stripe: Stripe): Promise<boolean> {
    const results = await Promise.all(
      stripe.shardNodeIds.map(async (nodeId, shardIndex) => {
        try {
          await (await this.pool.clientFor(nodeId)).deleteShard(shardIdOf(stripe, shardIndex), { timeoutMs: 10_000 });
          return true;
        } catch (error) {
          this.logger.debug('gc: shard delete failed, will retry', { stripeId: stripe.stripeId, shardIndex, nodeId, error: String(error) });
          return false;
        }
      }),
    );
    if (!results.every(Boolean)) return false;
    await this.metadata.ackQueueItem({ itemId });
    return true;
  }

  private schedule(delayMs = this.options.intervalMs): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      let backlog = false;
      this.round = this.collectRound()
        .then(({ claimedCount, collectedCount }) => {
          if (collectedCount > 0) this.logger.info('gc: stripes collected', { count: collectedCount });
          // A full batch means more is probably queued: go on at once unless nothing in this
          // batch could be collected (its nodes are unreachable; wait rather than spin).
          backlog = claimedCount >= this.options.itemCountMax && collectedCount > 0;
        })
        .catch((error: unknown) => this.logger.warn('gc round failed', { error: String(error) }))
        .finally(() => this.schedule(backlog ? 0 : this.options.intervalMs));
    }, delayMs);
    this.timer.unref();
  }
}

/**
 * Collects garbage stripes: the metadata service queues a `gcStripe` item whenever no committed
 * version references a stripe any more (write aborted, object overwritten or deleted, part
 * replaced or left out of a completed upload, upload aborted). This loop deletes each such
 * stripe's shards on its nodes and then acknowledges the item. Items are claimed with a lease (several gateways
 * collect without duplicating work) and deletes are idempotent, so an item handled twice (a
 * crash before the ack, an expired lease) is harmless; an item whose nodes
 * cannot all be reached stays queued and is retried next round. `repairStripe` items are left
 * for the healer.
 */
import { randomUUID } from 'node:crypto';
import type { Logger, Startable } from '@tessera/common';
import type { MetadataClient } from '@tessera/rpc';
import { stripeFromRecord } from './metadata-records';
import type { StorageNodePool } from './storage-node-pool';
import { shardIdOf } from './stripe';

export interface StripeCollectorOptions {
  /** Pause between rounds. */
  readonly intervalMs: number;
  /** Queue items claimed per round. */
  readonly itemCountMax: number;
  /** How long a claimed item is reserved for this collector. */
  readonly leaseMs: number;
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
    // A lease keeps other collectors (other gateways) off these items while this one works.
    const items = await this.metadata.claimQueueItems({ kind: 'gcStripe', workerId: this.workerId, leaseMs: this.options.leaseMs, limit: this.options.itemCountMax });
    let collectedCount = 0;
    for (const item of items) {
      if (this.stopped) break;
      if (item.kind !== 'gcStripe' || item.stripe === null || item.stripe === undefined) continue;
      const stripe = stripeFromRecord(item.stripe);
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
      if (results.every(Boolean)) {
        await this.metadata.ackQueueItem({ itemId: item.itemId });
        collectedCount += 1;
      }
    }
    return collectedCount;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.round = this.collectOnce()
        .then((count) => {
          if (count > 0) this.logger.info('gc: stripes collected', { count });
        })
        .catch((error: unknown) => this.logger.warn('gc round failed', { error: String(error) }))
        .finally(() => this.schedule());
    }, this.options.intervalMs);
    this.timer.unref();
  }
}

/**
 * Reports stripes that need healing to the metadata service's repair queue (`EnqueueRepair`,
 * deduplicated there per stripe): after a degraded read (a shard missing, slow or corrupt) and
 * after a write that committed with failed shards. Never awaited by the request.
 *
 * Once the metadata group has the item it is persistent (Raft-replicated). Until then the report
 * lives here: the MetadataClient already retries for several seconds (a leader election), and a
 * report that still fails (the metadata group unreachable for longer) is kept and retried every
 * `retryIntervalMs` for up to `retryForMs`. At most `pendingCountMax` stripes wait; beyond that,
 * or after a gateway restart, the healer's scrub is what finds the stripe again.
 */
import type { Clock, Logger } from '@tessera/common';
import type { MetadataClient } from '@tessera/rpc';
import type { Stripe__Output } from '@tessera/proto/generated/tessera/metadata/v1/Stripe';

export interface RepairReporterOptions {
  readonly retryIntervalMs: number;
  readonly retryForMs: number;
  readonly pendingCountMax: number;
}

export const defaultRepairReporterOptions: RepairReporterOptions = {
  retryIntervalMs: 10_000,
  retryForMs: 10 * 60_000,
  pendingCountMax: 10_000,
};

interface PendingReport {
  readonly stripe: Stripe__Output;
  readonly reason: string;
  readonly firstFailedAtMs: number;
}

export class RepairReporter {
  /** Reports the metadata group has not accepted yet, by stripe id. */
  private readonly pending = new Map<string, PendingReport>();
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly metadata: MetadataClient,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly options: RepairReporterOptions = defaultRepairReporterOptions,
  ) {}

  /** Reports that have failed so far and are waiting for a retry. */
  get pendingCount(): number {
    return this.pending.size;
  }

  report(stripe: Stripe__Output, reason: string): void {
    void this.send({ stripe, reason, firstFailedAtMs: Number.NaN });
  }

  /** Stops retrying (gateway shutdown); what is still pending is left to the scrubber. */
  stop(): void {
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

  private async send(item: PendingReport): Promise<boolean> {
    try {
      const response = await this.metadata.enqueueRepair({ stripe: item.stripe, reason: item.reason });
      this.pending.delete(item.stripe.stripeId);
      this.logger.info('repair queued', { stripeId: item.stripe.stripeId, itemId: response.itemId, deduplicated: response.deduplicated, reason: item.reason });
      return true;
    } catch (error) {
      const firstFailedAtMs = Number.isNaN(item.firstFailedAtMs) ? this.clock.monotonicMs() : item.firstFailedAtMs;
      const keep = this.clock.monotonicMs() - firstFailedAtMs < this.options.retryForMs && (this.pending.has(item.stripe.stripeId) || this.pending.size < this.options.pendingCountMax);
      if (keep) {
        this.pending.set(item.stripe.stripeId, { ...item, firstFailedAtMs });
        this.scheduleRetry();
      } else {
        this.pending.delete(item.stripe.stripeId);
      }
      this.logger.warn(keep ? 'could not queue a repair; will retry' : 'could not queue a repair; giving up (the scrubber will find the stripe)', {
        stripeId: item.stripe.stripeId, reason: item.reason, error: String(error),
      });
      return false;
    }
  }

  private scheduleRetry(): void {
    if (this.retryTimer !== undefined) return;
    this.retryTimer = setTimeout(() => void this.retryAll(), this.options.retryIntervalMs);
    this.retryTimer.unref();
  }

  private async retryAll(): Promise<void> {
    this.retryTimer = undefined;
    for (const item of [...this.pending.values()]) {
      // One failure means the group is still unreachable: wait for the next round.
      if (!(await this.send(item))) break;
    }
    if (this.pending.size > 0) this.scheduleRetry();
  }
}

/**
 * Reports stripes that need healing to the metadata service's repair queue (`EnqueueRepair`,
 * deduplicated there per stripe): after a degraded read (a shard missing, slow or corrupt) and
 * after a write that committed with failed shards. Best effort and never awaited by the
 * request: a lost report is found again by the healer's scrub or by the next degraded read.
 */
import type { Logger } from '@tessera/common';
import type { MetadataClient } from '@tessera/rpc';
import type { Stripe__Output } from '@tessera/proto/generated/tessera/metadata/v1/Stripe';

export class RepairReporter {
  constructor(
    private readonly metadata: MetadataClient,
    private readonly logger: Logger,
  ) {}

  report(stripe: Stripe__Output, reason: string): void {
    this.metadata.enqueueRepair({ stripe, reason }).then(
      (response) => this.logger.info('repair queued', { stripeId: stripe.stripeId, itemId: response.itemId, deduplicated: response.deduplicated, reason }),
      (error: unknown) => this.logger.warn('could not queue a repair', { stripeId: stripe.stripeId, reason, error: String(error) }),
    );
  }
}

/**
 * Where a body goes: small bodies (at most inlineSizeBytesMax) inline in the metadata record,
 * larger ones into a fresh stripe. The size is not known in advance (aws-chunked bodies have
 * none until the end), so the start of the body is buffered: if the body ends within
 * inlineSizeBytesMax it is inline; otherwise a stripe is placed and the buffered bytes are
 * streamed into it first, followed by the rest of the body.
 *
 * Buffering goes on up to retainSizeBytesMax (one block: the stripe writer cannot encode before
 * a whole block or the end of the body is there anyway, so this delays nothing). A body that
 * ends within it is whole in memory, and its write can be tried again: when the stripe misses
 * its write quorum because nodes stopped answering (an AZ cut off, whose connections hang until
 * the liveness pings give up), the gateway has just marked those nodes to be avoided, and one
 * new stripe placed around them takes the same bytes. The client sees a slow PUT instead of a
 * 503.
 *
 * A larger body streams into its stripe as it arrives, and a copy of what was read is kept as
 * long as it fits `retry.bytesPerBodyMax` and the gateway-wide `retry.budget`: when its stripe
 * misses the quorum, a stripe placed around the failed nodes takes the kept bytes and then the
 * rest of the body. That covers the parts of multipart uploads (the AWS CLI sends 8 MiB parts)
 * and single PUTs up to the limit. A body beyond it is no longer kept, so its PUT fails (503)
 * and the client's retry lands on the new placement; memory stays bounded whatever the size.
 */
import type { Logger } from '@tessera/common';
import type { VerifiedBody } from '../request-body';
import type { ByteBudget } from './byte-budget';
import type { StorageNodePool } from './storage-node-pool';
import { QuorumUnavailableError, shardIdOf } from './stripe';
import type { Stripe } from './stripe';
import type { StripeWriter } from './stripe-writer';

export type StoredBody =
  | { readonly kind: 'inline'; readonly data: Buffer }
  | { readonly kind: 'stripe'; readonly stripe: Stripe; readonly degradedSpread: boolean; readonly failedShardIndexes: readonly number[] };

export interface PlacedStripe {
  readonly stripe: Stripe;
  readonly degradedSpread: boolean;
}

export interface BodyStorageLimits {
  /** Bodies up to this size are stored inline in the metadata record. */
  readonly inlineSizeBytesMax: number;
  /** Bodies up to this size are kept whole until stored, so that a failed write can be retried. */
  readonly retainSizeBytesMax: number;
  /** Larger bodies: how much of what was streamed is kept for a retry. */
  readonly retry: { readonly bytesPerBodyMax: number; readonly budget: ByteBudget };
}

/**
 * The copy of a streamed body's bytes kept for one retry. Gives up (and frees everything) at the
 * first chunk that does not fit its own limit or the shared budget.
 */
class RetainedCopy {
  private chunks: Buffer[] | undefined = [];
  private sizeBytes = 0;

  constructor(private readonly limits: BodyStorageLimits['retry']) {}

  keep(chunk: Buffer): void {
    if (this.chunks === undefined) return;
    if (this.sizeBytes + chunk.byteLength > this.limits.bytesPerBodyMax || !this.limits.budget.tryReserve(chunk.byteLength)) {
      this.release();
      return;
    }
    this.chunks.push(chunk);
    this.sizeBytes += chunk.byteLength;
  }

  /** Everything read so far, or undefined when the copy was given up. */
  take(): Buffer[] | undefined {
    return this.chunks;
  }

  release(): void {
    this.limits.budget.release(this.sizeBytes);
    this.chunks = undefined;
    this.sizeBytes = 0;
  }
}

export interface StripeCallbacks {
  /** Places a new stripe. */
  place(): Promise<PlacedStripe>;
  /**
   * After a write missed its quorum: a new stripe placed away from every node that just failed
   * (and is now avoided), or undefined when placement cannot avoid them (no retry then).
   */
  placeAround(failed: Stripe): Promise<PlacedStripe | undefined>;
  /** Started for each stripe whose write failed (deletes its shards); not awaited, never fails the request. */
  onFailure(stripe: Stripe, error: unknown): Promise<void>;
  /** Told when a retained body's write is tried on a second stripe, and how that ended. */
  onRetry(outcome: 'stored' | 'failed'): void;
}

/** Reads the body into inline bytes or a stripe; on any failure, `onFailure` is started before rethrow. */
export async function storeBody(body: VerifiedBody, limits: BodyStorageLimits, writer: StripeWriter, stripes: StripeCallbacks): Promise<StoredBody> {
  const iterator = body[Symbol.asyncIterator]();
  const prefix: Buffer[] = [];
  let prefixSizeBytes = 0;
  const prefixSizeBytesMax = Math.max(limits.inlineSizeBytesMax, limits.retainSizeBytesMax);
  for (;;) {
    const next = await iterator.next();
    if (next.done === true) {
      // The whole body is here: inline, or a stripe whose write can be tried again.
      if (prefixSizeBytes <= limits.inlineSizeBytesMax) return { kind: 'inline', data: Buffer.concat(prefix, prefixSizeBytes) };
      return storeRetainedBody(prefix, writer, stripes);
    }
    const chunk = Buffer.from(next.value.buffer, next.value.byteOffset, next.value.byteLength);
    prefix.push(chunk);
    prefixSizeBytes += chunk.byteLength;
    if (prefixSizeBytes > prefixSizeBytesMax) break;
  }
  let placed: PlacedStripe;
  try {
    placed = await stripes.place();
  } catch (error) {
    await iterator.return?.();
    throw error;
  }
  const copy = new RetainedCopy(limits.retry);
  for (const chunk of prefix) copy.keep(chunk);
  /** `replayed` first, then the rest of the body, each chunk read kept in `keep` (if given). */
  async function* bodyFrom(replayed: readonly Buffer[], keep: RetainedCopy | undefined): AsyncGenerator<Uint8Array> {
    yield* replayed;
    for (;;) {
      const next = await iterator.next();
      if (next.done === true) return;
      keep?.keep(Buffer.from(next.value.buffer, next.value.byteOffset, next.value.byteLength));
      yield next.value;
    }
  }
  const writeTo = async (target: PlacedStripe, body: AsyncIterable<Uint8Array>): Promise<StoredBody> => {
    const result = await writer.write(target.stripe, body);
    return { kind: 'stripe', stripe: target.stripe, degradedSpread: target.degradedSpread, failedShardIndexes: result.failedShardIndexes };
  };
  // The error goes out while a failed stripe's shards are deleted: when nodes stopped answering,
  // their deletes would hold the 503 (and the client's retry) for their whole timeout.
  const abandon = async (stripe: Stripe, error: unknown): Promise<never> => {
    // Stop reading the request (client gone, or quorum lost: nothing more will be stored).
    await iterator.return?.().catch(() => undefined);
    void stripes.onFailure(stripe, error).catch(() => undefined);
    throw error;
  };
  try {
    const firstBody = bodyFrom(prefix.splice(0, prefix.length), copy);
    try {
      return await writeTo(placed, firstBody);
    } catch (error) {
      if (!(error instanceof QuorumUnavailableError) || copy.take() === undefined) return await abandon(placed.stripe, error);
      // The failed write may have left a read of the body in flight: wait until it is done (and
      // kept), so the retry reads on from exactly where the copy ends. A body that fails now
      // (client gone, bad digest) fails the PUT.
      try {
        await firstBody.return(undefined);
      } catch (bodyError) {
        return await abandon(placed.stripe, bodyError);
      }
      const kept = copy.take();
      const second = kept === undefined ? undefined : await stripes.placeAround(placed.stripe).catch(() => undefined);
      if (second === undefined || kept === undefined) return await abandon(placed.stripe, error);
      void stripes.onFailure(placed.stripe, error).catch(() => undefined);
      try {
        const stored = await writeTo(second, bodyFrom(kept, undefined));
        stripes.onRetry('stored');
        return stored;
      } catch (retryError) {
        stripes.onRetry('failed');
        return await abandon(second.stripe, retryError);
      }
    }
  } finally {
    copy.release();
  }
}

/** A body whole in memory: written to one stripe, and to a second one if the first missed its quorum. */
async function storeRetainedBody(chunks: readonly Buffer[], writer: StripeWriter, stripes: StripeCallbacks): Promise<StoredBody> {
  async function* replay(): AsyncGenerator<Uint8Array> {
    yield* chunks;
  }
  const writeTo = async (placed: PlacedStripe): Promise<StoredBody> => {
    const result = await writer.write(placed.stripe, replay());
    return { kind: 'stripe', stripe: placed.stripe, degradedSpread: placed.degradedSpread, failedShardIndexes: result.failedShardIndexes };
  };
  const first = await stripes.place();
  try {
    return await writeTo(first);
  } catch (error) {
    const second = error instanceof QuorumUnavailableError ? await stripes.placeAround(first.stripe).catch(() => undefined) : undefined;
    // The first stripe's shards are deleted meanwhile, not before: the deletes to the nodes that
    // stopped answering would hold the retry (or the error) for their whole timeout.
    void stripes.onFailure(first.stripe, error).catch(() => undefined);
    if (second === undefined) throw error;
    try {
      const stored = await writeTo(second);
      stripes.onRetry('stored');
      return stored;
    } catch (retryError) {
      stripes.onRetry('failed');
      void stripes.onFailure(second.stripe, retryError).catch(() => undefined);
      throw retryError;
    }
  }
}

/** Best effort: the shards of a stripe that will never be committed (GC also finds them later). */
export async function deleteStripeShards(pool: StorageNodePool, stripe: Stripe, logger: Logger): Promise<void> {
  await Promise.all(
    stripe.shardNodeIds.map(async (nodeId, shardIndex) => {
      try {
        const client = await pool.clientFor(nodeId);
        await client.deleteShard(shardIdOf(stripe, shardIndex), { timeoutMs: 5_000 });
      } catch (error) {
        logger.debug('could not delete shard of an abandoned stripe', { stripeId: stripe.stripeId, shardIndex, error: String(error) });
      }
    }),
  );
}

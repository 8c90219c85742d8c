/**
 * Where a body goes: small bodies (at most inlineSizeBytesMax) inline in the metadata record,
 * larger ones into a fresh stripe. The size is not known in advance (aws-chunked bodies have
 * none until the end), so the first inlineSizeBytesMax + 1 bytes are buffered: if the body ends
 * within them it is inline, otherwise a stripe is placed and the buffered bytes are streamed
 * into it first, followed by the rest of the body.
 */
import type { Logger } from '@tessera/common';
import type { VerifiedBody } from '../request-body';
import type { StorageNodePool } from './storage-node-pool';
import { shardIdOf } from './stripe';
import type { Stripe } from './stripe';
import type { StripeWriter } from './stripe-writer';

export type StoredBody =
  | { readonly kind: 'inline'; readonly data: Buffer }
  | { readonly kind: 'stripe'; readonly stripe: Stripe; readonly degradedSpread: boolean; readonly failedShardIndexes: readonly number[] };

export interface PlacedStripe {
  readonly stripe: Stripe;
  readonly degradedSpread: boolean;
}

/** Reads the body into inline bytes or a stripe; on any failure, `onFailure` runs before rethrow. */
export async function storeBody(
  body: VerifiedBody,
  inlineSizeBytesMax: number,
  placeStripe: () => Promise<PlacedStripe>,
  writer: StripeWriter,
  onStripeFailure: (stripe: Stripe, error: unknown) => Promise<void>,
): Promise<StoredBody> {
  const iterator = body[Symbol.asyncIterator]();
  const prefix: Buffer[] = [];
  let prefixSizeBytes = 0;
  for (;;) {
    const next = await iterator.next();
    if (next.done === true) return { kind: 'inline', data: Buffer.concat(prefix, prefixSizeBytes) };
    const chunk = Buffer.from(next.value.buffer, next.value.byteOffset, next.value.byteLength);
    prefix.push(chunk);
    prefixSizeBytes += chunk.byteLength;
    if (prefixSizeBytes > inlineSizeBytesMax) break;
  }
  let placed: PlacedStripe;
  try {
    placed = await placeStripe();
  } catch (error) {
    await iterator.return?.();
    throw error;
  }
  async function* rest(): AsyncGenerator<Uint8Array> {
    yield* prefix.splice(0, prefix.length);
    for (;;) {
      const next = await iterator.next();
      if (next.done === true) return;
      yield next.value;
    }
  }
  try {
    const result = await writer.write(placed.stripe, rest());
    return { kind: 'stripe', stripe: placed.stripe, degradedSpread: placed.degradedSpread, failedShardIndexes: result.failedShardIndexes };
  } catch (error) {
    // Stop reading the request (client gone, or quorum lost: nothing more will be stored).
    await iterator.return?.().catch(() => undefined);
    await onStripeFailure(placed.stripe, error);
    throw error;
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

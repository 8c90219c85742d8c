// Goal: a streamed body whose stripe misses its write quorum is written again around the failed
// nodes from the copy kept of what was read, then the rest of the body, byte for byte and in
// order, even when the failed write left a read of the body in flight; a copy that outgrows its
// per-body limit or the gateway-wide budget is given up (the PUT fails, nothing retried), and
// every byte reserved is released either way.
// Method: storeBody over a generated body with a stand-in stripe writer that fails its first
// write after a number of chunks, while the body is still being read, and keeps what the
// second write receives.
import { createHash } from 'node:crypto';
import { storeBody } from '../src/cluster/body-storage';
import { ByteBudget } from '../src/cluster/byte-budget';
import type { PlacedStripe, StripeCallbacks } from '../src/cluster/body-storage';
import { QuorumUnavailableError } from '../src/cluster/stripe';
import type { Stripe } from '../src/cluster/stripe';
import type { StripeWriter } from '../src/cluster/stripe-writer';
import type { VerifiedBody } from '../src/request-body';

const chunkBytes = 64 * 1024;

function bodyOf(chunks: readonly Buffer[], slowFromIndex = Infinity): VerifiedBody {
  return {
    sizeBytesMax: chunks.reduce((sum, chunk) => sum + chunk.byteLength, 0),
    async *[Symbol.asyncIterator]() {
      for (const [index, chunk] of chunks.entries()) {
        // A client still sending: later chunks arrive after the write has failed.
        if (index >= slowFromIndex) await new Promise((resolve) => setTimeout(resolve, index === slowFromIndex ? 30 : 2));
        yield chunk;
      }
    },
    summary: () => { throw new Error('not used'); },
  };
}

const stripeOf = (stripeId: string): Stripe => ({ stripeId, dataShardCount: 6, parityShardCount: 3, blockSizeBytes: 1 << 20, shardNodeIds: Array.from({ length: 9 }, (_, i) => `n${i}`) });

/** Fails the first stripe after `failAfterChunks` chunks (without waiting for the next read); keeps the second's bytes. */
function fakeWriter(failAfterChunks: number): { writer: StripeWriter; written: Map<string, Buffer> } {
  const written = new Map<string, Buffer>();
  const writer = {
    async write(stripe: Stripe, source: AsyncIterable<Uint8Array>) {
      const parts: Buffer[] = [];
      const iterator = source[Symbol.asyncIterator]();
      for (;;) {
        if (stripe.stripeId === 'first' && parts.length === failAfterChunks) {
          // A read is in flight when the quorum is lost, as with a client still sending.
          void iterator.next().catch(() => undefined);
          throw new QuorumUnavailableError('write', 'only 6 of 7 shards');
        }
        const next = await iterator.next();
        if (next.done === true) break;
        parts.push(Buffer.from(next.value));
      }
      written.set(stripe.stripeId, Buffer.concat(parts));
      return { failedShardIndexes: [] };
    },
  } as unknown as StripeWriter;
  return { writer, written };
}

function callbacks(retries: string[]): StripeCallbacks {
  return {
    place: async (): Promise<PlacedStripe> => ({ stripe: stripeOf('first'), degradedSpread: false }),
    placeAround: async (): Promise<PlacedStripe> => ({ stripe: stripeOf('second'), degradedSpread: true }),
    onFailure: async () => undefined,
    onRetry: (outcome) => retries.push(outcome),
  };
}

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');
const chunksOf = (count: number): Buffer[] => Array.from({ length: count }, (_, i) => Buffer.alloc(chunkBytes, i % 251));

test('the retry gets the kept bytes and then the rest of the body, in order, with a read in flight at the failure', async () => {
  const chunks = chunksOf(80); // 5 MiB
  const budget = new ByteBudget(64 << 20);
  const { writer, written } = fakeWriter(20);
  const retries: string[] = [];
  const stored = await storeBody(bodyOf(chunks, 20), { inlineSizeBytesMax: 0, retainSizeBytesMax: 1 << 20, retry: { bytesPerBodyMax: 16 << 20, budget } }, writer, callbacks(retries));
  expect(stored).toMatchObject({ kind: 'stripe', stripe: { stripeId: 'second' }, degradedSpread: true });
  expect(retries).toEqual(['stored']);
  expect(sha256(written.get('second')!)).toBe(sha256(Buffer.concat(chunks)));
  expect(budget.reservedBytes).toBe(0);
});

test('a copy beyond its per-body limit, or beyond the shared budget, is given up: no retry, the error stands, nothing stays reserved', async () => {
  for (const retry of [{ bytesPerBodyMax: 1 << 20, budget: new ByteBudget(64 << 20) }, { bytesPerBodyMax: 16 << 20, budget: new ByteBudget(1 << 20) }]) {
    const { writer, written } = fakeWriter(40); // 2.5 MiB read before the failure
    const retries: string[] = [];
    await expect(storeBody(bodyOf(chunksOf(80)), { inlineSizeBytesMax: 0, retainSizeBytesMax: 1 << 20, retry }, writer, callbacks(retries))).rejects.toBeInstanceOf(QuorumUnavailableError);
    expect(retries).toEqual([]);
    expect(written.size).toBe(0);
    expect(retry.budget.reservedBytes).toBe(0);
  }
});

test('a body that succeeds at once releases its copy', async () => {
  const budget = new ByteBudget(64 << 20);
  const { writer, written } = fakeWriter(Infinity);
  const chunks = chunksOf(40);
  const retries: string[] = [];
  await storeBody(bodyOf(chunks), { inlineSizeBytesMax: 0, retainSizeBytesMax: 1 << 20, retry: { bytesPerBodyMax: 16 << 20, budget } }, writer, {
    ...callbacks(retries), place: async () => ({ stripe: stripeOf('second'), degradedSpread: false }),
  });
  expect(sha256(written.get('second')!)).toBe(sha256(Buffer.concat(chunks)));
  expect(retries).toEqual([]);
  expect(budget.reservedBytes).toBe(0);
});

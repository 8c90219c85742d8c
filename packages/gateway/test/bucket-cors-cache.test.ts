// Goal: a gateway reads a bucket's CORS rules at most once per TTL, remembers a missing bucket
// for as long (unauthenticated preflights for random names cost one read each per TTL), never
// remembers a failed read, and sees its own changes at once (forget).
// Method: BucketCorsCache with a counting reader and a hand-driven clock.
import type { Clock } from '@tessera/common';
import { BucketCorsCache } from '../src/bucket-cors-cache';
import type { CorsRule } from '../src/cors';

const rule: CorsRule = { allowedOrigins: ['*'], allowedMethods: ['GET'], allowedHeaders: [], exposeHeaders: [] };

test('rules are read once per TTL, a missing bucket too; failures are not remembered; forget reads again', async () => {
  let nowMs = 0;
  const clock: Clock = { nowMs: () => nowMs, monotonicMs: () => nowMs };
  const reads: string[] = [];
  let failing = false;
  const stored = new Map<string, readonly CorsRule[]>([['web', [rule]]]);
  const cache = new BucketCorsCache(async (bucket) => {
    reads.push(bucket);
    if (failing) throw new Error('metadata unavailable');
    return stored.get(bucket);
  }, clock, 5_000);
  expect(await cache.rulesOf('web')).toEqual([rule]);
  expect(await cache.rulesOf('ghost')).toBeUndefined();
  nowMs = 4_999;
  stored.set('web', []);
  expect(await cache.rulesOf('web')).toEqual([rule]);
  expect(await cache.rulesOf('ghost')).toBeUndefined();
  expect(reads).toEqual(['web', 'ghost']);
  nowMs = 5_000;
  expect(await cache.rulesOf('web')).toEqual([]);
  cache.forget('web');
  stored.set('web', [rule, rule]);
  expect(await cache.rulesOf('web')).toEqual([rule, rule]);
  failing = true;
  nowMs = 20_000;
  await expect(cache.rulesOf('web')).rejects.toThrow('metadata unavailable');
  failing = false;
  expect(await cache.rulesOf('web')).toEqual([rule, rule]);
  expect(reads).toEqual(['web', 'ghost', 'web', 'web', 'web', 'web']);
});

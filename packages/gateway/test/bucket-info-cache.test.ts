// Goal: a gateway reads a bucket's settings (CORS rules, owner, grants) at most once per TTL, remembers a missing bucket
// for as long (unauthenticated preflights for random names cost one read each per TTL), never
// remembers a failed read, and sees its own changes at once (forget).
// Method: BucketInfoCache with a counting reader and a hand-driven clock.
import type { Clock } from '@tessera/common';
import type { BucketInfo } from '../src/backend';
import { BucketInfoCache } from '../src/bucket-info-cache';
import type { CorsRule } from '../src/cors';

const rule: CorsRule = { allowedOrigins: ['*'], allowedMethods: ['GET'], allowedHeaders: [], exposeHeaders: [] };

function bucketWith(corsRules: readonly CorsRule[]): BucketInfo {
  return { name: 'web', createdAtMs: 0, tags: [], corsRules, versioning: 'Unversioned', lifecycleRules: [], objectLock: undefined, owner: 'TKOWNER', grants: [], defaultEncryption: undefined, policy: undefined, publicAccessBlock: undefined, objectOwnership: undefined };
}

test('settings are read once per TTL, a missing bucket too; failures are not remembered; forget reads again', async () => {
  let nowMs = 0;
  const clock: Clock = { nowMs: () => nowMs, monotonicMs: () => nowMs };
  const reads: string[] = [];
  let failing = false;
  const stored = new Map<string, readonly CorsRule[]>([['web', [rule]]]);
  const cache = new BucketInfoCache(async (bucket) => {
    reads.push(bucket);
    if (failing) throw new Error('metadata unavailable');
    const corsRules = stored.get(bucket);
    return corsRules === undefined ? undefined : bucketWith(corsRules);
  }, clock, 5_000);
  const rulesOf = async (bucket: string): Promise<readonly CorsRule[] | undefined> => (await cache.infoOf(bucket))?.corsRules;
  expect(await rulesOf('web')).toEqual([rule]);
  expect(await rulesOf('ghost')).toBeUndefined();
  nowMs = 4_999;
  stored.set('web', []);
  expect(await rulesOf('web')).toEqual([rule]);
  expect(await rulesOf('ghost')).toBeUndefined();
  expect(reads).toEqual(['web', 'ghost']);
  nowMs = 5_000;
  expect(await rulesOf('web')).toEqual([]);
  cache.forget('web');
  stored.set('web', [rule, rule]);
  expect(await rulesOf('web')).toEqual([rule, rule]);
  failing = true;
  nowMs = 20_000;
  await expect(rulesOf('web')).rejects.toThrow('metadata unavailable');
  failing = false;
  expect(await rulesOf('web')).toEqual([rule, rule]);
  expect(reads).toEqual(['web', 'ghost', 'web', 'web', 'web', 'web']);
  // An access decision reads a bucket remembered as missing again, never one remembered as present.
  expect(await cache.infoOf('ghost')).toBeUndefined();
  expect(await cache.infoOf('ghost')).toBeUndefined();
  expect(await cache.infoOf('ghost', { rereadMissing: true })).toBeUndefined();
  expect((await cache.infoOf('web', { rereadMissing: true }))?.corsRules).toEqual([rule, rule]);
  expect(reads).toEqual(['web', 'ghost', 'web', 'web', 'web', 'web', 'ghost', 'ghost']);
});

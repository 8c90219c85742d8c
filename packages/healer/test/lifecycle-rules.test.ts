// Goal: the lifecycle rule evaluation the healer applies is S3's: filters (prefix, every tag,
// size bounds, disabled rules), due times (days rounded up to midnight UTC; plain days with a
// test day length), and which versions of a key go (NoncurrentDays counted from when the next
// version was made, NewerNoncurrentVersions kept, a lone delete marker removed).
// Method: the pure functions of src/lifecycle.ts on hand-made rules and versions.
import { dueAtMs, lifecycleDayMs, ruleMatches } from '@tessera/rpc';
import type { LifecycleRule } from '@tessera/rpc';
import { currentVersionExpired, versionsToRemove } from '../src/lifecycle';
import type { KeyVersion } from '../src/lifecycle';

const rule = (fields: Partial<LifecycleRule>): LifecycleRule => ({ enabled: true, filterForm: 'prefix', prefix: '', tags: [], ...fields });
const day = lifecycleDayMs;
const midnight = Date.UTC(2026, 10, 1);

test('filters: prefix, every tag (key and value), size bounds strictly, disabled rules match nothing', () => {
  const object = { key: 'logs/a.txt', sizeBytes: 100, tags: [{ key: 'env', value: 'dev' }, { key: 'team', value: 'x' }] };
  expect(ruleMatches(rule({ prefix: 'logs/' }), object)).toBe(true);
  expect(ruleMatches(rule({ prefix: 'data/' }), object)).toBe(false);
  expect(ruleMatches(rule({ tags: [{ key: 'env', value: 'dev' }] }), object)).toBe(true);
  expect(ruleMatches(rule({ tags: [{ key: 'env', value: 'prod' }] }), object)).toBe(false);
  expect(ruleMatches(rule({ tags: [{ key: 'env', value: 'dev' }, { key: 'team', value: 'y' }] }), object)).toBe(false);
  expect(ruleMatches(rule({ objectSizeGreaterThanBytes: 99 }), object)).toBe(true);
  expect(ruleMatches(rule({ objectSizeGreaterThanBytes: 100 }), object)).toBe(false);
  expect(ruleMatches(rule({ objectSizeLessThanBytes: 100 }), object)).toBe(false);
  expect(ruleMatches(rule({ objectSizeLessThanBytes: 101 }), object)).toBe(true);
  expect(ruleMatches(rule({ enabled: false }), object)).toBe(false);
});

test('due times: S3 adds the days and rounds up to midnight UTC; a test day length counts plainly', () => {
  expect(dueAtMs(midnight, 1, day)).toBe(midnight + day);
  expect(dueAtMs(midnight + 1, 1, day)).toBe(midnight + 2 * day);
  expect(dueAtMs(midnight + day - 1, 2, day)).toBe(midnight + 3 * day);
  expect(dueAtMs(5_000, 3, 1_000)).toBe(8_000);
  const created = midnight + 10 * 3600_000;
  expect(currentVersionExpired(rule({ expirationDays: 1 }), created, midnight + 2 * day - 1, day)).toBe(false);
  expect(currentVersionExpired(rule({ expirationDays: 1 }), created, midnight + 2 * day, day)).toBe(true);
  expect(currentVersionExpired(rule({ expirationDateMs: midnight + day }), created, midnight + day - 1, day)).toBe(false);
  expect(currentVersionExpired(rule({ expirationDateMs: midnight + day }), created, midnight + day, day)).toBe(true);
  expect(currentVersionExpired(rule({ noncurrentDays: 1 }), created, midnight + 100 * day, day)).toBe(false);
});

describe('versions of one key', () => {
  const version = (versionId: string, createdAtMs: number, deleteMarker = false): KeyVersion => ({ key: 'k', sizeBytes: 10, tags: [], versionId, createdAtMs, deleteMarker });
  // Newest first: v3 current since t=30, v2 noncurrent since 30, v1 noncurrent since 20.
  const versions = [version('v3', 30), version('v2', 20), version('v1', 10)];
  const ids = (removed: KeyVersion[]): string[] => removed.map((v) => v.versionId);

  test('NoncurrentDays counts from when the next newer version was made; the current version is never removed', () => {
    expect(ids(versionsToRemove([rule({ noncurrentDays: 5 })], versions, 24, 1))).toEqual([]);
    expect(ids(versionsToRemove([rule({ noncurrentDays: 5 })], versions, 25, 1))).toEqual(['v1']);
    expect(ids(versionsToRemove([rule({ noncurrentDays: 5 })], versions, 35, 1))).toEqual(['v2', 'v1']);
    expect(ids(versionsToRemove([rule({ noncurrentDays: 5, prefix: 'other/' })], versions, 35, 1))).toEqual([]);
  });

  test('NewerNoncurrentVersions keeps that many newer noncurrent versions', () => {
    expect(ids(versionsToRemove([rule({ noncurrentDays: 1, newerNoncurrentVersions: 1 })], versions, 100, 1))).toEqual(['v1']);
    expect(ids(versionsToRemove([rule({ noncurrentDays: 1, newerNoncurrentVersions: 2 })], versions, 100, 1))).toEqual([]);
  });

  test('a delete marker left alone is removed with ExpiredObjectDeleteMarker, also when this sweep removes the rest', () => {
    const marked = [version('m', 40, true), version('v1', 10)];
    expect(ids(versionsToRemove([rule({ expiredObjectDeleteMarker: true })], marked, 100, 1))).toEqual([]);
    expect(ids(versionsToRemove([rule({ expiredObjectDeleteMarker: true })], [version('m', 40, true)], 100, 1))).toEqual(['m']);
    expect(ids(versionsToRemove([rule({ expiredObjectDeleteMarker: true, noncurrentDays: 1 })], marked, 100, 1))).toEqual(['v1', 'm']);
    expect(ids(versionsToRemove([rule({ noncurrentDays: 1 })], [version('m', 40, true)], 100, 1))).toEqual([]);
  });
});

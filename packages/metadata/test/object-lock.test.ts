// Goal: S3 Object Lock rules as the catalogue applies them: which versions may be deleted when
// (legal hold, COMPLIANCE, GOVERNANCE with and without bypass, expired retention), which
// retention changes are allowed, the default retention, and the bucket rules (Object Lock
// turns versioning on for good; it needs versioning Enabled; lock settings only in such buckets).
// Method: the pure functions of src/object-lock.ts, and commands applied to a real
// CatalogueStateMachine over LevelDB.
import { InvalidBucketStateError, ObjectLockedError, ObjectLockNotEnabledError, legalHoldMetadataKey as legalHoldKey, lockModeMetadataKey as lockModeKey, lockUntilMetadataKey as lockUntilKey } from '@tessera/rpc';
import type { DeleteObjectResult } from '../src/catalogue-state-machine';
import type { BucketRecord, ObjectVersionRecord } from '../src/model';
import { checkDeletable, checkRetentionChange, withDefaultRetention } from '../src/object-lock';
import type { TempCatalogue } from './helpers';
import { applyOk, applyRefused, openTempCatalogue, putInline, registerNodes } from './helpers';

const locked = (mode: string, untilMs: number): Record<string, string> => ({ [lockModeKey]: mode, [lockUntilKey]: String(untilMs) });

test('deletable: a legal hold never, COMPLIANCE not before its date, GOVERNANCE only with bypass', () => {
  expect(() => checkDeletable({}, 100, false)).not.toThrow();
  expect(() => checkDeletable({ [legalHoldKey]: 'ON' }, 100, true)).toThrow(ObjectLockedError);
  expect(() => checkDeletable(locked('COMPLIANCE', 200), 100, true)).toThrow(ObjectLockedError);
  expect(() => checkDeletable(locked('COMPLIANCE', 200), 200, false)).not.toThrow();
  expect(() => checkDeletable(locked('GOVERNANCE', 200), 100, false)).toThrow(ObjectLockedError);
  expect(() => checkDeletable(locked('GOVERNANCE', 200), 100, true)).not.toThrow();
});

test('retention changes: extended in the same mode; COMPLIANCE never weakened; GOVERNANCE weakened with bypass; expired ones free', () => {
  const compliance = { mode: 'COMPLIANCE' as const, untilMs: 200 };
  const governance = { mode: 'GOVERNANCE' as const, untilMs: 200 };
  expect(() => checkRetentionChange(compliance, { mode: 'COMPLIANCE', untilMs: 300 }, 100, false)).not.toThrow();
  expect(() => checkRetentionChange(compliance, { mode: 'COMPLIANCE', untilMs: 150 }, 100, true)).toThrow(ObjectLockedError);
  expect(() => checkRetentionChange(compliance, { mode: 'GOVERNANCE', untilMs: 300 }, 100, true)).toThrow(ObjectLockedError);
  expect(() => checkRetentionChange(compliance, undefined, 100, true)).toThrow(ObjectLockedError);
  expect(() => checkRetentionChange(governance, { mode: 'GOVERNANCE', untilMs: 250 }, 100, false)).not.toThrow();
  expect(() => checkRetentionChange(governance, { mode: 'COMPLIANCE', untilMs: 250 }, 100, false)).toThrow(ObjectLockedError);
  expect(() => checkRetentionChange(governance, { mode: 'GOVERNANCE', untilMs: 150 }, 100, false)).toThrow(ObjectLockedError);
  expect(() => checkRetentionChange(governance, undefined, 100, true)).not.toThrow();
  expect(() => checkRetentionChange(compliance, undefined, 200, false)).not.toThrow();
});

test('the default retention is added only when the writer gave none', () => {
  const bucket: BucketRecord = { name: 'b', owner: 'o', createdAtMs: 0, versioning: 'Enabled', objectLock: { enabled: true, defaultRetention: { mode: 'GOVERNANCE', days: 2 } } };
  expect(withDefaultRetention({}, bucket, 1000)).toEqual(locked('GOVERNANCE', 1000 + 2 * 86_400_000));
  expect(withDefaultRetention(locked('COMPLIANCE', 5), bucket, 1000)).toEqual(locked('COMPLIANCE', 5));
  const years: BucketRecord = { ...bucket, objectLock: { enabled: true, defaultRetention: { mode: 'COMPLIANCE', years: 1 } } };
  expect(withDefaultRetention({}, years, 0)).toEqual(locked('COMPLIANCE', 365 * 86_400_000));
});

describe('in the catalogue', () => {
  let cat: TempCatalogue;
  beforeEach(async () => {
    cat = await openTempCatalogue();
    for (const command of registerNodes()) await applyOk(cat, command);
  });
  afterEach(async () => {
    await cat.close();
  });

  test('a bucket created with Object Lock is versioned and cannot be suspended; lock settings need such a bucket', async () => {
    await applyOk(cat, { type: 'createBucket', bucket: 'vault', owner: 'o', createdAtMs: 1, objectLockEnabled: true });
    expect((await cat.machine.getBucket('vault')).versioning).toBe('Enabled');
    expect(await applyRefused(cat, { type: 'setBucketVersioning', bucket: 'vault', status: 'Suspended' })).toBeInstanceOf(InvalidBucketStateError);
    await applyOk(cat, { type: 'createBucket', bucket: 'plain', owner: 'o', createdAtMs: 1 });
    expect(await applyRefused(cat, { ...putInline('plain', 'k'), systemMetadata: { [legalHoldKey]: 'ON' } })).toBeInstanceOf(ObjectLockNotEnabledError);
    expect(await applyRefused(cat, { type: 'setBucketObjectLock', bucket: 'plain', defaultRetention: undefined })).toBeInstanceOf(InvalidBucketStateError);
  });

  test('a held version survives delete by id and setObjectLock keeps the rules; the current one can still be hidden by a marker', async () => {
    await applyOk(cat, { type: 'createBucket', bucket: 'vault', owner: 'o', createdAtMs: 1, objectLockEnabled: true });
    const version = (await applyOk(cat, { ...putInline('vault', 'k'), systemMetadata: locked('COMPLIANCE', 10_000) })) as ObjectVersionRecord;
    expect(await applyRefused(cat, { type: 'deleteObject', bucket: 'vault', key: 'k', versionId: version.versionId, deletedAtMs: 5_000, bypassGovernance: true })).toBeInstanceOf(ObjectLockedError);
    const setLock = { type: 'setObjectLock' as const, bucket: 'vault', key: 'k', versionId: version.versionId, bypassGovernance: true, nowMs: 5_000 };
    expect(await applyRefused(cat, { ...setLock, retention: null })).toBeInstanceOf(ObjectLockedError);
    await applyOk(cat, { ...setLock, retention: { mode: 'COMPLIANCE', untilMs: 20_000 }, legalHold: true });
    const marker = (await applyOk(cat, { type: 'deleteObject', bucket: 'vault', key: 'k', deletedAtMs: 6_000, markerVersionId: 'abc' })) as DeleteObjectResult;
    expect(marker.deleteMarker).toBe(true);
    expect((await cat.machine.getObject('vault', 'k', version.versionId)).systemMetadata).toEqual({ ...locked('COMPLIANCE', 20_000), [legalHoldKey]: 'ON' });
    // Past the date the legal hold still holds; released, the version goes.
    expect(await applyRefused(cat, { type: 'deleteObject', bucket: 'vault', key: 'k', versionId: version.versionId, deletedAtMs: 30_000 })).toBeInstanceOf(ObjectLockedError);
    await applyOk(cat, { ...setLock, legalHold: false, nowMs: 30_000 });
    expect(((await applyOk(cat, { type: 'deleteObject', bucket: 'vault', key: 'k', versionId: version.versionId, deletedAtMs: 30_000 })) as DeleteObjectResult).deleted).toBe(true);
  });
});

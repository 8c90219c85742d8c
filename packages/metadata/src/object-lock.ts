/**
 * S3 Object Lock rules, pure: a version's retention (mode and retain-until time) and legal hold
 * live in its system metadata under reserved keys; these functions read them and decide whether
 * a version may be deleted, or its retention changed, at a given time. Apply calls them, so the
 * decision is atomic with the change it guards.
 */
import { legalHoldMetadataKey, lockModeMetadataKey, lockUntilMetadataKey, ObjectLockedError, readStoredObjectLock } from '@tessera/rpc';
import type { StoredLockMode } from '@tessera/rpc';
import type { BucketRecord, StringMap } from './model';

export type LockMode = StoredLockMode;

export interface Retention {
  readonly mode: LockMode;
  readonly untilMs: number;
}

export function retentionOf(systemMetadata: StringMap): Retention | undefined {
  return readStoredObjectLock(systemMetadata).retention;
}

export function legalHoldOf(systemMetadata: StringMap): boolean {
  return readStoredObjectLock(systemMetadata).legalHold;
}

/** Whether the version carries any Object Lock setting (only allowed in a bucket with Object Lock). */
export function hasLockSettings(systemMetadata: StringMap): boolean {
  return systemMetadata[lockModeMetadataKey] !== undefined || systemMetadata[lockUntilMetadataKey] !== undefined || systemMetadata[legalHoldMetadataKey] !== undefined;
}

/** Throws ObjectLockedError unless the version may be deleted at `nowMs`. */
export function checkDeletable(systemMetadata: StringMap, nowMs: number, bypassGovernance: boolean): void {
  if (legalHoldOf(systemMetadata)) throw new ObjectLockedError();
  const retention = retentionOf(systemMetadata);
  if (retention === undefined || retention.untilMs <= nowMs) return;
  if (retention.mode === 'COMPLIANCE' || !bypassGovernance) throw new ObjectLockedError();
}

/**
 * S3's PutObjectRetention rules while a retention is in force: COMPLIANCE can only be extended
 * (same mode, a later or equal date); GOVERNANCE can be extended in the same mode, and changed,
 * shortened or removed only with the governance bypass. Throws ObjectLockedError.
 */
export function checkRetentionChange(current: Retention | undefined, next: Retention | undefined, nowMs: number, bypassGovernance: boolean): void {
  if (current === undefined || current.untilMs <= nowMs) return;
  const extendsInSameMode = next !== undefined && next.mode === current.mode && next.untilMs >= current.untilMs;
  if (extendsInSameMode) return;
  if (current.mode === 'GOVERNANCE' && bypassGovernance) return;
  throw new ObjectLockedError();
}

/**
 * A new version's system metadata with the bucket's default retention applied when the writer
 * gave none: retain until creation + the default's days (a year counts 365 days).
 */
export function withDefaultRetention(systemMetadata: StringMap, bucket: BucketRecord, createdAtMs: number): StringMap {
  const rule = bucket.objectLock?.defaultRetention;
  if (rule === undefined || systemMetadata[lockModeMetadataKey] !== undefined) return systemMetadata;
  const days = rule.days ?? (rule.years ?? 0) * 365;
  return { ...systemMetadata, [lockModeMetadataKey]: rule.mode, [lockUntilMetadataKey]: String(createdAtMs + days * 86_400_000) };
}

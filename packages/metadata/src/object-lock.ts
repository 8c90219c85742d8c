/**
 * S3 Object Lock rules, pure: a version's retention (mode and retain-until time) and legal hold
 * live in its system metadata under reserved keys; these functions read them and decide whether
 * a version may be deleted, or its retention changed, at a given time. Apply calls them, so the
 * decision is atomic with the change it guards.
 */
import { legalHoldMetadataKey, lockModeMetadataKey, lockUntilMetadataKey, ObjectLockedError } from '@tessera/rpc';
import type { BucketRecord, StringMap } from './model';

export const lockModeKey = lockModeMetadataKey;
export const lockUntilKey = lockUntilMetadataKey;
export const legalHoldKey = legalHoldMetadataKey;

export type LockMode = 'GOVERNANCE' | 'COMPLIANCE';

export interface Retention {
  readonly mode: LockMode;
  readonly untilMs: number;
}

export function retentionOf(systemMetadata: StringMap): Retention | undefined {
  const mode = systemMetadata[lockModeKey];
  const untilMs = Number(systemMetadata[lockUntilKey]);
  if ((mode !== 'GOVERNANCE' && mode !== 'COMPLIANCE') || !Number.isFinite(untilMs)) return undefined;
  return { mode, untilMs };
}

export function legalHoldOf(systemMetadata: StringMap): boolean {
  return systemMetadata[legalHoldKey] === 'ON';
}

/** Whether the version carries any Object Lock setting (only allowed in a bucket with Object Lock). */
export function hasLockSettings(systemMetadata: StringMap): boolean {
  return systemMetadata[lockModeKey] !== undefined || systemMetadata[lockUntilKey] !== undefined || systemMetadata[legalHoldKey] !== undefined;
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
  if (rule === undefined || systemMetadata[lockModeKey] !== undefined) return systemMetadata;
  const days = rule.days ?? (rule.years ?? 0) * 365;
  return { ...systemMetadata, [lockModeKey]: rule.mode, [lockUntilKey]: String(createdAtMs + days * 86_400_000) };
}

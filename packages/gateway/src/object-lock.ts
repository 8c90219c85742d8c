/**
 * S3 Object Lock at the protocol layer: the write headers (x-amz-object-lock-mode,
 * -retain-until-date, -legal-hold) checked as S3 checks them, and the response headers of a
 * locked version. The rules that protect versions (no delete while retained or held, retention
 * only extended) are enforced by the metadata service when it applies the change.
 */
import { S3Error } from './s3-errors';

export type LockMode = 'GOVERNANCE' | 'COMPLIANCE';

/** A version's Object Lock settings; absent fields are not set. */
export interface ObjectLockSettings {
  readonly mode?: LockMode;
  readonly retainUntilMs?: number;
  readonly legalHold?: boolean;
}

export function parseLockMode(value: string, what: string): LockMode {
  if (value === 'GOVERNANCE' || value === 'COMPLIANCE') return value;
  throw new S3Error('InvalidArgument', { message: 'Unknown wormMode directive.', fields: { ArgumentName: what, ArgumentValue: value } });
}

/** An ISO 8601 retain-until date that lies in the future. */
export function parseRetainUntil(value: string, nowMs: number, what: string): number {
  const ms = Date.parse(value);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(value) || !Number.isFinite(ms)) {
    throw new S3Error('InvalidArgument', { message: 'The retain until date must be provided in ISO 8601 format', fields: { ArgumentName: what, ArgumentValue: value } });
  }
  if (ms <= nowMs) throw new S3Error('InvalidArgument', { message: 'The retain until date must be in the future!', fields: { ArgumentName: what, ArgumentValue: value } });
  return ms;
}

export function parseLegalHoldStatus(value: string, what: string): boolean {
  if (value === 'ON' || value === 'OFF') return value === 'ON';
  throw new S3Error('InvalidArgument', { message: 'Legal Hold must be either of ON or OFF', fields: { ArgumentName: what, ArgumentValue: value } });
}

/** The lock headers of PutObject / CopyObject / CreateMultipartUpload; mode and date come together. */
export function parseObjectLockHeaders(header: (lowerCaseName: string) => string | undefined, nowMs: number): ObjectLockSettings | undefined {
  const mode = header('x-amz-object-lock-mode');
  const until = header('x-amz-object-lock-retain-until-date');
  const hold = header('x-amz-object-lock-legal-hold');
  if (mode === undefined && until === undefined && hold === undefined) return undefined;
  if ((mode === undefined) !== (until === undefined)) {
    throw new S3Error('InvalidArgument', { message: 'x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied' });
  }
  return {
    ...(mode === undefined ? {} : { mode: parseLockMode(mode, 'x-amz-object-lock-mode') }),
    ...(until === undefined ? {} : { retainUntilMs: parseRetainUntil(until, nowMs, 'x-amz-object-lock-retain-until-date') }),
    ...(hold === undefined ? {} : { legalHold: parseLegalHoldStatus(hold, 'x-amz-object-lock-legal-hold') }),
  };
}

/** GET / HEAD: the version's retention and legal hold, as S3 sends them. */
export function objectLockResponseHeaders(lock: ObjectLockSettings | undefined): Record<string, string> {
  if (lock === undefined) return {};
  return {
    ...(lock.mode === undefined ? {} : { 'x-amz-object-lock-mode': lock.mode }),
    ...(lock.retainUntilMs === undefined ? {} : { 'x-amz-object-lock-retain-until-date': new Date(lock.retainUntilMs).toISOString() }),
    ...(lock.legalHold === undefined ? {} : { 'x-amz-object-lock-legal-hold': lock.legalHold ? 'ON' : 'OFF' }),
  };
}

/** `{ objectLock }` to spread into ObjectHeaders, or nothing. */
export function lockOf(settings: ObjectLockSettings | undefined): { objectLock?: ObjectLockSettings } {
  return settings === undefined ? {} : { objectLock: settings };
}

/** x-amz-bypass-governance-retention: true. */
export function bypassGovernanceOf(header: (lowerCaseName: string) => string | undefined): boolean {
  return header('x-amz-bypass-governance-retention')?.toLowerCase() === 'true';
}

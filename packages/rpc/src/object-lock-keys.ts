/**
 * Where a version's S3 Object Lock settings are stored: in its system metadata under reserved
 * keys. The gateway writes them from request headers and reads them for responses; the metadata
 * service enforces them at apply (packages/metadata/src/object-lock.ts).
 */
export const lockModeMetadataKey = 'x-tessera-lock-mode';
/** Present (the algorithm, AES256) on a server-side-encrypted version; the gateway writes it with the sealed key. */
export const sseAlgorithmMetadataKey = 'x-tessera-sse';
/** Retain-until time in ms since the epoch, as a decimal string. */
export const lockUntilMetadataKey = 'x-tessera-lock-until';
/** `ON` while a legal hold is set; absent otherwise. */
export const legalHoldMetadataKey = 'x-tessera-legal-hold';

export type StoredLockMode = 'GOVERNANCE' | 'COMPLIANCE';

/** A version's stored Object Lock settings; an unreadable retention counts as none. */
export interface StoredObjectLock {
  readonly retention: { readonly mode: StoredLockMode; readonly untilMs: number } | undefined;
  readonly legalHold: boolean;
}

export function readStoredObjectLock(systemMetadata: Readonly<Record<string, string>>): StoredObjectLock {
  const mode = systemMetadata[lockModeMetadataKey];
  const untilMs = Number(systemMetadata[lockUntilMetadataKey]);
  const legalHold = systemMetadata[legalHoldMetadataKey] === 'ON';
  if ((mode !== 'GOVERNANCE' && mode !== 'COMPLIANCE') || !Number.isFinite(untilMs)) return { retention: undefined, legalHold };
  return { retention: { mode, untilMs }, legalHold };
}

/**
 * Where a version's S3 Object Lock settings are stored: in its system metadata under reserved
 * keys. The gateway writes them from request headers and reads them for responses; the metadata
 * service enforces them at apply (packages/metadata/src/object-lock.ts).
 */
export const lockModeMetadataKey = 'x-tessera-lock-mode';
/** Retain-until time in ms since the epoch, as a decimal string. */
export const lockUntilMetadataKey = 'x-tessera-lock-until';
/** `ON` while a legal hold is set; absent otherwise. */
export const legalHoldMetadataKey = 'x-tessera-legal-hold';

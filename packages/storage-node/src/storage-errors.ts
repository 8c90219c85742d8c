import { StorageFullError, StorageIoError, TesseraError } from '@tessera/rpc';

/**
 * Turns a file-system failure into the typed error the caller can act on: ENOSPC/EDQUOT mean
 * "no room here" (RESOURCE_EXHAUSTED), anything else is this node's disk trouble
 * (UNAVAILABLE, so the gateway uses another node). Typed errors and assertion failures pass
 * through unchanged.
 */
export function toStorageError(err: unknown, action: string): Error {
  if (err instanceof TesseraError) return err;
  const code = errnoOf(err);
  if (code === undefined) return err instanceof Error ? err : new Error(String(err));
  const message = err instanceof Error ? err.message : String(err);
  if (code === 'ENOSPC' || code === 'EDQUOT') return new StorageFullError(`${action}: disk full (${code})`);
  return new StorageIoError(`${action}: ${message}`, code);
}

export function errnoOf(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

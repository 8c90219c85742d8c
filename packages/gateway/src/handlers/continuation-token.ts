/**
 * ListObjectsV2 continuation tokens: opaque to clients, base64url of a tag (key or common prefix)
 * and the last entry of the page, from which the next page starts. The tag matters because a key
 * may itself end with the delimiter, so a key and a common prefix can look the same.
 */
import type { ListEntry } from '../backend';
import { S3Error } from '../s3-errors';

/** Where the next page starts: after a key, or after a common prefix and all its keys. */
export interface ListPosition {
  readonly startAfter: string;
  readonly skipPrefix: string | undefined;
}

const keyTag = 'k:';
const prefixTag = 'p:';

export function positionAfter(entries: readonly ListEntry[]): ListPosition | undefined {
  const last = entries[entries.length - 1];
  if (last === undefined) return undefined;
  return last.kind === 'object' ? { startAfter: last.object.key, skipPrefix: undefined } : { startAfter: last.prefix, skipPrefix: last.prefix };
}

export function encodeContinuationToken(position: ListPosition): string {
  const text = position.skipPrefix === undefined ? `${keyTag}${position.startAfter}` : `${prefixTag}${position.skipPrefix}`;
  return Buffer.from(text, 'utf8').toString('base64url');
}

export function decodeContinuationToken(token: string): ListPosition {
  const decoded = Buffer.from(token, 'base64url').toString('utf8');
  const wellFormed = Buffer.from(decoded, 'utf8').toString('base64url') === token;
  if (wellFormed && decoded.startsWith(keyTag)) return { startAfter: decoded.slice(keyTag.length), skipPrefix: undefined };
  if (wellFormed && decoded.startsWith(prefixTag)) {
    const prefix = decoded.slice(prefixTag.length);
    return { startAfter: prefix, skipPrefix: prefix };
  }
  throw new S3Error('InvalidArgument', { message: 'The continuation token provided is incorrect', fields: { ArgumentName: 'continuation-token' } });
}

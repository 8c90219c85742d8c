import { InvalidShardRequestError } from './storage-node-errors';

/**
 * A shard's name: the object version it belongs to and its index in the stripe. The gateway
 * writes one shard per (object version, shard index), holding that index's shard of every
 * block of the object in block order.
 */
export interface StorageShardId {
  readonly objectVersionId: string;
  readonly shardIndex: number;
}

/** Longest accepted object version id, in characters (ASCII, so also bytes). */
export const objectVersionIdLengthMax = 128;
/** Shard indexes are 0..shardIndexMax (GF(2^8) Reed-Solomon allows at most 256 shards). */
export const shardIndexMax = 255;

// A safe charset only: no '/', '\\', NUL or other separators can reach a path, and since a
// leading '.' and ".." are refused, no id can name "." or ".." or a hidden file.
const objectVersionIdPattern = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;

/** Throws InvalidShardRequestError unless `id` is a well-formed shard id. */
export function validateShardId(id: { objectVersionId?: unknown; shardIndex?: unknown } | null | undefined): StorageShardId {
  if (id === null || id === undefined) throw new InvalidShardRequestError('shard id is missing');
  const { objectVersionId, shardIndex } = id;
  if (typeof objectVersionId !== 'string' || objectVersionId.length === 0) {
    throw new InvalidShardRequestError('shard id: objectVersionId is missing');
  }
  if (objectVersionId.length > objectVersionIdLengthMax) {
    throw new InvalidShardRequestError(`shard id: objectVersionId longer than ${objectVersionIdLengthMax} characters`);
  }
  if (!objectVersionIdPattern.test(objectVersionId) || objectVersionId.includes('..')) {
    throw new InvalidShardRequestError(
      `shard id: objectVersionId ${JSON.stringify(objectVersionId)} must be [A-Za-z0-9._-], not start with '.', no '..'`,
    );
  }
  if (typeof shardIndex !== 'number' || !Number.isInteger(shardIndex) || shardIndex < 0 || shardIndex > shardIndexMax) {
    throw new InvalidShardRequestError(`shard id: shardIndex must be an integer in 0..${shardIndexMax}`);
  }
  return { objectVersionId, shardIndex };
}

/** The printable key of a shard, `<objectVersionId>.<shardIndex>`, used in logs and errors. */
export function shardKey(id: StorageShardId): string {
  return `${id.objectVersionId}.${id.shardIndex}`;
}

import { assert } from '@tessera/common';

/**
 * The state-machine key layout (README "LevelDB key layout" has the byte-by-byte table).
 * Every key starts with one table byte; LevelDB orders keys bytewise, which for UTF-8 object
 * keys is exactly S3's listing order (UTF-8 binary order).
 */
export const table = {
  bucket: 0x01,
  object: 0x02,
  write: 0x03,
  upload: 0x04,
  part: 0x05,
  node: 0x06,
  queue: 0x07,
  member: 0x08,
  requestById: 0x09,
  requestByTime: 0x0a,
  nodeShard: 0x0b,
  repairByStripe: 0x0c,
  bucketStats: 0x0d,
  removedNode: 0x0e,
  version: 0x0f,
  accessKey: 0x10,
  meta: 0x7f,
} as const;

const separator = Buffer.from([0x00]);

/** Bucket names never contain 0x00 (validated), so it terminates them unambiguously. */
function bucketPrefix(tableByte: number, bucket: string): Buffer {
  return Buffer.concat([Buffer.from([tableByte]), Buffer.from(bucket, 'utf8'), separator]);
}

export function bucketKey(bucket: string): Buffer {
  return Buffer.concat([Buffer.from([table.bucket]), Buffer.from(bucket, 'utf8')]);
}

/** [0x02] bucket [0x00] key: the object key is the raw UTF-8 tail, so listing is a range scan. */
export function objectKey(bucket: string, keyBytes: Buffer): Buffer {
  return Buffer.concat([bucketPrefix(table.object, bucket), keyBytes]);
}

export function objectKeyPrefix(bucket: string): Buffer {
  return bucketPrefix(table.object, bucket);
}

export function writeKey(writeId: string): Buffer {
  return Buffer.concat([Buffer.from([table.write]), Buffer.from(writeId, 'utf8')]);
}

/**
 * Order-preserving escape for an object key followed by more fields: 0x00 -> 0x00 0xFF and a
 * terminator 0x00 0x01, so "a" < "a\u0000b" still holds and no key is a prefix of another.
 */
export function escapeKey(keyBytes: Buffer): Buffer {
  const parts: Buffer[] = [];
  let start = 0;
  for (let i = 0; i < keyBytes.length; i++) {
    if (keyBytes[i] === 0x00) {
      parts.push(keyBytes.subarray(start, i), Buffer.from([0x00, 0xff]));
      start = i + 1;
    }
  }
  parts.push(keyBytes.subarray(start), Buffer.from([0x00, 0x01]));
  return Buffer.concat(parts);
}

/** escapeKey without the terminator: every escaped key that starts with `keyBytes` starts with this. */
export function escapeKeyBody(keyBytes: Buffer): Buffer {
  const escaped = escapeKey(keyBytes);
  return escaped.subarray(0, escaped.length - 2);
}

/**
 * Reads an escaped key back from `bytes` starting at `offset`: the key and the offset just past
 * its terminator.
 */
export function unescapeKey(bytes: Buffer, offset: number): { readonly keyBytes: Buffer; readonly end: number } {
  const parts: Buffer[] = [];
  let start = offset;
  for (let i = offset; i + 1 < bytes.length; i++) {
    if (bytes[i] !== 0x00) continue;
    if (bytes[i + 1] === 0x01) {
      parts.push(bytes.subarray(start, i));
      return { keyBytes: Buffer.concat(parts), end: i + 2 };
    }
    parts.push(bytes.subarray(start, i), Buffer.from([0x00]));
    start = i + 2;
    i++;
  }
  throw new Error('escaped key without terminator');
}

/** Largest version sequence: sequences are log indexes, far below 2^53. */
const sequenceMax = 2n ** 64n - 1n;

/**
 * [0x0F] bucket [0x00] escapeKey(key) (2^64-1 - sequence as 8 bytes big-endian): the versions
 * of a key that are not its current object (noncurrent versions and delete markers), newest
 * (highest sequence) first, right after each other in key order.
 */
export function versionKey(bucket: string, keyBytes: Buffer, sequence: number): Buffer {
  const inverted = Buffer.alloc(8);
  inverted.writeBigUInt64BE(sequenceMax - BigInt(sequence));
  return Buffer.concat([bucketPrefix(table.version, bucket), escapeKey(keyBytes), inverted]);
}

/** Every version-table key of one object key. */
export function versionKeyPrefixOf(bucket: string, keyBytes: Buffer): Buffer {
  return Buffer.concat([bucketPrefix(table.version, bucket), escapeKey(keyBytes)]);
}

export function versionKeyPrefix(bucket: string): Buffer {
  return bucketPrefix(table.version, bucket);
}

/** The sequence a version-table key ends with. */
export function sequenceOfVersionKey(dbKey: Buffer): number {
  return Number(sequenceMax - dbKey.readBigUInt64BE(dbKey.length - 8));
}

export function uploadKey(bucket: string, key: string, uploadId: string): Buffer {
  return Buffer.concat([bucketPrefix(table.upload, bucket), escapeKey(Buffer.from(key, 'utf8')), Buffer.from(uploadId, 'utf8')]);
}

export function uploadKeyPrefix(bucket: string): Buffer {
  return bucketPrefix(table.upload, bucket);
}

/** Upload ids never contain 0x00 (validated), so they terminate with it. */
export function partKeyPrefix(uploadId: string): Buffer {
  return Buffer.concat([Buffer.from([table.part]), Buffer.from(uploadId, 'utf8'), separator]);
}

/** Part numbers as 4-byte big-endian, so parts list in numeric order. */
export function partKey(uploadId: string, partNumber: number): Buffer {
  assert(Number.isSafeInteger(partNumber) && partNumber >= 0 && partNumber <= 0xffffffff, 'part number fits u32');
  const number = Buffer.alloc(4);
  number.writeUInt32BE(partNumber);
  return Buffer.concat([partKeyPrefix(uploadId), number]);
}

export function nodeKey(nodeId: string): Buffer {
  return Buffer.concat([Buffer.from([table.node]), Buffer.from(nodeId, 'utf8')]);
}

/** Metadata-group member addresses (the Raft membership itself lives in the Raft log). */
export function memberKey(nodeId: string): Buffer {
  return Buffer.concat([Buffer.from([table.member]), Buffer.from(nodeId, 'utf8')]);
}

/** Dedup record of a request id: its first result. */
export function requestByIdKey(requestId: string): Buffer {
  return Buffer.concat([Buffer.from([table.requestById]), Buffer.from(requestId, 'utf8')]);
}

/** Time index of dedup records (8-byte big-endian ms, then the id), for expiry scans. */
export function requestByTimeKey(requestedAtMs: number, requestId: string): Buffer {
  const time = Buffer.alloc(8);
  time.writeBigUInt64BE(BigInt(requestedAtMs));
  return Buffer.concat([Buffer.from([table.requestByTime]), time, Buffer.from(requestId, 'utf8')]);
}

export function queueKey(itemId: string): Buffer {
  return Buffer.concat([Buffer.from([table.queue]), Buffer.from(itemId, 'utf8')]);
}

/** Queue item ids sort in log order: 16 hex digits of the log index, 4 of the position in it. */
export function queueItemId(logIndexValue: number, position: number): string {
  assert(position < 0x10000, 'at most 65536 queue items per command');
  return `${logIndexValue.toString(16).padStart(16, '0')}-${position.toString(16).padStart(4, '0')}`;
}

/** Node → shard index: [0x0B] nodeId [0x00] stripeId [0x00] shardIndex (u8); node ids and stripe ids never hold 0x00. */
export function nodeShardKey(nodeId: string, stripeId: string, shardIndex: number): Buffer {
  assert(Number.isInteger(shardIndex) && shardIndex >= 0 && shardIndex <= 255, 'shard index fits u8');
  return Buffer.concat([nodeShardPrefix(nodeId), Buffer.from(stripeId, 'utf8'), separator, Buffer.from([shardIndex])]);
}

export function nodeShardPrefix(nodeId: string): Buffer {
  return Buffer.concat([Buffer.from([table.nodeShard]), Buffer.from(nodeId, 'utf8'), separator]);
}

/** Dedup of repairStripe queue items: [0x0C] stripeId -> the pending item's id. */
export function repairByStripeKey(stripeId: string): Buffer {
  return Buffer.concat([Buffer.from([table.repairByStripe]), Buffer.from(stripeId, 'utf8')]);
}

/** Access keys other than root: [0x10] accessKeyId -> AccessKeyRecord. */
export function accessKeyKey(accessKeyId: string): Buffer {
  return Buffer.concat([Buffer.from([table.accessKey]), Buffer.from(accessKeyId, 'utf8')]);
}

/** Per-bucket counters: [0x0D] bucket -> BucketStatsRecord. */
export function bucketStatsKey(bucket: string): Buffer {
  return Buffer.concat([Buffer.from([table.bucketStats]), Buffer.from(bucket, 'utf8')]);
}

/** Storage nodes removed by an operator: [0x0E] nodeId -> RemovedNodeRecord. */
export function removedNodeKey(nodeId: string): Buffer {
  return Buffer.concat([Buffer.from([table.removedNode]), Buffer.from(nodeId, 'utf8')]);
}

export const appliedIndexKey = Buffer.from([table.meta, ...Buffer.from('applied', 'utf8')]);

/**
 * Present once the bucket counters (table 0x0D) are maintained for this keyspace; absent in a
 * catalogue written before they existed, which is then counted once at open.
 */
export const bucketStatsVersionKey = Buffer.from([table.meta, ...Buffer.from('stats-version', 'utf8')]);

/** The current SSE-S3 master key (EncryptionMasterKeyRecord); replaced by a rotation. */
export const encryptionMasterKeyKey = Buffer.from([table.meta, ...Buffer.from('encryption-master-key', 'utf8')]);

/** Every SSE-S3 master key ever current, by id (kept to open what it sealed). */
export function encryptionMasterKeyByIdKey(keyId: string): Buffer {
  return Buffer.from([table.meta, ...Buffer.from(`encryption-master-key/${keyId}`, 'utf8')]);
}

export const encryptionMasterKeysPrefix = Buffer.from([table.meta, ...Buffer.from('encryption-master-key/', 'utf8')]);

export function tablePrefix(tableByte: number): Buffer {
  return Buffer.from([tableByte]);
}

/**
 * The smallest byte string greater than every string that starts with `prefix`, or undefined
 * when there is none (all 0xFF). Used to seek past a whole common prefix in one step.
 */
export function prefixUpperBound(prefix: Buffer): Buffer | undefined {
  let end = prefix.length;
  while (end > 0 && prefix[end - 1] === 0xff) end--;
  if (end === 0) return undefined;
  const bound = Buffer.from(prefix.subarray(0, end));
  bound[end - 1] = (bound[end - 1] ?? 0) + 1;
  return bound;
}

/** The immediate successor of `key` in bytewise order (key + 0x00). */
export function successor(key: Buffer): Buffer {
  return Buffer.concat([key, separator]);
}

import { assert } from '@tessera/common';
import { InvalidArgumentError } from '@tessera/rpc';
import type { CatalogueDb } from './catalogue-db';
import { decodeJsonWithoutBufferBytes } from './catalogue-db';
import { objectKeyPrefix, prefixUpperBound, successor } from './keys';
import type { ListedObjectVersion, ObjectVersionRecord } from './model';
import { withoutLayout } from './model';
import { isWellFormed } from './validation';

/** S3's page-size ceiling for ListObjects. */
export const listKeysMax = 1000;

export interface ListObjectsParams {
  readonly bucket: string;
  readonly prefix: string;
  /** Empty string: no grouping. */
  readonly delimiter: string;
  /** v2 StartAfter or v1 Marker: list keys strictly after this one. */
  readonly startAfter: string;
  /** v2 continuation token from a previous page (opaque; wins over startAfter when later). */
  readonly continuationToken: string;
  /** 0..1000; larger values are clamped to 1000 as S3 does. */
  readonly maxKeys: number;
}

export interface ListObjectsPage {
  /** Objects in UTF-8 binary key order, without their layouts. */
  readonly objects: readonly ListedObjectVersion[];
  /** Distinct `prefix + … + delimiter` groups, in order, each counted once toward maxKeys. */
  readonly commonPrefixes: readonly string[];
  readonly isTruncated: boolean;
  /** When truncated: pass as continuationToken for the next page (v2). */
  readonly nextContinuationToken: string | undefined;
  /** When truncated: the last key or common prefix returned (v1 NextMarker). */
  readonly nextMarker: string | undefined;
}

/**
 * A continuation token is base64url of the first key position (bytes) the next page may
 * return ("greater or equal"). After a key K that is K + 0x00; after a common prefix P it is
 * the upper bound of P, so the next page never re-enters P.
 */
export function encodeContinuationToken(position: Buffer): string {
  return position.toString('base64url');
}

export function decodeContinuationToken(token: string): Buffer {
  if (!/^[A-Za-z0-9_-]*$/.test(token) || token.length > 2048) throw new InvalidArgumentError('invalid continuation token');
  return Buffer.from(token, 'base64url');
}

function maxBuffer(a: Buffer, b: Buffer): Buffer {
  return Buffer.compare(a, b) >= 0 ? a : b;
}

/**
 * ListObjects as a range scan over `[0x02] bucket [0x00] key`. The cost of a page is the
 * entries it returns plus one seek per common prefix: when a key falls into a delimited group,
 * the iterator seeks to the group's upper bound instead of walking the group. So a page of
 * 1,000 costs the same in a bucket of 2,000 keys as in one of 1,000,000.
 */
export async function listObjects(db: CatalogueDb, params: ListObjectsParams): Promise<ListObjectsPage> {
  if (!isWellFormed(params.prefix) || !isWellFormed(params.delimiter) || !isWellFormed(params.startAfter)) {
    throw new InvalidArgumentError('prefix, delimiter and start-after must be well-formed UTF-8');
  }
  if (!Number.isSafeInteger(params.maxKeys) || params.maxKeys < 0) throw new InvalidArgumentError('max-keys must be a non-negative integer');
  const maxKeys = Math.min(params.maxKeys, listKeysMax);
  const empty: ListObjectsPage = { objects: [], commonPrefixes: [], isTruncated: false, nextContinuationToken: undefined, nextMarker: undefined };
  if (maxKeys === 0) return empty;

  const bucketPrefix = objectKeyPrefix(params.bucket);
  const prefixBytes = Buffer.from(params.prefix, 'utf8');
  const delimiterBytes = Buffer.from(params.delimiter, 'utf8');
  let lower: Buffer = prefixBytes;
  if (params.startAfter !== '') lower = maxBuffer(lower, startAfterPosition(params, prefixBytes, delimiterBytes));
  if (params.continuationToken !== '') lower = maxBuffer(lower, decodeContinuationToken(params.continuationToken));
  const prefixUpper = prefixUpperBound(Buffer.concat([bucketPrefix, prefixBytes]));
  assert(prefixUpper !== undefined, 'a bucket prefix always has an upper bound');

  const iterator = db.iterator({ gte: Buffer.concat([bucketPrefix, lower]), lt: prefixUpper });
  const objects: ListedObjectVersion[] = [];
  const commonPrefixes: string[] = [];
  let lastReturned: { position: Buffer; marker: string } | undefined;
  let isTruncated = false;
  try {
    // nextv() takes a batch per native call, but after a seek the rest of a batch is wasted:
    // read small batches right after a seek and double them while the scan runs straight.
    let batchSize = 16;
    scan: for (;;) {
      const batch = await iterator.nextv(Math.min(batchSize, maxKeys - objects.length - commonPrefixes.length + 1));
      batchSize = Math.min(batchSize * 2, listKeysMax);
      if (batch.length === 0) break;
      for (const [rawKey, value] of batch) {
        const keyBytes = rawKey.subarray(bucketPrefix.length);
        const group = delimiterBytes.length === 0 ? -1 : keyBytes.indexOf(delimiterBytes, prefixBytes.length);
        if (objects.length + commonPrefixes.length === maxKeys) {
          isTruncated = true;
          break scan;
        }
        if (group >= 0) {
          const commonPrefix = keyBytes.subarray(0, group + delimiterBytes.length);
          const upper = prefixUpperBound(commonPrefix);
          assert(upper !== undefined, 'a UTF-8 common prefix has an upper bound');
          commonPrefixes.push(commonPrefix.toString('utf8'));
          lastReturned = { position: upper, marker: commonPrefix.toString('utf8') };
          iterator.seek(Buffer.concat([bucketPrefix, upper]));
          batchSize = 2;
          continue scan;
        }
        objects.push(withoutLayout(decodeJsonWithoutBufferBytes<ObjectVersionRecord>(value)));
        lastReturned = { position: successor(Buffer.from(keyBytes)), marker: keyBytes.toString('utf8') };
      }
    }
  } finally {
    await iterator.close();
  }
  return {
    objects,
    commonPrefixes,
    isTruncated,
    nextContinuationToken: isTruncated && lastReturned !== undefined ? encodeContinuationToken(lastReturned.position) : undefined,
    nextMarker: isTruncated && lastReturned !== undefined ? lastReturned.marker : undefined,
  };
}

/**
 * Where listing resumes after a v2 StartAfter / v1 Marker: right after it, or after the whole
 * group when the marker falls in a common prefix of this listing (`markerGroup`).
 */
function startAfterPosition(params: ListObjectsParams, prefixBytes: Buffer, delimiterBytes: Buffer): Buffer {
  const marker = Buffer.from(params.startAfter, 'utf8');
  const group = markerGroup(marker, prefixBytes, delimiterBytes);
  const upper = group === undefined ? undefined : prefixUpperBound(group);
  return upper ?? successor(marker);
}

/**
 * The common prefix a marker falls in, if any: the marker starts with the prefix and holds the
 * delimiter after it. A listing returns only entries after the marker, and a group's entry (its
 * common prefix) sorts at or before every marker inside the group, so the whole group is behind
 * it: a v1 NextMarker that is a common prefix ("photos/") must not report that group again, and a
 * marker deeper in ("photos/2006/a") is the same rule (as S3, RGW and MinIO list). The delimiter
 * is looked for after the prefix, as in the roll-up of keys.
 */
export function markerGroup(marker: Buffer, prefixBytes: Buffer, delimiterBytes: Buffer): Buffer | undefined {
  if (delimiterBytes.length === 0 || !marker.subarray(0, prefixBytes.length).equals(prefixBytes)) return undefined;
  const index = marker.indexOf(delimiterBytes, prefixBytes.length);
  return index < 0 ? undefined : marker.subarray(0, index + delimiterBytes.length);
}

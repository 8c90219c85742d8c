import { assert } from '@tessera/common';
import { InvalidArgumentError } from '@tessera/rpc';
import type { CatalogueDb } from './catalogue-db';
import { decodeJson, decodeJsonWithoutBufferBytes } from './catalogue-db';
import { reportedVersionId, sequenceOfVersionId } from './catalogue-state-machine';
import {
  escapeKeyBody, objectKey, objectKeyPrefix, prefixUpperBound, sequenceOfVersionKey, successor, unescapeKey, versionKey, versionKeyPrefix,
  versionKeyPrefixOf,
} from './keys';
import { listKeysMax, markerGroup } from './list-objects';
import type { BucketRecord, ListedStoredVersion, ObjectVersionRecord, StoredVersion } from './model';
import { isDeleteMarker, withoutLayout } from './model';
import { isWellFormed } from './validation';

export interface ListVersionsParams {
  readonly bucket: BucketRecord;
  readonly prefix: string;
  /** Empty string: no grouping. */
  readonly delimiter: string;
  /** List versions of keys after this one (or, with versionIdMarker, this key's older versions first). */
  readonly keyMarker: string;
  readonly versionIdMarker: string;
  /** 0..1000; larger values are clamped to 1000 as S3 does. */
  readonly maxKeys: number;
}

/** One version of the listing, with its S3 version id (reportedVersionId). */
export interface ListedVersion {
  /** Without its layout. */
  readonly version: ListedStoredVersion;
  readonly isLatest: boolean;
}

export interface ListVersionsPage {
  /** In key order, each key's versions newest first. */
  readonly versions: readonly ListedVersion[];
  readonly commonPrefixes: readonly string[];
  readonly isTruncated: boolean;
  /** When truncated: the key (or common prefix) of the last entry returned. */
  readonly nextKeyMarker: string | undefined;
  /** When truncated after a version: its id. */
  readonly nextVersionIdMarker: string | undefined;
}

/** A sorted cursor over one table, decoding each entry's object key. */
class TableCursor {
  private readonly iterator: ReturnType<CatalogueDb['iterator']>;
  head: { readonly keyBytes: Buffer; readonly dbKey: Buffer; readonly value: Buffer } | undefined;

  constructor(
    db: CatalogueDb,
    private readonly tablePrefix: Buffer,
    from: Buffer,
    upper: Buffer | undefined,
    private readonly keyOf: (dbKey: Buffer) => Buffer,
  ) {
    this.iterator = db.iterator({ gte: Buffer.concat([tablePrefix, from]), ...(upper === undefined ? {} : { lt: upper }) });
  }

  async advance(): Promise<void> {
    const entry = (await this.iterator.next()) as [Buffer, Buffer] | undefined;
    if (entry === undefined) {
      this.head = undefined;
      return;
    }
    const [dbKey, value] = entry;
    this.head = { keyBytes: this.keyOf(dbKey), dbKey, value };
  }

  async seek(position: Buffer): Promise<void> {
    this.iterator.seek(Buffer.concat([this.tablePrefix, position]));
    await this.advance();
  }

  close(): Promise<void> {
    return this.iterator.close();
  }
}

/**
 * ListObjectVersions: every version of every key, merging the object table (current versions)
 * with the version table (noncurrent versions and delete markers, newest first per key). A
 * key's current version comes before its noncurrent ones, and is its latest; when a key has no
 * current version, its newest delete marker is. With a delimiter, keys past the prefix that
 * contain it roll up into common prefixes, each counted once and skipped with one seek per
 * table.
 */
export async function listObjectVersions(db: CatalogueDb, params: ListVersionsParams): Promise<ListVersionsPage> {
  if (!isWellFormed(params.prefix) || !isWellFormed(params.delimiter) || !isWellFormed(params.keyMarker)) {
    throw new InvalidArgumentError('prefix, delimiter and key-marker must be well-formed UTF-8');
  }
  if (!Number.isSafeInteger(params.maxKeys) || params.maxKeys < 0) throw new InvalidArgumentError('max-keys must be a non-negative integer');
  const maxKeys = Math.min(params.maxKeys, listKeysMax);
  const bucket = params.bucket.name;
  const page: ListVersionsPage = { versions: [], commonPrefixes: [], isTruncated: false, nextKeyMarker: undefined, nextVersionIdMarker: undefined };
  if (maxKeys === 0) return page;

  const prefixBytes = Buffer.from(params.prefix, 'utf8');
  const delimiterBytes = Buffer.from(params.delimiter, 'utf8');
  const objectTable = objectKeyPrefix(bucket);
  const versionTable = versionKeyPrefix(bucket);
  const start = await startPositions(db, params, prefixBytes, delimiterBytes);
  const objects = new TableCursor(db, objectTable, start.objectFrom, prefixUpperBound(Buffer.concat([objectTable, prefixBytes])), (dbKey) => dbKey.subarray(objectTable.length));
  const noncurrent = new TableCursor(
    db, versionTable, start.versionFrom, prefixUpperBound(Buffer.concat([versionTable, escapeKeyBody(prefixBytes)])),
    (dbKey) => unescapeKey(dbKey, versionTable.length).keyBytes,
  );
  const versions: ListedVersion[] = [];
  const commonPrefixes: string[] = [];
  let last: { keyMarker: string; versionIdMarker: string | undefined } | undefined;
  let isTruncated = false;
  // The key of the entry listed just before (a page that starts inside a key's versions starts after its latest).
  let previousKey: Buffer | undefined = start.insideKey;
  try {
    await objects.advance();
    await noncurrent.advance();
    for (;;) {
      const a = objects.head;
      const b = noncurrent.head;
      if (a === undefined && b === undefined) break;
      const fromObjects = b === undefined || (a !== undefined && Buffer.compare(a.keyBytes, b.keyBytes) <= 0);
      const entry = fromObjects ? a : b;
      assert(entry !== undefined, 'one cursor has an entry');
      if (versions.length + commonPrefixes.length === maxKeys) {
        isTruncated = true;
        break;
      }
      const group = delimiterBytes.length === 0 ? -1 : entry.keyBytes.indexOf(delimiterBytes, prefixBytes.length);
      if (group >= 0) {
        const commonPrefix = entry.keyBytes.subarray(0, group + delimiterBytes.length);
        commonPrefixes.push(commonPrefix.toString('utf8'));
        last = { keyMarker: commonPrefix.toString('utf8'), versionIdMarker: undefined };
        const objectUpper = prefixUpperBound(commonPrefix);
        const versionUpper = prefixUpperBound(escapeKeyBody(commonPrefix));
        assert(objectUpper !== undefined && versionUpper !== undefined, 'a UTF-8 common prefix has an upper bound');
        await objects.seek(objectUpper);
        await noncurrent.seek(versionUpper);
        previousKey = undefined;
        continue;
      }
      const stored = decodeJsonWithoutBufferBytes<StoredVersion>(entry.value);
      const version = isDeleteMarker(stored) ? stored : withoutLayout(stored);
      const isLatest = fromObjects || previousKey === undefined || !previousKey.equals(entry.keyBytes);
      const reported: ListedStoredVersion = { ...version, versionId: reportedVersionId(version, params.bucket) || 'null' };
      versions.push({ version: reported, isLatest });
      last = { keyMarker: entry.keyBytes.toString('utf8'), versionIdMarker: reported.versionId };
      previousKey = entry.keyBytes;
      await (fromObjects ? objects : noncurrent).advance();
    }
  } finally {
    await objects.close();
    await noncurrent.close();
  }
  return {
    versions,
    commonPrefixes,
    isTruncated,
    nextKeyMarker: isTruncated ? last?.keyMarker : undefined,
    nextVersionIdMarker: isTruncated ? last?.versionIdMarker : undefined,
  };
}

/**
 * Where each table's scan starts (positions after the bucket's table prefix). S3's marker
 * rules: a key marker alone lists keys after it (after the whole group when it falls in a common
 * prefix); with a version id marker, that key's versions older than the marker come first.
 */
async function startPositions(
  db: CatalogueDb,
  params: ListVersionsParams,
  prefixBytes: Buffer,
  delimiterBytes: Buffer,
): Promise<{ objectFrom: Buffer; versionFrom: Buffer; insideKey: Buffer | undefined }> {
  const prefixStart = { objectFrom: prefixBytes, versionFrom: escapeKeyBody(prefixBytes), insideKey: undefined };
  if (params.keyMarker === '') return prefixStart;
  const marker = Buffer.from(params.keyMarker, 'utf8');
  if (Buffer.compare(marker, prefixBytes) < 0) return prefixStart;
  const bucket = params.bucket.name;
  const versionTable = versionKeyPrefix(bucket);
  const afterKey = { objectFrom: successor(marker), versionFrom: afterAllVersions(versionKeyPrefixOf(bucket, marker).subarray(versionTable.length)), insideKey: undefined };
  if (params.versionIdMarker === '') {
    const group = markerGroup(marker, prefixBytes, delimiterBytes);
    if (group !== undefined) {
      const objectUpper = prefixUpperBound(group);
      const versionUpper = prefixUpperBound(escapeKeyBody(group));
      if (objectUpper !== undefined && versionUpper !== undefined) return { objectFrom: objectUpper, versionFrom: versionUpper, insideKey: undefined };
    }
    return afterKey;
  }
  // Right after the marker version: the key's current one (object table) or a noncurrent one.
  const current = await db.get(objectKey(bucket, marker));
  const currentRecord = current === undefined ? undefined : decodeJson<ObjectVersionRecord>(current);
  const allNoncurrent = versionKeyPrefixOf(bucket, marker).subarray(versionTable.length);
  if (currentRecord !== undefined && reportedVersionId(currentRecord, params.bucket) === params.versionIdMarker) {
    return { objectFrom: successor(marker), versionFrom: allNoncurrent, insideKey: marker };
  }
  let sequence = params.versionIdMarker === 'null' ? undefined : sequenceOfVersionId(params.versionIdMarker);
  if (params.versionIdMarker === 'null') {
    const range = { gte: versionKeyPrefixOf(bucket, marker), lt: prefixUpperBound(versionKeyPrefixOf(bucket, marker)) };
    for await (const [dbKey, value] of db.iterator(range)) {
      if (decodeJson<StoredVersion>(value).versioned !== true) {
        sequence = sequenceOfVersionKey(dbKey);
        break;
      }
    }
  } else if (sequence === undefined) {
    throw new InvalidArgumentError('Invalid version id specified');
  }
  if (sequence === undefined) return afterKey;
  return { objectFrom: successor(marker), versionFrom: successor(versionKey(bucket, marker, sequence).subarray(versionTable.length)), insideKey: marker };
}

/** The first version-table position after every version of the key whose escaped prefix this is. */
function afterAllVersions(escapedKey: Buffer): Buffer {
  return Buffer.concat([escapedKey, Buffer.alloc(8, 0xff), Buffer.from([0x00])]);
}

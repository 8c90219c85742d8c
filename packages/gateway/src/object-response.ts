/**
 * Response headers shared by GetObject, HeadObject and PutObject-like operations.
 */
import { objectLockResponseHeaders } from './object-lock';
import type { ObjectInfo, WriteCondition } from './backend';
import { checksumAlgorithms, checksumHeaderName, checksumTypeOf, unquoteEtag } from './checksums';
import type { ChecksumValues } from './checksums';
import { refuseUnsupportedCannedAcl } from './access-control';
import { objectResponseHeaders, responseOverrideParameters } from './object-headers';
import { S3Error } from './s3-errors';
import { serverSideEncryptionHeaders } from './server-side-encryption';

/** One part's checksums (x-amz-checksum-<algorithm>), for a GET or HEAD of ?partNumber. */
export function partChecksumHeaders(checksums: ChecksumValues): Record<string, string> {
  const out: Record<string, string> = {};
  for (const algorithm of checksumAlgorithms) {
    const value = checksums[algorithm];
    if (value !== undefined) out[checksumHeaderName(algorithm)] = value;
  }
  return out;
}

/** Checksums and their type (x-amz-checksum-type): a whole-object read, or the answer to a write or UploadPart. */
export function checksumResponseHeaders(checksums: ChecksumValues): Record<string, string> {
  const type = checksumTypeOf(checksums);
  return type === undefined ? {} : { ...partChecksumHeaders(checksums), 'x-amz-checksum-type': type };
}

export function objectInfoHeaders(info: ObjectInfo, query: ReadonlyMap<string, string>): Record<string, string> {
  const overrides = new Map<string, string>();
  for (const name of responseOverrideParameters) {
    const value = query.get(name);
    if (value !== undefined) overrides.set(name, value);
  }
  return {
    ...objectResponseHeaders(info.headers, overrides),
    ETag: `"${info.etag}"`,
    'Last-Modified': new Date(info.lastModifiedMs).toUTCString(),
    'Accept-Ranges': 'bytes',
    ...(info.partSizesBytes === undefined ? {} : { 'x-amz-mp-parts-count': String(info.partSizesBytes.length) }),
    ...(info.headers.tags.length === 0 ? {} : { 'x-amz-tagging-count': String(info.headers.tags.length) }),
    ...versionIdHeader(info.versionId),
    ...objectLockResponseHeaders(info.headers.objectLock),
    ...serverSideEncryptionHeaders(info.headers.serverSideEncryption),
  };
}

/** x-amz-version-id, sent whenever the bucket has (or had) versioning: "null" for the null version. */
export function versionIdHeader(versionId: string | undefined): Record<string, string> {
  return versionId === undefined ? {} : { 'x-amz-version-id': versionId };
}

/**
 * x-amz-version-id on the answer to a write that made a version (PutObject, CopyObject,
 * CompleteMultipartUpload, POST Object): the new version's id when versioning is Enabled; none
 * for the null version a Suspended bucket's write makes, as S3 answers (s3-tests
 * versioning_bucket_*_return_version_id). Reads, tagging and deletes name the null version.
 */
export function writtenVersionIdHeader(versionId: string | undefined): Record<string, string> {
  return versionId === 'null' ? {} : versionIdHeader(versionId);
}

/**
 * If-None-Match and If-Match on writes (S3 conditional writes): `*` or ETags (quoted or not,
 * comma-separated), as RFC 7232 reads them and s3-tests expects; an empty value is no condition.
 */
export function writeConditionOf(header: (name: string) => string | undefined): WriteCondition {
  const ifNoneMatch = etagListOf(header('if-none-match'));
  const ifNoneMatchAny = ifNoneMatch?.includes('*') === true;
  return {
    ifNoneMatchAny,
    ifMatchEtag: ifMatchEtagOf(header),
    ...(ifNoneMatch === undefined || ifNoneMatchAny ? {} : { ifNoneMatchEtags: ifNoneMatch.join(',') }),
  };
}

/** `If-Match` as the backend takes it (writes and conditional deletes): `*`, or the unquoted ETags comma-separated; undefined when absent or empty. */
export function ifMatchEtagOf(header: (name: string) => string | undefined): string | undefined {
  const ifMatch = etagListOf(header('if-match'));
  return ifMatch === undefined ? undefined : ifMatch.includes('*') ? '*' : ifMatch.join(',');
}

/** A conditional header's ETags unquoted (`W/` weak tags compared as strong), or undefined when absent or empty. */
function etagListOf(value: string | undefined): string[] | undefined {
  const etags = (value ?? '').split(',').map((etag) => unquoteEtag(etag.trim().replace(/^W\//, ''))).filter((etag) => etag !== '');
  return etags.length === 0 ? undefined : etags;
}

/**
 * Storage classes and canned ACLs Tessera does not offer are refused, never ignored (grant
 * headers: bucket-access.ts objectGrantsForWrite; encryption: server-side-encryption.ts).
 */
export function refuseUnsupportedWriteHeaders(header: (name: string) => string | undefined): void {
  refuseUnsupportedCannedAcl(header);
  const storageClass = header('x-amz-storage-class');
  if (storageClass !== undefined && storageClass !== 'STANDARD') {
    throw new S3Error('InvalidStorageClass', { fields: { StorageClassRequested: storageClass } });
  }
  if (header('x-amz-website-redirect-location') !== undefined) {
    throw new S3Error('NotImplemented', { message: 'Website redirects (x-amz-website-redirect-location) are not implemented by Tessera.' });
  }
  // An append (S3 takes it in directory buckets only) must not become an overwrite.
  if (header('x-amz-write-offset-bytes') !== undefined) {
    throw new S3Error('NotImplemented', { message: 'Appending to an object (x-amz-write-offset-bytes) is not implemented by Tessera.' });
  }
}

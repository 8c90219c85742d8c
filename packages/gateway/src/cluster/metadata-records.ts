/**
 * Translation between the metadata service's records (proto messages) and the S3Backend's
 * types. System headers other than Content-Type are kept in `systemMetadata` under their
 * lower-case header names; the data path's own annotations use the reserved `x-tessera-` prefix
 * and never reach clients.
 */
import type { Bucket__Output } from '@tessera/proto/generated/tessera/metadata/v1/Bucket';
import type { ObjectVersion__Output } from '@tessera/proto/generated/tessera/metadata/v1/ObjectVersion';
import type { Part__Output } from '@tessera/proto/generated/tessera/metadata/v1/Part';
import type { Stripe__Output } from '@tessera/proto/generated/tessera/metadata/v1/Stripe';
import type { Upload__Output } from '@tessera/proto/generated/tessera/metadata/v1/Upload';
import { completedUploadIdMetadataKey, corsRuleFromWire, sseAlgorithmMetadataKey } from '@tessera/rpc';
import { legalHoldMetadataKey, lifecycleRuleFromWire, lockModeMetadataKey, lockUntilMetadataKey, readStoredObjectLock, tagsMetadataKey } from '@tessera/rpc';
import type { ObjectLockSettings } from '../object-lock';
import type { BucketInfo, BucketVersioning, CompletedUpload, DefaultRetention, MultipartChecksum, MultipartUploadInfo, ObjectInfo, PartInfo } from '../backend';
import { checksumAlgorithms } from '../checksums';
import type { ChecksumAlgorithm, ChecksumType, ChecksumValues } from '../checksums';
import { storedSystemHeaders } from '../object-headers';
import type { ObjectHeaders, StoredSystemHeader } from '../object-headers';
import { aclGrantsFromWire, decodeLegacyGrants, decodeStoredAcl, encodeStoredAcl } from '../access-control';
import { objectOwnershipOf } from '../xml-requests';
import { decodeStoredTags, encodeStoredTags } from '../object-tags';
import type { Stripe } from './stripe';
import { sseAlgorithm } from '../server-side-encryption';
import type { ServerSideEncryption } from '../server-side-encryption';

/** Shard indexes whose write failed at PUT time (comma-separated): for the healer. */
export const failedShardsMetadataKey = 'x-tessera-failed-shards';
/** The object's tags (encodeStoredTags); absent when it has none. */
export { tagsMetadataKey };

/** System metadata key of an object version's ACL, when it is not the default (access-control.ts encodeStoredAcl). */
export const aclMetadataKey = 'x-tessera-acl';
/** System metadata key of the access key owning a version, when it is not the bucket's owner. */
export const ownerMetadataKey = 'x-tessera-owner';
/** System metadata key of the grants versions written before 2026-11-24 kept (read only: access-control.ts decodeLegacyGrants). */
export const legacyGrantsMetadataKey = 'x-tessera-grants';
/** The upload's x-amz-checksum-algorithm, kept with the upload record. */
export const checksumAlgorithmMetadataKey = 'x-tessera-checksum-algorithm';
/** The upload's x-amz-checksum-type (COMPOSITE or FULL_OBJECT). */
export const checksumTypeMetadataKey = 'x-tessera-checksum-type';
/** SSE-S3 (server-side-encryption.ts): the algorithm, the sealing master key's id, the sealed data key, a single-part object's counter block. */
export { sseAlgorithmMetadataKey };
export const sseMasterKeyIdMetadataKey = 'x-tessera-sse-master-key-id';
export const sseSealedKeyMetadataKey = 'x-tessera-sse-data-key';
export const sseIvMetadataKey = 'x-tessera-sse-iv';
const reservedPrefix = 'x-tessera-';

export function stripeFromRecord(record: Stripe__Output): Stripe {
  return {
    stripeId: record.stripeId,
    dataShardCount: record.dataShardCount,
    parityShardCount: record.parityShardCount,
    blockSizeBytes: record.blockSizeBytes,
    shardNodeIds: [...record.shardNodeIds],
  };
}

export function stripeToRecord(stripe: Stripe, degradedSpread: boolean): Stripe__Output {
  return { ...stripe, shardNodeIds: [...stripe.shardNodeIds], degradedSpread };
}

export function bucketInfoOf(record: Bucket__Output): BucketInfo {
  return {
    name: record.name, createdAtMs: record.createdAtMs, tags: record.tags.map(({ key, value }) => ({ key, value })),
    corsRules: record.corsRules.map(corsRuleFromWire), versioning: versioningOf(record.versioning), lifecycleRules: record.lifecycleRules.map(lifecycleRuleFromWire),
    objectLock: record.objectLockEnabled ? { defaultRetention: defaultRetentionOf(record) } : undefined,
    owner: record.owner, grants: record.grants.map(({ accessKeyId, read, write, readAcp, writeAcp }) => ({ accessKeyId, read, write, readAcp, writeAcp })),
    defaultEncryption: record.defaultEncryption === sseAlgorithm ? sseAlgorithm : undefined,
    policy: record.policy === '' ? undefined : record.policy,
    publicAccessBlock: record.publicAccessBlock === null ? undefined : { ...record.publicAccessBlock },
    objectOwnership: objectOwnershipOf(record.objectOwnership),
    ...(record.exactAcl === null ? {} : { exactAcl: aclGrantsFromWire(record.exactAcl.grants) }),
  };
}

function defaultRetentionOf(record: Bucket__Output): DefaultRetention | undefined {
  const mode = record.defaultRetentionMode;
  if (mode !== 'GOVERNANCE' && mode !== 'COMPLIANCE') return undefined;
  return { mode, ...(record.defaultRetentionDays > 0 ? { days: record.defaultRetentionDays } : {}), ...(record.defaultRetentionYears > 0 ? { years: record.defaultRetentionYears } : {}) };
}

function versioningOf(status: string): BucketVersioning {
  return status === 'Enabled' || status === 'Suspended' ? status : 'Unversioned';
}

/** Content-Type apart, the stored system headers, plus the data path's annotations. */
export function systemMetadataOf(headers: ObjectHeaders, annotations: Readonly<Record<string, string>> = {}): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of storedSystemHeaders) {
    const value = headers.system[name];
    if (name !== 'content-type' && value !== undefined) out[name] = value;
  }
  if (headers.tags.length > 0) out[tagsMetadataKey] = encodeStoredTags(headers.tags);
  if (headers.owner !== undefined) out[ownerMetadataKey] = headers.owner;
  if (headers.acl !== undefined) out[aclMetadataKey] = encodeStoredAcl(headers.acl);
  const lock = headers.objectLock;
  if (lock?.mode !== undefined) out[lockModeMetadataKey] = lock.mode;
  if (lock?.retainUntilMs !== undefined) out[lockUntilMetadataKey] = String(lock.retainUntilMs);
  if (lock?.legalHold === true) out[legalHoldMetadataKey] = 'ON';
  const encryption = headers.serverSideEncryption;
  if (encryption !== undefined) {
    // Only the encrypting backend sets this with a key; without one the bytes are plaintext and
    // must not be stored as encrypted.
    if (encryption.key === undefined) throw new Error('server-side encryption requested but no data key sealed (EncryptingBackend missing)');
    out[sseAlgorithmMetadataKey] = encryption.algorithm;
    out[sseMasterKeyIdMetadataKey] = encryption.key.masterKeyId;
    out[sseSealedKeyMetadataKey] = encryption.key.sealedKey;
    if (encryption.key.iv !== undefined) out[sseIvMetadataKey] = encryption.key.iv;
  }
  return { ...out, ...annotations };
}

/** The Object Lock settings stored with a version (the metadata service may have added its bucket's default). */
function objectLockOf(systemMetadata: Readonly<Record<string, string>>): ObjectLockSettings | undefined {
  const { retention, legalHold } = readStoredObjectLock(systemMetadata);
  if (retention === undefined && !legalHold) return undefined;
  const settings: ObjectLockSettings = retention === undefined ? {} : { mode: retention.mode, retainUntilMs: retention.untilMs };
  return legalHold ? { ...settings, legalHold: true } : settings;
}

export function headersOf(contentType: string, systemMetadata: Readonly<Record<string, string>>, userMetadata: Readonly<Record<string, string>>): ObjectHeaders {
  const system: Partial<Record<StoredSystemHeader, string>> = {};
  if (contentType !== '') system['content-type'] = contentType;
  for (const [name, value] of Object.entries(systemMetadata)) {
    if (name.startsWith(reservedPrefix)) continue;
    if ((storedSystemHeaders as readonly string[]).includes(name) && name !== 'content-type') system[name as StoredSystemHeader] = value;
  }
  const objectLock = objectLockOf(systemMetadata);
  const serverSideEncryption = serverSideEncryptionOf(systemMetadata);
  const owner = systemMetadata[ownerMetadataKey];
  const aclText = systemMetadata[aclMetadataKey];
  const legacyGrants = decodeLegacyGrants(systemMetadata[legacyGrantsMetadataKey]);
  return {
    system, user: { ...userMetadata }, tags: decodeStoredTags(systemMetadata[tagsMetadataKey]), ...(objectLock === undefined ? {} : { objectLock }),
    ...(owner === undefined ? {} : { owner }),
    ...(aclText === undefined ? {} : { acl: decodeStoredAcl(aclText) }),
    ...(legacyGrants.length === 0 ? {} : { legacyGrants }),
    ...(serverSideEncryption === undefined ? {} : { serverSideEncryption }),
  };
}

function serverSideEncryptionOf(systemMetadata: Readonly<Record<string, string>>): ServerSideEncryption | undefined {
  if (systemMetadata[sseAlgorithmMetadataKey] !== sseAlgorithm) return undefined;
  const masterKeyId = systemMetadata[sseMasterKeyIdMetadataKey];
  const sealedKey = systemMetadata[sseSealedKeyMetadataKey];
  // A version marked encrypted without its key stays marked: reading it fails, never serves ciphertext.
  if (masterKeyId === undefined || sealedKey === undefined) return { algorithm: sseAlgorithm };
  return { algorithm: sseAlgorithm, key: { masterKeyId, sealedKey, iv: systemMetadata[sseIvMetadataKey] } };
}

export function checksumValuesOf(map: Readonly<Record<string, string>>): ChecksumValues {
  const out: ChecksumValues = {};
  for (const algorithm of checksumAlgorithms) {
    const value = map[algorithm];
    if (value !== undefined) out[algorithm] = value;
  }
  return out;
}

export function checksumMapOf(values: ChecksumValues): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [algorithm, value] of Object.entries(values)) if (value !== undefined) out[algorithm] = value;
  return out;
}

export function objectInfoOf(record: ObjectVersion__Output): ObjectInfo {
  const parts = record.layout === 'multipart' ? record.multipart?.parts ?? [] : undefined;
  return {
    key: record.key,
    etag: record.etag,
    sizeBytes: record.sizeBytes,
    lastModifiedMs: record.createdAtMs,
    headers: headersOf(record.contentType, record.systemMetadata, record.userMetadata),
    checksums: checksumValuesOf(record.checksums),
    partSizesBytes: parts?.map((part) => part.sizeBytes),
    ...(parts?.some((part) => part.cipherIv !== '') === true ? { partCipherIvs: parts.map((part) => (part.cipherIv === '' ? undefined : part.cipherIv)) } : {}),
    ...(parts?.some((part) => Object.keys(part.checksums).length > 0) === true ? { partChecksums: parts.map((part) => checksumValuesOf(part.checksums)) } : {}),
    ...completedUploadOf(record, parts),
    versionId: record.versionId === '' ? undefined : record.versionId,
  };
}

/** The upload a multipart version completed (recorded by the metadata service), for retried completions. */
function completedUploadOf(record: ObjectVersion__Output, parts: ReadonlyArray<{ readonly partNumber: number; readonly etag: string }> | undefined): { completedUpload?: CompletedUpload } {
  const uploadId = record.systemMetadata[completedUploadIdMetadataKey];
  if (uploadId === undefined || parts === undefined) return {};
  return {
    completedUpload: { uploadId, parts: parts.map(({ partNumber, etag }) => ({ partNumber, etag })) },
  };
}

export function uploadInfoOf(record: Upload__Output): MultipartUploadInfo {
  const checksum = multipartChecksumOf(record.systemMetadata);
  return {
    bucket: record.bucket,
    key: record.key,
    uploadId: record.uploadId,
    initiatedAtMs: record.initiatedAtMs,
    headers: headersOf(record.contentType, record.systemMetadata, record.userMetadata),
    checksumAlgorithm: checksum?.algorithm,
    checksumType: checksum?.type,
    ...(record.owner === '' ? {} : { initiator: record.owner }),
  };
}

export function multipartChecksumAnnotations(checksum: MultipartChecksum | undefined): Record<string, string> {
  return checksum === undefined ? {} : { [checksumAlgorithmMetadataKey]: checksum.algorithm, [checksumTypeMetadataKey]: checksum.type };
}

function multipartChecksumOf(systemMetadata: Readonly<Record<string, string>>): MultipartChecksum | undefined {
  const algorithm = systemMetadata[checksumAlgorithmMetadataKey];
  const type = systemMetadata[checksumTypeMetadataKey];
  if (algorithm === undefined || !(checksumAlgorithms as readonly string[]).includes(algorithm)) return undefined;
  if (type !== 'COMPOSITE' && type !== 'FULL_OBJECT') return undefined;
  return { algorithm: algorithm as ChecksumAlgorithm, type: type as ChecksumType };
}

export function partInfoOf(record: Part__Output): PartInfo {
  return {
    partNumber: record.partNumber,
    etag: record.etag,
    sizeBytes: record.sizeBytes,
    lastModifiedMs: record.createdAtMs,
    checksums: checksumValuesOf(record.checksums),
  };
}

/**
 * The records the catalogue stores. Each is JSON in LevelDB (see README "value encoding"):
 * readable with any LevelDB tool, and the schema can grow by adding optional fields.
 */
import type { NodeState } from '@tessera/placement';
import type { CorsRule, LifecycleRule } from '@tessera/rpc';

export type VersioningStatus = 'Unversioned' | 'Enabled' | 'Suspended';

export interface BucketRecord {
  readonly name: string;
  readonly owner: string;
  readonly createdAtMs: number;
  /**
   * S3 versioning: `Unversioned` until PutBucketVersioning first sets Enabled or Suspended (it
   * never returns to Unversioned). See ObjectVersionRecord.versioned for which id a version has.
   */
  readonly versioning: VersioningStatus;
  /** S3 bucket tags in the order given; absent (records written before bucket tagging) = none. */
  readonly tags?: readonly TagRecord[];
  /** S3 CORS rules in the order given (first match wins); absent or empty = no CORS configuration. */
  readonly corsRules?: readonly CorsRuleRecord[];
  /** S3 lifecycle rules in the order given; absent or empty = no lifecycle configuration. */
  readonly lifecycleRules?: readonly LifecycleRuleRecord[];
  /** S3 Object Lock: present once enabled (never disabled); versioning then stays Enabled. */
  readonly objectLock?: ObjectLockRecord;
  /** Access keys other than the owner allowed in (tessera key allow); absent = none. */
  readonly grants?: readonly BucketGrantRecord[];
  /** S3 default encryption (PutBucketEncryption): new objects asking for none get SSE-S3; absent = none. */
  readonly defaultEncryption?: 'AES256';
  /** S3 bucket policy (PutBucketPolicy): the JSON document as given, validated by the gateway; absent = none. */
  readonly policy?: string;
  /** S3 PutPublicAccessBlock: the bucket's four public access settings; absent = none. */
  readonly publicAccessBlock?: PublicAccessBlockRecord;
  /** S3 PutBucketOwnershipControls: BucketOwnerEnforced disables ACLs; absent = none set. */
  readonly objectOwnership?: ObjectOwnership;
  /**
   * S3 PutBucketAcl's ACL exactly as stated (GetBucketAcl shows it); absent = the owner's
   * FULL_CONTROL, then each grant. Any other change to `grants` removes it.
   */
  readonly exactAcl?: readonly AclGrantRecord[];
}

/** One grant of an ACL as S3 shows it. */
export interface AclGrantRecord {
  readonly accessKeyId: string;
  readonly permission: AclPermission;
}

export const aclPermissions = ['READ', 'WRITE', 'READ_ACP', 'WRITE_ACP', 'FULL_CONTROL'] as const;
export type AclPermission = (typeof aclPermissions)[number];

export function isAclPermission(value: string): value is AclPermission {
  return (aclPermissions as readonly string[]).includes(value);
}

/** S3's object ownership settings (the gateway decides who owns each object by them). */
export type ObjectOwnership = 'BucketOwnerEnforced' | 'BucketOwnerPreferred' | 'ObjectWriter';

/** S3's public access settings of a bucket (PublicAccessBlockConfiguration). */
export interface PublicAccessBlockRecord {
  readonly blockPublicAcls: boolean;
  readonly ignorePublicAcls: boolean;
  readonly blockPublicPolicy: boolean;
  readonly restrictPublicBuckets: boolean;
}

/**
 * What one access key other than the owner may do in a bucket (at least one permission). The
 * ACL permissions are absent when false (records from before they existed have neither).
 */
export interface BucketGrantRecord {
  readonly accessKeyId: string;
  /** GET, HEAD and list objects, versions, uploads and parts. */
  readonly read: boolean;
  /** PUT, copy, tag and delete objects; multipart uploads. */
  readonly write: boolean;
  /** READ_ACP: read the bucket's ACL (GetBucketAcl). */
  readonly readAcp?: boolean;
  /** WRITE_ACP: replace the bucket's ACL (PutBucketAcl). */
  readonly writeAcp?: boolean;
}

/** A grant as stored: the ACL permissions only when they are given. */
export function bucketGrantRecord(grant: { accessKeyId: string; read: boolean; write: boolean; readAcp?: boolean | undefined; writeAcp?: boolean | undefined }): BucketGrantRecord {
  return {
    accessKeyId: grant.accessKeyId, read: grant.read, write: grant.write,
    ...(grant.readAcp === true ? { readAcp: true } : {}), ...(grant.writeAcp === true ? { writeAcp: true } : {}),
  };
}

/** Whether a grant gives anything at all. */
export function grantsAnything(grant: BucketGrantRecord): boolean {
  return grant.read || grant.write || grant.readAcp === true || grant.writeAcp === true;
}

/**
 * An S3 access key created by an operator (tessera key create). The root key is configuration
 * and never stored. The secret is kept as given: gateways need it to check signatures.
 */
/** An SSE-S3 master key: created by initEncryptionMasterKey or rotateEncryptionMasterKey, never changed or deleted. */
export interface EncryptionMasterKeyRecord {
  /** First 16 hex digits of the key's SHA-256. */
  readonly keyId: string;
  readonly keyBase64: string;
  readonly createdAtMs: number;
}

export interface AccessKeyRecord {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly name: string;
  readonly createdAtMs: number;
  /** May create buckets (and owns those it creates). */
  readonly canCreateBuckets: boolean;
}

export interface ObjectLockRecord {
  readonly enabled: true;
  /** Retention given to new versions that name none: exactly one of days and years. */
  readonly defaultRetention?: { readonly mode: 'GOVERNANCE' | 'COMPLIANCE'; readonly days?: number; readonly years?: number };
}

/** One rule of PutBucketLifecycleConfiguration, as the gateway validated it. */
export type LifecycleRuleRecord = LifecycleRule;

/** One CORSRule of PutBucketCors, as given (the gateway validates S3's rules before proposing). */
export type CorsRuleRecord = CorsRule;

export interface TagRecord {
  readonly key: string;
  readonly value: string;
}

/** Where the shards of one erasure-coded stripe live. */
export interface StripeRecord {
  /** Names the shards on storage nodes: shard `i` of this stripe is `(stripeId, i)`. */
  readonly stripeId: string;
  readonly dataShardCount: number;
  readonly parityShardCount: number;
  readonly blockSizeBytes: number;
  /** `shardNodeIds[shardIndex]`: the storage node holding that shard. */
  readonly shardNodeIds: readonly string[];
  /** Placed while an AZ (or too many nodes) was down; healing should respread it. */
  readonly degradedSpread: boolean;
}

export interface PartLayout {
  readonly partNumber: number;
  readonly sizeBytes: number;
  readonly etag: string;
  readonly stripe: StripeRecord | undefined;
  /** Small parts may be kept inline (base64 in JSON). */
  readonly inlineData: Buffer | undefined;
  /** Base64 AES-CTR initial counter block of a part the gateway encrypted; absent = not encrypted. */
  readonly cipherIv?: string;
  /**
   * In a completed object's layout: the part's checksums as uploaded (algorithm -> base64);
   * absent when it had none, and in versions completed before they were kept.
   */
  readonly checksums?: StringMap;
}

export type ObjectLayout =
  | { readonly kind: 'stripe'; readonly stripe: StripeRecord }
  | { readonly kind: 'inline'; readonly data: Buffer }
  | { readonly kind: 'multipart'; readonly parts: readonly PartLayout[] };

/** System metadata the gateway stores verbatim (Cache-Control, Content-Encoding, …). */
export type StringMap = Readonly<Record<string, string>>;

export interface ObjectVersionRecord {
  readonly bucket: string;
  readonly key: string;
  readonly versionId: string;
  readonly sizeBytes: number;
  /** Without quotes; `<md5hex>` or `<md5hex>-<partCount>` for multipart. */
  readonly etag: string;
  /** Algorithm name -> value, e.g. `{ crc32c: 'base64…' }`. */
  readonly checksums: StringMap;
  readonly contentType: string;
  readonly systemMetadata: StringMap;
  readonly userMetadata: StringMap;
  readonly storageClass: string;
  readonly createdAtMs: number;
  readonly layout: ObjectLayout;
  /**
   * True: written while the bucket's versioning was Enabled, so `versionId` is its own id.
   * Absent or false: the key's null version (S3 version id "null"), written while the bucket
   * was unversioned or suspended; at most one per key.
   */
  readonly versioned?: boolean;
  /**
   * Log index of the command that created the version: orders a key's versions (newest first)
   * and places it in the version table. Absent in records written before versioning: 0.
   */
  readonly sequence?: number;
}

/** An S3 delete marker: a version without data that hides the key while it is the latest. */
export interface DeleteMarkerRecord {
  readonly deleteMarker: true;
  readonly bucket: string;
  readonly key: string;
  readonly versionId: string;
  readonly versioned: boolean;
  readonly sequence: number;
  readonly createdAtMs: number;
}

/** What the version table (noncurrent versions and delete markers) holds. */
export type StoredVersion = ObjectVersionRecord | DeleteMarkerRecord;

/** An object version as listings carry it: everything but where its bytes are (the layout). */
export type ListedObjectVersion = Omit<ObjectVersionRecord, 'layout'>;

/** A version as ListObjectVersions carries it. */
export type ListedStoredVersion = ListedObjectVersion | DeleteMarkerRecord;

export function withoutLayout(record: ObjectVersionRecord): ListedObjectVersion {
  const { layout: _layout, ...listed } = record;
  return listed;
}

export function isDeleteMarker(version: ListedStoredVersion): version is DeleteMarkerRecord {
  return (version as Partial<DeleteMarkerRecord>).deleteMarker === true;
}

/** A write that began (shards may exist on nodes) but was neither committed nor aborted. */
export interface WriteRecord {
  readonly writeId: string;
  readonly bucket: string;
  readonly key: string;
  readonly stripe: StripeRecord;
  readonly startedAtMs: number;
}

export interface UploadRecord {
  readonly uploadId: string;
  readonly bucket: string;
  readonly key: string;
  readonly initiatedAtMs: number;
  readonly contentType: string;
  readonly systemMetadata: StringMap;
  readonly userMetadata: StringMap;
  readonly storageClass: string;
  readonly owner: string;
}

export interface PartRecord extends PartLayout {
  readonly uploadId: string;
  readonly createdAtMs: number;
  readonly checksums: StringMap;
}

export interface StorageNodeRecord {
  readonly nodeId: string;
  readonly az: string;
  /** host:port of its gRPC server. */
  readonly address: string;
  readonly capacityBytes: number;
  readonly freeBytes: number;
  /** Bytes of shards on the node (parity included); absent in records written before it was reported. */
  readonly storedBytes?: number;
  readonly lastHeartbeatAtMs: number;
  readonly state: NodeState;
  readonly stateChangedAtMs: number;
}

/**
 * Persistent work queue for background workers: `gcStripe` = shards that no committed object
 * references any more (aborted/overwritten/deleted), safe to delete; `repairStripe` = a stripe
 * that lost shards or has a degraded spread.
 */
export interface QueueItemRecord {
  readonly itemId: string;
  readonly kind: 'gcStripe' | 'repairStripe';
  readonly stripe: StripeRecord;
  readonly reason: string;
  readonly enqueuedAtMs: number;
  /** Worker holding the item (claimQueueItems); nobody else gets it before the lease expires. */
  readonly leaseOwner?: string;
  readonly leaseExpiresAtMs?: number;
}

/**
 * Which committed record holds a stripe, so a healer can change its placement in place:
 * a single-part object version, a part of a completed multipart object, or a part of an
 * upload still in progress. An object owner names the key, not the version: when the version
 * becomes noncurrent (versioned buckets) its index entries stay, and the catalogue finds the
 * version among the key's by the stripe id.
 */
export type StripeOwner =
  | { readonly kind: 'object'; readonly bucket: string; readonly key: string }
  | { readonly kind: 'objectPart'; readonly bucket: string; readonly key: string; readonly partNumber: number }
  | { readonly kind: 'uploadPart'; readonly uploadId: string; readonly partNumber: number };

/** Node → shard index entry: shard `shardIndex` of `stripeId` lives on `nodeId`. */
export interface NodeShardRecord {
  readonly nodeId: string;
  readonly stripeId: string;
  readonly shardIndex: number;
  readonly owner: StripeOwner;
  /** Bytes of object (or part) data in the stripe: fixes the shard file size. */
  readonly dataSizeBytes: number;
}

/** One shard move of a replaceShards command (compare-and-set on `fromNodeId`). */
export interface ShardChange {
  readonly shardIndex: number;
  readonly fromNodeId: string;
  readonly toNodeId: string;
}

/** Where a metadata-group member listens; lets every member reach one added at run time. */
export interface MetadataMemberRecord {
  readonly nodeId: string;
  readonly address: string;
}

/** Lifecycle expiration: delete only if the key's current version is still this one. */
export interface DeleteCondition {
  readonly createdAtMs: number;
  readonly etag: string;
}

/**
 * S3 conditional write, evaluated inside apply against the current version of the key, so
 * it is atomic with the commit. ETags are unquoted, like stored ones; a list is comma-separated
 * (etagListMatches).
 */
export interface WriteCondition {
  readonly ifNoneMatchAny: boolean;
  /** If-Match: "*" (any object) or the ETags one of which the current object must have. */
  readonly ifMatchEtag: string | undefined;
  /** If-None-Match: ETags the current object must not have (absent in commands logged before them). */
  readonly ifNoneMatchEtags?: string | undefined;
}

/** Whether an If-Match / If-None-Match value ("*", or comma-separated unquoted ETags) names `etag`. */
export function etagListMatches(list: string, etag: string): boolean {
  return list.split(',').some((candidate) => {
    const trimmed = candidate.trim();
    return trimmed === '*' || trimmed === etag;
  });
}

/** Per-bucket counters, changed in the same batch as the command that changes them. */
export interface BucketStatsRecord {
  readonly bucket: string;
  readonly objectCount: number;
  /** Sum of the logical sizes of the current objects. */
  readonly objectBytes: number;
  /** Multipart uploads created and neither completed nor aborted. */
  readonly multipartUploadCount: number;
  /** Noncurrent object versions (buckets with versioning) and their logical bytes; absent = 0. */
  readonly noncurrentVersionCount?: number;
  readonly noncurrentVersionBytes?: number;
  /** Delete markers, latest or not; absent = 0. */
  readonly deleteMarkerCount?: number;
}

/** A storage node an operator removed: its registrations and heartbeats are refused until readmitted. */
export interface RemovedNodeRecord {
  readonly nodeId: string;
  readonly removedAtMs: number;
  readonly forced: boolean;
  readonly reason: string;
}

/**
 * The seam between the S3 protocol layer and storage. The protocol layer (parsing, auth,
 * checksums, XML, conditionals, ranges) is complete without it; the erasure-coded data path and
 * the metadata service implement `S3Backend` to make it durable. Test code implements it in
 * memory (test/support/in-memory-backend.ts) to drive real S3 clients end to end.
 *
 * Contract, for every implementation:
 *  - Keys and bucket names arrive validated and decoded; keys are opaque strings (never paths).
 *  - Bodies arrive as `VerifiedBody`: iterate to the end; if iteration throws (client gone,
 *    truncated body, bad signature or checksum), keep nothing and rethrow. Only after the
 *    iteration completed may `body.summary()` be read and the version committed; the summary's
 *    md5Hex is the ETag for single-part objects and parts.
 *  - A committed write is visible atomically (all or nothing) to every later call.
 *  - Operating failures are thrown as `S3BackendError` with a reason; anything else thrown is
 *    treated as an internal error (500, logged).
 *  - Memory: bodies are streamed; an implementation never holds a whole object.
 */
import type { ChecksumAlgorithm, ChecksumType, ChecksumValues } from './checksums';
import type { ObjectHeaders } from './object-headers';
import type { AclGrant } from './access-control';
import type { CorsRule } from './cors';
import type { Tag } from './object-tags';
import type { VerifiedBody } from './request-body';
import type { LifecycleRule } from '@tessera/rpc';
import type { LockMode } from './object-lock';
import type { CustomerKey } from './server-side-encryption';

export interface BucketInfo {
  readonly name: string;
  readonly createdAtMs: number;
  /** The bucket's tag set (S3 bucket tagging) in the order given; empty when it has none. */
  readonly tags: readonly Tag[];
  /** The bucket's CORS rules in the order given; empty when it has no CORS configuration. */
  readonly corsRules: readonly CorsRule[];
  /** S3 versioning: 'Unversioned' until PutBucketVersioning first sets it; never back. */
  readonly versioning: BucketVersioning;
  /** The bucket's lifecycle rules in the order given; empty when it has no lifecycle configuration. */
  readonly lifecycleRules: readonly LifecycleRule[];
  /** S3 Object Lock: undefined unless enabled (then never disabled; versioning stays Enabled). */
  readonly objectLock: BucketObjectLock | undefined;
  /** The access key id that created the bucket (access-policy.ts). */
  readonly owner: string;
  /** What other access keys may do in it (tessera key allow). */
  readonly grants: readonly BucketGrant[];
  /** The ACL as PutBucketAcl (or CreateBucket) stated it, which GetBucketAcl shows; absent: the owner's FULL_CONTROL, then each grant. */
  readonly exactAcl?: readonly AclGrant[];
  /** S3 default encryption: new objects that ask for none get SSE-S3 (PutBucketEncryption). */
  readonly defaultEncryption: 'AES256' | undefined;
  /** The bucket policy's JSON document as the owner gave it (bucket-policy.ts); undefined when none. */
  readonly policy: string | undefined;
  /** S3 PutPublicAccessBlock settings; undefined when none were put. */
  readonly publicAccessBlock: PublicAccessBlock | undefined;
  /** S3 PutBucketOwnershipControls: who owns new objects, and BucketOwnerEnforced disables ACLs; undefined when none set. */
  readonly objectOwnership: ObjectOwnership | undefined;
}

/** S3's object ownership settings (access-control.ts objectOwnerOfWrite); none set behaves as ObjectWriter. */
export type ObjectOwnership = 'BucketOwnerEnforced' | 'BucketOwnerPreferred' | 'ObjectWriter';

/** S3's four public access settings of a bucket (PublicAccessBlockConfiguration). */
export interface PublicAccessBlock {
  readonly blockPublicAcls: boolean;
  readonly ignorePublicAcls: boolean;
  /** PutBucketPolicy refuses a public policy (AccessDenied). */
  readonly blockPublicPolicy: boolean;
  /** A public policy's Allow admits no key but the owner. */
  readonly restrictPublicBuckets: boolean;
}

/** One access key's rights in a bucket it does not own (S3 ACL permissions; all four are FULL_CONTROL). */
/** How DeleteObject deletes: bypassing GOVERNANCE retention, and only if the object has an ETag. */
export interface DeleteOptions {
  readonly bypassGovernance?: boolean;
  readonly ifMatchEtag?: string;
}

export interface BucketGrant {
  readonly accessKeyId: string;
  /** READ: GET, HEAD and listings. */
  readonly read: boolean;
  /** WRITE: PUT, copy, tag and delete objects, multipart uploads. */
  readonly write: boolean;
  /** READ_ACP: GetBucketAcl. */
  readonly readAcp: boolean;
  /** WRITE_ACP: PutBucketAcl. */
  readonly writeAcp: boolean;
}

export interface BucketObjectLock {
  /** Given to new versions that name no retention: exactly one of days and years. */
  readonly defaultRetention: DefaultRetention | undefined;
}

export interface DefaultRetention {
  readonly mode: LockMode;
  readonly days?: number;
  readonly years?: number;
}

/** PutObjectRetention / PutObjectLegalHold: `retention` null removes it, absent keeps it. */
export interface ObjectLockChange {
  readonly retention?: { readonly mode: LockMode; readonly retainUntilMs: number } | null;
  readonly legalHold?: boolean;
  readonly bypassGovernance: boolean;
}

export type BucketVersioning = 'Unversioned' | 'Enabled' | 'Suspended';

export interface ObjectInfo {
  readonly key: string;
  /** Unquoted: hex MD5, or "<hex>-<part count>" for multipart objects. */
  readonly etag: string;
  readonly sizeBytes: number;
  readonly lastModifiedMs: number;
  readonly headers: ObjectHeaders;
  /** Full-object checksums as returned with x-amz-checksum-mode: ENABLED. */
  readonly checksums: ChecksumValues;
  /** For multipart objects: size of each part in order, so GET ?partNumber=N can be served. */
  readonly partSizesBytes: readonly number[] | undefined;
  /** For encrypted multipart objects: each part's base64 initial counter block, in part order. */
  readonly partCipherIvs?: readonly (string | undefined)[];
  /**
   * For multipart objects whose parts were uploaded with checksums: each part's, in part order
   * (GetObjectAttributes ObjectParts, GET/HEAD ?partNumber with x-amz-checksum-mode).
   */
  readonly partChecksums?: readonly ChecksumValues[];
  /**
   * For a version CompleteMultipartUpload made: the upload, its parts (number and unquoted ETag,
   * in order), so a retried completion of the same parts gets the same answer.
   */
  readonly completedUpload?: CompletedUpload;
  /**
   * S3's x-amz-version-id: the version's id, "null" for the null version of a bucket with
   * versioning; undefined in a bucket that never had versioning (no header is sent).
   */
  readonly versionId: string | undefined;
}

export interface CompletedUpload {
  readonly uploadId: string;
  readonly parts: readonly { readonly partNumber: number; readonly etag: string }[];
}

/** What DeleteObject did, for its x-amz-version-id and x-amz-delete-marker headers. */
export interface DeleteObjectResult {
  /** The delete marker created, or the version deleted; undefined in a bucket never versioned. */
  readonly versionId: string | undefined;
  /** A delete marker was created, or the version deleted was one. */
  readonly deleteMarker: boolean;
}

export interface ListVersionsRequest {
  readonly bucket: string;
  readonly prefix: string;
  readonly delimiter: string | undefined;
  readonly keyMarker: string | undefined;
  readonly versionIdMarker: string | undefined;
  readonly maxKeys: number;
}

export type VersionListEntry =
  | { readonly kind: 'version'; readonly object: ObjectInfo; readonly isLatest: boolean }
  | { readonly kind: 'deleteMarker'; readonly key: string; readonly versionId: string; readonly lastModifiedMs: number; readonly isLatest: boolean }
  | { readonly kind: 'prefix'; readonly prefix: string };

export interface ListVersionsPage {
  /** In key order, each key's versions newest first; common prefixes among them. */
  readonly entries: readonly VersionListEntry[];
  readonly isTruncated: boolean;
  readonly nextKeyMarker: string | undefined;
  readonly nextVersionIdMarker: string | undefined;
}

/** A pinned version of an object: reads return that version's bytes even if it is replaced. */
/**
 * SSE-C on reads (encrypting-backend.ts): the key the request presents. HeadObject checks it
 * only when given these options (GetObject, HeadObject, GetObjectAttributes do; tagging, ACL and
 * Object Lock reads do not need the key); OpenObject always checks it.
 */
export interface ObjectReadOptions {
  readonly customerKey: CustomerKey | undefined;
}

export interface UploadPartOptions {
  /** The part is encrypted (the body is ciphertext) from this base64 counter block; stored with the part. */
  readonly cipherIv?: string;
  /** SSE-C: the key this UploadPart request presents (the upload's own, or refused). */
  readonly customerKey?: CustomerKey;
}

export interface ObjectReader {
  readonly info: ObjectInfo;
  /** Streams bytes [startByte, endByteInclusive]; never yields bytes that failed a checksum. */
  read(startByte: number, endByteInclusive: number): AsyncIterable<Uint8Array>;
}

/**
 * Conditional writes, checked atomically at commit against the current object (a delete marker
 * is none): If-None-Match: * or ETags, If-Match: * or ETags. ETags unquoted; a list is
 * comma-separated.
 */
export interface WriteCondition {
  readonly ifNoneMatchAny: boolean;
  /** "*" (an object must exist) or the ETags one of which the current object must have. */
  readonly ifMatchEtag: string | undefined;
  /** ETags the current object must not have. */
  readonly ifNoneMatchEtags?: string | undefined;
}

export interface PutObjectRequest {
  readonly bucket: string;
  readonly key: string;
  readonly headers: ObjectHeaders;
  readonly body: VerifiedBody;
  readonly condition: WriteCondition;
}

export interface ListObjectsRequest {
  readonly bucket: string;
  readonly prefix: string;
  readonly delimiter: string | undefined;
  /** Exclusive: only keys (and common prefixes) after this. */
  readonly startAfter: string | undefined;
  /**
   * A common prefix returned on an earlier page: none of its keys may appear again (they were
   * rolled up into it). Distinct from startAfter because a key may itself end with the delimiter.
   */
  readonly skipPrefix: string | undefined;
  readonly maxKeys: number;
}

export type ListEntry = { readonly kind: 'object'; readonly object: ObjectInfo } | { readonly kind: 'prefix'; readonly prefix: string };

export interface ListObjectsPage {
  /** In key order; objects and common prefixes together count against maxKeys. */
  readonly entries: readonly ListEntry[];
  readonly isTruncated: boolean;
}

export interface MultipartUploadInfo {
  readonly bucket: string;
  readonly key: string;
  readonly uploadId: string;
  readonly initiatedAtMs: number;
  readonly headers: ObjectHeaders;
  readonly checksumAlgorithm: ChecksumAlgorithm | undefined;
  /**
   * The type given at creation; store and return it. When absent, the gateway assumes S3's
   * default for the algorithm (FULL_OBJECT for CRC64NVME, COMPOSITE otherwise).
   */
  readonly checksumType?: ChecksumType | undefined;
  /** The access key that created the upload (ListMultipartUploads / ListParts Initiator); undefined if not recorded. */
  readonly initiator?: string;
}

export interface MultipartChecksum {
  readonly algorithm: ChecksumAlgorithm;
  readonly type: ChecksumType;
}

export interface PartInfo {
  readonly partNumber: number;
  /** Unquoted hex MD5 of the part. */
  readonly etag: string;
  readonly sizeBytes: number;
  readonly lastModifiedMs: number;
  readonly checksums: ChecksumValues;
}

export interface ListPartsPage {
  readonly upload: MultipartUploadInfo;
  readonly parts: readonly PartInfo[];
  readonly isTruncated: boolean;
}

export interface ListUploadsRequest {
  readonly bucket: string;
  readonly prefix: string;
  readonly delimiter: string | undefined;
  readonly keyMarker: string | undefined;
  readonly uploadIdMarker: string | undefined;
  readonly maxUploads: number;
  /** As in ListObjectsRequest: a common prefix returned on an earlier page. */
  readonly skipPrefix: string | undefined;
}

export type UploadListEntry = { readonly kind: 'upload'; readonly upload: MultipartUploadInfo } | { readonly kind: 'prefix'; readonly prefix: string };

export interface ListUploadsPage {
  readonly entries: readonly UploadListEntry[];
  readonly isTruncated: boolean;
}

/** The parts chosen by CompleteMultipartUpload, validated by the gateway, in part order. */
export interface CompletedPartSelection {
  readonly partNumber: number;
  readonly etag: string;
}

export interface CompleteMultipartRequest {
  readonly bucket: string;
  readonly key: string;
  readonly uploadId: string;
  readonly parts: readonly CompletedPartSelection[];
  /** The multipart ETag computed by the gateway from the selected parts. */
  readonly etag: string;
  readonly checksums: ChecksumValues;
  readonly condition: WriteCondition;
}

export interface S3Backend {
  /** Ready to serve (metadata quorum reachable, enough storage nodes): /health/ready. */
  isReady(): Promise<boolean>;

  listBuckets(): Promise<readonly BucketInfo[]>;
  /**
   * `owner`: the creating access key id. Throws BucketAlreadyOwnedByYou when that owner has it,
   * BucketAlreadyExists when another does. `objectLockEnabled`: Object Lock on, versioning Enabled.
   */
  createBucket(name: string, owner: string, options?: { readonly objectLockEnabled?: boolean }): Promise<void>;
  /** Throws NoSuchBucket, or BucketNotEmpty when objects or uploads remain. */
  deleteBucket(name: string): Promise<void>;
  /** Throws NoSuchBucket. */
  headBucket(name: string): Promise<BucketInfo>;
  /**
   * PutBucketAcl: the bucket's grants become exactly `grants` (empty: none), and its ACL as
   * GetBucketAcl shows it `exactAcl` (undefined: derived from the grants). Throws NoSuchBucket,
   * or InvalidArgument when a grant names no access key.
   */
  setBucketGrants(name: string, grants: readonly BucketGrant[], exactAcl?: readonly AclGrant[]): Promise<void>;
  /** Replaces the bucket's tag set; an empty list removes it. Tags are validated by the gateway. Throws NoSuchBucket. */
  setBucketTags(name: string, tags: readonly Tag[]): Promise<void>;
  /** Replaces the bucket's CORS rules; an empty list removes them. Rules are validated by the gateway. Throws NoSuchBucket. */
  setBucketCors(name: string, rules: readonly CorsRule[]): Promise<void>;
  /** Replaces the bucket's lifecycle rules (validated by the gateway); an empty list removes them. Throws NoSuchBucket. */
  setBucketLifecycle(name: string, rules: readonly LifecycleRule[]): Promise<void>;
  /** PutObjectLockConfiguration (versioning must be Enabled: InvalidBucketState). Throws NoSuchBucket. */
  setBucketObjectLock(name: string, defaultRetention: DefaultRetention | undefined): Promise<void>;
  /**
   * PutObjectRetention / PutObjectLegalHold on the current (or named) version; S3's rules are
   * enforced atomically (AccessDenied when a retention would be weakened). Throws as headObject,
   * InvalidRequest when the bucket has no Object Lock.
   */
  setObjectLock(bucket: string, key: string, versionId: string | undefined, change: ObjectLockChange): Promise<ObjectInfo>;
  /** PutBucketEncryption ('AES256') and DeleteBucketEncryption (undefined). Throws NoSuchBucket. */
  setBucketEncryption(name: string, algorithm: 'AES256' | undefined): Promise<void>;
  /** PutBucketPolicy (a document the caller validated) and DeleteBucketPolicy (undefined). Throws NoSuchBucket. */
  setBucketPolicy(name: string, policy: string | undefined): Promise<void>;
  /** PutPublicAccessBlock and DeletePublicAccessBlock (undefined). Throws NoSuchBucket. */
  setBucketPublicAccessBlock(name: string, configuration: PublicAccessBlock | undefined): Promise<void>;
  /** PutBucketOwnershipControls and DeleteBucketOwnershipControls (undefined). Throws NoSuchBucket. */
  setBucketOwnershipControls(name: string, objectOwnership: ObjectOwnership | undefined): Promise<void>;
  /** S3 PutBucketVersioning. Throws NoSuchBucket. */
  setBucketVersioning(name: string, status: 'Enabled' | 'Suspended'): Promise<void>;

  /** Streams the body to storage, then commits atomically. Throws NoSuchBucket, PreconditionFailed. */
  putObject(request: PutObjectRequest): Promise<ObjectInfo>;
  /**
   * The current version, or the one `versionId` names ("null": the null version). Throws
   * NoSuchBucket, NoSuchKey (with delete-marker headers when the latest version is one),
   * NoSuchVersion, MethodNotAllowed (the named version is a delete marker).
   */
  headObject(bucket: string, key: string, versionId?: string, options?: ObjectReadOptions): Promise<ObjectInfo>;
  /** Pins that version for reading; throws as headObject. */
  openObject(bucket: string, key: string, versionId?: string, options?: ObjectReadOptions): Promise<ObjectReader>;
  /**
   * Without a version id: deletes the key's latest version (a delete marker in a bucket with
   * versioning); idempotent. With one: deletes that version for good. Throws NoSuchBucket.
   * `ifMatchEtag` (S3 If-Match, unquoted; "*" any object): checked atomically against the version
   * the delete removes; PreconditionFailed on another ETag, NoSuchKey when there is no object.
   */
  deleteObject(bucket: string, key: string, versionId?: string, options?: DeleteOptions): Promise<DeleteObjectResult>;
  /**
   * Replaces the tag set of the current (or named) version; an empty list removes them. Its data,
   * ETag and Last-Modified stay. Tags are validated by the gateway. Throws as headObject.
   */
  setObjectTags(bucket: string, key: string, tags: readonly Tag[], versionId?: string): Promise<ObjectInfo>;
  /**
   * Replaces the ACL of the current (or named) version (PutObjectAcl): exactly `acl`, or
   * (undefined) the default, its owner's FULL_CONTROL. Its owner, data, ETag and Last-Modified
   * stay. Throws as headObject.
   */
  setObjectAcl(bucket: string, key: string, acl: readonly AclGrant[] | undefined, versionId?: string): Promise<ObjectInfo>;
  listObjects(request: ListObjectsRequest): Promise<ListObjectsPage>;
  /** Every version and delete marker (S3 ListObjectVersions). Throws NoSuchBucket. */
  listObjectVersions(request: ListVersionsRequest): Promise<ListVersionsPage>;

  /**
   * `checksum`: the algorithm and type every part and the object get (validated by the gateway),
   * if any. `initiator`: the access key id creating it, returned as the upload's initiator.
   */
  createMultipartUpload(bucket: string, key: string, headers: ObjectHeaders, checksum: MultipartChecksum | undefined, initiator: string): Promise<MultipartUploadInfo>;
  /**
   * Replaces an earlier part with the same number. Throws NoSuchUpload.
   */
  uploadPart(bucket: string, key: string, uploadId: string, partNumber: number, body: VerifiedBody, options?: UploadPartOptions): Promise<PartInfo>;
  /** Throws NoSuchUpload. The gateway validates sizes and order from this list. */
  listParts(bucket: string, key: string, uploadId: string, partNumberMarker: number, maxParts: number): Promise<ListPartsPage>;
  /** Atomically makes the object from the selected parts and discards the others. Throws NoSuchUpload, InvalidPart. */
  completeMultipartUpload(request: CompleteMultipartRequest): Promise<ObjectInfo>;
  /** Throws NoSuchUpload. */
  abortMultipartUpload(bucket: string, key: string, uploadId: string): Promise<void>;
  listMultipartUploads(request: ListUploadsRequest): Promise<ListUploadsPage>;
}

/** Why a backend call failed, in storage terms; mapped to S3 codes in one place (backend-errors.ts). */
export type S3BackendErrorReason =
  | 'NoSuchBucket'
  | 'NoSuchKey'
  | 'NoSuchUpload'
  | 'BucketAlreadyOwnedByYou'
  | 'BucketAlreadyExists'
  | 'BucketNotEmpty'
  | 'InvalidPart'
  | 'PreconditionFailed'
  /** Too few storage nodes answered to meet the write or read quorum. */
  | 'QuorumUnavailable'
  /** The backend sheds load (queues full). */
  | 'Overloaded';

export class S3BackendError extends Error {
  static readonly errorName = 'S3BackendError';
  /** What the client is told instead of the catalogue message (never internal detail such as node names). */
  readonly clientMessage: string | undefined;
  constructor(
    readonly reason: S3BackendErrorReason,
    message: string = reason,
    options?: { cause?: unknown; clientMessage?: string },
  ) {
    super(message, options);
    this.name = S3BackendError.errorName;
    this.clientMessage = options?.clientMessage;
  }
}

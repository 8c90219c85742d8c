import * as grpc from '@grpc/grpc-js';
import { TesseraError, registerRpcError } from './errors';

/**
 * Every error the metadata service returns on purpose. Each class is registered with the
 * gRPC error mapping at module load, so a client gets the same class back (`instanceof` works
 * across the wire). The gateway maps these to S3 error codes in one place (s3-errors.ts); the
 * `s3Code` below is the suggested mapping, not a promise about HTTP.
 */
export abstract class MetadataError extends TesseraError {
  /** The S3 error code this most naturally becomes at the gateway. */
  abstract readonly s3Code: string;
}

type Fields = Record<string, string>;

function define<T extends MetadataError>(
  name: string,
  make: (message: string, fields: Fields) => T,
): void {
  registerRpcError(name, make);
}

export class NoSuchBucketError extends MetadataError {
  static readonly errorName = 'NoSuchBucketError';
  readonly grpcCode = grpc.status.NOT_FOUND;
  readonly s3Code = 'NoSuchBucket';
  constructor(readonly bucket: string, message = `no such bucket: ${bucket}`) {
    super(message);
    this.name = NoSuchBucketError.errorName;
  }
  override fields(): Fields {
    return { bucket: this.bucket };
  }
}
define(NoSuchBucketError.errorName, (m, f) => new NoSuchBucketError(f['bucket'] ?? '', m));

export class BucketNotEmptyError extends MetadataError {
  static readonly errorName = 'BucketNotEmptyError';
  readonly grpcCode = grpc.status.FAILED_PRECONDITION;
  readonly s3Code = 'BucketNotEmpty';
  constructor(readonly bucket: string, message = `bucket is not empty: ${bucket}`) {
    super(message);
    this.name = BucketNotEmptyError.errorName;
  }
  override fields(): Fields {
    return { bucket: this.bucket };
  }
}
define(BucketNotEmptyError.errorName, (m, f) => new BucketNotEmptyError(f['bucket'] ?? '', m));

export class BucketAlreadyExistsError extends MetadataError {
  static readonly errorName = 'BucketAlreadyExistsError';
  readonly grpcCode = grpc.status.ALREADY_EXISTS;
  readonly s3Code: string;
  /** S3 distinguishes "someone else has it" from "you already own it". */
  constructor(readonly bucket: string, readonly ownedByYou: boolean, message = `bucket already exists: ${bucket}`) {
    super(message);
    this.name = BucketAlreadyExistsError.errorName;
    this.s3Code = ownedByYou ? 'BucketAlreadyOwnedByYou' : 'BucketAlreadyExists';
  }
  override fields(): Fields {
    return { bucket: this.bucket, ownedByYou: String(this.ownedByYou) };
  }
}
define(BucketAlreadyExistsError.errorName, (m, f) => new BucketAlreadyExistsError(f['bucket'] ?? '', f['ownedByYou'] === 'true', m));

export class InvalidBucketNameError extends MetadataError {
  static readonly errorName = 'InvalidBucketNameError';
  readonly grpcCode = grpc.status.INVALID_ARGUMENT;
  readonly s3Code = 'InvalidBucketName';
  constructor(readonly bucket: string, readonly reason: string, message = `invalid bucket name ${JSON.stringify(bucket)}: ${reason}`) {
    super(message);
    this.name = InvalidBucketNameError.errorName;
  }
  override fields(): Fields {
    return { bucket: this.bucket, reason: this.reason };
  }
}
define(InvalidBucketNameError.errorName, (m, f) => new InvalidBucketNameError(f['bucket'] ?? '', f['reason'] ?? '', m));

export class KeyTooLongError extends MetadataError {
  static readonly errorName = 'KeyTooLongError';
  readonly grpcCode = grpc.status.INVALID_ARGUMENT;
  readonly s3Code = 'KeyTooLongError';
  constructor(readonly keyLengthBytes: number, message = `object key is ${keyLengthBytes} bytes; at most 1024 allowed`) {
    super(message);
    this.name = KeyTooLongError.errorName;
  }
  override fields(): Fields {
    return { keyLengthBytes: String(this.keyLengthBytes) };
  }
}
define(KeyTooLongError.errorName, (m, f) => new KeyTooLongError(Number(f['keyLengthBytes'] ?? 0), m));

/** A request that is malformed in a way no more specific error covers. */
export class InvalidArgumentError extends MetadataError {
  static readonly errorName = 'InvalidArgumentError';
  readonly grpcCode = grpc.status.INVALID_ARGUMENT;
  readonly s3Code = 'InvalidArgument';
  constructor(message: string) {
    super(message);
    this.name = InvalidArgumentError.errorName;
  }
}
define(InvalidArgumentError.errorName, (m) => new InvalidArgumentError(m));

export class NoSuchKeyError extends MetadataError {
  static readonly errorName = 'NoSuchKeyError';
  readonly grpcCode = grpc.status.NOT_FOUND;
  readonly s3Code = 'NoSuchKey';
  /**
   * `deleteMarkerVersionId`: the key's latest version is a delete marker with this S3 version id
   * ("null" for the null version); S3 answers such a GET with x-amz-delete-marker: true.
   */
  constructor(readonly bucket: string, readonly key: string, message = `no such key: ${bucket}/${key}`, readonly deleteMarkerVersionId?: string) {
    super(message);
    this.name = NoSuchKeyError.errorName;
  }
  override fields(): Fields {
    return { bucket: this.bucket, key: this.key, ...(this.deleteMarkerVersionId === undefined ? {} : { deleteMarkerVersionId: this.deleteMarkerVersionId }) };
  }
}
define(NoSuchKeyError.errorName, (m, f) => new NoSuchKeyError(f['bucket'] ?? '', f['key'] ?? '', m, f['deleteMarkerVersionId']));

/** A read or update named a version that is a delete marker (S3: 405 MethodNotAllowed). */
export class VersionIsDeleteMarkerError extends MetadataError {
  static readonly errorName = 'VersionIsDeleteMarkerError';
  readonly grpcCode = grpc.status.FAILED_PRECONDITION;
  readonly s3Code = 'MethodNotAllowed';
  constructor(readonly versionId: string, message = `version ${versionId} is a delete marker`) {
    super(message);
    this.name = VersionIsDeleteMarkerError.errorName;
  }
  override fields(): Fields {
    return { versionId: this.versionId };
  }
}
define(VersionIsDeleteMarkerError.errorName, (m, f) => new VersionIsDeleteMarkerError(f['versionId'] ?? '', m));

export class NoSuchVersionError extends MetadataError {
  static readonly errorName = 'NoSuchVersionError';
  readonly grpcCode = grpc.status.NOT_FOUND;
  readonly s3Code = 'NoSuchVersion';
  constructor(readonly versionId: string, message = `no such version: ${versionId}`) {
    super(message);
    this.name = NoSuchVersionError.errorName;
  }
  override fields(): Fields {
    return { versionId: this.versionId };
  }
}
define(NoSuchVersionError.errorName, (m, f) => new NoSuchVersionError(f['versionId'] ?? '', m));

export class NoSuchUploadError extends MetadataError {
  static readonly errorName = 'NoSuchUploadError';
  readonly grpcCode = grpc.status.NOT_FOUND;
  readonly s3Code = 'NoSuchUpload';
  constructor(readonly uploadId: string, message = `no such upload: ${uploadId}`) {
    super(message);
    this.name = NoSuchUploadError.errorName;
  }
  override fields(): Fields {
    return { uploadId: this.uploadId };
  }
}
define(NoSuchUploadError.errorName, (m, f) => new NoSuchUploadError(f['uploadId'] ?? '', m));

/** Commit or abort of a write id that was never begun, or was already committed/aborted. */
export class NoSuchWriteError extends MetadataError {
  static readonly errorName = 'NoSuchWriteError';
  readonly grpcCode = grpc.status.NOT_FOUND;
  readonly s3Code = 'InternalError';
  constructor(readonly writeId: string, message = `no such in-progress write: ${writeId}`) {
    super(message);
    this.name = NoSuchWriteError.errorName;
  }
  override fields(): Fields {
    return { writeId: this.writeId };
  }
}
define(NoSuchWriteError.errorName, (m, f) => new NoSuchWriteError(f['writeId'] ?? '', m));

export class InvalidPartError extends MetadataError {
  static readonly errorName = 'InvalidPartError';
  readonly grpcCode = grpc.status.INVALID_ARGUMENT;
  readonly s3Code = 'InvalidPart';
  constructor(readonly partNumber: number, message = `part ${partNumber} was not uploaded or its ETag does not match`) {
    super(message);
    this.name = InvalidPartError.errorName;
  }
  override fields(): Fields {
    return { partNumber: String(this.partNumber) };
  }
}
define(InvalidPartError.errorName, (m, f) => new InvalidPartError(Number(f['partNumber'] ?? 0), m));

export class InvalidPartOrderError extends MetadataError {
  static readonly errorName = 'InvalidPartOrderError';
  readonly grpcCode = grpc.status.INVALID_ARGUMENT;
  readonly s3Code = 'InvalidPartOrder';
  constructor(message = 'the list of parts was not in ascending part-number order') {
    super(message);
    this.name = InvalidPartOrderError.errorName;
  }
}
define(InvalidPartOrderError.errorName, (m) => new InvalidPartOrderError(m));

export class EntityTooSmallError extends MetadataError {
  static readonly errorName = 'EntityTooSmallError';
  readonly grpcCode = grpc.status.INVALID_ARGUMENT;
  readonly s3Code = 'EntityTooSmall';
  constructor(readonly partNumber: number, message = `part ${partNumber} is smaller than the minimum part size`) {
    super(message);
    this.name = EntityTooSmallError.errorName;
  }
  override fields(): Fields {
    return { partNumber: String(this.partNumber) };
  }
}
define(EntityTooSmallError.errorName, (m, f) => new EntityTooSmallError(Number(f['partNumber'] ?? 0), m));

/** A commit whose stripe does not name a known storage node for every shard index. */
export class ShardsNotPlacedError extends MetadataError {
  static readonly errorName = 'ShardsNotPlacedError';
  readonly grpcCode = grpc.status.FAILED_PRECONDITION;
  readonly s3Code = 'InternalError';
  constructor(message: string) {
    super(message);
    this.name = ShardsNotPlacedError.errorName;
  }
}
define(ShardsNotPlacedError.errorName, (m) => new ShardsNotPlacedError(m));

/** GetObject of a server-side-encrypted version by a caller that did not say it decrypts. */
export class EncryptedObjectError extends MetadataError {
  static readonly errorName = 'EncryptedObjectError';
  readonly grpcCode = grpc.status.FAILED_PRECONDITION;
  readonly s3Code = 'InternalError';
  constructor(message: string) {
    super(message);
    this.name = EncryptedObjectError.errorName;
  }
}
define(EncryptedObjectError.errorName, (m) => new EncryptedObjectError(m));

/** GetEncryptionMasterKey of a key id the cluster never had. */
export class NoSuchEncryptionKeyError extends MetadataError {
  static readonly errorName = 'NoSuchEncryptionKeyError';
  readonly grpcCode = grpc.status.NOT_FOUND;
  readonly s3Code = 'InternalError';
  constructor(readonly keyId: string, message = `no encryption master key ${keyId}`) {
    super(message);
    this.name = NoSuchEncryptionKeyError.errorName;
  }
  override fields(): Fields {
    return { keyId: this.keyId };
  }
}
define(NoSuchEncryptionKeyError.errorName, (m, f) => new NoSuchEncryptionKeyError(f['keyId'] ?? '', m));

/** Not enough live storage nodes to place a stripe with full redundancy. */
export class InsufficientStorageNodesError extends MetadataError {
  static readonly errorName = 'InsufficientStorageNodesError';
  readonly grpcCode = grpc.status.UNAVAILABLE;
  readonly s3Code = 'ServiceUnavailable';
  constructor(message: string) {
    super(message);
    this.name = InsufficientStorageNodesError.errorName;
  }
}
define(InsufficientStorageNodesError.errorName, (m) => new InsufficientStorageNodesError(m));

export class NoSuchStorageNodeError extends MetadataError {
  static readonly errorName = 'NoSuchStorageNodeError';
  readonly grpcCode = grpc.status.NOT_FOUND;
  readonly s3Code = 'InternalError';
  constructor(readonly nodeId: string, message = `no such storage node: ${nodeId}`) {
    super(message);
    this.name = NoSuchStorageNodeError.errorName;
  }
  override fields(): Fields {
    return { nodeId: this.nodeId };
  }
}
define(NoSuchStorageNodeError.errorName, (m, f) => new NoSuchStorageNodeError(f['nodeId'] ?? '', m));

/**
 * This metadata node is not the leader (or lost leadership before the request committed).
 * `leaderHint` is the address of the leader it believes in, if any; MetadataClient follows it.
 */
export class NotLeaderError extends MetadataError {
  static readonly errorName = 'NotLeaderError';
  readonly grpcCode = grpc.status.FAILED_PRECONDITION;
  readonly s3Code = 'ServiceUnavailable';
  constructor(readonly leaderHint: string | undefined, message = `not the leader; leader hint: ${leaderHint ?? 'unknown'}`) {
    super(message);
    this.name = NotLeaderError.errorName;
  }
  override fields(): Fields {
    return this.leaderHint === undefined ? {} : { leaderHint: this.leaderHint };
  }
}
define(NotLeaderError.errorName, (m, f) => new NotLeaderError(f['leaderHint'], m));

/** The proposal did not commit in time (no quorum, or a leader change dropped it). Retryable. */
export class ProposalTimeoutError extends MetadataError {
  static readonly errorName = 'ProposalTimeoutError';
  readonly grpcCode = grpc.status.UNAVAILABLE;
  readonly s3Code = 'ServiceUnavailable';
  constructor(message = 'the metadata group did not commit the request in time') {
    super(message);
    this.name = ProposalTimeoutError.errorName;
  }
}
define(ProposalTimeoutError.errorName, (m) => new ProposalTimeoutError(m));

/** The metadata node's bounded request queue is full; retry later (backpressure). */
export class MetadataOverloadedError extends MetadataError {
  static readonly errorName = 'MetadataOverloadedError';
  readonly grpcCode = grpc.status.RESOURCE_EXHAUSTED;
  readonly s3Code = 'SlowDown';
  constructor(message = 'metadata node overloaded') {
    super(message);
    this.name = MetadataOverloadedError.errorName;
  }
}
define(MetadataOverloadedError.errorName, (m) => new MetadataOverloadedError(m));

/**
 * An S3 conditional write (If-None-Match: * or If-Match) whose condition did not hold against
 * the current version at the moment of commit. Evaluated inside the state machine's apply, so
 * of concurrent create-only writes of one key exactly one succeeds.
 */
export class PreconditionFailedError extends MetadataError {
  static readonly errorName = 'PreconditionFailedError';
  readonly grpcCode = grpc.status.FAILED_PRECONDITION;
  readonly s3Code = 'PreconditionFailed';
  constructor(readonly bucket: string, readonly key: string, message = `precondition failed for ${bucket}/${key}`) {
    super(message);
    this.name = PreconditionFailedError.errorName;
  }
  override fields(): Fields {
    return { bucket: this.bucket, key: this.key };
  }
}
define(PreconditionFailedError.errorName, (m, f) => new PreconditionFailedError(f['bucket'] ?? '', f['key'] ?? '', m));

/** RemoveNode without force on a node the catalogue still places shards on. */
export class StorageNodeNotEmptyError extends MetadataError {
  static readonly errorName = 'StorageNodeNotEmptyError';
  readonly grpcCode = grpc.status.FAILED_PRECONDITION;
  readonly s3Code = 'InternalError';
  constructor(
    readonly nodeId: string,
    readonly shardCount: number,
    message = `node ${nodeId} still holds ${shardCount} shards; drain it first (tessera node drain ${nodeId}) and wait for the healer`,
  ) {
    super(message);
    this.name = StorageNodeNotEmptyError.errorName;
  }
  override fields(): Fields {
    return { nodeId: this.nodeId, shardCount: String(this.shardCount) };
  }
}
define(StorageNodeNotEmptyError.errorName, (m, f) => new StorageNodeNotEmptyError(f['nodeId'] ?? '', Number(f['shardCount'] ?? 0), m));

/**
 * RegisterNode or Heartbeat from a storage node an operator removed: it is not re-added by
 * itself (a node that comes back with a stale disk must not silently rejoin placement).
 */
export class StorageNodeRemovedError extends MetadataError {
  static readonly errorName = 'StorageNodeRemovedError';
  readonly grpcCode = grpc.status.FAILED_PRECONDITION;
  readonly s3Code = 'InternalError';
  constructor(
    readonly nodeId: string,
    message = `storage node ${nodeId} was removed from the cluster (tessera node remove); it is not re-added automatically: `
      + `re-add it with tessera node add ${nodeId} --zone <zone> --address <host:port>`,
  ) {
    super(message);
    this.name = StorageNodeRemovedError.errorName;
  }
  override fields(): Fields {
    return { nodeId: this.nodeId };
  }
}
define(StorageNodeRemovedError.errorName, (m, f) => new StorageNodeRemovedError(f['nodeId'] ?? '', m));

/** A version under retention or legal hold cannot be deleted (S3: 403 AccessDenied). */
export class ObjectLockedError extends MetadataError {
  static readonly errorName = 'ObjectLockedError';
  readonly grpcCode = grpc.status.PERMISSION_DENIED;
  readonly s3Code = 'AccessDenied';
  constructor(message = 'Access Denied because object protected by object lock.') {
    super(message);
    this.name = ObjectLockedError.errorName;
  }
}
define(ObjectLockedError.errorName, (m) => new ObjectLockedError(m));

/** Object Lock settings on a bucket without Object Lock (S3: 400 InvalidRequest). */
export class ObjectLockNotEnabledError extends MetadataError {
  static readonly errorName = 'ObjectLockNotEnabledError';
  readonly grpcCode = grpc.status.FAILED_PRECONDITION;
  readonly s3Code = 'InvalidRequest';
  constructor(readonly bucket: string, message = 'Bucket is missing Object Lock Configuration') {
    super(message);
    this.name = ObjectLockNotEnabledError.errorName;
  }
  override fields(): Fields {
    return { bucket: this.bucket };
  }
}
define(ObjectLockNotEnabledError.errorName, (m, f) => new ObjectLockNotEnabledError(f['bucket'] ?? '', m));

/** A bucket setting its other settings forbid, e.g. suspending versioning under Object Lock (S3: 409 InvalidBucketState). */
export class InvalidBucketStateError extends MetadataError {
  static readonly errorName = 'InvalidBucketStateError';
  readonly grpcCode = grpc.status.FAILED_PRECONDITION;
  readonly s3Code = 'InvalidBucketState';
  constructor(readonly bucket: string, message: string) {
    super(message);
    this.name = InvalidBucketStateError.errorName;
  }
  override fields(): Fields {
    return { bucket: this.bucket };
  }
}
define(InvalidBucketStateError.errorName, (m, f) => new InvalidBucketStateError(f['bucket'] ?? '', m));

/** An access key the catalogue does not hold (tessera key delete/allow with a wrong id). */
export class NoSuchAccessKeyError extends MetadataError {
  static readonly errorName = 'NoSuchAccessKeyError';
  readonly grpcCode = grpc.status.NOT_FOUND;
  readonly s3Code = 'InvalidAccessKeyId';
  constructor(readonly accessKeyId: string, message = `no such access key: ${accessKeyId}`) {
    super(message);
    this.name = NoSuchAccessKeyError.errorName;
  }
  override fields(): Fields {
    return { accessKeyId: this.accessKeyId };
  }
}
define(NoSuchAccessKeyError.errorName, (m, f) => new NoSuchAccessKeyError(f['accessKeyId'] ?? '', m));

/** CreateAccessKey with an id the catalogue already holds. */
export class AccessKeyExistsError extends MetadataError {
  static readonly errorName = 'AccessKeyExistsError';
  readonly grpcCode = grpc.status.ALREADY_EXISTS;
  readonly s3Code = 'InvalidArgument';
  constructor(readonly accessKeyId: string, message = `access key ${accessKeyId} already exists`) {
    super(message);
    this.name = AccessKeyExistsError.errorName;
  }
  override fields(): Fields {
    return { accessKeyId: this.accessKeyId };
  }
}
define(AccessKeyExistsError.errorName, (m, f) => new AccessKeyExistsError(f['accessKeyId'] ?? '', m));

/** DeleteAccessKey of a key that still owns buckets, without force. */
export class AccessKeyOwnsBucketsError extends MetadataError {
  static readonly errorName = 'AccessKeyOwnsBucketsError';
  readonly grpcCode = grpc.status.FAILED_PRECONDITION;
  readonly s3Code = 'InvalidRequest';
  constructor(readonly accessKeyId: string, readonly buckets: string, message = `access key ${accessKeyId} owns buckets: ${buckets}`) {
    super(message);
    this.name = AccessKeyOwnsBucketsError.errorName;
  }
  override fields(): Fields {
    return { accessKeyId: this.accessKeyId, buckets: this.buckets };
  }
}
define(AccessKeyOwnsBucketsError.errorName, (m, f) => new AccessKeyOwnsBucketsError(f['accessKeyId'] ?? '', f['buckets'] ?? '', m));

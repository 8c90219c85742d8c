/**
 * Metadata and data-path failures in S3Backend terms (the protocol layer turns those into S3
 * codes in one place). Errors with no S3BackendError reason but an exact S3 code (InvalidPartOrder,
 * EntityTooSmall, ...) become that S3Error; transport trouble with the metadata quorum or the
 * storage nodes becomes QuorumUnavailable (503, clients retry); anything else passes through as
 * an internal error.
 */
import {
  BucketAlreadyExistsError,
  BucketNotEmptyError,
  EntityTooSmallError,
  InsufficientStorageNodesError,
  InvalidArgumentError,
  InvalidBucketNameError,
  InvalidPartError,
  InvalidPartOrderError,
  KeyTooLongError,
  MetadataError,
  MetadataOverloadedError,
  NoSuchBucketError,
  NoSuchKeyError,
  NoSuchUploadError,
  NoSuchVersionError,
  NotLeaderError,
  ProposalTimeoutError,
  RpcStatusError,
  VersionIsDeleteMarkerError,
  ObjectLockedError,
  ObjectLockNotEnabledError,
  InvalidBucketStateError,
  NoSuchAccessKeyError,
} from '@tessera/rpc';
import { S3BackendError } from '../backend';
import { S3Error } from '../s3-errors';
import { QuorumUnavailableError } from './stripe';

// gRPC status codes (grpc-js `status` enum); the gateway does not depend on grpc-js itself.
const grpcUnavailable = 14;
const grpcDeadlineExceeded = 4;

export function toBackendError(error: unknown): unknown {
  if (error instanceof S3BackendError || error instanceof S3Error) return error;
  const options = { cause: error };
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof NoSuchBucketError) return new S3BackendError('NoSuchBucket', message, options);
  if (error instanceof NoSuchKeyError && error.deleteMarkerVersionId !== undefined) {
    // The latest version is a delete marker: S3 says so in headers of the 404.
    return new S3Error('NoSuchKey', { ...options, fields: { Key: error.key }, headers: deleteMarkerHeaders(error.deleteMarkerVersionId) });
  }
  if (error instanceof NoSuchKeyError) return new S3BackendError('NoSuchKey', message, options);
  if (error instanceof ObjectLockedError) return new S3Error('AccessDenied', { ...options, message });
  if (error instanceof ObjectLockNotEnabledError) return new S3Error('InvalidRequest', { ...options, message });
  if (error instanceof InvalidBucketStateError) return new S3Error('InvalidBucketState', { ...options, message });
  // An ACL grant naming an id that is no access key (S3: InvalidArgument "Invalid id").
  if (error instanceof NoSuchAccessKeyError) return new S3Error('InvalidArgument', { ...options, message: 'Invalid id', fields: { ArgumentName: 'CanonicalUser/ID', ArgumentValue: error.accessKeyId } });
  if (error instanceof NoSuchVersionError) return new S3Error('NoSuchVersion', { ...options, fields: { VersionId: error.versionId } });
  if (error instanceof VersionIsDeleteMarkerError) {
    return new S3Error('MethodNotAllowed', {
      ...options, message: 'The specified method is not allowed against this resource.',
      fields: { Method: 'GET', ResourceType: 'DeleteMarker' }, headers: { ...deleteMarkerHeaders(error.versionId), allow: 'DELETE' },
    });
  }
  if (error instanceof NoSuchUploadError) return new S3BackendError('NoSuchUpload', message, options);
  if (error instanceof BucketAlreadyExistsError) return new S3BackendError(error.ownedByYou ? 'BucketAlreadyOwnedByYou' : 'BucketAlreadyExists', message, options);
  if (error instanceof BucketNotEmptyError) return new S3BackendError('BucketNotEmpty', message, options);
  if (error instanceof InvalidPartError) return new S3BackendError('InvalidPart', message, options);
  if (error instanceof InvalidPartOrderError) return new S3Error('InvalidPartOrder', options);
  if (error instanceof EntityTooSmallError) return new S3Error('EntityTooSmall', options);
  if (error instanceof KeyTooLongError) return new S3Error('KeyTooLongError', options);
  if (error instanceof InvalidBucketNameError) return new S3Error('InvalidBucketName', options);
  if (error instanceof InvalidArgumentError) return new S3Error('InvalidArgument', { message, cause: error });
  if (error instanceof MetadataOverloadedError) return new S3BackendError('Overloaded', message, options);
  const unavailable = unavailableClientMessage(error);
  if (unavailable !== undefined) return new S3BackendError('QuorumUnavailable', message, { ...options, clientMessage: unavailable });
  return error;
}

/**
 * The 503 message for a cluster that cannot reach enough of its nodes, saying which part is
 * short (so an operator reading a client's error knows where to look) without naming nodes;
 * undefined for errors that are not such a shortage.
 */
function unavailableClientMessage(error: unknown): string | undefined {
  if (error instanceof QuorumUnavailableError) {
    if (error.kind === 'read') {
      return 'Too few of the object\'s shards could be read: more storage nodes are unreachable than its erasure code tolerates. No data was lost or served wrong; retry when the nodes are back.';
    }
    return error.storageFull
      ? 'The storage nodes are out of space (each leaves a reserve of its disk free), so nothing was stored. Delete objects or add capacity, then retry.'
      : 'Too few storage nodes accepted the object\'s shards to store it durably, so nothing was stored. Retry later.';
  }
  if (error instanceof InsufficientStorageNodesError) return 'Too few storage nodes are up to place the object\'s shards across the zones, so nothing was stored. Retry later.';
  if (error instanceof NotLeaderError || error instanceof ProposalTimeoutError) {
    return 'The metadata service has no leader that can commit right now (an election, or too few metadata nodes reachable). Retry later.';
  }
  if (error instanceof RpcStatusError && (error.code === grpcUnavailable || error.code === grpcDeadlineExceeded)) {
    return 'A cluster node the request needs did not answer in time. Retry later.';
  }
  return undefined;
}

function deleteMarkerHeaders(versionId: string): Record<string, string> {
  return versionId === '' ? { 'x-amz-delete-marker': 'true' } : { 'x-amz-delete-marker': 'true', 'x-amz-version-id': versionId };
}

/**
 * Whether a failed metadata write certainly did not apply, so the shards written for it may be
 * deleted at once: only a typed answer of the metadata service (refused at apply, or refused
 * before proposing by every attempt: MetadataClient turns a call in which any attempt's outcome
 * was open into ProposalTimeoutError). A transport error (UNAVAILABLE after a leader froze with
 * the entry replicated) or anything unexpected may have committed: deleting then would leave a
 * live version over missing shards. Shards of a write that in fact failed are left to the
 * healer's orphan scan.
 */
export function isDefiniteRefusal(error: unknown): boolean {
  return error instanceof MetadataError && !(error instanceof ProposalTimeoutError);
}

/**
 * @packageDocumentation
 * gRPC plumbing shared by Tessera's services and their clients: deadlines, and typed errors
 * that survive the trip across the wire.
 *
 * ```ts
 * import { toGrpcError, fromGrpcError, deadlineAfterMs } from '@tessera/rpc';
 * ```
 */
export { deadlineAfterMs } from './deadline';
export type { AccessKeyPair } from './access-keys';
export { accessKeyIdPatternSource, accessKeyPairProblem, generateAccessKeyPair } from './access-keys';
export type { CorsRule } from './cors-rule';
export { corsRuleFromWire, corsRuleToWire } from './cors-rule';
export type { CurrentVersionExpiry, LifecycleFilterForm, LifecycleRule, LifecycleSubject } from './lifecycle-rule';
export { currentVersionExpiry, dueAtMs, expirationDueAtMs, lifecycleDayMs, lifecycleRuleFromWire, lifecycleRuleToWire, ruleMatches } from './lifecycle-rule';
export type { StoredTag } from './stored-tags';
export { decodeStoredTags, encodeStoredTags, tagsMetadataKey } from './stored-tags';
export { completedUploadIdMetadataKey } from './completed-upload-key';
export { legalHoldMetadataKey, lockModeMetadataKey, lockUntilMetadataKey, readStoredObjectLock, sseAlgorithmMetadataKey } from './object-lock-keys';
export type { StoredLockMode, StoredObjectLock } from './object-lock-keys';
export { RpcStatusError, TesseraError, fromGrpcError, registerRpcError, toGrpcError } from './errors';
export type { ChecksumMismatchSource } from './storage-node-errors';
export {
  InvalidShardRequestError,
  ShardChecksumMismatchError,
  ShardNotFoundError,
  ShardStreamIdleError,
  StorageFullError,
  StorageIoError,
  StorageNodeBusyError,
} from './storage-node-errors';
export type { StorageShardId } from './storage-node-shard-id';
export { objectVersionIdLengthMax, shardIndexMax, shardKey, validateShardId } from './storage-node-shard-id';
export type { ShardBlock } from './storage-node-blocks';
export { ShardBlockSplitter } from './storage-node-blocks';
export type {
  CallOptions as StorageNodeCallOptions,
  ListedShardInfo,
  ReadShardOptions,
  ShardListPage,
  ShardReadChunk,
  ShardVerification,
  ShardWriteSource,
  StorageNodeClientOptions,
  StorageNodeInfo,
  StoredShardInfo,
  WriteShardParams,
} from './storage-node-client';
export { StorageNodeClient } from './storage-node-client';
export {
  EncryptedObjectError,
  NoSuchEncryptionKeyError,
  AccessKeyExistsError,
  AccessKeyOwnsBucketsError,
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
  NoSuchAccessKeyError,
  NoSuchBucketError,
  NoSuchKeyError,
  NoSuchStorageNodeError,
  NoSuchUploadError,
  NoSuchVersionError,
  VersionIsDeleteMarkerError,
  ObjectLockedError,
  ObjectLockNotEnabledError,
  InvalidBucketStateError,
  NoSuchWriteError,
  NotLeaderError,
  PreconditionFailedError,
  ProposalTimeoutError,
  ShardsNotPlacedError,
  StorageNodeNotEmptyError,
  StorageNodeRemovedError,
} from './metadata-errors';
export { MetadataClient, metadataChannelOptions, metadataMessageSizeBytesMax, metadataRequestIdKey, reconnectChannelOptions, storageChannelOptions } from './metadata-client';
export type { BucketAccess, MetadataClientOptions } from './metadata-client';
export type { PreEncodedMessage } from './storage-node-codec';
export { encodeReadShardResponse, encodeWriteShardBlocks, storageNodeServiceDefinition } from './storage-node-codec';
export type { WireError } from './errors';
export { fromWireError, toWireError } from './errors';
export type { ShardDataFrame, ShardDataFrameTypeCode } from './shard-data-protocol';
export {
  ShardDataFrameDecoder,
  ShardDataFrameType,
  ShardDataProtocolError,
  decodeJsonBody,
  decodeReadData,
  decodeShardDataHello,
  decodeWriteBlocks,
  encodeFrameHeader,
  encodeJsonFrame,
  encodeReadDataHead,
  encodeShardDataHello,
  encodeWriteBlocksHead,
  frameHeaderSizeBytes,
  mayStartShardDataHello,
  shardDataHelloSizeBytes,
  shardDataProtocolVersion,
  shardDataWriteWindowBytes,
} from './shard-data-protocol';
export type { ShardDataChannelOptions } from './shard-data-channel';
export { ShardDataChannel, ShardDataConnection, ShardDataUnsupportedError } from './shard-data-channel';
export { findFreePortBlock, isPortFree } from './loopback-ports';

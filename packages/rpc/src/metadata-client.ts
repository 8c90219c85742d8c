import { randomBytes } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { loadProto } from '@tessera/proto';
import type { ProtoGrpcType } from '@tessera/proto/generated/metadata';
import type { MetadataClient as GeneratedClient } from '@tessera/proto/generated/tessera/metadata/v1/Metadata';
import type { AbortWriteRequest } from '@tessera/proto/generated/tessera/metadata/v1/AbortWriteRequest';
import type { AckQueueItemRequest } from '@tessera/proto/generated/tessera/metadata/v1/AckQueueItemRequest';
import type { BeginWriteRequest } from '@tessera/proto/generated/tessera/metadata/v1/BeginWriteRequest';
import type { BeginWriteResponse__Output } from '@tessera/proto/generated/tessera/metadata/v1/BeginWriteResponse';
import type { AccessKey__Output } from '@tessera/proto/generated/tessera/metadata/v1/AccessKey';
import type { Bucket__Output } from '@tessera/proto/generated/tessera/metadata/v1/Bucket';
import type { PublicAccessBlock } from '@tessera/proto/generated/tessera/metadata/v1/PublicAccessBlock';
import type { CreateAccessKeyRequest } from '@tessera/proto/generated/tessera/metadata/v1/CreateAccessKeyRequest';
import type { EncryptionMasterKey__Output } from '@tessera/proto/generated/tessera/metadata/v1/EncryptionMasterKey';
import { corsRuleToWire } from './cors-rule';
import type { CorsRule } from './cors-rule';
import { lifecycleRuleToWire } from './lifecycle-rule';
import type { LifecycleRule } from './lifecycle-rule';
import type { ChangeMembershipRequest } from '@tessera/proto/generated/tessera/metadata/v1/ChangeMembershipRequest';
import type { ClusterStatus__Output } from '@tessera/proto/generated/tessera/metadata/v1/ClusterStatus';
import type { CommitVersionRequest } from '@tessera/proto/generated/tessera/metadata/v1/CommitVersionRequest';
import type { CompleteUploadRequest } from '@tessera/proto/generated/tessera/metadata/v1/CompleteUploadRequest';
import type { CreateBucketRequest } from '@tessera/proto/generated/tessera/metadata/v1/CreateBucketRequest';
import type { CreateUploadRequest } from '@tessera/proto/generated/tessera/metadata/v1/CreateUploadRequest';
import type { UpdateObjectMetadataRequest } from '@tessera/proto/generated/tessera/metadata/v1/UpdateObjectMetadataRequest';
import type { DeleteObjectResponse__Output } from '@tessera/proto/generated/tessera/metadata/v1/DeleteObjectResponse';
import type { GetObjectRequest } from '@tessera/proto/generated/tessera/metadata/v1/GetObjectRequest';
import type { HeartbeatRequest } from '@tessera/proto/generated/tessera/metadata/v1/HeartbeatRequest';
import type { ListObjectsRequest } from '@tessera/proto/generated/tessera/metadata/v1/ListObjectsRequest';
import type { ListObjectsResponse__Output } from '@tessera/proto/generated/tessera/metadata/v1/ListObjectsResponse';
import type { SetBucketObjectLockRequest } from '@tessera/proto/generated/tessera/metadata/v1/SetBucketObjectLockRequest';
import type { SetObjectLockRequest } from '@tessera/proto/generated/tessera/metadata/v1/SetObjectLockRequest';
import type { ListObjectVersionsRequest } from '@tessera/proto/generated/tessera/metadata/v1/ListObjectVersionsRequest';
import type { ListObjectVersionsResponse__Output } from '@tessera/proto/generated/tessera/metadata/v1/ListObjectVersionsResponse';
import type { ListPartsRequest } from '@tessera/proto/generated/tessera/metadata/v1/ListPartsRequest';
import type { ListPartsResponse__Output } from '@tessera/proto/generated/tessera/metadata/v1/ListPartsResponse';
import type { ListUploadsRequest } from '@tessera/proto/generated/tessera/metadata/v1/ListUploadsRequest';
import type { ListUploadsResponse__Output } from '@tessera/proto/generated/tessera/metadata/v1/ListUploadsResponse';
import type { ObjectVersion__Output } from '@tessera/proto/generated/tessera/metadata/v1/ObjectVersion';
import type { Part__Output } from '@tessera/proto/generated/tessera/metadata/v1/Part';
import type { PlaceStripeRequest } from '@tessera/proto/generated/tessera/metadata/v1/PlaceStripeRequest';
import type { QueueItem__Output } from '@tessera/proto/generated/tessera/metadata/v1/QueueItem';
import type { RegisterNodeRequest } from '@tessera/proto/generated/tessera/metadata/v1/RegisterNodeRequest';
import type { RegisterPartRequest } from '@tessera/proto/generated/tessera/metadata/v1/RegisterPartRequest';
import type { SetNodeStateRequest } from '@tessera/proto/generated/tessera/metadata/v1/SetNodeStateRequest';
import type { StorageNode__Output } from '@tessera/proto/generated/tessera/metadata/v1/StorageNode';
import type { Stripe__Output } from '@tessera/proto/generated/tessera/metadata/v1/Stripe';
import type { Upload__Output } from '@tessera/proto/generated/tessera/metadata/v1/Upload';
import type { UploadRequest } from '@tessera/proto/generated/tessera/metadata/v1/UploadRequest';
import type { ClaimQueueItemsRequest } from '@tessera/proto/generated/tessera/metadata/v1/ClaimQueueItemsRequest';
import type { EnqueueRepairRequest } from '@tessera/proto/generated/tessera/metadata/v1/EnqueueRepairRequest';
import type { EnqueueRepairResponse__Output } from '@tessera/proto/generated/tessera/metadata/v1/EnqueueRepairResponse';
import type { HealBacklog__Output } from '@tessera/proto/generated/tessera/metadata/v1/HealBacklog';
import type { ListNodeShardsRequest } from '@tessera/proto/generated/tessera/metadata/v1/ListNodeShardsRequest';
import type { ListNodeShardsResponse__Output } from '@tessera/proto/generated/tessera/metadata/v1/ListNodeShardsResponse';
import type { LookupShardsRequest } from '@tessera/proto/generated/tessera/metadata/v1/LookupShardsRequest';
import type { LookupShardsResponse__Output } from '@tessera/proto/generated/tessera/metadata/v1/LookupShardsResponse';
import type { ReplaceShardsRequest } from '@tessera/proto/generated/tessera/metadata/v1/ReplaceShardsRequest';
import type { ReplaceShardsResponse__Output } from '@tessera/proto/generated/tessera/metadata/v1/ReplaceShardsResponse';
import type { Stripe } from '@tessera/proto/generated/tessera/metadata/v1/Stripe';
import type { StripeLocation__Output } from '@tessera/proto/generated/tessera/metadata/v1/StripeLocation';
import type { CatalogueStats__Output } from '@tessera/proto/generated/tessera/metadata/v1/CatalogueStats';
import type { RemovedNode__Output } from '@tessera/proto/generated/tessera/metadata/v1/RemovedNode';
import type { RemoveNodeRequest } from '@tessera/proto/generated/tessera/metadata/v1/RemoveNodeRequest';
import type { RemoveNodeResponse__Output } from '@tessera/proto/generated/tessera/metadata/v1/RemoveNodeResponse';
import { RpcStatusError, fromGrpcError } from './errors';
import { MetadataError, MetadataOverloadedError, NotLeaderError, ProposalTimeoutError } from './metadata-errors';

export interface MetadataClientOptions {
  /** Metadata node addresses (host:port); any of them, the client finds the leader. */
  readonly addresses: readonly string[];
  /** Deadline of each single attempt. */
  readonly callTimeoutMs?: number;
  /** Attempts per call, across leader hints and retries. */
  readonly attemptCountMax?: number;
  /** First retry delay; doubles per attempt up to backoffMsMax, with jitter. */
  readonly backoffMsBase?: number;
  readonly backoffMsMax?: number;
}

/**
 * grpc-js backs reconnects off up to 120 s by default, so a metadata node that was down for a
 * while stays unreachable through this channel for up to two minutes after it is back. Retry
 * within 2 s instead (the cost is a connection attempt every 2 s to a node that is down). And a
 * peer addressed by name (containers, Kubernetes pods) may come back under a new IP address:
 * re-resolve its name at most 1 s apart, not grpc-js's default 30 s.
 */
export const reconnectChannelOptions: grpc.ChannelOptions = {
  'grpc.initial_reconnect_backoff_ms': 200,
  'grpc.max_reconnect_backoff_ms': 2_000,
  'grpc.dns_min_time_between_resolutions_ms': 1_000,
};

/** Largest metadata message either side takes (the server's receive limit is the same). */
export const metadataMessageSizeBytesMax = 64 * 1024 * 1024;

/**
 * A metadata node that hangs without closing its connections (a frozen process, a host that
 * stops answering) would hold every call to it until the call's deadline (10 s by default),
 * although the other nodes elect a new leader within about a second. While calls are in
 * flight, HTTP/2 pings every second, and a connection whose ping is not answered within 2 s
 * is dropped: its calls fail as UNAVAILABLE and are retried on another node (writes carry a
 * request id, so a retried write applies once). No pings flow on an idle connection.
 */
export const metadataChannelOptions: grpc.ChannelOptions = {
  ...reconnectChannelOptions,
  'grpc.keepalive_time_ms': 1_000,
  'grpc.keepalive_timeout_ms': 2_000,
  // A version's layout is about 250 bytes per part plus its node ids: a 10,000-part object
  // with long node names (Kubernetes pod DNS names) is past gRPC's default 4 MB receive limit.
  // The metadata server takes up to 64 MiB too (metadata-node.ts).
  'grpc.max_receive_message_length': metadataMessageSizeBytesMax,
};

/**
 * The same for storage nodes, with 3 s to answer a ping: a frozen node then fails its streams
 * within about 4 s (a PUT drops the shard and goes on with the quorum; a read has already been
 * hedged after 400 ms), where a PUT streaming more than the shard queues hold used to wait the
 * 10 s stall limit. A node merely slow on disk still answers pings (fsync runs off its event
 * loop) and is not dropped by this.
 */
export const storageChannelOptions: grpc.ChannelOptions = {
  ...reconnectChannelOptions,
  'grpc.keepalive_time_ms': 1_000,
  'grpc.keepalive_timeout_ms': 3_000,
};

/** Writes get a request id (idempotency key); reads need none. */
type Safety = 'read' | 'write';

/** gRPC metadata key of the idempotency key sent with every write (one per logical call). */
export const metadataRequestIdKey = 'tessera-request-id';

/**
 * Typed client for the metadata service. Follows leader hints (NotLeaderError.leaderHint),
 * retries with exponential backoff on UNAVAILABLE, overload and timeouts, and gives every
 * attempt a deadline. Every write carries one request id for all its attempts; the metadata
 * group remembers the first result of each request id (10 minutes by default), so a write
 * whose outcome was unknown (a timeout during a leader change) is retried without applying
 * twice.
 */
/** The permissions of one bucket grant (S3 ACL READ, WRITE, READ_ACP, WRITE_ACP; absent means false). */
export interface BucketAccess {
  readonly read: boolean;
  readonly write: boolean;
  readonly readAcp?: boolean;
  readonly writeAcp?: boolean;
}

export class MetadataClient {
  private readonly addresses: string[];
  private readonly clients = new Map<string, GeneratedClient>();
  private currentIndex = 0;
  private readonly callTimeoutMs: number;
  private readonly attemptCountMax: number;
  private readonly backoffMsBase: number;
  private readonly backoffMsMax: number;

  constructor(options: MetadataClientOptions) {
    if (options.addresses.length === 0) throw new Error('MetadataClient needs at least one address');
    this.addresses = [...options.addresses];
    this.callTimeoutMs = options.callTimeoutMs ?? 10_000;
    this.attemptCountMax = options.attemptCountMax ?? 10;
    this.backoffMsBase = options.backoffMsBase ?? 50;
    this.backoffMsMax = options.backoffMsMax ?? 2_000;
  }

  close(): void {
    for (const client of this.clients.values()) client.close();
    this.clients.clear();
  }

  /** The address the next call goes to first (the last known leader). */
  get currentAddress(): string {
    return this.addresses[this.currentIndex] ?? this.addresses[0] ?? '';
  }

  createBucket(request: CreateBucketRequest): Promise<Bucket__Output> {
    return this.call('createBucket', request, 'write');
  }
  deleteBucket(bucket: string): Promise<void> {
    return this.call<object>('deleteBucket', { bucket }, 'write').then(() => undefined);
  }
  headBucket(bucket: string): Promise<Bucket__Output> {
    return this.call('headBucket', { bucket }, 'read');
  }
  listBuckets(): Promise<Bucket__Output[]> {
    return this.call<{ buckets: Bucket__Output[] }>('listBuckets', {}, 'read').then((r) => r.buckets);
  }
  /**
   * Sets what an access key may do in a bucket (read and/or write objects, read and/or change the
   * bucket's ACL), replacing its grant there; all false removes it.
   */
  setBucketGrant(bucket: string, accessKeyId: string, access: BucketAccess): Promise<Bucket__Output> {
    return this.call('setBucketGrant', { bucket, accessKeyId, ...access }, 'write');
  }
  /**
   * PutBucketAcl: the bucket's grants become exactly these, and GetBucketAcl shows `exactAcl`
   * (the ACL as the request stated it) when given.
   */
  replaceBucketGrants(
    bucket: string, grants: ReadonlyArray<{ accessKeyId: string } & BucketAccess>, exactAcl?: ReadonlyArray<{ accessKeyId: string; permission: string }>,
  ): Promise<Bucket__Output> {
    const acl = exactAcl === undefined ? {} : { exactAcl: { grants: exactAcl.map((grant) => ({ ...grant })) } };
    return this.call('replaceBucketGrants', { bucket, grants: grants.map((grant) => ({ ...grant })), ...acl }, 'write');
  }
  /** A new access key; with `accessKeyId` and `secretAccessKey` both given, that pair is imported. */
  createAccessKey(request: CreateAccessKeyRequest): Promise<AccessKey__Output> {
    return this.call('createAccessKey', request, 'write');
  }
  /** One key with its secret (NoSuchAccessKeyError when unknown). */
  getAccessKey(accessKeyId: string): Promise<AccessKey__Output> {
    return this.call('getAccessKey', { accessKeyId }, 'read');
  }
  /** Every key, without secrets. */
  listAccessKeys(): Promise<AccessKey__Output[]> {
    return this.call<{ keys: AccessKey__Output[] }>('listAccessKeys', {}, 'read').then((r) => r.keys);
  }
  deleteAccessKey(accessKeyId: string, force = false): Promise<void> {
    return this.call<object>('deleteAccessKey', { accessKeyId, force }, 'write').then(() => undefined);
  }
  /** Replaces the bucket's CORS rules; an empty list removes the configuration. */
  setBucketCors(bucket: string, rules: readonly CorsRule[]): Promise<Bucket__Output> {
    return this.call('setBucketCors', { bucket, rules: rules.map(corsRuleToWire) }, 'write');
  }

  setBucketTags(bucket: string, tags: ReadonlyArray<{ key: string; value: string }>): Promise<Bucket__Output> {
    return this.call('setBucketTags', { bucket, tags: [...tags] }, 'write');
  }
  beginWrite(request: BeginWriteRequest): Promise<BeginWriteResponse__Output> {
    return this.call('beginWrite', request, 'write');
  }
  /**
   * Makes a version current. With `condition` (If-None-Match: * / If-Match), the condition is
   * evaluated atomically at apply: on failure the write is released (its stripe queued for
   * GC) and the call fails with PreconditionFailedError (or NoSuchKeyError for If-Match on a
   * missing key).
   */
  commitVersion(request: CommitVersionRequest): Promise<ObjectVersion__Output> {
    return this.call('commitVersion', request, 'write');
  }
  abortWrite(request: AbortWriteRequest): Promise<void> {
    return this.call<object>('abortWrite', request, 'write').then(() => undefined);
  }
  getObject(request: GetObjectRequest): Promise<ObjectVersion__Output> {
    return this.call('getObject', request, 'read');
  }
  listObjects(request: ListObjectsRequest): Promise<ListObjectsResponse__Output> {
    return this.call('listObjects', request, 'read');
  }
  /**
   * `versionId` empty: the key's latest version (a delete marker in a bucket with versioning).
   * `ifCurrent`: only if the current version is still that one (PreconditionFailedError otherwise).
   * `ifMatchEtag`: S3's If-Match, checked at apply against the version the delete removes ("*":
   * any object; PreconditionFailedError, or NoSuchKeyError when there is no object).
   */
  deleteObject(
    bucket: string, key: string, versionId = '', ifCurrent?: { createdAtMs: number; etag: string }, bypassGovernance = false, ifMatchEtag = '',
  ): Promise<DeleteObjectResponse__Output> {
    return this.call('deleteObject', { bucket, key, versionId, bypassGovernance, ifMatchEtag, ...(ifCurrent === undefined ? {} : { ifCurrent }) }, 'write');
  }
  /** PutObjectLockConfiguration. */
  setBucketObjectLock(request: SetBucketObjectLockRequest): Promise<Bucket__Output> {
    return this.call('setBucketObjectLock', request, 'write');
  }
  /** PutObjectRetention / PutObjectLegalHold. */
  setObjectLock(request: SetObjectLockRequest): Promise<ObjectVersion__Output> {
    return this.call('setObjectLock', request, 'write');
  }
  /** Replaces the bucket's lifecycle rules; an empty list removes them. */
  /**
   * The cluster's current SSE-S3 master key (created by the first call; writes once: safe to
   * retry), or with `keyId` that key, current or retired (NoSuchEncryptionKeyError).
   */
  getEncryptionMasterKey(keyId = ''): Promise<EncryptionMasterKey__Output> {
    return this.call('getEncryptionMasterKey', { keyId }, keyId === '' ? 'write' : 'read');
  }
  /** A new current master key (its id and time; no bytes). Older keys stay to open what they sealed. */
  rotateEncryptionMasterKey(): Promise<EncryptionMasterKey__Output> {
    return this.call('rotateEncryptionMasterKey', {}, 'write');
  }
  /** Every master key's id and time, oldest first; the last is current. */
  listEncryptionMasterKeys(): Promise<EncryptionMasterKey__Output[]> {
    return this.call<{ keys: EncryptionMasterKey__Output[] }>('listEncryptionMasterKeys', {}, 'read').then((r) => r.keys);
  }
  /** PutBucketEncryption ('AES256') / DeleteBucketEncryption (''). */
  setBucketEncryption(bucket: string, algorithm: 'AES256' | ''): Promise<Bucket__Output> {
    return this.call('setBucketEncryption', { bucket, algorithm }, 'write');
  }
  /** PutBucketPolicy (the JSON document) / DeleteBucketPolicy (''). */
  setBucketPolicy(bucket: string, policy: string): Promise<Bucket__Output> {
    return this.call('setBucketPolicy', { bucket, policy }, 'write');
  }
  /** PutBucketOwnershipControls ('BucketOwnerEnforced' / 'BucketOwnerPreferred' / 'ObjectWriter') / DeleteBucketOwnershipControls (''). */
  setBucketOwnershipControls(bucket: string, objectOwnership: 'BucketOwnerEnforced' | 'BucketOwnerPreferred' | 'ObjectWriter' | ''): Promise<Bucket__Output> {
    return this.call('setBucketOwnershipControls', { bucket, objectOwnership }, 'write');
  }
  /** PutPublicAccessBlock (the four settings) / DeletePublicAccessBlock (undefined). */
  setBucketPublicAccessBlock(bucket: string, configuration: PublicAccessBlock | undefined): Promise<Bucket__Output> {
    return this.call('setBucketPublicAccessBlock', { bucket, configuration: configuration ?? null }, 'write');
  }
  setBucketLifecycle(bucket: string, rules: readonly LifecycleRule[]): Promise<Bucket__Output> {
    return this.call('setBucketLifecycle', { bucket, rules: rules.map(lifecycleRuleToWire) }, 'write');
  }
  listObjectVersions(request: ListObjectVersionsRequest): Promise<ListObjectVersionsResponse__Output> {
    return this.call('listObjectVersions', request, 'read');
  }
  setBucketVersioning(bucket: string, status: 'Enabled' | 'Suspended'): Promise<Bucket__Output> {
    return this.call('setBucketVersioning', { bucket, status }, 'write');
  }
  /** Changes the current version's system metadata in place (object tagging). */
  updateObjectMetadata(request: UpdateObjectMetadataRequest): Promise<ObjectVersion__Output> {
    return this.call('updateObjectMetadata', request, 'write');
  }
  createMultipartUpload(request: CreateUploadRequest): Promise<Upload__Output> {
    return this.call('createMultipartUpload', request, 'write');
  }
  registerPart(request: RegisterPartRequest): Promise<Part__Output> {
    return this.call('registerPart', request, 'write');
  }
  listParts(request: ListPartsRequest): Promise<ListPartsResponse__Output> {
    return this.call('listParts', request, 'read');
  }
  /** With `condition`: as commitVersion, but a failed condition leaves the upload in place. */
  completeMultipartUpload(request: CompleteUploadRequest): Promise<ObjectVersion__Output> {
    return this.call('completeMultipartUpload', request, 'write');
  }
  abortMultipartUpload(request: UploadRequest): Promise<void> {
    return this.call<object>('abortMultipartUpload', request, 'write').then(() => undefined);
  }
  listMultipartUploads(request: ListUploadsRequest): Promise<ListUploadsResponse__Output> {
    return this.call('listMultipartUploads', request, 'read');
  }
  registerNode(request: RegisterNodeRequest): Promise<StorageNode__Output> {
    return this.call('registerNode', request, 'write');
  }
  heartbeat(request: HeartbeatRequest): Promise<StorageNode__Output> {
    return this.call('heartbeat', request, 'write');
  }
  setNodeState(request: SetNodeStateRequest): Promise<StorageNode__Output> {
    return this.call('setNodeState', request, 'write');
  }
  /**
   * Forgets a storage node: StorageNodeNotEmptyError while it still holds shards (unless
   * `force`, which queues every stripe with a shard there for repair). Its later registrations
   * and heartbeats fail with StorageNodeRemovedError until `registerNode({ readmit: true })`.
   */
  removeNode(request: RemoveNodeRequest): Promise<RemoveNodeResponse__Output> {
    return this.call('removeNode', request, 'write');
  }
  listRemovedNodes(): Promise<RemovedNode__Output[]> {
    return this.call<{ nodes: RemovedNode__Output[] }>('listRemovedNodes', {}, 'read').then((r) => r.nodes);
  }
  /** Object, byte and multipart-upload counts per bucket and in total (linearizable read). */
  getCatalogueStats(): Promise<CatalogueStats__Output> {
    return this.call('getCatalogueStats', {}, 'read');
  }
  listNodes(): Promise<StorageNode__Output[]> {
    return this.call<{ nodes: StorageNode__Output[] }>('listNodes', {}, 'read').then((r) => r.nodes);
  }
  placeStripe(request: PlaceStripeRequest): Promise<Stripe__Output> {
    return this.call('placeStripe', request, 'read');
  }
  listQueue(limit: number): Promise<QueueItem__Output[]> {
    return this.call<{ items: QueueItem__Output[] }>('listQueue', { limit }, 'read').then((r) => r.items);
  }
  ackQueueItem(request: AckQueueItemRequest): Promise<void> {
    return this.call<object>('ackQueueItem', request, 'write').then(() => undefined);
  }
  /**
   * Compare-and-set move of shards of one stripe (healing). `replaced: false` means the stripe
   * changed meanwhile (overwritten, deleted, moved): nothing was applied.
   */
  replaceShards(request: ReplaceShardsRequest): Promise<ReplaceShardsResponse__Output> {
    return this.call('replaceShards', request, 'write');
  }
  /** Queues a stripe for repair (degraded read, scrubber); one pending item per stripe. */
  enqueueRepair(request: EnqueueRepairRequest): Promise<EnqueueRepairResponse__Output> {
    return this.call('enqueueRepair', request, 'write');
  }
  /** Leases queue items of one kind to `workerId` for `leaseMs`; ack them when done. */
  claimQueueItems(request: ClaimQueueItemsRequest): Promise<QueueItem__Output[]> {
    return this.call<{ items: QueueItem__Output[] }>('claimQueueItems', request, 'write').then((r) => r.items);
  }
  /** The committed owner and current placement of a stripe (found through its shards' index entries). */
  locateStripe(stripe: Stripe): Promise<StripeLocation__Output> {
    return this.call('locateStripe', stripe, 'read');
  }
  /** A page of the node → shard index: every shard the catalogue places on `nodeId`. */
  listNodeShards(request: ListNodeShardsRequest): Promise<ListNodeShardsResponse__Output> {
    return this.call('listNodeShards', request, 'read');
  }
  /** For orphan collection: is each shard mapped to the node, or owned by a write in progress? */
  lookupShards(request: LookupShardsRequest): Promise<LookupShardsResponse__Output> {
    return this.call('lookupShards', request, 'read');
  }
  /** Stripes, shards and bytes on down or draining nodes, and pending repair items. */
  getHealBacklog(): Promise<HealBacklog__Output> {
    return this.call('getHealBacklog', {}, 'read');
  }
  /** One membership change of the metadata group; `address` is required for a new member. */
  changeMembership(request: ChangeMembershipRequest): Promise<ClusterStatus__Output> {
    return this.call('changeMembership', request, 'write');
  }
  /** Status of the node at `address` (default: the current one); no leader following. */
  getClusterStatus(address?: string): Promise<ClusterStatus__Output> {
    return this.attempt<ClusterStatus__Output>(address ?? this.currentAddress, 'getClusterStatus', {});
  }

  private async call<Res>(method: string, request: object, safety: Safety): Promise<Res> {
    let lastError: Error = new Error('no attempt made');
    const requestId = safety === 'write' ? randomBytes(12).toString('hex') : undefined;
    // A write attempt that timed out or lost its connection may still commit (a leader can
    // replicate the entry and freeze before answering; the next leader commits it). Once one
    // has, a later attempt's "not the leader" does not mean the write did not happen.
    let outcomeUnknown = false;
    for (let attempt = 0; attempt < this.attemptCountMax; attempt++) {
      const address = this.currentAddress;
      try {
        return await this.attempt<Res>(address, method, request, requestId);
      } catch (err) {
        lastError = err as Error;
        if (requestId !== undefined && mayHaveApplied(lastError)) outcomeUnknown = true;
        const next = this.nextStep(lastError);
        if (next === 'fail') throw writeFailure(lastError, outcomeUnknown);
        if (next === 'follow' && lastError instanceof NotLeaderError && lastError.leaderHint !== undefined) {
          this.useAddress(lastError.leaderHint);
          continue;
        }
        this.currentIndex = (this.addresses.indexOf(address) + 1) % this.addresses.length;
        await sleep(this.backoffMs(attempt));
      }
    }
    throw writeFailure(lastError, outcomeUnknown);
  }

  private nextStep(err: Error): 'follow' | 'retry' | 'fail' {
    if (err instanceof NotLeaderError) return err.leaderHint !== undefined && err.leaderHint !== '' ? 'follow' : 'retry';
    if (err instanceof MetadataOverloadedError) return 'retry';
    // Writes carry a request id, so an unknown outcome is safe to retry (dedup at apply).
    if (err instanceof ProposalTimeoutError) return 'retry';
    if (err instanceof RpcStatusError) {
      if (err.code === grpc.status.UNAVAILABLE || err.code === grpc.status.DEADLINE_EXCEEDED || err.code === grpc.status.CANCELLED) return 'retry';
    }
    return 'fail';
  }

  private useAddress(address: string): void {
    let index = this.addresses.indexOf(address);
    if (index < 0) {
      this.addresses.push(address);
      index = this.addresses.length - 1;
    }
    this.currentIndex = index;
  }

  private backoffMs(attempt: number): number {
    const capped = Math.min(this.backoffMsMax, this.backoffMsBase * 2 ** attempt);
    return capped / 2 + Math.random() * (capped / 2);
  }

  private clientFor(address: string): GeneratedClient {
    let client = this.clients.get(address);
    if (client === undefined) {
      const proto = loadProto('metadata.proto') as unknown as ProtoGrpcType;
      client = new proto.tessera.metadata.v1.Metadata(address, grpc.credentials.createInsecure(), metadataChannelOptions) as GeneratedClient;
      this.clients.set(address, client);
    }
    return client;
  }

  private attempt<Res>(address: string, method: string, request: object, requestId?: string): Promise<Res> {
    const client = this.clientFor(address);
    type Fn = (req: object, metadata: grpc.Metadata, options: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res: Res) => void) => void;
    const fn = (client as unknown as Record<string, Fn>)[method];
    if (fn === undefined) return Promise.reject(new Error(`unknown metadata method ${method}`));
    const metadata = new grpc.Metadata();
    if (requestId !== undefined) metadata.set(metadataRequestIdKey, requestId);
    return new Promise<Res>((resolve, reject) => {
      fn.call(client, request, metadata, { deadline: new Date(Date.now() + this.callTimeoutMs) }, (err, response) => {
        if (err !== null && err !== undefined) reject(fromGrpcError(err));
        else resolve(response);
      });
    });
  }
}

/**
 * Whether a failed write attempt may nevertheless have been applied: anything but a typed
 * answer of the metadata service (a refusal at apply, or "not the leader" / "overloaded" before
 * proposing) leaves the outcome open: a deadline, a dropped connection, a proposal timeout.
 */
function mayHaveApplied(err: Error): boolean {
  return !(err instanceof MetadataError) || err instanceof ProposalTimeoutError;
}

/**
 * The error a failed write call ends with. A typed refusal at apply is the request's answer (an
 * earlier attempt that committed would have made this one a duplicate, answered with the first
 * result). Otherwise, after an attempt of unknown outcome, the call's outcome is unknown too:
 * ProposalTimeoutError, which callers treat as "may have committed" (the gateway then keeps the
 * shards it wrote instead of deleting them under a version that may be live).
 */
function writeFailure(lastError: Error, outcomeUnknown: boolean): Error {
  if (!outcomeUnknown || lastError instanceof ProposalTimeoutError) return lastError;
  const refusedAtApply = lastError instanceof MetadataError && !(lastError instanceof NotLeaderError) && !(lastError instanceof MetadataOverloadedError);
  if (refusedAtApply) return lastError;
  return new ProposalTimeoutError(`the write's outcome is unknown: an attempt may have committed (last error: ${lastError.message})`);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

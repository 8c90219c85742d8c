import { randomBytes } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import type { Clock, Logger } from '@tessera/common';
import { InsufficientNodesError, placeStripe } from '@tessera/placement';
import type { NodeState } from '@tessera/placement';
import type { MetadataHandlers } from '@tessera/proto/generated/tessera/metadata/v1/Metadata';
import type { ClusterStatus } from '@tessera/proto/generated/tessera/metadata/v1/ClusterStatus';
import type { Stripe } from '@tessera/proto/generated/tessera/metadata/v1/Stripe';
import { EncryptedObjectError, NoSuchEncryptionKeyError, sseAlgorithmMetadataKey } from '@tessera/rpc';
import { corsRuleFromWire, generateAccessKeyPair, lifecycleRuleFromWire, InsufficientStorageNodesError, InvalidArgumentError, StorageNodeNotEmptyError, metadataRequestIdKey, toGrpcError } from '@tessera/rpc';
import type { Command } from './commands';
import { validateCommand } from './commands';
import { listObjects } from './list-objects';
import { listUploads } from './list-uploads';
import { listObjectVersions } from './list-versions';
import type {
  AccessKeyRecord, EncryptionMasterKeyRecord, QueueItemRecord,
  BucketRecord, ObjectVersionRecord, PartRecord, StorageNodeRecord, StripeRecord, UploadRecord, WriteRecord,
} from './model';
import type { DeleteObjectResult, LocatedStripe, RemoveNodeResult, ReplaceShardsResult } from './catalogue-state-machine';
import type { WriteCondition as WriteConditionProto } from '@tessera/proto/generated/tessera/metadata/v1/WriteCondition';
import type { ObjectOwnership, WriteCondition } from './model';
import { bucketGrantRecord, isAclPermission } from './model';
import type { AclGrantRecord } from './model';
import type { StripeLocation } from '@tessera/proto/generated/tessera/metadata/v1/StripeLocation';
import {
  accessKeyToProto, ownerFromProto, ownerToProto,
  bucketToProto, listedObjectToProto, listedVersionToProto, nodeToProto, objectToProto, partToProto, queueItemToProto, stripeFromProto, stripeToProto, uploadToProto,
} from './proto-convert';
import type { RaftHost } from './raft-host';
import type { StorageNodeHeartbeats } from './storage-node-heartbeats';
import { validateBucketName, validateObjectKey } from './validation';

export interface MetadataServiceComponents {
  readonly host: RaftHost;
  readonly clock: Clock;
  readonly logger: Logger;
  /** The leader's memory of storage-node heartbeats (most are not committed). */
  readonly heartbeats: StorageNodeHeartbeats;
}


/** An ACL grant from the wire: InvalidArgument for a permission that is none of S3's five. */
function aclGrantFromWire(grant: { accessKeyId: string; permission: string }): AclGrantRecord {
  if (!isAclPermission(grant.permission)) throw new InvalidArgumentError(`unknown ACL permission ${grant.permission}`);
  return { accessKeyId: grant.accessKeyId, permission: grant.permission };
}

/** Ids are 96 random bits in hex: unguessable, and never reused across retries. */
/** A retention mode from the wire; '' is none, anything else is refused. */
function lockModeOf(mode: string): 'GOVERNANCE' | 'COMPLIANCE' | undefined {
  if (mode === 'GOVERNANCE' || mode === 'COMPLIANCE') return mode;
  if (mode === '') return undefined;
  throw new InvalidArgumentError('retention mode must be GOVERNANCE or COMPLIANCE');
}

function newId(): string {
  return randomBytes(12).toString('hex');
}

/** One async handler per RPC; typed errors cross the wire through toGrpcError. */
function unary<Req, Res>(logger: Logger, name: string, fn: (request: Req, requestId: string | undefined) => Promise<Res>): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    const requestId = call.metadata.get(metadataRequestIdKey)[0];
    fn(call.request, typeof requestId === 'string' && requestId !== '' ? requestId : undefined).then(
      (response) => callback(null, response),
      (err: unknown) => {
        if (!(err instanceof Error) || !('grpcCode' in err)) logger.error('metadata rpc failed', { rpc: name, err });
        callback(toGrpcError(err));
      },
    );
  };
}

/**
 * The Metadata gRPC service. Writes validate the command, then propose it (a follower answers
 * NotLeaderError with the leader's address); reads first confirm a ReadIndex, so every read is
 * linearizable wherever it is served.
 */
export function metadataServiceHandlers(components: MetadataServiceComponents): MetadataHandlers {
  const { host, clock, logger, heartbeats } = components;
  const propose = async <T>(command: Command, requestId?: string): Promise<T> => {
    const stamp = requestId === undefined ? undefined : { requestId, requestedAtMs: clock.nowMs() };
    validateCommand(stamp === undefined ? command : { ...command, request: stamp });
    if (!host.isLeader()) throw host.notLeaderError();
    return (await host.propose(command, stamp)) as T;
  };
  const read = async <T>(fn: () => Promise<T>): Promise<T> => {
    await host.linearizableRead();
    return fn();
  };
  const placeFor = async (stripeKey: string, stripeId: string, dataShardCount: number, parityShardCount: number, blockSizeBytes: number): Promise<StripeRecord> => {
    if (!Number.isSafeInteger(dataShardCount) || dataShardCount < 1 || !Number.isSafeInteger(parityShardCount) || dataShardCount + parityShardCount > 256) {
      throw new InvalidArgumentError('invalid shard counts');
    }
    if (blockSizeBytes < 1) throw new InvalidArgumentError('blockSizeBytes must be >= 1');
    const nodes = (await host.machine.listNodes()).map((n) => heartbeats.overlay(n));
    try {
      const placement = placeStripe({ stripeKey, dataShardCount, parityShardCount, nodes });
      return { stripeId, dataShardCount, parityShardCount, blockSizeBytes, shardNodeIds: placement.nodeIds, degradedSpread: placement.degradedSpread };
    } catch (err) {
      if (err instanceof InsufficientNodesError) throw new InsufficientStorageNodesError(err.message);
      throw err;
    }
  };
  const u = <Req, Res>(name: string, fn: (request: Req, requestId: string | undefined) => Promise<Res>): grpc.handleUnaryCall<Req, Res> => unary(logger, name, fn);
  const dataOf = (data: { stripe?: Stripe | null; inlineData?: Buffer; data?: string }): { stripe: StripeRecord | undefined; inlineData: Buffer | undefined } => ({
    stripe: data.data === 'stripe' && data.stripe ? stripeFromProto(data.stripe as Parameters<typeof stripeFromProto>[0]) : undefined,
    inlineData: data.data === 'inlineData' ? (data.inlineData ?? Buffer.alloc(0)) : undefined,
  });

  return {
    CreateBucket: u('CreateBucket', async (req, rid) =>
      bucketToProto(await propose<BucketRecord>({
        type: 'createBucket', bucket: req.bucket, owner: req.owner, createdAtMs: clock.nowMs(), ...(req.objectLockEnabled ? { objectLockEnabled: true } : {}),
      }, rid))),
    DeleteBucket: u('DeleteBucket', async (req, rid) => {
      await propose({ type: 'deleteBucket', bucket: req.bucket }, rid);
      return {};
    }),
    HeadBucket: u('HeadBucket', async (req) => bucketToProto(await read(() => host.machine.getBucket(req.bucket)))),
    SetBucketGrant: u('SetBucketGrant', async (req, rid) =>
      bucketToProto(await propose<BucketRecord>({ type: 'setBucketGrant', bucket: req.bucket, accessKeyId: req.accessKeyId, read: req.read, write: req.write, readAcp: req.readAcp, writeAcp: req.writeAcp }, rid))),
    ReplaceBucketGrants: u('ReplaceBucketGrants', async (req, rid) =>
      bucketToProto(await propose<BucketRecord>({
        type: 'replaceBucketGrants', bucket: req.bucket, grants: req.grants.map(bucketGrantRecord),
        ...(req.exactAcl === null ? {} : { exactAcl: req.exactAcl.grants.map(aclGrantFromWire) }),
      }, rid))),
    CreateAccessKey: u('CreateAccessKey', async (req, rid) => {
      const given = req.accessKeyId !== '' || req.secretAccessKey !== '';
      if (given && (req.accessKeyId === '' || req.secretAccessKey === '')) throw new InvalidArgumentError('an imported key needs both its access key id and its secret');
      const pair = given ? { accessKeyId: req.accessKeyId, secretAccessKey: req.secretAccessKey } : generateAccessKeyPair();
      const record = await propose<AccessKeyRecord>({
        type: 'createAccessKey', ...pair, name: req.name, createdAtMs: clock.nowMs(), canCreateBuckets: req.canCreateBuckets,
      }, rid);
      return accessKeyToProto(record, true);
    }),
    GetAccessKey: u('GetAccessKey', async (req) => accessKeyToProto(await read(() => host.machine.getAccessKey(req.accessKeyId)), true)),
    ListAccessKeys: u('ListAccessKeys', async () => ({ keys: (await read(() => host.machine.listAccessKeys())).map((key) => accessKeyToProto(key, false)) })),
    DeleteAccessKey: u('DeleteAccessKey', async (req, rid) => {
      await propose({ type: 'deleteAccessKey', accessKeyId: req.accessKeyId, force: req.force }, rid);
      return {};
    }),
    GetEncryptionMasterKey: u('GetEncryptionMasterKey', async (req, rid) => {
      if (req.keyId !== '') {
        const record = await read(() => host.machine.getEncryptionMasterKey(req.keyId));
        if (record === undefined) throw new NoSuchEncryptionKeyError(req.keyId);
        return { keyId: record.keyId, key: Buffer.from(record.keyBase64, 'base64'), createdAtMs: record.createdAtMs };
      }
      // Created on first use, by whichever gateway asks first: the command keeps an existing key.
      const record = (await read(() => host.machine.getEncryptionMasterKey()))
        ?? await propose<EncryptionMasterKeyRecord>({ type: 'initEncryptionMasterKey', keyBase64: randomBytes(32).toString('base64'), createdAtMs: clock.nowMs() }, rid);
      return { keyId: record.keyId, key: Buffer.from(record.keyBase64, 'base64'), createdAtMs: record.createdAtMs };
    }),
    RotateEncryptionMasterKey: u('RotateEncryptionMasterKey', async (_req, rid) => {
      const record = await propose<EncryptionMasterKeyRecord>({ type: 'rotateEncryptionMasterKey', keyBase64: randomBytes(32).toString('base64'), createdAtMs: clock.nowMs() }, rid);
      return { keyId: record.keyId, key: Buffer.alloc(0), createdAtMs: record.createdAtMs };
    }),
    ListEncryptionMasterKeys: u('ListEncryptionMasterKeys', async () => ({
      keys: (await read(() => host.machine.listEncryptionMasterKeys())).map((record) => ({ keyId: record.keyId, key: Buffer.alloc(0), createdAtMs: record.createdAtMs })),
    })),
    // validateCommand (in propose) refuses an algorithm other than AES256 or "".
    SetBucketEncryption: u('SetBucketEncryption', async (req, rid) =>
      bucketToProto(await propose<BucketRecord>({ type: 'setBucketEncryption', bucket: req.bucket, algorithm: req.algorithm as 'AES256' | '' }, rid))),
    SetBucketPolicy: u('SetBucketPolicy', async (req, rid) =>
      bucketToProto(await propose<BucketRecord>({ type: 'setBucketPolicy', bucket: req.bucket, policy: req.policy }, rid))),
    SetBucketOwnershipControls: u('SetBucketOwnershipControls', async (req, rid) =>
      bucketToProto(await propose<BucketRecord>({ type: 'setBucketOwnershipControls', bucket: req.bucket, objectOwnership: req.objectOwnership as ObjectOwnership | '' }, rid))),
    SetBucketPublicAccessBlock: u('SetBucketPublicAccessBlock', async (req, rid) => {
      const block = req.configuration;
      const configuration = block === null ? undefined : {
        blockPublicAcls: block.blockPublicAcls, ignorePublicAcls: block.ignorePublicAcls, blockPublicPolicy: block.blockPublicPolicy, restrictPublicBuckets: block.restrictPublicBuckets,
      };
      return bucketToProto(await propose<BucketRecord>({ type: 'setBucketPublicAccessBlock', bucket: req.bucket, ...(configuration === undefined ? {} : { configuration }) }, rid));
    }),
    ListBuckets: u('ListBuckets', async () => ({ buckets: (await read(() => host.machine.listBuckets())).map(bucketToProto) })),
    SetBucketCors: u('SetBucketCors', async (req, rid) =>
      bucketToProto(await propose<BucketRecord>({ type: 'setBucketCors', bucket: req.bucket, rules: req.rules.map(corsRuleFromWire) }, rid))),
    SetBucketLifecycle: u('SetBucketLifecycle', async (req, rid) =>
      bucketToProto(await propose<BucketRecord>({ type: 'setBucketLifecycle', bucket: req.bucket, rules: req.rules.map(lifecycleRuleFromWire) }, rid))),
    SetBucketObjectLock: u('SetBucketObjectLock', async (req, rid) => {
      const mode = lockModeOf(req.defaultRetentionMode);
      const defaultRetention = mode === undefined ? undefined : {
        mode, ...(req.defaultRetentionDays > 0 ? { days: req.defaultRetentionDays } : {}), ...(req.defaultRetentionYears > 0 ? { years: req.defaultRetentionYears } : {}),
      };
      return bucketToProto(await propose<BucketRecord>({ type: 'setBucketObjectLock', bucket: req.bucket, defaultRetention }, rid));
    }),
    SetObjectLock: u('SetObjectLock', async (req, rid) => {
      const retentionMode = req.retentionAction === 'set' ? lockModeOf(req.retentionMode) : undefined;
      if (req.retentionAction === 'set' && retentionMode === undefined) throw new InvalidArgumentError('retention mode must be GOVERNANCE or COMPLIANCE');
      const retention = retentionMode !== undefined
        ? { retention: { mode: retentionMode, untilMs: req.retainUntilMs } } : req.retentionAction === 'remove' ? { retention: null } : {};
      const legalHold = req.legalHoldAction === 'on' ? { legalHold: true } : req.legalHoldAction === 'off' ? { legalHold: false } : {};
      return objectToProto(await propose<ObjectVersionRecord>({
        type: 'setObjectLock', bucket: req.bucket, key: req.key, versionId: req.versionId === '' ? undefined : req.versionId,
        ...retention, ...legalHold, bypassGovernance: req.bypassGovernance, nowMs: clock.nowMs(),
      }, rid));
    }),
    SetBucketVersioning: u('SetBucketVersioning', async (req, rid) => {
      if (req.status !== 'Enabled' && req.status !== 'Suspended') throw new InvalidArgumentError('versioning status must be Enabled or Suspended');
      return bucketToProto(await propose<BucketRecord>({ type: 'setBucketVersioning', bucket: req.bucket, status: req.status }, rid));
    }),
    SetBucketTags: u('SetBucketTags', async (req, rid) =>
      bucketToProto(await propose<BucketRecord>({ type: 'setBucketTags', bucket: req.bucket, tags: req.tags.map(({ key, value }) => ({ key, value })) }, rid))),

    BeginWrite: u('BeginWrite', async (req, rid) => {
      validateBucketName(req.bucket);
      validateObjectKey(req.key);
      if (!host.isLeader()) throw host.notLeaderError();
      const writeId = newId();
      const stripe = await placeFor(`${req.bucket}/${req.key}/${writeId}`, writeId, req.dataShardCount, req.parityShardCount, req.blockSizeBytes);
      const write = await propose<WriteRecord>({ type: 'beginWrite', bucket: req.bucket, key: req.key, writeId, stripe, startedAtMs: clock.nowMs() }, rid);
      // The version id is the write id: a retried BeginWrite (same request id) gets both back.
      return { writeId: write.writeId, versionId: write.writeId, stripe: stripeToProto(write.stripe) };
    }),
    CommitVersion: u('CommitVersion', async (req, rid) => {
      const { stripe, inlineData } = dataOf(req);
      const record = await propose<ObjectVersionRecord>({
        type: 'commitVersion', writeId: req.writeId === '' ? undefined : req.writeId, bucket: req.bucket, key: req.key,
        versionId: req.versionId === '' ? newId() : req.versionId, sizeBytes: req.sizeBytes, etag: req.etag, checksums: req.checksums,
        contentType: req.contentType, systemMetadata: req.systemMetadata, userMetadata: req.userMetadata,
        storageClass: req.storageClass === '' ? 'STANDARD' : req.storageClass, createdAtMs: clock.nowMs(), stripe, inlineData,
        ...conditionOf(req.condition),
      }, rid);
      return objectToProto(record);
    }),
    AbortWrite: u('AbortWrite', async (req, rid) => {
      await propose({ type: 'abortWrite', writeId: req.writeId, reason: req.reason, abortedAtMs: clock.nowMs() }, rid);
      return {};
    }),
    GetObject: u('GetObject', async (req) => {
      const record = await read(() => host.machine.getObject(req.bucket, req.key, req.versionId));
      if (record.systemMetadata[sseAlgorithmMetadataKey] !== undefined && !req.readsEncrypted) {
        throw new EncryptedObjectError(`${req.bucket}/${req.key} is encrypted (SSE-S3) and this caller does not decrypt; upgrade the gateway`);
      }
      return objectToProto(record);
    }),
    ListObjects: u('ListObjects', async (req) => {
      const page = await read(async () => {
        await host.machine.getBucket(req.bucket);
        return listObjects(host.machine.db, {
          bucket: req.bucket, prefix: req.prefix, delimiter: req.delimiter, startAfter: req.startAfter,
          continuationToken: req.continuationToken, maxKeys: req.maxKeys,
        });
      });
      return {
        objects: page.objects.map(listedObjectToProto), commonPrefixes: [...page.commonPrefixes], isTruncated: page.isTruncated,
        nextContinuationToken: page.nextContinuationToken ?? '', nextMarker: page.nextMarker ?? '',
      };
    }),
    ListObjectVersions: u('ListObjectVersions', async (req) => {
      const page = await read(async () =>
        listObjectVersions(host.machine.db, {
          bucket: await host.machine.getBucket(req.bucket), prefix: req.prefix, delimiter: req.delimiter, keyMarker: req.keyMarker,
          versionIdMarker: req.versionIdMarker, maxKeys: req.maxKeys,
        }));
      return {
        versions: page.versions.map(listedVersionToProto), commonPrefixes: [...page.commonPrefixes], isTruncated: page.isTruncated,
        nextKeyMarker: page.nextKeyMarker ?? '', nextVersionIdMarker: page.nextVersionIdMarker ?? '',
      };
    }),
    DeleteObject: u('DeleteObject', async (req, rid) =>
      propose<DeleteObjectResult>({
        type: 'deleteObject', bucket: req.bucket, key: req.key, deletedAtMs: clock.nowMs(), markerVersionId: newId(),
        ...(req.versionId === '' ? {} : { versionId: req.versionId }),
        ...(req.ifCurrent === null ? {} : { ifCurrent: { createdAtMs: req.ifCurrent.createdAtMs, etag: req.ifCurrent.etag } }),
        ...(req.bypassGovernance ? { bypassGovernance: true } : {}),
        ...(req.ifMatchEtag === '' ? {} : { ifMatchEtag: req.ifMatchEtag }),
      }, rid)),
    UpdateObjectMetadata: u('UpdateObjectMetadata', async (req, rid) =>
      objectToProto(await propose<ObjectVersionRecord>({
        type: 'updateObjectMetadata', bucket: req.bucket, key: req.key, versionId: req.versionId === '' ? undefined : req.versionId,
        setSystemMetadata: req.setSystemMetadata, removeSystemMetadata: req.removeSystemMetadata,
      }, rid))),

    CreateMultipartUpload: u('CreateMultipartUpload', async (req, rid) =>
      uploadToProto(await propose<UploadRecord>({
        type: 'createUpload', bucket: req.bucket, key: req.key, uploadId: newId(), initiatedAtMs: clock.nowMs(),
        contentType: req.contentType, systemMetadata: req.systemMetadata, userMetadata: req.userMetadata,
        storageClass: req.storageClass === '' ? 'STANDARD' : req.storageClass, owner: req.owner,
      }, rid))),
    RegisterPart: u('RegisterPart', async (req, rid) => {
      const { stripe, inlineData } = dataOf(req);
      return partToProto(await propose<PartRecord>({
        type: 'registerPart', bucket: req.bucket, key: req.key, uploadId: req.uploadId, partNumber: req.partNumber,
        sizeBytes: req.sizeBytes, etag: req.etag, checksums: req.checksums, stripe, inlineData, createdAtMs: clock.nowMs(),
        ...(req.cipherIv === '' ? {} : { cipherIv: req.cipherIv }),
      }, rid));
    }),
    ListParts: u('ListParts', async (req) =>
      read(async () => {
        await host.machine.getUpload(req.bucket, req.key, req.uploadId);
        const maxParts = req.maxParts === 0 ? 1000 : Math.min(req.maxParts, 1000);
        const after = (await host.machine.partsOf(req.uploadId)).filter((part) => part.partNumber > req.partNumberMarker);
        const page = after.slice(0, maxParts);
        const isTruncated = after.length > maxParts;
        return { parts: page.map(partToProto), isTruncated, nextPartNumberMarker: isTruncated ? (page[page.length - 1]?.partNumber ?? 0) : 0 };
      })),
    CompleteMultipartUpload: u('CompleteMultipartUpload', async (req, rid) =>
      objectToProto(await propose<ObjectVersionRecord>({
        type: 'completeUpload', bucket: req.bucket, key: req.key, uploadId: req.uploadId, versionId: newId(),
        parts: req.parts.map((part) => ({ partNumber: part.partNumber, etag: part.etag })), completedAtMs: clock.nowMs(),
        checksums: { ...req.checksums },
        ...conditionOf(req.condition),
      }, rid))),
    AbortMultipartUpload: u('AbortMultipartUpload', async (req, rid) => {
      await propose({ type: 'abortUpload', bucket: req.bucket, key: req.key, uploadId: req.uploadId, abortedAtMs: clock.nowMs() }, rid);
      return {};
    }),
    ListMultipartUploads: u('ListMultipartUploads', async (req) =>
      read(async () => {
        await host.machine.getBucket(req.bucket);
        const page = await listUploads(host.machine.db, {
          bucket: req.bucket, prefix: req.prefix, keyMarker: req.keyMarker, uploadIdMarker: req.uploadIdMarker, maxUploads: req.maxUploads,
        });
        return { ...page, uploads: page.uploads.map(uploadToProto) };
      })),

    RegisterNode: u('RegisterNode', async (req, rid) =>
      nodeToProto(await propose<StorageNodeRecord>({
        type: 'registerNode', nodeId: req.nodeId, az: req.az, address: req.address, capacityBytes: req.capacityBytes,
        freeBytes: req.freeBytes, storedBytes: req.storedBytes, registeredAtMs: clock.nowMs(), ...(req.readmit ? { readmit: true } : {}),
      }, rid))),
    RemoveNode: u('RemoveNode', async (req, rid) => {
      // Exact count outside the Raft loop (apply only counts up to a bound); a node that
      // still holds shards is refused here without a proposal. Apply checks again (a shard may
      // have been placed meanwhile).
      // An unknown node goes to apply, which answers NoSuchStorageNode or, for a retried
      // request id whose first attempt removed it, the first attempt's result.
      if (!host.isLeader()) throw host.notLeaderError();
      const known = (await host.machine.listNodes()).some((n) => n.nodeId === req.nodeId);
      const shardCount = known ? await host.machine.countNodeShards(req.nodeId) : 0;
      if (shardCount > 0 && !req.force) throw new StorageNodeNotEmptyError(req.nodeId, shardCount);
      const result = await propose<RemoveNodeResult>({
        type: 'removeNode', nodeId: req.nodeId, force: req.force, reason: req.reason === '' ? 'removed by operator' : req.reason, removedAtMs: clock.nowMs(),
      }, rid);
      return { ...result, shardCount: result.forgotten ? result.shardCount : Math.max(result.shardCount, shardCount) };
    }),
    ListRemovedNodes: u('ListRemovedNodes', async () => ({ nodes: await read(() => host.machine.listRemovedNodes()) })),
    GetCatalogueStats: u('GetCatalogueStats', async () => {
      const stats = await read(() => host.machine.catalogueStats());
      return {
        ...stats,
        buckets: stats.buckets.map((b) => ({ ...b, noncurrentVersionCount: b.noncurrentVersionCount ?? 0, noncurrentVersionBytes: b.noncurrentVersionBytes ?? 0, deleteMarkerCount: b.deleteMarkerCount ?? 0 })),
      };
    }),
    // Committed only when the catalogue needs it (StorageNodeHeartbeats); otherwise the leader
    // remembers it and answers from its state. Either way a removed node is refused
    // (StorageNodeRemovedError) and an unknown one gets NoSuchStorageNode (it registers again).
    Heartbeat: u('Heartbeat', async (req, rid) => {
      if (!host.isLeader()) throw host.notLeaderError();
      const heartbeatAtMs = clock.nowMs();
      // A leader elected a moment ago may not have applied every committed entry yet (a readmit,
      // a registration): read the state only once it has, as every read does.
      await host.linearizableRead();
      await host.machine.refuseRemovedNode(req.nodeId);
      const persisted = await host.machine.getNode(req.nodeId);
      if (!heartbeats.observe(req.nodeId, { atMs: heartbeatAtMs, capacityBytes: req.capacityBytes, freeBytes: req.freeBytes, storedBytes: req.storedBytes }, persisted)) {
        return nodeToProto(heartbeats.overlay(persisted));
      }
      return nodeToProto(await propose<StorageNodeRecord>({
        type: 'heartbeat', nodeId: req.nodeId, capacityBytes: req.capacityBytes, freeBytes: req.freeBytes, storedBytes: req.storedBytes, heartbeatAtMs,
      }, rid));
    }),
    SetNodeState: u('SetNodeState', async (req, rid) =>
      nodeToProto(await propose<StorageNodeRecord>({
        type: 'setNodeState', nodeId: req.nodeId, state: req.state as NodeState, changedAtMs: clock.nowMs(), reason: req.reason,
      }, rid))),
    ListNodes: u('ListNodes', async () => ({ nodes: (await read(() => host.machine.listNodes())).map((n) => nodeToProto(heartbeats.overlay(n))) })),
    PlaceStripe: u('PlaceStripe', async (req) =>
      stripeToProto(await read(() => placeFor(req.stripeKey, newId(), req.dataShardCount, req.parityShardCount, req.blockSizeBytes)))),

    ListQueue: u('ListQueue', async (req) =>
      ({ items: (await read(() => host.machine.listQueue(req.limit === 0 ? 100 : Math.min(req.limit, 10_000)))).map(queueItemToProto) })),
    AckQueueItem: u('AckQueueItem', async (req, rid) => {
      await propose({ type: 'ackQueueItem', itemId: req.itemId }, rid);
      return {};
    }),

    ReplaceShards: u('ReplaceShards', async (req, rid) => {
      const degradedSpread = req.degradedSpread === 'true' ? true : req.degradedSpread === 'false' ? false : undefined;
      if (req.degradedSpread !== '' && req.degradedSpread !== 'keep' && degradedSpread === undefined) throw new InvalidArgumentError('degradedSpread must be keep, true or false');
      const result = await propose<ReplaceShardsResult>({
        type: 'replaceShards', owner: ownerFromProto(req.owner), stripeId: req.stripeId,
        changes: req.changes.map((c) => ({ shardIndex: c.shardIndex, fromNodeId: c.fromNodeId, toNodeId: c.toNodeId })),
        degradedSpread, replacedAtMs: clock.nowMs(),
      }, rid);
      return { replaced: result.replaced, reason: result.reason, stripe: result.stripe === undefined ? null : stripeToProto(result.stripe) };
    }),
    EnqueueRepair: u('EnqueueRepair', async (req, rid) => {
      if (req.stripe === null || req.stripe === undefined) throw new InvalidArgumentError('stripe is required');
      return propose<{ itemId: string; deduplicated: boolean }>({
        type: 'enqueueRepair', stripe: stripeFromProto(req.stripe as Parameters<typeof stripeFromProto>[0]), reason: req.reason, enqueuedAtMs: clock.nowMs(),
      }, rid);
    }),
    ClaimQueueItems: u('ClaimQueueItems', async (req, rid) => {
      const items = await propose<QueueItemRecord[]>({
        type: 'claimQueueItems', kind: req.kind as QueueItemRecord['kind'], workerId: req.workerId, leaseMs: req.leaseMs,
        itemCountMax: req.limit === 0 ? 100 : req.limit, nowMs: clock.nowMs(),
      }, rid);
      return { items: items.map(queueItemToProto) };
    }),
    LocateStripe: u('LocateStripe', async (req) =>
      locationToProto(await read(() => host.machine.locateStripe(stripeFromProto(req as Parameters<typeof stripeFromProto>[0]))))),
    ListNodeShards: u('ListNodeShards', async (req) =>
      read(async () => {
        const limit = req.limit === 0 ? 1000 : Math.min(req.limit, 10_000);
        const entries = await host.machine.listNodeShards(req.nodeId, req.afterStripeId, req.afterShardIndex, limit + 1);
        const page = entries.slice(0, limit);
        const shards = [];
        for (const entry of page) {
          const located = await host.machine.locate(entry.owner, entry.stripeId);
          shards.push({ stripeId: entry.stripeId, shardIndex: entry.shardIndex, location: locationToProto(located) });
        }
        return { shards, isTruncated: entries.length > limit };
      })),
    LookupShards: u('LookupShards', async (req) =>
      read(async () => {
        if (req.shards.length > 10_000) throw new InvalidArgumentError('at most 10000 shards per lookup');
        const results = [];
        for (const ref of req.shards) results.push(await host.machine.lookupShard(req.nodeId, ref.stripeId, ref.shardIndex));
        return { results };
      })),
    GetHealBacklog: u('GetHealBacklog', async () => read(() => host.machine.healBacklog())),

    GetClusterStatus: u('GetClusterStatus', async () => clusterStatus(host)),
    ChangeMembership: u('ChangeMembership', async (req, rid) => {
      if (req.kind !== 'addLearner' && req.kind !== 'add' && req.kind !== 'remove') throw new InvalidArgumentError(`unknown membership change ${req.kind}`);
      if (!host.isLeader()) throw host.notLeaderError();
      if (req.address !== '') await propose({ type: 'setMetadataMember', nodeId: req.nodeId, address: req.address }, rid);
      else if (req.kind !== 'remove' && host.memberAddress(req.nodeId) === undefined) throw new InvalidArgumentError(`address required for new member ${req.nodeId}`);
      await host.changeMembership({ kind: req.kind, nodeId: req.nodeId });
      return clusterStatus(host);
    }),
  };
}

/**
 * The wire condition as a command field; an unset or empty condition adds nothing, so
 * unconditional commands keep their previous encoding.
 */
function conditionOf(condition: WriteConditionProto | null | undefined): { condition?: WriteCondition } {
  if (condition === null || condition === undefined) return {};
  const ifNoneMatchAny = condition.ifNoneMatchAny === true;
  const ifMatchEtag = condition.ifMatchEtag === undefined || condition.ifMatchEtag === '' ? undefined : condition.ifMatchEtag;
  const ifNoneMatchEtags = condition.ifNoneMatchEtags === undefined || condition.ifNoneMatchEtags === '' ? undefined : condition.ifNoneMatchEtags;
  if (!ifNoneMatchAny && ifMatchEtag === undefined && ifNoneMatchEtags === undefined) return {};
  return { condition: { ifNoneMatchAny, ifMatchEtag, ...(ifNoneMatchEtags === undefined ? {} : { ifNoneMatchEtags }) } };
}

function locationToProto(located: LocatedStripe | undefined): StripeLocation {
  if (located === undefined) return { found: false };
  return { found: true, owner: ownerToProto(located.owner), dataSizeBytes: located.dataSizeBytes, stripe: stripeToProto(located.stripe) };
}

function clusterStatus(host: RaftHost): ClusterStatus {
  const status = host.status();
  const members = [
    ...status.membership.voters.map((nodeId) => ({ nodeId, address: host.memberAddress(nodeId) ?? '', voter: true })),
    ...status.membership.learners.map((nodeId) => ({ nodeId, address: host.memberAddress(nodeId) ?? '', voter: false })),
  ];
  return {
    nodeId: status.id, role: status.role, leaderId: status.leaderId ?? '', leaderAddress: host.leaderAddress() ?? '',
    term: status.term, commitIndex: status.commitIndex, appliedIndex: host.machine.appliedIndex, members,
    recoveringFromDataLoss: status.recoveringFromDataLoss,
  };
}

import type { AccessKey } from '@tessera/proto/generated/tessera/metadata/v1/AccessKey';
import type { Bucket } from '@tessera/proto/generated/tessera/metadata/v1/Bucket';
import type { ObjectVersion } from '@tessera/proto/generated/tessera/metadata/v1/ObjectVersion';
import type { Part } from '@tessera/proto/generated/tessera/metadata/v1/Part';
import type { PartLayout } from '@tessera/proto/generated/tessera/metadata/v1/PartLayout';
import type { QueueItem } from '@tessera/proto/generated/tessera/metadata/v1/QueueItem';
import type { StorageNode } from '@tessera/proto/generated/tessera/metadata/v1/StorageNode';
import type { Stripe, Stripe__Output } from '@tessera/proto/generated/tessera/metadata/v1/Stripe';
import type { Upload } from '@tessera/proto/generated/tessera/metadata/v1/Upload';
import type { StripeOwner as StripeOwnerProto, StripeOwner__Output } from '@tessera/proto/generated/tessera/metadata/v1/StripeOwner';
import { assertNever } from '@tessera/common';
import { corsRuleToWire, InvalidArgumentError, lifecycleRuleToWire } from '@tessera/rpc';
import type {
  AccessKeyRecord, BucketRecord, ListedObjectVersion, ObjectVersionRecord, PartLayout as PartLayoutRecord, PartRecord, QueueItemRecord, StorageNodeRecord, StripeRecord,
  StripeOwner, UploadRecord,
} from './model';
import { isDeleteMarker, withoutLayout } from './model';
import type { ListedVersion } from './list-versions';

/** Record <-> wire conversions for the Metadata gRPC service; field names match one to one. */
export function stripeToProto(stripe: StripeRecord): Stripe {
  return { ...stripe, shardNodeIds: [...stripe.shardNodeIds] };
}

export function stripeFromProto(stripe: Stripe__Output): StripeRecord {
  return {
    stripeId: stripe.stripeId, dataShardCount: stripe.dataShardCount, parityShardCount: stripe.parityShardCount,
    blockSizeBytes: stripe.blockSizeBytes, shardNodeIds: [...stripe.shardNodeIds], degradedSpread: stripe.degradedSpread,
  };
}

export function bucketToProto(bucket: BucketRecord): Bucket {
  const { corsRules, lifecycleRules, objectLock, grants, defaultEncryption, policy, publicAccessBlock, objectOwnership, exactAcl, ...rest } = bucket;
  const defaultRetention = objectLock?.defaultRetention;
  return {
    ...rest, tags: (bucket.tags ?? []).map((tag) => ({ ...tag })), corsRules: (corsRules ?? []).map(corsRuleToWire),
    lifecycleRules: (lifecycleRules ?? []).map(lifecycleRuleToWire),
    objectLockEnabled: objectLock !== undefined, defaultRetentionMode: defaultRetention?.mode ?? '',
    defaultRetentionDays: defaultRetention?.days ?? 0, defaultRetentionYears: defaultRetention?.years ?? 0,
    grants: (grants ?? []).map((grant) => ({ ...grant })), defaultEncryption: defaultEncryption ?? '',
    policy: policy ?? '',
    publicAccessBlock: publicAccessBlock === undefined ? null : { ...publicAccessBlock },
    objectOwnership: objectOwnership ?? '',
    exactAcl: exactAcl === undefined ? null : { grants: exactAcl.map((grant) => ({ ...grant })) },
  };
}

/** `withSecret: false` for listings: a secret leaves the catalogue only for one named key. */
export function accessKeyToProto(key: AccessKeyRecord, withSecret: boolean): AccessKey {
  return { ...key, secretAccessKey: withSecret ? key.secretAccessKey : '' };
}

function partLayoutToProto(part: PartLayoutRecord): PartLayout {
  const base = { partNumber: part.partNumber, sizeBytes: part.sizeBytes, etag: part.etag, cipherIv: part.cipherIv ?? '', checksums: { ...part.checksums } };
  return part.stripe !== undefined && part.stripe !== null ? { ...base, stripe: stripeToProto(part.stripe) } : { ...base, inlineData: part.inlineData ?? Buffer.alloc(0) };
}

export function objectToProto(object: ObjectVersionRecord): ObjectVersion {
  const { layout } = object;
  const base = listedObjectToProto(withoutLayout(object));
  switch (layout.kind) {
    case 'stripe':
      return { ...base, stripe: stripeToProto(layout.stripe) };
    case 'inline':
      return { ...base, inlineData: layout.data };
    case 'multipart':
      return { ...base, multipart: { parts: layout.parts.map(partLayoutToProto) } };
  }
}

/**
 * A listed object version: listings leave the layout out (no stripe, inline bytes or parts). A
 * listing needs none of it, and a page of 1,000 objects must not grow with their data. A
 * multipart object's layout is about 250 bytes per part, so a page of fourteen 10 GB objects
 * uploaded in 8 MiB parts was over 4 MB, past gRPC's default message limit, and the listing
 * failed. GetObject returns the layout.
 */
export function listedObjectToProto(object: ListedObjectVersion): ObjectVersion {
  const { versioned: _versioned, sequence: _sequence, ...fields } = object;
  return { ...fields, checksums: { ...fields.checksums }, systemMetadata: { ...fields.systemMetadata }, userMetadata: { ...fields.userMetadata } };
}

/** A ListObjectVersions entry: an object version without its layout, or a delete marker. */
export function listedVersionToProto(listed: ListedVersion): ObjectVersion {
  const { version, isLatest } = listed;
  if (!isDeleteMarker(version)) return { ...listedObjectToProto(version), isLatest };
  return { bucket: version.bucket, key: version.key, versionId: version.versionId, createdAtMs: version.createdAtMs, deleteMarker: true, isLatest };
}

export function partToProto(part: PartRecord): Part {
  const base: Part = {
    uploadId: part.uploadId, partNumber: part.partNumber, sizeBytes: part.sizeBytes, etag: part.etag,
    checksums: { ...part.checksums }, createdAtMs: part.createdAtMs, cipherIv: part.cipherIv ?? '',
  };
  return part.stripe !== undefined && part.stripe !== null ? { ...base, stripe: stripeToProto(part.stripe) } : { ...base, inlineData: part.inlineData ?? Buffer.alloc(0) };
}

export function uploadToProto(upload: UploadRecord): Upload {
  return { ...upload, systemMetadata: { ...upload.systemMetadata }, userMetadata: { ...upload.userMetadata } };
}

export function nodeToProto(node: StorageNodeRecord): StorageNode {
  return { ...node, storedBytes: node.storedBytes ?? 0 };
}

export function queueItemToProto(item: QueueItemRecord): QueueItem {
  return { ...item, stripe: stripeToProto(item.stripe), leaseOwner: item.leaseOwner ?? '', leaseExpiresAtMs: item.leaseExpiresAtMs ?? 0 };
}

export function ownerToProto(owner: StripeOwner): StripeOwnerProto {
  switch (owner.kind) {
    case 'object':
      return { kind: owner.kind, bucket: owner.bucket, key: owner.key };
    case 'objectPart':
      return { kind: owner.kind, bucket: owner.bucket, key: owner.key, partNumber: owner.partNumber };
    case 'uploadPart':
      return { kind: owner.kind, uploadId: owner.uploadId, partNumber: owner.partNumber };
    default:
      return assertNever(owner, 'stripe owner');
  }
}

/** Wire → record; validateCommand checks the fields afterwards. */
export function ownerFromProto(owner: StripeOwner__Output | null | undefined): StripeOwner {
  if (owner === null || owner === undefined) throw new InvalidArgumentError('owner is required');
  switch (owner.kind) {
    case 'object':
      return { kind: 'object', bucket: owner.bucket, key: owner.key };
    case 'objectPart':
      return { kind: 'objectPart', bucket: owner.bucket, key: owner.key, partNumber: owner.partNumber };
    case 'uploadPart':
      return { kind: 'uploadPart', uploadId: owner.uploadId, partNumber: owner.partNumber };
    default:
      throw new InvalidArgumentError(`unknown stripe owner kind ${owner.kind}`);
  }
}

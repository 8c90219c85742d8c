import { assertNever } from '@tessera/common';
import type { NodeState } from '@tessera/placement';
import { InvalidArgumentError, accessKeyPairProblem } from '@tessera/rpc';
import { jsonWithBase64Buffers, parseJsonWithBase64Buffers } from './catalogue-db';
import { aclPermissions, isAclPermission } from './model';
import type { AclGrantRecord, BucketGrantRecord, CorsRuleRecord, ObjectOwnership, PublicAccessBlockRecord, DeleteCondition, LifecycleRuleRecord, ObjectLockRecord, ShardChange, StripeOwner, StripeRecord, StringMap, TagRecord, WriteCondition } from './model';
import {
  validateBucketName, validateBucketTags, validateCorsRules, validateEtag, validateLifecycleRules, validateId, validateNonNegativeInteger, validateObjectKey, validatePartNumber,
  validateShortString, validateStringMap, validateStripe, validateSystemMetadata, validateUserMetadata,
} from './validation';

/**
 * The replicated commands. Everything apply needs is inside the command: timestamps and ids
 * are chosen by the proposing node (its clock, its randomness) before proposal, so apply is a
 * pure function of (state, command) and every replica reaches the same state.
 */
export type Command =
  | {
      readonly type: 'createBucket'; readonly bucket: string; readonly owner: string; readonly createdAtMs: number;
      /** S3 x-amz-bucket-object-lock-enabled: Object Lock on, versioning Enabled. */
      readonly objectLockEnabled?: boolean;
    }
  /** PutObjectLockConfiguration: enables Object Lock (versioning must be Enabled) and sets the default retention. */
  | { readonly type: 'setBucketObjectLock'; readonly bucket: string; readonly defaultRetention: ObjectLockRecord['defaultRetention'] | undefined }
  /**
   * PutObjectRetention / PutObjectLegalHold on one version: `retention` set, or `null` to
   * remove it, or absent to keep it; `legalHold` likewise. Checked against S3's rules at apply
   * (object-lock.ts) with the proposer's `nowMs`.
   */
  | {
      readonly type: 'setObjectLock'; readonly bucket: string; readonly key: string; readonly versionId: string | undefined;
      readonly retention?: { readonly mode: 'GOVERNANCE' | 'COMPLIANCE'; readonly untilMs: number } | null;
      readonly legalHold?: boolean; readonly bypassGovernance: boolean; readonly nowMs: number;
    }
  /** Sets (or, with every permission false, removes) one access key's grant on a bucket. */
  | {
    readonly type: 'setBucketGrant'; readonly bucket: string; readonly accessKeyId: string; readonly read: boolean; readonly write: boolean;
    /** Absent in commands logged before the ACL permissions existed: false. */
    readonly readAcp?: boolean; readonly writeAcp?: boolean;
  }
  /** Replaces all the bucket's grants (PutBucketAcl); each with at least one permission, at most one per key. */
  | { readonly type: 'replaceBucketGrants'; readonly bucket: string; readonly grants: readonly BucketGrantRecord[]; readonly exactAcl?: readonly AclGrantRecord[] }
  /** Id and secret are chosen by the proposer (generated, or imported by the operator). */
  | {
      readonly type: 'createAccessKey'; readonly accessKeyId: string; readonly secretAccessKey: string; readonly name: string;
      readonly createdAtMs: number; readonly canCreateBuckets: boolean;
    }
  /** Refused while the key owns buckets unless `force`; its grants go with it. */
  | { readonly type: 'deleteAccessKey'; readonly accessKeyId: string; readonly force: boolean }
  /** S3 PutBucketEncryption ('AES256') and DeleteBucketEncryption (''). */
  | { readonly type: 'setBucketEncryption'; readonly bucket: string; readonly algorithm: 'AES256' | '' }
  /** S3 PutBucketPolicy (the JSON document) and DeleteBucketPolicy (''). */
  | { readonly type: 'setBucketPolicy'; readonly bucket: string; readonly policy: string }
  /** S3 PutPublicAccessBlock (the settings) and DeletePublicAccessBlock (undefined). */
  | { readonly type: 'setBucketPublicAccessBlock'; readonly bucket: string; readonly configuration?: PublicAccessBlockRecord }
  /**
   * S3 PutBucketOwnershipControls and DeleteBucketOwnershipControls (''). BucketOwnerEnforced is
   * refused (InvalidArgumentError) while the bucket has grants: its ACL gives others access.
   */
  | { readonly type: 'setBucketOwnershipControls'; readonly bucket: string; readonly objectOwnership: ObjectOwnership | '' }
  /**
   * Stores the SSE-S3 master key unless one exists; answers the stored one either way, so
   * gateways asking at the same time all get the first.
   */
  | { readonly type: 'initEncryptionMasterKey'; readonly keyBase64: string; readonly createdAtMs: number }
  /** Makes a new master key current; the previous ones stay, by id, to open what they sealed. */
  | { readonly type: 'rotateEncryptionMasterKey'; readonly keyBase64: string; readonly createdAtMs: number }
  /** Replaces the bucket's tag set (S3 bucket tagging); an empty list removes it. */
  | { readonly type: 'setBucketTags'; readonly bucket: string; readonly tags: readonly TagRecord[] }
  | { readonly type: 'setBucketCors'; readonly bucket: string; readonly rules: readonly CorsRuleRecord[] }
  | { readonly type: 'setBucketLifecycle'; readonly bucket: string; readonly rules: readonly LifecycleRuleRecord[] }
  | { readonly type: 'deleteBucket'; readonly bucket: string }
  /** S3 PutBucketVersioning: once set, a bucket never returns to Unversioned. */
  | { readonly type: 'setBucketVersioning'; readonly bucket: string; readonly status: 'Enabled' | 'Suspended' }
  | {
      readonly type: 'beginWrite'; readonly bucket: string; readonly key: string; readonly writeId: string;
      readonly stripe: StripeRecord; readonly startedAtMs: number;
    }
  | ({
      readonly type: 'commitVersion'; readonly writeId: string | undefined;
      /** S3 If-None-Match / If-Match, evaluated at apply; on failure the write is released. */
      readonly condition?: WriteCondition;
    } & VersionFields)
  | { readonly type: 'abortWrite'; readonly writeId: string; readonly reason: string; readonly abortedAtMs: number }
  | {
      readonly type: 'deleteObject'; readonly bucket: string; readonly key: string; readonly deletedAtMs: number;
      /** Deletes this version for good (S3 DeleteObject ?versionId); absent: the key's latest. */
      readonly versionId?: string;
      /** Proposer-chosen tail of the delete marker's version id (versioning Enabled). */
      readonly markerVersionId?: string;
      /** Only if the current version is still this one (lifecycle), else PreconditionFailedError. */
      readonly ifCurrent?: DeleteCondition;
      /** x-amz-bypass-governance-retention: a version under GOVERNANCE retention may be deleted. */
      readonly bypassGovernance?: boolean;
      /**
       * S3 If-Match: only if the version the delete removes is an object with this ETag ("*":
       * any object), else PreconditionFailedError, or NoSuchKeyError when there is none.
       */
      readonly ifMatchEtag?: string;
    }
  | {
      /** Sets, then removes, system-metadata entries of the current version (S3 object tagging). */
      readonly type: 'updateObjectMetadata'; readonly bucket: string; readonly key: string;
      /** Undefined: whichever version is current at apply. */
      readonly versionId: string | undefined;
      readonly setSystemMetadata: StringMap; readonly removeSystemMetadata: readonly string[];
    }
  | {
      readonly type: 'createUpload'; readonly bucket: string; readonly key: string; readonly uploadId: string;
      readonly initiatedAtMs: number; readonly contentType: string; readonly systemMetadata: StringMap;
      readonly userMetadata: StringMap; readonly storageClass: string; readonly owner: string;
    }
  | {
      readonly type: 'registerPart'; readonly bucket: string; readonly key: string; readonly uploadId: string;
      readonly partNumber: number; readonly sizeBytes: number; readonly etag: string; readonly checksums: StringMap;
      readonly stripe: StripeRecord | undefined; readonly inlineData: Buffer | undefined; readonly createdAtMs: number;
      /** Base64 16-byte AES-CTR counter block of an encrypted part; '' or absent = not encrypted. */
      readonly cipherIv?: string;
    }
  | {
      readonly type: 'completeUpload'; readonly bucket: string; readonly key: string; readonly uploadId: string;
      readonly versionId: string; readonly parts: readonly { readonly partNumber: number; readonly etag: string }[];
      readonly completedAtMs: number;
      /** The object's checksums, formed by the gateway from the parts'; absent in entries logged before they were stored. */
      readonly checksums?: StringMap;
      /** S3 If-None-Match / If-Match, evaluated at apply; on failure the upload stays. */
      readonly condition?: WriteCondition;
    }
  | { readonly type: 'abortUpload'; readonly bucket: string; readonly key: string; readonly uploadId: string; readonly abortedAtMs: number }
  | {
      readonly type: 'registerNode'; readonly nodeId: string; readonly az: string; readonly address: string;
      readonly capacityBytes: number; readonly freeBytes: number; readonly registeredAtMs: number;
      /** Absent in entries written before nodes reported it. */
      readonly storedBytes?: number;
      /** Operator re-add: clears a removal. A node's own registration never sets it. */
      readonly readmit?: boolean;
    }
  | { readonly type: 'removeNode'; readonly nodeId: string; readonly force: boolean; readonly reason: string; readonly removedAtMs: number }
  | {
      readonly type: 'heartbeat'; readonly nodeId: string; readonly capacityBytes: number; readonly freeBytes: number; readonly heartbeatAtMs: number;
      /** Absent in entries written before nodes reported it. */
      readonly storedBytes?: number;
    }
  | { readonly type: 'setNodeState'; readonly nodeId: string; readonly state: NodeState; readonly changedAtMs: number; readonly reason: string }
  | { readonly type: 'ackQueueItem'; readonly itemId: string }
  | { readonly type: 'setMetadataMember'; readonly nodeId: string; readonly address: string }
  | { readonly type: 'expireRequests'; readonly beforeMs: number }
  | {
      readonly type: 'replaceShards'; readonly owner: StripeOwner; readonly stripeId: string; readonly changes: readonly ShardChange[];
      /** New value of the stripe's degradedSpread flag; undefined keeps it. */
      readonly degradedSpread: boolean | undefined; readonly replacedAtMs: number;
    }
  | { readonly type: 'enqueueRepair'; readonly stripe: StripeRecord; readonly reason: string; readonly enqueuedAtMs: number }
  | {
      readonly type: 'claimQueueItems'; readonly kind: 'gcStripe' | 'repairStripe'; readonly workerId: string;
      readonly leaseMs: number; readonly itemCountMax: number; readonly nowMs: number;
    };

/**
 * A client's idempotency key. A write retried with the same request id (after a timeout whose
 * outcome was unknown) returns the first attempt's result instead of applying twice.
 */
export interface RequestStamp {
  readonly requestId: string;
  /** Proposer's wall clock; dedup records are kept for a while after it (see expireRequests). */
  readonly requestedAtMs: number;
}

/** What a Raft entry carries: a command, optionally stamped with a request id. */
export type StampedCommand = Command & { readonly request?: RequestStamp };

export type CommandType = Command['type'];

/** The fields of a committed object version (single-part PUT). */
export interface VersionFields {
  readonly bucket: string;
  readonly key: string;
  readonly versionId: string;
  readonly sizeBytes: number;
  readonly etag: string;
  readonly checksums: StringMap;
  readonly contentType: string;
  readonly systemMetadata: StringMap;
  readonly userMetadata: StringMap;
  readonly storageClass: string;
  readonly createdAtMs: number;
  /** Exactly one of stripe / inlineData. */
  readonly stripe: StripeRecord | undefined;
  readonly inlineData: Buffer | undefined;
}

/**
 * Wire format of a command inside a Raft entry: one format byte (1 = JSON) then UTF-8 JSON in
 * which Buffers are `{ "$b64": "…" }`. The byte leaves room for a binary format later.
 */
const formatJson = 1;

export function encodeCommand(command: Command, request?: RequestStamp): Uint8Array {
  const stamped: StampedCommand = request === undefined ? command : { ...command, request };
  const body = Buffer.from(jsonWithBase64Buffers(stamped), 'utf8');
  // Not from Node's shared 8 KiB pool: the entry stays in the Raft log until the next snapshot,
  // and would keep alive the whole pool slab it was cut from.
  const out = Buffer.allocUnsafeSlow(body.length + 1);
  out[0] = formatJson;
  body.copy(out, 1);
  return out;
}

export function decodeCommand(bytes: Uint8Array): StampedCommand {
  if (bytes[0] !== formatJson) throw new InvalidArgumentError(`unknown command format ${bytes[0] ?? 'none'}`);
  const text = Buffer.from(bytes.buffer, bytes.byteOffset + 1, bytes.byteLength - 1).toString('utf8');
  return parseJsonWithBase64Buffers(text) as StampedCommand;
}

const nodeStates: readonly NodeState[] = ['up', 'suspect', 'down', 'draining'];

/**
 * Static validation: shapes, names and limits that need no state. Run before proposing (so bad
 * requests never reach the log) and again at apply (so a buggy or malicious proposer cannot
 * corrupt state). Throws typed MetadataErrors.
 */
export function validateCommand(command: StampedCommand): void {
  if (typeof command !== 'object' || command === null) throw new InvalidArgumentError('command must be an object');
  if (command.request !== undefined && command.request !== null) {
    validateId(command.request.requestId, 'requestId');
    validateNonNegativeInteger(command.request.requestedAtMs, 'requestedAtMs');
  }
  switch (command.type) {
    case 'createBucket':
      validateBucketName(command.bucket);
      validateShortString(command.owner, 'owner', false);
      validateNonNegativeInteger(command.createdAtMs, 'createdAtMs');
      return;
    case 'deleteBucket':
      validateBucketName(command.bucket);
      return;
    case 'setBucketGrant':
      validateBucketName(command.bucket);
      validateAccessKeyId(command.accessKeyId);
      if (![command.read, command.write, command.readAcp ?? false, command.writeAcp ?? false].every((flag) => typeof flag === 'boolean')) {
        throw new InvalidArgumentError('read, write, readAcp and writeAcp must be booleans');
      }
      return;
    case 'replaceBucketGrants': {
      validateBucketName(command.bucket);
      if (!Array.isArray(command.grants) || command.grants.length > bucketGrantCountMax) throw new InvalidArgumentError(`a bucket has at most ${bucketGrantCountMax} grants`);
      const seen = new Set<string>();
      for (const grant of command.grants) {
        validateAccessKeyId(grant.accessKeyId);
        const flags = [grant.read, grant.write, grant.readAcp ?? false, grant.writeAcp ?? false];
        if (!flags.every((flag) => typeof flag === 'boolean') || !flags.includes(true)) throw new InvalidArgumentError('a grant allows read, write, readAcp and/or writeAcp');
        if (seen.has(grant.accessKeyId)) throw new InvalidArgumentError(`access key ${grant.accessKeyId} granted twice`);
        seen.add(grant.accessKeyId);
      }
      if (command.exactAcl !== undefined) {
        if (!Array.isArray(command.exactAcl) || command.exactAcl.length > bucketGrantCountMax) throw new InvalidArgumentError(`an ACL has at most ${bucketGrantCountMax} grants`);
        for (const grant of command.exactAcl) {
          validateAccessKeyId(grant.accessKeyId);
          if (!isAclPermission(grant.permission)) throw new InvalidArgumentError(`an ACL permission is one of ${aclPermissions.join(', ')}`);
        }
      }
      return;
    }
    case 'createAccessKey': {
      const problem = accessKeyPairProblem(command);
      if (problem !== undefined) throw new InvalidArgumentError(problem);
      validateShortString(command.name, 'name');
      validateNonNegativeInteger(command.createdAtMs, 'createdAtMs');
      if (typeof command.canCreateBuckets !== 'boolean') throw new InvalidArgumentError('canCreateBuckets must be a boolean');
      return;
    }
    case 'setBucketEncryption':
      validateBucketName(command.bucket);
      if (command.algorithm !== 'AES256' && command.algorithm !== '') throw new InvalidArgumentError('the only server-side encryption algorithm is AES256');
      return;
    case 'setBucketPolicy':
      validateBucketName(command.bucket);
      if (typeof command.policy !== 'string' || Buffer.byteLength(command.policy) > bucketPolicyBytesMax) {
        throw new InvalidArgumentError(`a bucket policy is a string of at most ${bucketPolicyBytesMax} bytes`);
      }
      return;
    case 'setBucketOwnershipControls':
      validateBucketName(command.bucket);
      if (!['BucketOwnerEnforced', 'BucketOwnerPreferred', 'ObjectWriter', ''].includes(command.objectOwnership)) {
        throw new InvalidArgumentError('object ownership is BucketOwnerEnforced, BucketOwnerPreferred, ObjectWriter or none');
      }
      return;
    case 'setBucketPublicAccessBlock': {
      validateBucketName(command.bucket);
      const { configuration } = command;
      if (configuration === undefined) return;
      const flags = [configuration.blockPublicAcls, configuration.ignorePublicAcls, configuration.blockPublicPolicy, configuration.restrictPublicBuckets];
      if (typeof configuration !== 'object' || Object.keys(configuration).length !== 4 || !flags.every((flag) => typeof flag === 'boolean')) {
        throw new InvalidArgumentError('a public access block is exactly its four booleans');
      }
      return;
    }
    case 'initEncryptionMasterKey':
    case 'rotateEncryptionMasterKey':
      validateBase64Bytes(command.keyBase64, 'keyBase64', 32);
      validateNonNegativeInteger(command.createdAtMs, 'createdAtMs');
      return;
    case 'deleteAccessKey':
      validateAccessKeyId(command.accessKeyId);
      if (typeof command.force !== 'boolean') throw new InvalidArgumentError('force must be a boolean');
      return;
    case 'setBucketTags':
      validateBucketName(command.bucket);
      validateBucketTags(command.tags);
      return;
    case 'setBucketCors':
      validateBucketName(command.bucket);
      validateCorsRules(command.rules);
      return;
    case 'beginWrite':
      validateBucketName(command.bucket);
      validateObjectKey(command.key);
      validateId(command.writeId, 'writeId');
      validateStripe(command.stripe);
      validateNonNegativeInteger(command.startedAtMs, 'startedAtMs');
      return;
    case 'commitVersion':
      if (command.writeId !== undefined && command.writeId !== null) validateId(command.writeId, 'writeId');
      validateVersionFields(command);
      validateCondition(command.condition);
      return;
    case 'abortWrite':
      validateId(command.writeId, 'writeId');
      validateShortString(command.reason, 'reason');
      validateNonNegativeInteger(command.abortedAtMs, 'abortedAtMs');
      return;
    case 'deleteObject':
      validateBucketName(command.bucket);
      validateObjectKey(command.key);
      validateNonNegativeInteger(command.deletedAtMs, 'deletedAtMs');
      if (command.versionId !== undefined && command.versionId !== null) validateShortString(command.versionId, 'versionId');
      if (command.markerVersionId !== undefined && command.markerVersionId !== null) validateId(command.markerVersionId, 'markerVersionId');
      if (command.ifCurrent !== undefined && command.ifCurrent !== null) {
        validateNonNegativeInteger(command.ifCurrent.createdAtMs, 'ifCurrent.createdAtMs');
        validateEtag(command.ifCurrent.etag);
      }
      if (command.ifMatchEtag !== undefined && command.ifMatchEtag !== null && command.ifMatchEtag !== '*') validateShortString(command.ifMatchEtag, 'ifMatchEtag');
      return;
    case 'setBucketLifecycle':
      validateBucketName(command.bucket);
      validateLifecycleRules(command.rules);
      return;
    case 'setBucketObjectLock': {
      validateBucketName(command.bucket);
      const rule = command.defaultRetention ?? undefined;
      if (rule !== undefined) {
        if (rule.mode !== 'GOVERNANCE' && rule.mode !== 'COMPLIANCE') throw new InvalidArgumentError('retention mode must be GOVERNANCE or COMPLIANCE');
        const given = [rule.days, rule.years].filter((value) => value !== undefined && value !== null);
        if (given.length !== 1) throw new InvalidArgumentError('a default retention has exactly one of days and years');
        validateNonNegativeInteger(given[0] ?? 0, 'default retention period');
        if ((given[0] ?? 0) < 1) throw new InvalidArgumentError('a default retention period is positive');
      }
      return;
    }
    case 'setObjectLock':
      validateBucketName(command.bucket);
      validateObjectKey(command.key);
      if (command.versionId !== undefined && command.versionId !== null) validateShortString(command.versionId, 'versionId');
      if (command.retention !== undefined && command.retention !== null) {
        if (command.retention.mode !== 'GOVERNANCE' && command.retention.mode !== 'COMPLIANCE') throw new InvalidArgumentError('retention mode must be GOVERNANCE or COMPLIANCE');
        validateNonNegativeInteger(command.retention.untilMs, 'retention untilMs');
      }
      validateNonNegativeInteger(command.nowMs, 'nowMs');
      return;
    case 'setBucketVersioning':
      validateBucketName(command.bucket);
      if (command.status !== 'Enabled' && command.status !== 'Suspended') throw new InvalidArgumentError('versioning status must be Enabled or Suspended');
      return;
    case 'updateObjectMetadata':
      validateBucketName(command.bucket);
      validateObjectKey(command.key);
      if (command.versionId !== undefined && command.versionId !== null) validateShortString(command.versionId, 'versionId');
      validateSystemMetadata(command.setSystemMetadata);
      if (!Array.isArray(command.removeSystemMetadata) || command.removeSystemMetadata.length > 64) {
        throw new InvalidArgumentError('removeSystemMetadata must be a list of at most 64 names');
      }
      for (const name of command.removeSystemMetadata) validateShortString(name, 'system metadata name');
      return;
    case 'createUpload':
      validateBucketName(command.bucket);
      validateObjectKey(command.key);
      validateId(command.uploadId, 'uploadId');
      validateNonNegativeInteger(command.initiatedAtMs, 'initiatedAtMs');
      validateShortString(command.contentType, 'contentType');
      validateSystemMetadata(command.systemMetadata);
      validateUserMetadata(command.userMetadata);
      validateShortString(command.storageClass, 'storageClass');
      validateShortString(command.owner, 'owner');
      return;
    case 'registerPart':
      validateBucketName(command.bucket);
      validateObjectKey(command.key);
      validateId(command.uploadId, 'uploadId');
      validatePartNumber(command.partNumber);
      validateNonNegativeInteger(command.sizeBytes, 'sizeBytes');
      validateEtag(command.etag);
      validateStringMap(command.checksums, 'checksums', 1024);
      validateDataLocation(command.stripe, command.inlineData, command.sizeBytes);
      validateNonNegativeInteger(command.createdAtMs, 'createdAtMs');
      if (command.cipherIv !== undefined && command.cipherIv !== '') validateBase64Bytes(command.cipherIv, 'cipherIv', 16);
      return;
    case 'completeUpload':
      validateBucketName(command.bucket);
      validateObjectKey(command.key);
      validateId(command.uploadId, 'uploadId');
      validateId(command.versionId, 'versionId');
      if (!Array.isArray(command.parts) || command.parts.length === 0) throw new InvalidArgumentError('complete needs at least one part');
      if (command.parts.length > 10_000) throw new InvalidArgumentError('at most 10000 parts');
      for (const part of command.parts) {
        validatePartNumber(part.partNumber);
        validateEtag(part.etag);
      }
      validateNonNegativeInteger(command.completedAtMs, 'completedAtMs');
      if (command.checksums !== undefined) validateStringMap(command.checksums, 'checksums', 1024);
      validateCondition(command.condition);
      return;
    case 'abortUpload':
      validateBucketName(command.bucket);
      validateObjectKey(command.key);
      validateId(command.uploadId, 'uploadId');
      validateNonNegativeInteger(command.abortedAtMs, 'abortedAtMs');
      return;
    case 'registerNode':
      validateId(command.nodeId, 'nodeId');
      validateId(command.az, 'az');
      validateShortString(command.address, 'address', false);
      validateNonNegativeInteger(command.capacityBytes, 'capacityBytes');
      validateNonNegativeInteger(command.freeBytes, 'freeBytes');
      if (command.storedBytes !== undefined) validateNonNegativeInteger(command.storedBytes, 'storedBytes');
      validateNonNegativeInteger(command.registeredAtMs, 'registeredAtMs');
      if (command.readmit !== undefined && command.readmit !== null && typeof command.readmit !== 'boolean') throw new InvalidArgumentError('readmit must be a boolean');
      return;
    case 'removeNode':
      validateId(command.nodeId, 'nodeId');
      if (typeof command.force !== 'boolean') throw new InvalidArgumentError('force must be a boolean');
      validateShortString(command.reason, 'reason');
      validateNonNegativeInteger(command.removedAtMs, 'removedAtMs');
      return;
    case 'heartbeat':
      validateId(command.nodeId, 'nodeId');
      validateNonNegativeInteger(command.capacityBytes, 'capacityBytes');
      validateNonNegativeInteger(command.freeBytes, 'freeBytes');
      if (command.storedBytes !== undefined) validateNonNegativeInteger(command.storedBytes, 'storedBytes');
      validateNonNegativeInteger(command.heartbeatAtMs, 'heartbeatAtMs');
      return;
    case 'setNodeState':
      validateId(command.nodeId, 'nodeId');
      if (!nodeStates.includes(command.state)) throw new InvalidArgumentError(`unknown node state ${String(command.state)}`);
      validateNonNegativeInteger(command.changedAtMs, 'changedAtMs');
      validateShortString(command.reason, 'reason');
      return;
    case 'ackQueueItem':
      validateId(command.itemId, 'itemId');
      return;
    case 'setMetadataMember':
      validateId(command.nodeId, 'nodeId');
      validateShortString(command.address, 'address', false);
      return;
    case 'expireRequests':
      validateNonNegativeInteger(command.beforeMs, 'beforeMs');
      return;
    case 'replaceShards':
      validateStripeOwner(command.owner);
      validateId(command.stripeId, 'stripeId');
      validateShardChanges(command.changes);
      if (command.degradedSpread !== undefined && command.degradedSpread !== null && typeof command.degradedSpread !== 'boolean') {
        throw new InvalidArgumentError('degradedSpread must be a boolean');
      }
      validateNonNegativeInteger(command.replacedAtMs, 'replacedAtMs');
      return;
    case 'enqueueRepair':
      validateStripe(command.stripe);
      validateShortString(command.reason, 'reason');
      validateNonNegativeInteger(command.enqueuedAtMs, 'enqueuedAtMs');
      return;
    case 'claimQueueItems':
      if (command.kind !== 'gcStripe' && command.kind !== 'repairStripe') throw new InvalidArgumentError(`unknown queue item kind ${String(command.kind)}`);
      validateId(command.workerId, 'workerId');
      validateNonNegativeInteger(command.leaseMs, 'leaseMs');
      if (command.leaseMs < 1 || command.leaseMs > 24 * 3600_000) throw new InvalidArgumentError('leaseMs must be 1 ms .. 24 h');
      validateNonNegativeInteger(command.itemCountMax, 'itemCountMax');
      if (command.itemCountMax < 1 || command.itemCountMax > 1000) throw new InvalidArgumentError('itemCountMax must be 1..1000');
      validateNonNegativeInteger(command.nowMs, 'nowMs');
      return;
    default:
      throw new InvalidArgumentError(`unknown command type ${String((command as { type?: unknown }).type)}`);
  }
}

/** Grants on one bucket (S3 allows 100 grants in an ACL). */
export const bucketGrantCountMax = 100;

/** A bucket policy's size (S3: 20 KB); the gateway refuses larger ones first, as MalformedPolicy. */
export const bucketPolicyBytesMax = 20 * 1024;

/** A base64 string of exactly `lengthBytes` bytes. */
function validateBase64Bytes(value: unknown, name: string, lengthBytes: number): void {
  if (typeof value !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(value) || Buffer.from(value, 'base64').length !== lengthBytes) {
    throw new InvalidArgumentError(`${name} must be base64 of ${lengthBytes} bytes`);
  }
}

export function validateAccessKeyId(accessKeyId: string): void {
  if (typeof accessKeyId !== 'string' || !/^[A-Za-z0-9]{3,128}$/.test(accessKeyId)) throw new InvalidArgumentError('an access key id is 3-128 letters and digits');
}

function validateVersionFields(fields: VersionFields): void {
  validateBucketName(fields.bucket);
  validateObjectKey(fields.key);
  validateId(fields.versionId, 'versionId');
  validateNonNegativeInteger(fields.sizeBytes, 'sizeBytes');
  validateEtag(fields.etag);
  validateStringMap(fields.checksums, 'checksums', 1024);
  validateShortString(fields.contentType, 'contentType');
  validateSystemMetadata(fields.systemMetadata);
  validateUserMetadata(fields.userMetadata);
  validateShortString(fields.storageClass, 'storageClass');
  validateNonNegativeInteger(fields.createdAtMs, 'createdAtMs');
  validateDataLocation(fields.stripe, fields.inlineData, fields.sizeBytes);
}

/** If-Match / If-None-Match values: a few ETags, comma-separated. */
const conditionEtagsLengthMax = 1024;

/** A condition is absent or an object. Any If-Match ETag is allowed (one that names no version simply fails). */
function validateCondition(condition: WriteCondition | undefined | null): void {
  if (condition === undefined || condition === null) return;
  if (typeof condition !== 'object') throw new InvalidArgumentError('condition must be an object');
  if (typeof condition.ifNoneMatchAny !== 'boolean') throw new InvalidArgumentError('condition.ifNoneMatchAny must be a boolean');
  for (const [name, value] of [['ifMatchEtag', condition.ifMatchEtag], ['ifNoneMatchEtags', condition.ifNoneMatchEtags]] as const) {
    if (value === undefined || value === null) continue;
    if (typeof value !== 'string' || value.length === 0 || value.length > conditionEtagsLengthMax) {
      throw new InvalidArgumentError(`condition.${name} must be a non-empty string of at most ${conditionEtagsLengthMax} characters`);
    }
  }
}

/** Data lives in exactly one place: a stripe, or inline bytes whose length is the size. */
function validateDataLocation(stripe: StripeRecord | undefined | null, inlineData: Buffer | undefined | null, sizeBytes: number): void {
  const hasStripe = stripe !== undefined && stripe !== null;
  const hasInline = inlineData !== undefined && inlineData !== null;
  if (hasStripe === hasInline) throw new InvalidArgumentError('exactly one of stripe or inline data is required');
  if (hasStripe) validateStripe(stripe);
  if (hasInline) {
    if (!Buffer.isBuffer(inlineData)) throw new InvalidArgumentError('inline data must be bytes');
    if (inlineData.length !== sizeBytes) throw new InvalidArgumentError('inline data length must equal sizeBytes');
  }
}

export function validateStripeOwner(owner: StripeOwner): void {
  if (typeof owner !== 'object' || owner === null) throw new InvalidArgumentError('owner must be an object');
  switch (owner.kind) {
    case 'object':
      validateBucketName(owner.bucket);
      validateObjectKey(owner.key);
      return;
    case 'objectPart':
      validateBucketName(owner.bucket);
      validateObjectKey(owner.key);
      validatePartNumber(owner.partNumber);
      return;
    case 'uploadPart':
      validateId(owner.uploadId, 'uploadId');
      validatePartNumber(owner.partNumber);
      return;
    default:
      throw new InvalidArgumentError(`unknown stripe owner kind ${String((owner as { kind?: unknown }).kind)}`);
  }
}

/** 1..256 changes, each shard index at most once, nodes named, an actual move. */
function validateShardChanges(changes: readonly ShardChange[]): void {
  if (!Array.isArray(changes) || changes.length === 0 || changes.length > 256) throw new InvalidArgumentError('replaceShards needs 1..256 changes');
  const seen = new Set<number>();
  for (const change of changes) {
    if (!Number.isInteger(change.shardIndex) || change.shardIndex < 0 || change.shardIndex > 255) throw new InvalidArgumentError('shardIndex must be 0..255');
    if (seen.has(change.shardIndex)) throw new InvalidArgumentError(`shard ${change.shardIndex} changed twice`);
    seen.add(change.shardIndex);
    validateId(change.fromNodeId, 'fromNodeId');
    validateId(change.toNodeId, 'toNodeId');
    if (change.fromNodeId === change.toNodeId) throw new InvalidArgumentError(`shard ${change.shardIndex}: fromNodeId equals toNodeId`);
  }
}

/** Exhaustiveness helper for callers that switch over command types. */
export function commandTypeNever(command: never): never {
  return assertNever(command, 'command');
}

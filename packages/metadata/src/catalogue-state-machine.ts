import { createHash } from 'node:crypto';
import { assert, assertNever } from '@tessera/common';
import {
  AccessKeyExistsError, AccessKeyOwnsBucketsError, NoSuchAccessKeyError, BucketAlreadyExistsError, BucketNotEmptyError, EntityTooSmallError, InvalidArgumentError, InvalidPartError,
  InvalidPartOrderError, MetadataError, NoSuchBucketError, NoSuchKeyError, NoSuchStorageNodeError, NoSuchUploadError,
  NoSuchVersionError, NoSuchWriteError, PreconditionFailedError, ShardsNotPlacedError, StorageNodeNotEmptyError,
  StorageNodeRemovedError, VersionIsDeleteMarkerError, InvalidBucketStateError, ObjectLockNotEnabledError, completedUploadIdMetadataKey, legalHoldMetadataKey,
  lockModeMetadataKey, lockUntilMetadataKey,
} from '@tessera/rpc';
import { checkDeletable, checkRetentionChange, hasLockSettings, retentionOf, withDefaultRetention } from './object-lock';
import type { CatalogueDb } from './catalogue-db';
import { decodeJson, encodeJson } from './catalogue-db';
import type { Command, StampedCommand, VersionFields } from './commands';
import { validateCommand } from './commands';
import { validateSystemMetadata } from './validation';
import * as keys from './keys';
import type {
  AccessKeyRecord, BucketGrantRecord, BucketStatsRecord, CorsRuleRecord, DeleteMarkerRecord, EncryptionMasterKeyRecord, LifecycleRuleRecord, ListedStoredVersion, NodeShardRecord, RemovedNodeRecord, ShardChange, StoredVersion, StripeOwner, TagRecord,
  WriteCondition,
} from './model';
import { bucketGrantRecord, etagListMatches, grantsAnything, isDeleteMarker } from './model';
import type { AclGrantRecord } from './model';
import type {
  BucketRecord, MetadataMemberRecord, ObjectLayout, ObjectVersionRecord, PartLayout, PartRecord, QueueItemRecord, StorageNodeRecord, StripeRecord,
  UploadRecord, WriteRecord,
} from './model';

export interface CatalogueOptions {
  /**
   * S3's minimum size of every part but the last (5 MiB). Part of the replicated behaviour:
   * every replica must be configured alike, so it is fixed per cluster.
   */
  readonly partSizeBytesMin: number;
}

export const defaultCatalogueOptions: CatalogueOptions = { partSizeBytesMin: 5 * 1024 * 1024 };

/** The outcome of applying one command: every replica reaches the same one. */
export type ApplyResult = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: MetadataError };

type Op = { readonly type: 'put'; readonly key: Buffer; readonly value: Buffer } | { readonly type: 'del'; readonly key: Buffer };

/** Changes to one bucket's counters within one command. */
interface StatsDelta {
  objectCount: number;
  objectBytes: number;
  multipartUploadCount: number;
  noncurrentVersionCount: number;
  noncurrentVersionBytes: number;
  deleteMarkerCount: number;
}

const zeroDelta = (): StatsDelta => ({ objectCount: 0, objectBytes: 0, multipartUploadCount: 0, noncurrentVersionCount: 0, noncurrentVersionBytes: 0, deleteMarkerCount: 0 });

/** Collects one command's writes; they go to LevelDB in one batch with the applied index. */
export class Mutation {
  readonly ops: Op[] = [];
  /** Counter changes per bucket, written (read-modify-write) only if the command succeeds. */
  readonly statsDeltas = new Map<string, StatsDelta>();
  /**
   * Set by a command that is refused but must still persist what it has put in `ops` (a
   * conditional commit that fails releases its write). Everything else is dropped on refusal.
   */
  keepOpsOnRefusal = false;
  private queuePosition = 0;
  constructor(readonly logIndexValue: number) {}
  adjustStats(bucket: string, objectCount: number, objectBytes: number, multipartUploadCount: number): void {
    const delta = this.statsDeltas.get(bucket) ?? zeroDelta();
    delta.objectCount += objectCount;
    delta.objectBytes += objectBytes;
    delta.multipartUploadCount += multipartUploadCount;
    this.statsDeltas.set(bucket, delta);
  }
  /** A version entering (+1) or leaving (-1) the version table. */
  adjustVersionStats(version: StoredVersion, sign: 1 | -1): void {
    const delta = this.statsDeltas.get(version.bucket) ?? zeroDelta();
    if (isDeleteMarker(version)) {
      delta.deleteMarkerCount += sign;
    } else {
      delta.noncurrentVersionCount += sign;
      delta.noncurrentVersionBytes += sign * version.sizeBytes;
    }
    this.statsDeltas.set(version.bucket, delta);
  }
  put(key: Buffer, value: unknown): void {
    this.ops.push({ type: 'put', key, value: encodeJson(value) });
  }
  del(key: Buffer): void {
    this.ops.push({ type: 'del', key });
  }
  enqueue(kind: QueueItemRecord['kind'], stripe: StripeRecord, reason: string, enqueuedAtMs: number): string {
    const itemId = keys.queueItemId(this.logIndexValue, this.queuePosition++);
    const item: QueueItemRecord = { itemId, kind, stripe, reason, enqueuedAtMs };
    this.put(keys.queueKey(itemId), item);
    return itemId;
  }
  /** Adds the node → shard index entries of a stripe that just became referenced by `owner`. */
  indexStripe(stripe: StripeRecord, owner: StripeOwner, dataSizeBytes: number): void {
    stripe.shardNodeIds.forEach((nodeId, shardIndex) => {
      const entry: NodeShardRecord = { nodeId, stripeId: stripe.stripeId, shardIndex, owner, dataSizeBytes };
      this.put(keys.nodeShardKey(nodeId, stripe.stripeId, shardIndex), entry);
    });
  }
  /** Removes them when no committed record references the stripe any more. */
  unindexStripe(stripe: StripeRecord): void {
    stripe.shardNodeIds.forEach((nodeId, shardIndex) => this.del(keys.nodeShardKey(nodeId, stripe.stripeId, shardIndex)));
  }
  /** Index entries of every stripe of a version's layout. */
  indexLayout(record: ObjectVersionRecord, present: boolean): void {
    const { layout } = record;
    if (layout.kind === 'stripe') {
      if (present) this.indexStripe(layout.stripe, { kind: 'object', bucket: record.bucket, key: record.key }, record.sizeBytes);
      else this.unindexStripe(layout.stripe);
    } else if (layout.kind === 'multipart') {
      for (const part of layout.parts) {
        if (part.stripe === undefined || part.stripe === null) continue;
        if (present) this.indexStripe(part.stripe, { kind: 'objectPart', bucket: record.bucket, key: record.key, partNumber: part.partNumber }, part.sizeBytes);
        else this.unindexStripe(part.stripe);
      }
    }
  }
}

/** A stripe found through its owner, and how to write a changed placement back. */
export interface LocatedStripe {
  readonly owner: StripeOwner;
  readonly stripe: StripeRecord;
  readonly dataSizeBytes: number;
  readonly save: (stripe: StripeRecord, m: Mutation) => void;
}

/** What replaceShards answers; `replaced: false` is a compare-and-set miss, not an error. */
export interface ReplaceShardsResult {
  readonly replaced: boolean;
  readonly reason: string;
  readonly stripe: StripeRecord | undefined;
}

/** Counters of every bucket and their totals over all buckets. */
export interface CatalogueStats {
  readonly buckets: readonly BucketStatsRecord[];
  readonly bucketCount: number;
  readonly objectCount: number;
  readonly objectBytes: number;
  readonly multipartUploadCount: number;
  readonly noncurrentVersionCount: number;
  readonly noncurrentVersionBytes: number;
  readonly deleteMarkerCount: number;
}

/** What removeNode answers. */
export interface RemoveNodeResult {
  readonly nodeId: string;
  /** Shards the catalogue placed on the node (0 unless forced). */
  readonly shardCount: number;
  /** True: the node record is gone. False: kept `down` until the healer has moved its shards. */
  readonly forgotten: boolean;
}

/** Stripes and shard bytes below full redundancy, as the catalogue sees them. */
export interface HealBacklog {
  readonly stripeCount: number;
  readonly shardCount: number;
  readonly shardBytes: number;
  readonly repairQueueItemCount: number;
}

/** Shard file bytes of a stripe holding `dataSizeBytes` (README-data-path "Layout"). */
export function shardSizeBytesOf(dataSizeBytes: number, dataShardCount: number, blockSizeBytes: number): number {
  const fullBlockCount = Math.floor(dataSizeBytes / blockSizeBytes);
  const tailBytes = dataSizeBytes - fullBlockCount * blockSizeBytes;
  return fullBlockCount * Math.ceil(blockSizeBytes / dataShardCount) + Math.ceil(tailBytes / dataShardCount);
}

/** One committed log entry to apply: its command, or undefined for an entry without one. */
export interface CommittedCommand {
  readonly index: number;
  readonly command: StampedCommand | undefined;
}

/**
 * The replicated catalogue: buckets, objects, in-progress writes, multipart uploads, storage
 * nodes and the background work queue, in one LevelDB. `apply` is deterministic: it reads only
 * the database and the command, validates the command again (it may come from any proposer),
 * and writes the command's effects plus the new applied index in one LevelDB batch, so a crash
 * leaves either all or nothing of an entry applied. Errors found at apply leave state unchanged
 * (only the applied index moves) and are returned, identically on every replica.
 *
 * Entries are applied one call at a time, in log order: by the Raft host loop (`applyEntries`, a
 * Ready at a time), or by tests, benchmarks and bulk loads (`apply`, `applyNoop`, `applyBatch`).
 */
export class CatalogueStateMachine {
  private appliedIndexValue = 0;
  /** Writes of an applyEntries not yet in LevelDB (hex key -> value, null = deleted). */
  private overlay: Map<string, Buffer | null> | undefined;

  private constructor(readonly db: CatalogueDb, readonly options: CatalogueOptions) {}

  static async open(db: CatalogueDb, options: CatalogueOptions = defaultCatalogueOptions): Promise<CatalogueStateMachine> {
    const machine = new CatalogueStateMachine(db, options);
    const applied = await db.get(keys.appliedIndexKey);
    machine.appliedIndexValue = applied === undefined ? 0 : Number(Buffer.from(applied).readBigUInt64BE());
    if ((await db.get(keys.bucketStatsVersionKey)) === undefined) await machine.rebuildBucketStats();
    return machine;
  }

  /**
   * Counts every bucket's objects, bytes and uploads in one scan of the object and upload
   * tables, for a catalogue written before the counters existed (no version key). A pure
   * function of the state, so every replica computes the same counters; written in one batch
   * with the version key, so a crash leaves either nothing (counted again) or everything.
   */
  private async rebuildBucketStats(): Promise<void> {
    const stats = new Map<string, { objectCount: number; objectBytes: number; multipartUploadCount: number; noncurrentVersionCount?: number; noncurrentVersionBytes?: number; deleteMarkerCount?: number }>();
    const statsOf = (bucket: string) => {
      let entry = stats.get(bucket);
      if (entry === undefined) stats.set(bucket, (entry = { objectCount: 0, objectBytes: 0, multipartUploadCount: 0 }));
      return entry;
    };
    for (const bucket of await this.listBuckets()) statsOf(bucket.name);
    for await (const value of this.db.values(rangeOf(keys.tablePrefix(keys.table.object)))) {
      const record = decodeJson<ObjectVersionRecord>(value);
      const entry = statsOf(record.bucket);
      entry.objectCount++;
      entry.objectBytes += record.sizeBytes;
    }
    for await (const value of this.db.values(rangeOf(keys.tablePrefix(keys.table.upload)))) {
      statsOf(decodeJson<UploadRecord>(value).bucket).multipartUploadCount++;
    }
    for await (const value of this.db.values(rangeOf(keys.tablePrefix(keys.table.version)))) {
      const version = decodeJson<StoredVersion>(value);
      const entry = statsOf(version.bucket);
      if (isDeleteMarker(version)) {
        entry.deleteMarkerCount = (entry.deleteMarkerCount ?? 0) + 1;
      } else {
        entry.noncurrentVersionCount = (entry.noncurrentVersionCount ?? 0) + 1;
        entry.noncurrentVersionBytes = (entry.noncurrentVersionBytes ?? 0) + version.sizeBytes;
      }
    }
    const ops: { type: 'put'; key: Buffer; value: Buffer }[] = [...stats].map(([bucket, entry]) => ({
      type: 'put', key: keys.bucketStatsKey(bucket), value: encodeJson({ bucket, ...entry } satisfies BucketStatsRecord),
    }));
    ops.push({ type: 'put', key: keys.bucketStatsVersionKey, value: Buffer.from('1') });
    await this.db.batch(ops);
  }

  /** The last log index whose effects are in the database. */
  get appliedIndex(): number {
    return this.appliedIndexValue;
  }

  /** Applies a Raft entry that carries no command (leader no-op, membership change). */
  async applyNoop(logIndexValue: number): Promise<void> {
    await this.applyEntries([{ index: logIndexValue, command: undefined }]);
  }

  /** Applies one entry: `applyEntries` with a single entry (one LevelDB batch). */
  async apply(logIndexValue: number, command: StampedCommand): Promise<ApplyResult> {
    const [result] = await this.applyEntries([{ index: logIndexValue, command }]);
    assert(result !== undefined, 'an entry with a command has a result');
    return result;
  }

  /**
   * Validation, request-id dedup and execution of one command into `m`. A refusal (a
   * MetadataError) empties `m`; any other exception is a bug and propagates (crash rather
   * than diverge from the other replicas).
   */
  private async applyOne(command: StampedCommand, m: Mutation): Promise<ApplyResult> {
    try {
      validateCommand(command);
      const request = command.request ?? undefined;
      if (request !== undefined) {
        const first = await this.readJson<{ value: unknown }>(keys.requestByIdKey(request.requestId));
        if (first !== undefined) return { ok: true, value: first.value };
      }
      const value = await this.execute(command, m);
      await this.writeStats(m);
      if (request !== undefined) {
        m.put(keys.requestByIdKey(request.requestId), { value, requestedAtMs: request.requestedAtMs });
        m.put(keys.requestByTimeKey(request.requestedAtMs, request.requestId), {});
      }
      return { ok: true, value };
    } catch (err) {
      if (!(err instanceof MetadataError)) throw err;
      if (!m.keepOpsOnRefusal) m.ops.length = 0;
      return { ok: false, error: err };
    }
  }

  /**
   * Applies commands without Raft, for bulk loading a fresh database (benchmarks, imports).
   * Uses consecutive pseudo log indexes after the applied index.
   */
  async applyDirect(commands: readonly Command[]): Promise<ApplyResult[]> {
    const results: ApplyResult[] = [];
    for (const command of commands) results.push(await this.apply(this.appliedIndexValue + 1, command));
    return results;
  }

  /**
   * Bulk path: applies consecutive commands (pseudo log indexes after the applied index) with
   * their writes collected into LevelDB batches of about `batchOpCountMax` operations, for
   * loading large catalogues without Raft (benchmarks, imports). Same semantics as
   * `applyEntries`.
   */
  async applyBatch(commands: readonly Command[], batchOpCountMax = 10_000): Promise<ApplyResult[]> {
    const firstIndex = this.appliedIndexValue + 1;
    const results = await this.applyEntries(commands.map((command, offset) => ({ index: firstIndex + offset, command })), batchOpCountMax);
    return results.map((result) => {
      assert(result !== undefined, 'every bulk entry carries a command');
      return result;
    });
  }

  /**
   * Applies consecutive log entries (a Raft Ready's committed entries; `command` undefined for
   * an entry without one) with their writes and the last applied index in one LevelDB batch, or
   * a few when they exceed `batchOpCountMax` operations: one write instead of one per entry. An
   * entry's reads see the writes of the entries before it through an overlay; commands that scan
   * key ranges flush first, so results equal applying one by one. A crash leaves a prefix of
   * the entries applied (each batch is atomic), and the log replays the rest. Results are
   * undefined for entries without a command.
   */
  async applyEntries(entries: readonly CommittedCommand[], batchOpCountMax = 10_000): Promise<(ApplyResult | undefined)[]> {
    const results: (ApplyResult | undefined)[] = [];
    let ops: Op[] = [];
    let flushedIndex = this.appliedIndexValue;
    this.overlay = new Map();
    const flush = async (): Promise<void> => {
      if (flushedIndex === this.appliedIndexValue) return;
      flushedIndex = this.appliedIndexValue;
      ops.push({ type: 'put', key: keys.appliedIndexKey, value: encodeIndex(this.appliedIndexValue) });
      await this.db.batch(ops.map((op) => (op.type === 'put' ? { type: 'put', key: op.key, value: op.value } : { type: 'del', key: op.key })));
      ops = [];
      this.overlay = new Map();
    };
    try {
      for (const { index, command } of entries) {
        this.checkOrder(index);
        if (command === undefined) {
          this.appliedIndexValue = index;
          results.push(undefined);
          continue;
        }
        if (scanningCommandTypes.has(command.type)) await flush();
        const mutation = new Mutation(index);
        const result = await this.applyOne(command, mutation);
        // One loop, no spread: a completion of 10,000 parts is tens of thousands of ops, and
        // push(...ops) with that many arguments overflowed the stack.
        for (const op of mutation.ops) {
          this.overlay.set(op.key.toString('hex'), op.type === 'put' ? op.value : null);
          ops.push(op);
        }
        this.appliedIndexValue = index;
        results.push(result);
        if (ops.length >= batchOpCountMax) await flush();
      }
      await flush();
    } finally {
      this.overlay = undefined;
    }
    return results;
  }

  private async readRaw(key: Buffer): Promise<Buffer | undefined> {
    const pending = this.overlay?.get(key.toString('hex'));
    if (pending !== undefined) return pending ?? undefined;
    // Synchronous point read: LevelDB answers from its memtable or block cache in microseconds,
    // while the async get costs a thread-pool round trip and several promise hops, which made
    // reads the largest share of each command's apply (and of every GetObject).
    return this.db.getSync(key);
  }

  private async readJson<T>(key: Buffer): Promise<T | undefined> {
    const raw = await this.readRaw(key);
    return raw === undefined ? undefined : decodeJson<T>(raw);
  }

  /** Applies a successful command's counter changes to the stored counters (through the overlay). */
  private async writeStats(m: Mutation): Promise<void> {
    for (const [bucket, delta] of m.statsDeltas) {
      if (Object.values(delta).every((value) => value === 0)) continue;
      const key = keys.bucketStatsKey(bucket);
      const current = (await this.readJson<BucketStatsRecord>(key)) ?? { bucket, objectCount: 0, objectBytes: 0, multipartUploadCount: 0 };
      const versionCounters = {
        noncurrentVersionCount: (current.noncurrentVersionCount ?? 0) + delta.noncurrentVersionCount,
        noncurrentVersionBytes: (current.noncurrentVersionBytes ?? 0) + delta.noncurrentVersionBytes,
        deleteMarkerCount: (current.deleteMarkerCount ?? 0) + delta.deleteMarkerCount,
      };
      const next: BucketStatsRecord = {
        bucket,
        objectCount: current.objectCount + delta.objectCount,
        objectBytes: current.objectBytes + delta.objectBytes,
        multipartUploadCount: current.multipartUploadCount + delta.multipartUploadCount,
        // Written only once a bucket has versions, so unversioned buckets' records stay as they were.
        ...(Object.values(versionCounters).every((value) => value === 0) && current.noncurrentVersionCount === undefined ? {} : versionCounters),
      };
      assert(Object.values(next).every((value) => typeof value !== 'number' || value >= 0), `bucket counters of ${bucket} stay non-negative`);
      m.put(key, next);
    }
  }

  private checkOrder(logIndexValue: number): void {
    assert(logIndexValue === this.appliedIndexValue + 1, `apply in log order: expected ${this.appliedIndexValue + 1}, got ${logIndexValue}`);
  }

  private async execute(command: Command, m: Mutation): Promise<unknown> {
    switch (command.type) {
      case 'createBucket':
        return this.createBucket(command, m);
      case 'setBucketTags':
        return this.setBucketTags(command.bucket, command.tags, m);
      case 'setBucketCors':
        return this.setBucketCors(command.bucket, command.rules, m);
      case 'deleteBucket':
        return this.deleteBucket(command.bucket, m);
      case 'setBucketGrant':
        return this.setBucketGrant(command, m);
      case 'replaceBucketGrants':
        return this.replaceBucketGrants(command, m);
      case 'createAccessKey':
        return this.createAccessKey(command, m);
      case 'deleteAccessKey':
        return this.deleteAccessKey(command, m);
      case 'setBucketEncryption':
        return this.replaceBucketSetting(command.bucket, 'defaultEncryption', command.algorithm === '' ? undefined : command.algorithm, m);
      case 'setBucketPolicy':
        return this.replaceBucketSetting(command.bucket, 'policy', command.policy === '' ? undefined : command.policy, m);
      case 'setBucketOwnershipControls':
        return this.replaceBucketSetting(command.bucket, 'objectOwnership', command.objectOwnership === '' ? undefined : command.objectOwnership, m, (bucket) => {
          if (command.objectOwnership === 'BucketOwnerEnforced' && (bucket.grants ?? []).length > 0) {
            throw new InvalidArgumentError(`bucket ${command.bucket} grants access to other keys: ACLs cannot be disabled (BucketOwnerEnforced) while it does`);
          }
        });
      case 'setBucketPublicAccessBlock':
        return this.replaceBucketSetting(command.bucket, 'publicAccessBlock', command.configuration === undefined ? undefined : { ...command.configuration }, m);
      case 'initEncryptionMasterKey':
      case 'rotateEncryptionMasterKey': {
        const existing = await this.readJson<EncryptionMasterKeyRecord>(keys.encryptionMasterKeyKey);
        if (existing !== undefined && command.type === 'initEncryptionMasterKey') return existing;
        const keyId = createHash('sha256').update(Buffer.from(command.keyBase64, 'base64')).digest('hex').slice(0, 16);
        const record: EncryptionMasterKeyRecord = { keyId, keyBase64: command.keyBase64, createdAtMs: command.createdAtMs };
        m.put(keys.encryptionMasterKeyKey, record);
        m.put(keys.encryptionMasterKeyByIdKey(keyId), record);
        // A key made current before keys were also kept by id.
        if (existing !== undefined) m.put(keys.encryptionMasterKeyByIdKey(existing.keyId), existing);
        return record;
      }
      case 'setBucketLifecycle': {
        const { lifecycleRules: _previousRules, ...previous } = await this.getBucket(command.bucket);
        const record: BucketRecord = command.rules.length === 0 ? previous : { ...previous, lifecycleRules: command.rules.map(copyLifecycleRule) };
        m.put(keys.bucketKey(command.bucket), record);
        return record;
      }
      case 'setBucketObjectLock': {
        const previous = await this.getBucket(command.bucket);
        if (previous.versioning !== 'Enabled') {
          throw new InvalidBucketStateError(command.bucket, 'Versioning must be \'Enabled\' on the bucket to apply a Object Lock configuration');
        }
        const rule = command.defaultRetention ?? undefined;
        const record: BucketRecord = { ...previous, objectLock: { enabled: true, ...(rule === undefined ? {} : { defaultRetention: { ...rule } }) } };
        m.put(keys.bucketKey(command.bucket), record);
        return record;
      }
      case 'setObjectLock':
        return this.setObjectLock(command, m);
      case 'setBucketVersioning': {
        const previous = await this.getBucket(command.bucket);
        if (previous.objectLock !== undefined && command.status === 'Suspended') {
          throw new InvalidBucketStateError(command.bucket, 'An Object Lock configuration is present on this bucket, so the versioning state cannot be changed.');
        }
        const record: BucketRecord = { ...previous, versioning: command.status };
        m.put(keys.bucketKey(command.bucket), record);
        return record;
      }
      case 'beginWrite':
        return this.beginWrite(command, m);
      case 'commitVersion':
        return this.commitVersion(command, m);
      case 'abortWrite':
        return this.abortWrite(command.writeId, command.reason, command.abortedAtMs, m);
      case 'deleteObject':
        return this.deleteObject(command, m);
      case 'updateObjectMetadata':
        return this.updateObjectMetadata(command, m);
      case 'createUpload':
        return this.createUpload(command, m);
      case 'registerPart':
        return this.registerPart(command, m);
      case 'completeUpload':
        return this.completeUpload(command, m);
      case 'abortUpload':
        return this.abortUpload(command, m);
      case 'registerNode':
        return this.registerNode(command, m);
      case 'removeNode':
        return this.removeNode(command, m);
      case 'heartbeat':
        return this.heartbeat(command, m);
      case 'setNodeState':
        return this.setNodeState(command, m);
      case 'ackQueueItem':
        return this.ackQueueItem(command.itemId, m);
      case 'replaceShards':
        return this.replaceShards(command, m);
      case 'enqueueRepair':
        return this.enqueueRepair(command.stripe, command.reason, command.enqueuedAtMs, m);
      case 'claimQueueItems':
        return this.claimQueueItems(command, m);
      case 'expireRequests':
        return this.expireRequests(command.beforeMs, m);
      case 'setMetadataMember': {
        const record: MetadataMemberRecord = { nodeId: command.nodeId, address: command.address };
        m.put(keys.memberKey(command.nodeId), record);
        return record;
      }
      default:
        return assertNever(command, 'command');
    }
  }

  /** Drops dedup records of requests made before `beforeMs` (at most 10,000 per command). */
  private async expireRequests(beforeMs: number, m: Mutation): Promise<{ expiredCount: number }> {
    const from = keys.tablePrefix(keys.table.requestByTime);
    const to = keys.requestByTimeKey(beforeMs, '');
    const expired = await this.db.keys({ gte: from, lt: to, limit: 10_000 }).all();
    for (const key of expired) {
      m.del(key);
      m.del(keys.requestByIdKey(key.subarray(9).toString('utf8')));
    }
    return { expiredCount: expired.length };
  }

  private async ackQueueItem(itemId: string, m: Mutation): Promise<object> {
    const item = await this.readJson<QueueItemRecord>(keys.queueKey(itemId));
    m.del(keys.queueKey(itemId));
    if (item?.kind === 'repairStripe') {
      const dedupKey = keys.repairByStripeKey(item.stripe.stripeId);
      const pending = await this.readJson<{ itemId: string }>(dedupKey);
      if (pending?.itemId === itemId) m.del(dedupKey);
    }
    return {};
  }

  /**
   * Compare-and-set move of shards of one stripe: applied only if the owner still holds this
   * stripe and every shard is still on `fromNodeId`. A miss (overwritten, deleted, moved by
   * someone else) changes nothing and says why; the caller then deletes its new copies.
   */
  private async replaceShards(command: Extract<Command, { type: 'replaceShards' }>, m: Mutation): Promise<ReplaceShardsResult> {
    const located = await this.locate(command.owner, command.stripeId);
    if (located === undefined) {
      return { replaced: false, reason: `stripe ${command.stripeId} is no longer referenced by its owner`, stripe: undefined };
    }
    const nodeIds = [...located.stripe.shardNodeIds];
    for (const change of command.changes) {
      if (change.shardIndex >= nodeIds.length) throw new InvalidArgumentError(`shard ${change.shardIndex} outside a stripe of ${nodeIds.length}`);
      const current = nodeIds[change.shardIndex];
      if (current !== change.fromNodeId) {
        return { replaced: false, reason: `shard ${change.shardIndex} is on ${current ?? '?'}, not ${change.fromNodeId}`, stripe: located.stripe };
      }
    }
    for (const change of command.changes) {
      await this.getNode(change.toNodeId);
      nodeIds[change.shardIndex] = change.toNodeId;
    }
    const stripe: StripeRecord = {
      ...located.stripe, shardNodeIds: nodeIds,
      degradedSpread: command.degradedSpread === undefined || command.degradedSpread === null ? located.stripe.degradedSpread : command.degradedSpread,
    };
    for (const change of command.changes) moveIndexEntry(m, located, change);
    located.save(stripe, m);
    return { replaced: true, reason: '', stripe };
  }

  /** At most one pending repairStripe item per stripe: a repeat answers the pending item. */
  private async enqueueRepair(stripe: StripeRecord, reason: string, enqueuedAtMs: number, m: Mutation): Promise<{ itemId: string; deduplicated: boolean }> {
    const dedupKey = keys.repairByStripeKey(stripe.stripeId);
    const pending = await this.readJson<{ itemId: string }>(dedupKey);
    if (pending !== undefined && (await this.readRaw(keys.queueKey(pending.itemId))) !== undefined) return { itemId: pending.itemId, deduplicated: true };
    const itemId = m.enqueue('repairStripe', stripe, reason, enqueuedAtMs);
    m.put(dedupKey, { itemId });
    return { itemId, deduplicated: false };
  }

  /**
   * Leases up to `itemCountMax` items of one kind whose lease is absent or expired at the
   * proposer's `nowMs` (oldest first). Scans at most 10,000 items per command (bounded work).
   */
  private async claimQueueItems(command: Extract<Command, { type: 'claimQueueItems' }>, m: Mutation): Promise<QueueItemRecord[]> {
    const items = await this.listQueue(10_000);
    const claimed: QueueItemRecord[] = [];
    for (const item of items) {
      if (claimed.length >= command.itemCountMax) break;
      if (item.kind !== command.kind) continue;
      if (item.leaseExpiresAtMs !== undefined && item.leaseExpiresAtMs > command.nowMs) continue;
      const leased: QueueItemRecord = { ...item, leaseOwner: command.workerId, leaseExpiresAtMs: command.nowMs + command.leaseMs };
      m.put(keys.queueKey(item.itemId), leased);
      claimed.push(leased);
    }
    return claimed;
  }

  private async createBucket(command: Extract<Command, { type: 'createBucket' }>, m: Mutation): Promise<BucketRecord> {
    const existing = await this.readJson<BucketRecord>(keys.bucketKey(command.bucket));
    if (existing !== undefined) throw new BucketAlreadyExistsError(command.bucket, existing.owner === command.owner);
    const record: BucketRecord = command.objectLockEnabled === true
      ? { name: command.bucket, owner: command.owner, createdAtMs: command.createdAtMs, versioning: 'Enabled', objectLock: { enabled: true } }
      : { name: command.bucket, owner: command.owner, createdAtMs: command.createdAtMs, versioning: 'Unversioned' };
    m.put(keys.bucketKey(command.bucket), record);
    m.put(keys.bucketStatsKey(command.bucket), { bucket: command.bucket, objectCount: 0, objectBytes: 0, multipartUploadCount: 0 } satisfies BucketStatsRecord);
    return record;
  }

  private async setBucketTags(bucket: string, tags: readonly TagRecord[], m: Mutation): Promise<BucketRecord> {
    const previous = await this.getBucket(bucket);
    const record: BucketRecord = { ...previous, tags: tags.map(({ key, value }) => ({ key, value })) };
    m.put(keys.bucketKey(bucket), record);
    return record;
  }

  private async setBucketCors(bucket: string, rules: readonly CorsRuleRecord[], m: Mutation): Promise<BucketRecord> {
    const { corsRules: _previousRules, ...previous } = await this.getBucket(bucket);
    const record: BucketRecord = rules.length === 0 ? previous : {
      ...previous,
      corsRules: rules.map((rule) => ({
        ...(rule.id === undefined ? {} : { id: rule.id }),
        allowedOrigins: [...rule.allowedOrigins], allowedMethods: [...rule.allowedMethods],
        allowedHeaders: [...rule.allowedHeaders], exposeHeaders: [...rule.exposeHeaders],
        ...(rule.maxAgeSeconds === undefined ? {} : { maxAgeSeconds: rule.maxAgeSeconds }),
      })),
    };
    m.put(keys.bucketKey(bucket), record);
    return record;
  }

  private async setBucketGrant(command: Extract<Command, { type: 'setBucketGrant' }>, m: Mutation): Promise<BucketRecord> {
    const bucket = await this.getBucket(command.bucket);
    const others = (bucket.grants ?? []).filter((grant) => grant.accessKeyId !== command.accessKeyId);
    const grant = bucketGrantRecord(command);
    return this.writeGrants(bucket, grantsAnything(grant) ? [...others, grant] : others, m);
  }

  private async replaceBucketGrants(command: Extract<Command, { type: 'replaceBucketGrants' }>, m: Mutation): Promise<BucketRecord> {
    const bucket = await this.getBucket(command.bucket);
    const exactAcl = command.exactAcl?.map(({ accessKeyId, permission }) => ({ accessKeyId, permission }));
    return this.writeGrants(bucket, command.grants.map(bucketGrantRecord), m, exactAcl);
  }

  /**
   * The bucket with one optional setting (S3 bucket configuration) replaced, or removed when
   * `value` is undefined; `check` may refuse the change given the bucket as it is.
   */
  private async replaceBucketSetting<Field extends 'defaultEncryption' | 'policy' | 'objectOwnership' | 'publicAccessBlock'>(
    name: string, field: Field, value: BucketRecord[Field] | undefined, m: Mutation, check?: (bucket: BucketRecord) => void,
  ): Promise<BucketRecord> {
    const bucket = await this.getBucket(name);
    check?.(bucket);
    const { [field]: _previous, ...rest } = bucket;
    // Every Field is optional in BucketRecord, so the rest is a whole record (TS cannot see that for a generic key).
    const record = (value === undefined ? rest : { ...rest, [field]: value }) as BucketRecord;
    m.put(keys.bucketKey(name), record);
    return record;
  }

  /**
   * The bucket with exactly these grants, each naming an existing key that does not own it, and
   * `exactAcl` as the ACL it shows (absent: any earlier one goes with the grants it described).
   */
  private async writeGrants(bucket: BucketRecord, grants: readonly BucketGrantRecord[], m: Mutation, exactAcl?: readonly AclGrantRecord[]): Promise<BucketRecord> {
    if (grants.length > 0 && bucket.objectOwnership === 'BucketOwnerEnforced') {
      throw new InvalidArgumentError(`bucket ${bucket.name} has ACLs disabled (object ownership BucketOwnerEnforced): share it with a bucket policy, or remove its ownership controls first`);
    }
    for (const grant of grants) {
      await this.getAccessKey(grant.accessKeyId);
      if (bucket.owner === grant.accessKeyId) throw new InvalidArgumentError(`access key ${grant.accessKeyId} owns bucket ${bucket.name}: it has every permission there`);
    }
    const { grants: _previous, exactAcl: _previousAcl, ...rest } = bucket;
    const record: BucketRecord = { ...rest, ...(grants.length === 0 ? {} : { grants }), ...(exactAcl === undefined ? {} : { exactAcl }) };
    m.put(keys.bucketKey(bucket.name), record);
    return record;
  }

  private async createAccessKey(command: Extract<Command, { type: 'createAccessKey' }>, m: Mutation): Promise<AccessKeyRecord> {
    if ((await this.readJson<AccessKeyRecord>(keys.accessKeyKey(command.accessKeyId))) !== undefined) throw new AccessKeyExistsError(command.accessKeyId);
    const record: AccessKeyRecord = {
      accessKeyId: command.accessKeyId, secretAccessKey: command.secretAccessKey, name: command.name,
      createdAtMs: command.createdAtMs, canCreateBuckets: command.canCreateBuckets,
    };
    m.put(keys.accessKeyKey(command.accessKeyId), record);
    return record;
  }

  /** Removes the key and its grants; the buckets it owns stay (root reaches them) only with `force`. */
  private async deleteAccessKey(command: Extract<Command, { type: 'deleteAccessKey' }>, m: Mutation): Promise<object> {
    await this.getAccessKey(command.accessKeyId);
    const buckets = await this.listBuckets();
    const owned = buckets.filter((bucket) => bucket.owner === command.accessKeyId).map((bucket) => bucket.name);
    if (owned.length > 0 && !command.force) {
      const shown = owned.length > 10 ? `${owned.slice(0, 10).join(', ')} and ${owned.length - 10} more` : owned.join(', ');
      throw new AccessKeyOwnsBucketsError(command.accessKeyId, shown);
    }
    for (const { grants, exactAcl: _exactAcl, ...bucket } of buckets) {
      if (grants === undefined || !grants.some((grant) => grant.accessKeyId === command.accessKeyId)) continue;
      const kept = grants.filter((grant) => grant.accessKeyId !== command.accessKeyId);
      m.put(keys.bucketKey(bucket.name), kept.length === 0 ? bucket : { ...bucket, grants: kept });
    }
    m.del(keys.accessKeyKey(command.accessKeyId));
    return {};
  }

  private async deleteBucket(bucket: string, m: Mutation): Promise<object> {
    await this.getBucket(bucket);
    // Empty means no objects and no multipart uploads in progress (their parts hold data).
    // Noncurrent versions and delete markers count too, as in S3.
    const hasObject = await this.hasAnyWithPrefix(keys.objectKeyPrefix(bucket));
    const hasVersion = await this.hasAnyWithPrefix(keys.versionKeyPrefix(bucket));
    const hasUpload = await this.hasAnyWithPrefix(keys.uploadKeyPrefix(bucket));
    if (hasObject || hasVersion || hasUpload) throw new BucketNotEmptyError(bucket);
    m.del(keys.bucketKey(bucket));
    m.del(keys.bucketStatsKey(bucket));
    return {};
  }

  private async beginWrite(command: Extract<Command, { type: 'beginWrite' }>, m: Mutation): Promise<WriteRecord> {
    await this.getBucket(command.bucket);
    await this.checkStripeNodes(command.stripe);
    if ((await this.readRaw(keys.writeKey(command.writeId))) !== undefined) throw new InvalidArgumentError(`write id ${command.writeId} already in use`);
    const record: WriteRecord = { writeId: command.writeId, bucket: command.bucket, key: command.key, stripe: command.stripe, startedAtMs: command.startedAtMs };
    m.put(keys.writeKey(command.writeId), record);
    return record;
  }

  private async commitVersion(command: Extract<Command, { type: 'commitVersion' }>, m: Mutation): Promise<ObjectVersionRecord> {
    const bucket = await this.getBucket(command.bucket);
    await this.checkCondition(command.bucket, command.key, command.condition, async () => {
      // A failed condition ends the write as an abort would: the record goes, the stripe is
      // garbage, and nothing becomes visible. Those effects are kept although the command is
      // refused, so the gateway's shards are collected even if it never calls abortWrite.
      const write = command.writeId === undefined || command.writeId === null ? undefined : await this.readJson<WriteRecord>(keys.writeKey(command.writeId));
      if (write === undefined) return;
      m.ops.length = 0;
      m.del(keys.writeKey(write.writeId));
      m.enqueue('gcStripe', write.stripe, 'write aborted: precondition failed', command.createdAtMs);
      m.keepOpsOnRefusal = true;
    });
    const write = command.writeId === undefined || command.writeId === null ? undefined : await this.getWrite(command.writeId);
    if (write !== undefined && (write.bucket !== command.bucket || write.key !== command.key)) {
      throw new InvalidArgumentError(`write ${write.writeId} was begun for ${write.bucket}/${write.key}`);
    }
    if (command.stripe !== undefined && command.stripe !== null) await this.checkStripeNodes(command.stripe);
    const layout: ObjectLayout = command.stripe !== undefined && command.stripe !== null
      ? { kind: 'stripe', stripe: command.stripe }
      : { kind: 'inline', data: command.inlineData ?? Buffer.alloc(0) };
    if (write !== undefined) {
      m.del(keys.writeKey(write.writeId));
      // Shards written under the begun stripe but not kept by the commit are garbage.
      if (layout.kind !== 'stripe' || layout.stripe.stripeId !== write.stripe.stripeId) m.enqueue('gcStripe', write.stripe, 'replaced at commit', command.createdAtMs);
    }
    const record = withBucketLock(versionRecord(command, layout, bucket, m.logIndexValue), bucket);
    await this.replaceCurrentVersion(record, bucket, m);
    return writeAnswer(reportedVersion(record, bucket));
  }

  /**
   * S3 conditional write against the current object (a delete marker is none): If-None-Match: *
   * fails if there is one, If-None-Match: <etags> if it has one of them; If-Match fails if there
   * is none (NoSuchKey, as S3 answers) or (unless "*") it has none of the ETags. `onFailure` runs
   * before the refusal is thrown.
   */
  private async checkCondition(bucket: string, key: string, condition: WriteCondition | undefined | null, onFailure: () => Promise<void>): Promise<void> {
    if (condition === undefined || condition === null) return;
    const present = (value: string | undefined | null): string | undefined => (value === undefined || value === null || value === '' ? undefined : value);
    const ifMatchEtag = present(condition.ifMatchEtag);
    const ifNoneMatchEtags = present(condition.ifNoneMatchEtags);
    if (!condition.ifNoneMatchAny && ifMatchEtag === undefined && ifNoneMatchEtags === undefined) return;
    const current = await this.readJson<ObjectVersionRecord>(keys.objectKey(bucket, Buffer.from(key, 'utf8')));
    let failure: MetadataError | undefined;
    if (condition.ifNoneMatchAny && current !== undefined) failure = new PreconditionFailedError(bucket, key, `${bucket}/${key} exists (If-None-Match: *)`);
    else if (ifNoneMatchEtags !== undefined && current !== undefined && etagListMatches(ifNoneMatchEtags, current.etag)) {
      failure = new PreconditionFailedError(bucket, key, `${bucket}/${key} has ETag ${current.etag} (If-None-Match)`);
    } else if (ifMatchEtag !== undefined && current === undefined) failure = new NoSuchKeyError(bucket, key);
    else if (ifMatchEtag !== undefined && current !== undefined && !etagListMatches(ifMatchEtag, current.etag)) {
      failure = new PreconditionFailedError(bucket, key, `${bucket}/${key} has ETag ${current.etag}, not ${ifMatchEtag} (If-Match)`);
    }
    if (failure === undefined) return;
    await onFailure();
    throw failure;
  }

  /**
   * Makes `record` the key's current version. Unversioned: the previous one is garbage.
   * Enabled: it becomes noncurrent (version table). Suspended: the key's null version, current
   * or noncurrent, is garbage (the new null version replaces it); a versioned one is kept.
   */
  private async replaceCurrentVersion(record: ObjectVersionRecord, bucket: BucketRecord, m: Mutation): Promise<void> {
    const key = keys.objectKey(record.bucket, Buffer.from(record.key, 'utf8'));
    const previous = await this.readJson<ObjectVersionRecord>(key);
    if (previous !== undefined) this.retireCurrent(previous, bucket, 'overwritten', record.createdAtMs, m);
    if (bucket.versioning === 'Suspended') await this.dropNoncurrentNullVersion(record.bucket, record.key, 'overwritten', record.createdAtMs, m);
    m.adjustStats(record.bucket, previous === undefined ? 1 : 0, record.sizeBytes - (previous?.sizeBytes ?? 0), 0);
    m.indexLayout(record, true);
    m.put(key, record);
  }

  /**
   * Takes the current version out of the object table's place (the caller overwrites or
   * deletes that entry): into the version table when the bucket keeps it, else to garbage.
   * A version kept noncurrent keeps its node index entries (the owner names the key).
   */
  private retireCurrent(previous: ObjectVersionRecord, bucket: BucketRecord, reason: string, atMs: number, m: Mutation): void {
    const keep = bucket.versioning === 'Enabled' || (bucket.versioning === 'Suspended' && previous.versioned === true);
    if (keep) {
      m.put(keys.versionKey(previous.bucket, Buffer.from(previous.key, 'utf8'), previous.sequence ?? 0), previous);
      m.adjustVersionStats(previous, 1);
      return;
    }
    enqueueLayoutGarbage(previous.layout, reason, atMs, m);
    m.indexLayout(previous, false);
  }

  /** Removes the key's noncurrent null version (object or delete marker), if any. */
  private async dropNoncurrentNullVersion(bucket: string, key: string, reason: string, atMs: number, m: Mutation): Promise<void> {
    for (const { dbKey, version } of await this.noncurrentVersionsOf(bucket, key, m)) {
      if (version.versioned === true) continue;
      m.del(dbKey);
      m.adjustVersionStats(version, -1);
      if (!isDeleteMarker(version)) {
        enqueueLayoutGarbage(version.layout, reason, atMs, m);
        m.indexLayout(version, false);
      }
    }
  }

  /**
   * The key's version-table entries, newest first, as apply sees them (pending writes of the
   * same applyEntries included). Costs one range read over the key's noncurrent versions.
   */
  private async noncurrentVersionsOf(bucket: string, key: string, m?: Mutation): Promise<{ readonly dbKey: Buffer; readonly version: StoredVersion }[]> {
    const prefix = keys.versionKeyPrefixOf(bucket, Buffer.from(key, 'utf8'));
    const entries = new Map<string, Buffer>();
    for (const [dbKey, value] of await this.db.iterator(rangeOf(prefix)).all()) entries.set(Buffer.from(dbKey).toString('hex'), Buffer.from(value));
    const prefixHex = prefix.toString('hex');
    const pending: [string, Buffer | null][] = [...(this.overlay ?? new Map<string, Buffer | null>())];
    // And this command's own writes so far, in order.
    for (const op of m?.ops ?? []) pending.push([op.key.toString('hex'), op.type === 'put' ? op.value : null]);
    for (const [hexKey, value] of pending) {
      if (!hexKey.startsWith(prefixHex)) continue;
      if (value === null) entries.delete(hexKey);
      else entries.set(hexKey, value);
    }
    return [...entries.keys()].sort().map((hexKey) => {
      const value = entries.get(hexKey);
      assert(value !== undefined, 'listed entry present');
      return { dbKey: Buffer.from(hexKey, 'hex'), version: decodeJson<StoredVersion>(value) };
    });
  }

  /** The newest entry of the key's version table (with no current object: a delete marker), if any. */
  private async latestVersionOf(bucket: string, key: string): Promise<StoredVersion | undefined> {
    return (await this.noncurrentVersionsOf(bucket, key))[0]?.version;
  }

  /**
   * After the current version went away: the newest noncurrent version becomes current if it
   * is an object (a delete marker stays in the version table as the latest version).
   */
  private async promoteNewest(bucket: string, key: string, m: Mutation): Promise<void> {
    const [newest] = await this.noncurrentVersionsOf(bucket, key, m);
    if (newest === undefined || isDeleteMarker(newest.version)) return;
    m.del(newest.dbKey);
    m.adjustVersionStats(newest.version, -1);
    m.put(keys.objectKey(bucket, Buffer.from(key, 'utf8')), newest.version);
    m.adjustStats(bucket, 1, newest.version.sizeBytes, 0);
  }

  /**
   * The version a request names: "null" is the key's null version; any other id carries its
   * sequence (versionIdOf), so a noncurrent one is one point read away.
   */
  private async findVersion(bucket: string, key: string, versionId: string): Promise<{ readonly dbKey: Buffer; readonly version: StoredVersion; readonly current: boolean } | undefined> {
    const objectKey = keys.objectKey(bucket, Buffer.from(key, 'utf8'));
    const current = await this.readJson<ObjectVersionRecord>(objectKey);
    if (versionId === 'null') {
      if (current !== undefined && current.versioned !== true) return { dbKey: objectKey, version: current, current: true };
      const found = (await this.noncurrentVersionsOf(bucket, key)).find(({ version }) => version.versioned !== true);
      return found === undefined ? undefined : { ...found, current: false };
    }
    if (current?.versioned === true && current.versionId === versionId) return { dbKey: objectKey, version: current, current: true };
    const sequence = sequenceOfVersionId(versionId);
    if (sequence === undefined) throw new InvalidArgumentError('Invalid version id specified');
    const dbKey = keys.versionKey(bucket, Buffer.from(key, 'utf8'), sequence);
    const version = await this.readJson<StoredVersion>(dbKey);
    return version !== undefined && version.versioned === true && version.versionId === versionId ? { dbKey, version, current: false } : undefined;
  }

  private async abortWrite(writeId: string, reason: string, abortedAtMs: number, m: Mutation): Promise<object> {
    const write = await this.getWrite(writeId);
    m.del(keys.writeKey(writeId));
    m.enqueue('gcStripe', write.stripe, `write aborted: ${reason}`, abortedAtMs);
    return {};
  }

  /**
   * S3 DeleteObject. Without a version id: unversioned, the object goes; versioned, a delete
   * marker becomes the latest version (Enabled: with its own id; Suspended: the null version,
   * replacing the old one). With a version id: that version goes for good, and if it was
   * current the newest older object version becomes current.
   */
  private async deleteObject(command: Extract<Command, { type: 'deleteObject' }>, m: Mutation): Promise<DeleteObjectResult> {
    const { key, deletedAtMs } = command;
    const bucket = await this.getBucket(command.bucket);
    const versionId = command.versionId ?? undefined;
    const ifMatchEtag = command.ifMatchEtag ?? undefined;
    if (versionId !== undefined) return this.deleteVersion(bucket, key, versionId, deletedAtMs, command.bypassGovernance === true, m, ifMatchEtag);
    const objectKey = keys.objectKey(bucket.name, Buffer.from(key, 'utf8'));
    const previous = await this.readJson<ObjectVersionRecord>(objectKey);
    if (ifMatchEtag !== undefined) checkDeleteCondition(bucket.name, key, previous ?? (await this.latestVersionOf(bucket.name, key)) ?? 'none', ifMatchEtag);
    const ifCurrent = command.ifCurrent ?? undefined;
    if (ifCurrent !== undefined && (previous === undefined || previous.createdAtMs !== ifCurrent.createdAtMs || previous.etag !== ifCurrent.etag)) {
      throw new PreconditionFailedError(bucket.name, key, `${bucket.name}/${key} is no longer the version the delete was for`);
    }
    if (previous !== undefined) {
      this.retireCurrent(previous, bucket, 'deleted', deletedAtMs, m);
      m.adjustStats(bucket.name, -1, -previous.sizeBytes, 0);
      m.del(objectKey);
    }
    if (bucket.versioning === 'Unversioned') return { deleted: previous !== undefined, deleteMarker: false, versionId: '' }; // S3 answers 204 either way
    if (bucket.versioning === 'Suspended') await this.dropNoncurrentNullVersion(bucket.name, key, 'deleted', deletedAtMs, m);
    const versioned = bucket.versioning === 'Enabled';
    const marker: DeleteMarkerRecord = {
      deleteMarker: true, bucket: bucket.name, key, sequence: m.logIndexValue, createdAtMs: deletedAtMs, versioned,
      versionId: versioned ? versionIdOf(m.logIndexValue, command.markerVersionId ?? '') : 'null',
    };
    m.put(keys.versionKey(bucket.name, Buffer.from(key, 'utf8'), marker.sequence), marker);
    m.adjustVersionStats(marker, 1);
    return { deleted: true, deleteMarker: true, versionId: marker.versionId };
  }

  private async deleteVersion(
    bucket: BucketRecord, key: string, versionId: string, deletedAtMs: number, bypassGovernance: boolean, m: Mutation, ifMatchEtag?: string,
  ): Promise<DeleteObjectResult> {
    const found = await this.findVersion(bucket.name, key, versionId);
    checkDeleteCondition(bucket.name, key, found?.version ?? 'none', ifMatchEtag);
    if (found === undefined) return { deleted: false, deleteMarker: false, versionId };
    if (!isDeleteMarker(found.version)) checkDeletable(found.version.systemMetadata, deletedAtMs, bypassGovernance);
    m.del(found.dbKey);
    const { version } = found;
    if (!found.current) m.adjustVersionStats(version, -1);
    if (!isDeleteMarker(version)) {
      enqueueLayoutGarbage(version.layout, 'version deleted', deletedAtMs, m);
      m.indexLayout(version, false);
      if (found.current) m.adjustStats(bucket.name, -1, -version.sizeBytes, 0);
    }
    // Whatever went, the latest version may now be an older object with nothing current above it.
    if (found.current || (await this.readRaw(keys.objectKey(bucket.name, Buffer.from(key, 'utf8')))) === undefined) {
      await this.promoteNewest(bucket.name, key, m);
    }
    return { deleted: true, deleteMarker: isDeleteMarker(version), versionId };
  }

  /** Rewrites the current version's record with changed system metadata; nothing else changes. */
  private async updateObjectMetadata(command: Extract<Command, { type: 'updateObjectMetadata' }>, m: Mutation): Promise<ObjectVersionRecord> {
    const versionId = command.versionId ?? undefined;
    const { dbKey, version: previous, bucket } = await this.readableVersion(command.bucket, command.key, versionId === '' ? undefined : versionId);
    const systemMetadata: Record<string, string> = { ...previous.systemMetadata, ...command.setSystemMetadata };
    for (const name of command.removeSystemMetadata) delete systemMetadata[name];
    validateSystemMetadata(systemMetadata);
    const record: ObjectVersionRecord = { ...previous, systemMetadata };
    m.put(dbKey, record);
    return writeAnswer(reportedVersion(record, bucket));
  }

  /** PutObjectRetention / PutObjectLegalHold: S3's rules checked here, atomically with the change. */
  private async setObjectLock(command: Extract<Command, { type: 'setObjectLock' }>, m: Mutation): Promise<ObjectVersionRecord> {
    const versionId = command.versionId ?? undefined;
    const { dbKey, version, bucket } = await this.readableVersion(command.bucket, command.key, versionId === '' ? undefined : versionId);
    if (bucket.objectLock === undefined) throw new ObjectLockNotEnabledError(bucket.name);
    const systemMetadata: Record<string, string> = { ...version.systemMetadata };
    if (command.retention !== undefined) {
      const next = command.retention ?? undefined;
      checkRetentionChange(retentionOf(version.systemMetadata), next, command.nowMs, command.bypassGovernance);
      if (next === undefined) {
        delete systemMetadata[lockModeMetadataKey];
        delete systemMetadata[lockUntilMetadataKey];
      } else {
        systemMetadata[lockModeMetadataKey] = next.mode;
        systemMetadata[lockUntilMetadataKey] = String(next.untilMs);
      }
    }
    if (command.legalHold !== undefined && command.legalHold !== null) {
      if (command.legalHold) systemMetadata[legalHoldMetadataKey] = 'ON';
      else delete systemMetadata[legalHoldMetadataKey];
    }
    const record: ObjectVersionRecord = { ...version, systemMetadata };
    m.put(dbKey, record);
    return writeAnswer(reportedVersion(record, bucket));
  }

  private async createUpload(command: Extract<Command, { type: 'createUpload' }>, m: Mutation): Promise<UploadRecord> {
    const bucket = await this.getBucket(command.bucket);
    if (bucket.objectLock === undefined && hasLockSettings(command.systemMetadata)) throw new ObjectLockNotEnabledError(bucket.name);
    const uploadKey = keys.uploadKey(command.bucket, command.key, command.uploadId);
    if ((await this.readRaw(uploadKey)) !== undefined) throw new InvalidArgumentError(`upload id ${command.uploadId} already in use`);
    const record: UploadRecord = {
      uploadId: command.uploadId, bucket: command.bucket, key: command.key, initiatedAtMs: command.initiatedAtMs,
      contentType: command.contentType, systemMetadata: command.systemMetadata, userMetadata: command.userMetadata,
      storageClass: command.storageClass, owner: command.owner,
    };
    m.put(uploadKey, record);
    m.adjustStats(command.bucket, 0, 0, 1);
    return record;
  }

  private async registerPart(command: Extract<Command, { type: 'registerPart' }>, m: Mutation): Promise<PartRecord> {
    await this.getUpload(command.bucket, command.key, command.uploadId);
    if (command.stripe !== undefined && command.stripe !== null) await this.checkStripeNodes(command.stripe);
    const partKey = keys.partKey(command.uploadId, command.partNumber);
    const previous = await this.readJson<PartRecord>(partKey);
    if (previous?.stripe !== undefined && previous.stripe !== null && previous.stripe.stripeId !== command.stripe?.stripeId) {
      m.enqueue('gcStripe', previous.stripe, 'part re-uploaded', command.createdAtMs);
    }
    if (previous?.stripe !== undefined && previous.stripe !== null) m.unindexStripe(previous.stripe);
    if (command.stripe !== undefined && command.stripe !== null) {
      m.indexStripe(command.stripe, { kind: 'uploadPart', uploadId: command.uploadId, partNumber: command.partNumber }, command.sizeBytes);
    }
    const record: PartRecord = {
      uploadId: command.uploadId, partNumber: command.partNumber, sizeBytes: command.sizeBytes, etag: command.etag,
      checksums: command.checksums, stripe: command.stripe ?? undefined, inlineData: command.inlineData ?? undefined,
      createdAtMs: command.createdAtMs,
      ...(command.cipherIv === undefined || command.cipherIv === '' ? {} : { cipherIv: command.cipherIv }),
    };
    m.put(partKey, record);
    return withoutInlineBytes(record);
  }

  private async completeUpload(command: Extract<Command, { type: 'completeUpload' }>, m: Mutation): Promise<ObjectVersionRecord> {
    const upload = await this.getUpload(command.bucket, command.key, command.uploadId);
    const bucket = await this.getBucket(command.bucket);
    // A failed condition is a plain refusal: the upload and its parts stay (S3 lets the client retry or abort).
    await this.checkCondition(command.bucket, command.key, command.condition, async () => undefined);
    const stored = await this.partsOf(command.uploadId);
    const chosen = choosePartsForComplete(command.parts, stored, this.options.partSizeBytesMin);
    const chosenNumbers = new Set(chosen.map((part) => part.partNumber));
    for (const part of stored) {
      m.del(keys.partKey(command.uploadId, part.partNumber));
      // Chosen parts are re-indexed under the object (objectPart) by replaceCurrentVersion.
      if (part.stripe !== undefined && part.stripe !== null) m.unindexStripe(part.stripe);
      if (!chosenNumbers.has(part.partNumber) && part.stripe !== undefined && part.stripe !== null) {
        m.enqueue('gcStripe', part.stripe, 'part not in completed upload', command.completedAtMs);
      }
    }
    m.del(keys.uploadKey(command.bucket, command.key, command.uploadId));
    m.adjustStats(command.bucket, 0, 0, -1);
    const record: ObjectVersionRecord = withBucketLock({
      bucket: upload.bucket, key: upload.key, ...versionIdentity(bucket, m.logIndexValue, command.versionId),
      sizeBytes: chosen.reduce((sum, part) => sum + part.sizeBytes, 0),
      etag: multipartEtag(chosen.map((part) => part.etag)), checksums: command.checksums ?? {}, contentType: upload.contentType,
      // The upload's id stays with the version, so a retried completion can be answered (gateway).
      systemMetadata: { ...upload.systemMetadata, [completedUploadIdMetadataKey]: command.uploadId }, userMetadata: upload.userMetadata, storageClass: upload.storageClass,
      createdAtMs: command.completedAtMs,
      layout: {
        kind: 'multipart',
        parts: chosen.map((part) => ({
          partNumber: part.partNumber, sizeBytes: part.sizeBytes, etag: part.etag, stripe: part.stripe, inlineData: part.inlineData,
          ...(part.cipherIv === undefined ? {} : { cipherIv: part.cipherIv }),
          // Kept for GetObjectAttributes and GET ?partNumber with checksums (S3 answers both per part).
          ...(Object.keys(part.checksums).length === 0 ? {} : { checksums: part.checksums }),
        })),
      },
    }, bucket);
    await this.replaceCurrentVersion(record, bucket, m);
    return writeAnswer(reportedVersion(record, bucket));
  }

  private async abortUpload(command: Extract<Command, { type: 'abortUpload' }>, m: Mutation): Promise<object> {
    await this.getUpload(command.bucket, command.key, command.uploadId);
    for (const part of await this.partsOf(command.uploadId)) {
      m.del(keys.partKey(command.uploadId, part.partNumber));
      if (part.stripe !== undefined && part.stripe !== null) m.unindexStripe(part.stripe);
      if (part.stripe !== undefined && part.stripe !== null) m.enqueue('gcStripe', part.stripe, 'upload aborted', command.abortedAtMs);
    }
    m.del(keys.uploadKey(command.bucket, command.key, command.uploadId));
    m.adjustStats(command.bucket, 0, 0, -1);
    return {};
  }

  private async registerNode(command: Extract<Command, { type: 'registerNode' }>, m: Mutation): Promise<StorageNodeRecord> {
    if (command.readmit === true) m.del(keys.removedNodeKey(command.nodeId));
    else await this.refuseRemovedNode(command.nodeId);
    const previous = await this.readJson<StorageNodeRecord>(keys.nodeKey(command.nodeId));
    // Re-registration (restart, new address) keeps a draining node draining.
    const state = previous?.state === 'draining' ? 'draining' : 'up';
    const record: StorageNodeRecord = {
      nodeId: command.nodeId, az: command.az, address: command.address, capacityBytes: command.capacityBytes,
      freeBytes: command.freeBytes, ...storedBytesOf(command, previous), lastHeartbeatAtMs: command.registeredAtMs, state,
      stateChangedAtMs: previous?.state === state ? previous.stateChangedAtMs : command.registeredAtMs,
    };
    m.put(keys.nodeKey(command.nodeId), record);
    return record;
  }

  private async heartbeat(command: Extract<Command, { type: 'heartbeat' }>, m: Mutation): Promise<StorageNodeRecord> {
    await this.refuseRemovedNode(command.nodeId);
    const previous = await this.getNode(command.nodeId);
    const revived = previous.state === 'suspect' || previous.state === 'down';
    const record: StorageNodeRecord = {
      ...previous, capacityBytes: command.capacityBytes, freeBytes: command.freeBytes, ...storedBytesOf(command, previous),
      lastHeartbeatAtMs: Math.max(previous.lastHeartbeatAtMs, command.heartbeatAtMs),
      state: revived ? 'up' : previous.state, stateChangedAtMs: revived ? command.heartbeatAtMs : previous.stateChangedAtMs,
    };
    m.put(keys.nodeKey(command.nodeId), record);
    return record;
  }

  private async setNodeState(command: Extract<Command, { type: 'setNodeState' }>, m: Mutation): Promise<StorageNodeRecord> {
    await this.refuseRemovedNode(command.nodeId);
    const previous = await this.getNode(command.nodeId);
    if (previous.state === command.state) return previous;
    const record: StorageNodeRecord = { ...previous, state: command.state, stateChangedAtMs: command.changedAtMs };
    m.put(keys.nodeKey(command.nodeId), record);
    return record;
  }

  /** A removed node stays out (registration, heartbeats, state changes) until an operator readmits it. */
  async refuseRemovedNode(nodeId: string): Promise<void> {
    if ((await this.readRaw(keys.removedNodeKey(nodeId))) !== undefined) throw new StorageNodeRemovedError(nodeId);
  }

  /**
   * Forgets a storage node. Refused while the node index still places shards on it, unless
   * forced (its disk is gone): then the record stays as `down`, so the healer rebuilds its
   * shards exactly as for a lost node, and the leader's housekeeping forgets the record once
   * nothing is placed there (a later non-forced removeNode). Either way a removal record
   * makes the node's own registrations and heartbeats fail until it is readmitted.
   */
  private async removeNode(command: Extract<Command, { type: 'removeNode' }>, m: Mutation): Promise<RemoveNodeResult> {
    const node = await this.getNode(command.nodeId);
    // Bounded: apply runs inside the Raft loop, which must not stall for a node with millions
    // of shards (the service counts them exactly before proposing, outside the loop).
    const shardCount = await this.countNodeShards(command.nodeId, removeNodeShardCountMax);
    if (shardCount > 0 && !command.force) {
      const counted = shardCount >= removeNodeShardCountMax ? `at least ${shardCount}` : String(shardCount);
      throw new StorageNodeNotEmptyError(
        command.nodeId, shardCount, `node ${command.nodeId} still holds ${counted} shards; drain it first (tessera node drain ${command.nodeId}) and wait for the healer`,
      );
    }
    const previous = await this.readJson<RemovedNodeRecord>(keys.removedNodeKey(command.nodeId));
    const removal: RemovedNodeRecord = {
      nodeId: command.nodeId, removedAtMs: previous?.removedAtMs ?? command.removedAtMs, forced: (previous?.forced ?? false) || command.force,
      reason: previous?.reason ?? command.reason,
    };
    m.put(keys.removedNodeKey(command.nodeId), removal);
    if (shardCount === 0) {
      m.del(keys.nodeKey(command.nodeId));
      return { nodeId: command.nodeId, shardCount, forgotten: true };
    }
    if (node.state !== 'down') m.put(keys.nodeKey(command.nodeId), { ...node, state: 'down', stateChangedAtMs: command.removedAtMs } satisfies StorageNodeRecord);
    return { nodeId: command.nodeId, shardCount, forgotten: false };
  }

  /** Entries of the node → shard index for `nodeId`, counting at most `countMax`. */
  async countNodeShards(nodeId: string, countMax = Number.MAX_SAFE_INTEGER): Promise<number> {
    let count = 0;
    for await (const _key of this.db.keys({ ...rangeOf(keys.nodeShardPrefix(nodeId)), limit: Math.min(countMax, 2 ** 31 - 1) })) count++;
    return count;
  }

  // ---- reads (also used by apply) ----

  /** Counters of every bucket, and their totals. */
  async catalogueStats(): Promise<CatalogueStats> {
    const buckets = await this.scanJson<BucketStatsRecord>(keys.tablePrefix(keys.table.bucketStats), 1_000_000);
    return {
      buckets, bucketCount: buckets.length,
      objectCount: buckets.reduce((sum, b) => sum + b.objectCount, 0),
      objectBytes: buckets.reduce((sum, b) => sum + b.objectBytes, 0),
      multipartUploadCount: buckets.reduce((sum, b) => sum + b.multipartUploadCount, 0),
      noncurrentVersionCount: buckets.reduce((sum, b) => sum + (b.noncurrentVersionCount ?? 0), 0),
      noncurrentVersionBytes: buckets.reduce((sum, b) => sum + (b.noncurrentVersionBytes ?? 0), 0),
      deleteMarkerCount: buckets.reduce((sum, b) => sum + (b.deleteMarkerCount ?? 0), 0),
    };
  }

  async listRemovedNodes(): Promise<RemovedNodeRecord[]> {
    return this.scanJson<RemovedNodeRecord>(keys.tablePrefix(keys.table.removedNode), 100_000);
  }

  async getBucket(bucket: string): Promise<BucketRecord> {
    const record = await this.readJson<BucketRecord>(keys.bucketKey(bucket));
    if (record === undefined) throw new NoSuchBucketError(bucket);
    return record;
  }

  async listBuckets(): Promise<BucketRecord[]> {
    return this.scanJson<BucketRecord>(keys.tablePrefix(keys.table.bucket), 100_000);
  }

  /**
   * The current SSE-S3 master key (undefined before the first GetEncryptionMasterKey created
   * it), or with `keyId` that key, current or retired (undefined when there is none).
   */
  async getEncryptionMasterKey(keyId?: string): Promise<EncryptionMasterKeyRecord | undefined> {
    const current = await this.readJson<EncryptionMasterKeyRecord>(keys.encryptionMasterKeyKey);
    if (keyId === undefined || current?.keyId === keyId) return current;
    return this.readJson<EncryptionMasterKeyRecord>(keys.encryptionMasterKeyByIdKey(keyId));
  }

  /** Every SSE-S3 master key, oldest first (the current one last). */
  async listEncryptionMasterKeys(): Promise<EncryptionMasterKeyRecord[]> {
    const current = await this.readJson<EncryptionMasterKeyRecord>(keys.encryptionMasterKeyKey);
    const byId: EncryptionMasterKeyRecord[] = [];
    const prefix = keys.encryptionMasterKeysPrefix;
    for await (const value of this.db.values({ gte: prefix, lt: Buffer.concat([prefix, Buffer.from([0xff])]) })) byId.push(decodeJson<EncryptionMasterKeyRecord>(value));
    const retired = byId.filter((key) => key.keyId !== current?.keyId).sort((a, b) => a.createdAtMs - b.createdAtMs);
    return current === undefined ? retired : [...retired, current];
  }

  async getAccessKey(accessKeyId: string): Promise<AccessKeyRecord> {
    const record = await this.readJson<AccessKeyRecord>(keys.accessKeyKey(accessKeyId));
    if (record === undefined) throw new NoSuchAccessKeyError(accessKeyId);
    return record;
  }

  async listAccessKeys(): Promise<AccessKeyRecord[]> {
    return this.scanJson<AccessKeyRecord>(keys.tablePrefix(keys.table.accessKey), 100_000);
  }

  /**
   * The key's current version, or the named one (`versionId`, "null" for the null version),
   * with its S3 version id (reportedVersion). NoSuchKeyError when the latest version is a
   * delete marker (naming it), VersionIsDeleteMarkerError when the named one is.
   */
  async getObject(bucket: string, key: string, versionId?: string): Promise<ObjectVersionRecord> {
    const found = await this.readableVersion(bucket, key, versionId === '' ? undefined : versionId);
    return reportedVersion(found.version, found.bucket);
  }

  private async readableVersion(bucketName: string, key: string, versionId: string | undefined): Promise<{ dbKey: Buffer; version: ObjectVersionRecord; bucket: BucketRecord }> {
    const bucket = await this.getBucket(bucketName);
    if (versionId !== undefined) {
      const found = await this.findVersion(bucketName, key, versionId);
      if (found === undefined) throw new NoSuchVersionError(versionId);
      if (isDeleteMarker(found.version)) throw new VersionIsDeleteMarkerError(versionId);
      return { dbKey: found.dbKey, version: found.version, bucket };
    }
    const dbKey = keys.objectKey(bucketName, Buffer.from(key, 'utf8'));
    const record = await this.readJson<ObjectVersionRecord>(dbKey);
    if (record !== undefined) return { dbKey, version: record, bucket };
    // A bucket never versioned has no version table entries.
    const [latest] = bucket.versioning === 'Unversioned' ? [] : await this.noncurrentVersionsOf(bucketName, key);
    if (latest !== undefined && isDeleteMarker(latest.version)) {
      throw new NoSuchKeyError(bucketName, key, undefined, reportedVersionId(latest.version, bucket));
    }
    throw new NoSuchKeyError(bucketName, key);
  }

  async getWrite(writeId: string): Promise<WriteRecord> {
    const record = await this.readJson<WriteRecord>(keys.writeKey(writeId));
    if (record === undefined) throw new NoSuchWriteError(writeId);
    return record;
  }

  async listWrites(limit: number): Promise<WriteRecord[]> {
    return this.scanJson<WriteRecord>(keys.tablePrefix(keys.table.write), limit);
  }

  async getUpload(bucket: string, key: string, uploadId: string): Promise<UploadRecord> {
    await this.getBucket(bucket);
    const record = await this.readJson<UploadRecord>(keys.uploadKey(bucket, key, uploadId));
    if (record === undefined) throw new NoSuchUploadError(uploadId);
    return record;
  }

  async partsOf(uploadId: string): Promise<PartRecord[]> {
    return this.scanJson<PartRecord>(keys.partKeyPrefix(uploadId), 10_001);
  }

  async getNode(nodeId: string): Promise<StorageNodeRecord> {
    const record = await this.readJson<StorageNodeRecord>(keys.nodeKey(nodeId));
    if (record === undefined) throw new NoSuchStorageNodeError(nodeId);
    return record;
  }

  async listNodes(): Promise<StorageNodeRecord[]> {
    return this.scanJson<StorageNodeRecord>(keys.tablePrefix(keys.table.node), 100_000);
  }

  async listMetadataMembers(): Promise<MetadataMemberRecord[]> {
    return this.scanJson<MetadataMemberRecord>(keys.tablePrefix(keys.table.member), 10_000);
  }

  async listQueue(limit: number): Promise<QueueItemRecord[]> {
    return this.scanJson<QueueItemRecord>(keys.tablePrefix(keys.table.queue), limit);
  }

  /**
   * The stripe `stripeId` as the committed record `owner` holds it, or undefined when that
   * record no longer holds it (overwritten, deleted, replaced).
   */
  async locate(owner: StripeOwner, stripeId: string): Promise<LocatedStripe | undefined> {
    switch (owner.kind) {
      case 'object':
      case 'objectPart': {
        const key = keys.objectKey(owner.bucket, Buffer.from(owner.key, 'utf8'));
        const current = await this.readJson<ObjectVersionRecord>(key);
        const located = current === undefined ? undefined : locateInVersion(owner, stripeId, current, key);
        if (located !== undefined) return located;
        // A noncurrent version of the key (versioned buckets) may hold it.
        for (const { dbKey, version } of await this.noncurrentVersionsOf(owner.bucket, owner.key)) {
          const found = isDeleteMarker(version) ? undefined : locateInVersion(owner, stripeId, version, dbKey);
          if (found !== undefined) return found;
        }
        return undefined;
      }
      case 'uploadPart': {
        const key = keys.partKey(owner.uploadId, owner.partNumber);
        const part = await this.readJson<PartRecord>(key);
        if (part?.stripe === undefined || part.stripe === null || part.stripe.stripeId !== stripeId) return undefined;
        return { owner, stripe: part.stripe, dataSizeBytes: part.sizeBytes, save: (stripe, m) => m.put(key, { ...part, stripe }) };
      }
      default:
        return assertNever(owner, 'stripe owner');
    }
  }

  /** Finds a stripe's owner through the node index (any shard's entry), with its current placement. */
  async locateStripe(stripe: StripeRecord): Promise<LocatedStripe | undefined> {
    for (const [shardIndex, nodeId] of stripe.shardNodeIds.entries()) {
      const entry = await this.readJson<NodeShardRecord>(keys.nodeShardKey(nodeId, stripe.stripeId, shardIndex));
      if (entry === undefined) continue;
      const located = await this.locate(entry.owner, stripe.stripeId);
      if (located !== undefined) return located;
    }
    return undefined;
  }

  /** A page of the node → shard index of one node, in (stripeId, shardIndex) order. */
  async listNodeShards(nodeId: string, afterStripeId: string, afterShardIndex: number, limit: number): Promise<NodeShardRecord[]> {
    const prefix = keys.nodeShardPrefix(nodeId);
    const upper = keys.prefixUpperBound(prefix);
    const from = afterStripeId === '' ? prefix : keys.successor(keys.nodeShardKey(nodeId, afterStripeId, afterShardIndex));
    const values = await this.db.values({ gte: from, ...(upper === undefined ? {} : { lt: upper }), limit }).all();
    return values.map((value) => decodeJson<NodeShardRecord>(value));
  }

  /** Whether the catalogue maps shard (stripeId, shardIndex) to `nodeId`, or a write in progress may still own it. */
  async lookupShard(nodeId: string, stripeId: string, shardIndex: number): Promise<{ mapped: boolean; inProgressWrite: boolean }> {
    const mapped = (await this.readRaw(keys.nodeShardKey(nodeId, stripeId, shardIndex))) !== undefined;
    const inProgressWrite = (await this.readRaw(keys.writeKey(stripeId))) !== undefined;
    return { mapped, inProgressWrite };
  }

  /** Shards on down or draining nodes (distinct stripes, bytes) plus pending repair items. */
  async healBacklog(): Promise<HealBacklog> {
    const stripeIds = new Set<string>();
    let shardCount = 0;
    let shardBytes = 0;
    for (const node of await this.listNodes()) {
      if (node.state !== 'down' && node.state !== 'draining') continue;
      const entries = await this.scanJson<NodeShardRecord>(keys.nodeShardPrefix(node.nodeId), 1_000_000);
      for (const entry of entries) {
        const located = await this.locate(entry.owner, entry.stripeId);
        if (located === undefined) continue;
        stripeIds.add(entry.stripeId);
        shardCount++;
        shardBytes += shardSizeBytesOf(entry.dataSizeBytes, located.stripe.dataShardCount, located.stripe.blockSizeBytes);
      }
    }
    const repairQueueItemCount = (await this.listQueue(100_000)).filter((item) => item.kind === 'repairStripe').length;
    return { stripeCount: stripeIds.size, shardCount, shardBytes, repairQueueItemCount };
  }

  private async checkStripeNodes(stripe: StripeRecord): Promise<void> {
    for (const [shardIndex, nodeId] of stripe.shardNodeIds.entries()) {
      if ((await this.readRaw(keys.nodeKey(nodeId))) === undefined) {
        throw new ShardsNotPlacedError(`stripe ${stripe.stripeId}: shard ${shardIndex} is on unknown node ${nodeId}`);
      }
    }
  }

  private async hasAnyWithPrefix(prefix: Buffer): Promise<boolean> {
    const upper = keys.prefixUpperBound(prefix);
    const found = await this.db.keys({ gte: prefix, ...(upper === undefined ? {} : { lt: upper }), limit: 1 }).all();
    return found.length > 0;
  }

  async scanJson<T>(prefix: Buffer, limit: number): Promise<T[]> {
    const upper = keys.prefixUpperBound(prefix);
    const values = await this.db.values({ gte: prefix, ...(upper === undefined ? {} : { lt: upper }), limit }).all();
    return values.map((value) => decodeJson<T>(value));
  }
}

/** LevelDB range options covering every key that starts with `prefix`. */
function rangeOf(prefix: Buffer): { gte: Buffer; lt?: Buffer } {
  const upper = keys.prefixUpperBound(prefix);
  return upper === undefined ? { gte: prefix } : { gte: prefix, lt: upper };
}

/** removeNode counts at most this many index entries inside apply (tens of ms; measured in the README). */
const removeNodeShardCountMax = 10_000;

/** Commands that scan key ranges in LevelDB directly: applyEntries flushes pending writes before them. */
const scanningCommandTypes: ReadonlySet<Command['type']> = new Set(['deleteBucket', 'completeUpload', 'abortUpload', 'expireRequests', 'claimQueueItems', 'removeNode', 'deleteAccessKey']);

function moveIndexEntry(m: Mutation, located: LocatedStripe, change: ShardChange): void {
  const { stripeId } = located.stripe;
  m.del(keys.nodeShardKey(change.fromNodeId, stripeId, change.shardIndex));
  const entry: NodeShardRecord = { nodeId: change.toNodeId, stripeId, shardIndex: change.shardIndex, owner: located.owner, dataSizeBytes: located.dataSizeBytes };
  m.put(keys.nodeShardKey(change.toNodeId, stripeId, change.shardIndex), entry);
}

function encodeIndex(value: number): Buffer {
  const bytes = Buffer.alloc(8);
  bytes.writeBigUInt64BE(BigInt(value));
  return bytes;
}

function versionRecord(fields: VersionFields, layout: ObjectLayout, bucket: BucketRecord, sequence: number): ObjectVersionRecord {
  return {
    bucket: fields.bucket, key: fields.key, sizeBytes: fields.sizeBytes, etag: fields.etag,
    checksums: fields.checksums, contentType: fields.contentType, systemMetadata: fields.systemMetadata,
    userMetadata: fields.userMetadata, storageClass: fields.storageClass, createdAtMs: fields.createdAtMs, layout,
    ...versionIdentity(bucket, sequence, fields.versionId),
  };
}

/**
 * A new version's Object Lock settings checked against its bucket: refused where Object Lock is
 * off; the bucket's default retention added where the writer gave none.
 */
function withBucketLock(record: ObjectVersionRecord, bucket: BucketRecord): ObjectVersionRecord {
  if (bucket.objectLock === undefined) {
    if (hasLockSettings(record.systemMetadata)) throw new ObjectLockNotEnabledError(bucket.name);
    return record;
  }
  return { ...record, systemMetadata: withDefaultRetention(record.systemMetadata, bucket, record.createdAtMs) };
}

/** A stored copy of a lifecycle rule (only its own fields). */
function copyLifecycleRule(rule: LifecycleRuleRecord): LifecycleRuleRecord {
  return { ...rule, tags: rule.tags.map(({ key, value }) => ({ key, value })) };
}

/** What DeleteObject answers: `versionId` is the delete marker's (or the deleted version's) S3 id. */
export interface DeleteObjectResult {
  readonly deleted: boolean;
  readonly deleteMarker: boolean;
  readonly versionId: string;
}

/**
 * The id of a version created at `sequence` in a versioning-enabled bucket: the sequence as 16
 * hex digits (so the id alone locates the version), then up to 16 characters the proposer chose.
 */
export function versionIdOf(sequence: number, tail: string): string {
  return `${sequence.toString(16).padStart(16, '0')}${tail.replace(/[^A-Za-z0-9]/g, '').slice(0, 16)}`;
}

/** The sequence inside a versionIdOf id; undefined for anything else. */
export function sequenceOfVersionId(versionId: string): number | undefined {
  const match = /^([0-9a-f]{16})[A-Za-z0-9]{0,16}$/.exec(versionId);
  if (match === null) return undefined;
  const sequence = Number.parseInt(match[1] ?? '', 16);
  return Number.isSafeInteger(sequence) ? sequence : undefined;
}

/** Version id, versioned flag and sequence of a version created now in `bucket`. */
function versionIdentity(bucket: BucketRecord, sequence: number, tail: string): { versionId: string; versioned: boolean; sequence: number } {
  const versioned = bucket.versioning === 'Enabled';
  return { versionId: versioned ? versionIdOf(sequence, tail) : 'null', versioned, sequence };
}

/**
 * The S3 version id of a version: its own id, "null" for the null version of a bucket that
 * has versioning (Enabled or Suspended), "" in a bucket that never had it (S3 sends no id).
 */
export function reportedVersionId(version: ListedStoredVersion, bucket: BucketRecord): string {
  if (version.versioned === true) return version.versionId;
  return bucket.versioning === 'Unversioned' ? '' : 'null';
}

/**
 * What a write (commitVersion, updateObjectMetadata, setObjectLock, completeUpload; registerPart
 * likewise) answers: the version with the bytes of inline data left empty, the layout's kind
 * kept. The writer has those bytes, no caller reads them from the answer, and the answer is kept
 * under its request id for `requestDedupRetentionMs` (10 minutes) on every replica: with the
 * bytes, a sustained stream of small PUTs kept up to 64 KiB (base64 in JSON) per request there,
 * about 1.4 GB a node for 10 minutes of 4 KiB PUTs at 400/s, and echoed them back over gRPC.
 * Reads (getObject) return the bytes.
 */
export function writeAnswer(record: ObjectVersionRecord): ObjectVersionRecord {
  const { layout } = record;
  if (layout.kind === 'inline') return { ...record, layout: { kind: 'inline', data: Buffer.alloc(0) } };
  if (layout.kind === 'multipart' && layout.parts.some((part) => hasInlineData(part))) {
    return { ...record, layout: { kind: 'multipart', parts: layout.parts.map(withoutInlineBytes) } };
  }
  return record;
}

function hasInlineData(part: PartLayout): boolean {
  return part.inlineData !== undefined && part.inlineData !== null;
}

/** A part (of an upload, or of a completed object's layout) as writes answer it: see writeAnswer. */
function withoutInlineBytes<Part extends PartLayout>(part: Part): Part {
  return hasInlineData(part) ? { ...part, inlineData: Buffer.alloc(0) } : part;
}

/** The record as reads return it: with its S3 version id (reportedVersionId). */
export function reportedVersion(record: ObjectVersionRecord, bucket: BucketRecord): ObjectVersionRecord {
  return { ...record, versionId: reportedVersionId(record, bucket) };
}

/** The stripe `stripeId` inside one version of an object owner's key, saved back to `dbKey`. */
function locateInVersion(owner: Extract<StripeOwner, { kind: 'object' | 'objectPart' }>, stripeId: string, record: ObjectVersionRecord, dbKey: Buffer): LocatedStripe | undefined {
  if (owner.kind === 'object') {
    if (record.layout.kind !== 'stripe' || record.layout.stripe.stripeId !== stripeId) return undefined;
    return { owner, stripe: record.layout.stripe, dataSizeBytes: record.sizeBytes, save: (stripe, m) => m.put(dbKey, { ...record, layout: { kind: 'stripe', stripe } }) };
  }
  if (record.layout.kind !== 'multipart') return undefined;
  const parts = record.layout.parts;
  const part = parts.find((p) => p.partNumber === owner.partNumber);
  if (part?.stripe === undefined || part.stripe === null || part.stripe.stripeId !== stripeId) return undefined;
  return {
    owner, stripe: part.stripe, dataSizeBytes: part.sizeBytes,
    save: (stripe, m) => m.put(dbKey, { ...record, layout: { kind: 'multipart', parts: parts.map((p) => (p.partNumber === owner.partNumber ? { ...p, stripe } : p)) } }),
  };
}

function enqueueLayoutGarbage(layout: ObjectLayout, reason: string, atMs: number, m: Mutation): void {
  switch (layout.kind) {
    case 'stripe':
      m.enqueue('gcStripe', layout.stripe, reason, atMs);
      return;
    case 'inline':
      return;
    case 'multipart':
      for (const part of layout.parts) if (part.stripe !== undefined && part.stripe !== null) m.enqueue('gcStripe', part.stripe, reason, atMs);
      return;
    default:
      assertNever(layout, 'layout');
  }
}

/**
 * S3 CompleteMultipartUpload rules: part numbers strictly ascending (InvalidPartOrder), each
 * uploaded with the given ETag (InvalidPart), every part but the last at least the minimum
 * size (EntityTooSmall).
 */
function choosePartsForComplete(
  requested: readonly { partNumber: number; etag: string }[],
  stored: readonly PartRecord[],
  partSizeBytesMin: number,
): PartRecord[] {
  const byNumber = new Map(stored.map((part) => [part.partNumber, part]));
  const chosen: PartRecord[] = [];
  let previousNumber = 0;
  for (const request of requested) {
    if (request.partNumber <= previousNumber) throw new InvalidPartOrderError();
    previousNumber = request.partNumber;
    const part = byNumber.get(request.partNumber);
    if (part === undefined || part.etag !== request.etag) throw new InvalidPartError(request.partNumber);
    chosen.push(part);
  }
  chosen.forEach((part, position) => {
    if (position < chosen.length - 1 && part.sizeBytes < partSizeBytesMin) throw new EntityTooSmallError(part.partNumber);
  });
  return chosen;
}

/** S3's multipart ETag: MD5 of the concatenated binary part MD5s, then "-<part count>". */
export function multipartEtag(partEtags: readonly string[]): string {
  const hash = createHash('md5');
  for (const etag of partEtags) hash.update(Buffer.from(etag.slice(0, 32), 'hex'));
  return `${hash.digest('hex')}-${partEtags.length}`;
}

/**
 * S3 conditional delete (If-Match), against the version the delete removes: "*" needs an object,
 * ETags that object's ETag among them. As S3 answers: no version at all is NoSuchKeyError; a
 * delete marker (it has no ETag) or another ETag PreconditionFailedError. Nothing is checked
 * without a condition.
 */
function checkDeleteCondition(bucket: string, key: string, version: StoredVersion | 'none', ifMatchEtag: string | undefined): void {
  if (ifMatchEtag === undefined || ifMatchEtag === '') return;
  if (version === 'none') throw new NoSuchKeyError(bucket, key);
  if (isDeleteMarker(version)) throw new PreconditionFailedError(bucket, key, `the latest version of ${bucket}/${key} is a delete marker (If-Match)`);
  if (!etagListMatches(ifMatchEtag, version.etag)) {
    throw new PreconditionFailedError(bucket, key, `${bucket}/${key} has ETag ${version.etag}, not ${ifMatchEtag} (If-Match)`);
  }
}

/**
 * A node's stored bytes from its registration or heartbeat, else what the record had (entries
 * written before nodes reported it).
 */
function storedBytesOf(command: { readonly storedBytes?: number }, previous: StorageNodeRecord | undefined): { storedBytes?: number } {
  const storedBytes = command.storedBytes ?? previous?.storedBytes;
  return storedBytes === undefined ? {} : { storedBytes };
}

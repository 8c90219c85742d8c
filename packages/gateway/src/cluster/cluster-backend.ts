/**
 * ClusterS3Backend: the S3Backend over a Tessera cluster. Metadata (buckets, versions,
 * uploads, placement) comes from the Raft-replicated metadata service through MetadataClient;
 * bytes go to storage nodes as erasure-coded stripes (StripeWriter, StripeReader), or inline in
 * the metadata record for small bodies.
 *
 * Commit protocol of a PUT (and of an UploadPart): place a new stripe over the cached node list
 * (stripe-placement.ts; nothing recorded yet) -> stream every shard, each durable on its node
 * when its stream resolves -> write quorum checked -> commitVersion (registerPart), the one Raft
 * commit that makes the version visible atomically, names its stripe, and evaluates S3
 * conditions (If-None-Match: *, If-Match) inside the same apply. Any failure before the commit,
 * or a commit refused for sure: a best-effort delete of the shards written. Shards no committed
 * record names (a gateway that died mid-write, a node unreachable for that delete) are found
 * by the healer's orphan scan once older than its safety delay. Shard streams that failed
 * while the quorum held are listed in the version's system metadata
 * (`x-tessera-failed-shards`) for the healer.
 */
import type { Clock, Logger } from '@tessera/common';
import { NoSuchKeyError, PreconditionFailedError } from '@tessera/rpc';
import type { LifecycleRule, MetadataClient } from '@tessera/rpc';
import type { WriteCondition as MetadataWriteCondition } from '@tessera/proto/generated/tessera/metadata/v1/WriteCondition';
import type { ObjectVersion__Output } from '@tessera/proto/generated/tessera/metadata/v1/ObjectVersion';
import { S3BackendError } from '../backend';
import type {
  BucketGrant,
  BucketInfo,
  CompleteMultipartRequest,
  DefaultRetention,
  DeleteObjectResult,
  DeleteOptions,
  ListEntry,
  ListObjectsPage,
  ListObjectsRequest,
  ListPartsPage,
  ListUploadsPage,
  ListUploadsRequest,
  ListVersionsPage,
  ListVersionsRequest,
  MultipartChecksum,
  MultipartUploadInfo,
  ObjectInfo,
  ObjectLockChange,
  ObjectReader,
  PartInfo,
  ObjectOwnership,
  PublicAccessBlock,
  PutObjectRequest,
  S3Backend,
  UploadPartOptions,
  VersionListEntry,
  WriteCondition,
} from '../backend';
import { listWithDelimiter } from '../listing';
import type { GatewayMetrics } from '../metrics';
import type { ObjectHeaders } from '../object-headers';
import { encodeStoredAcl } from '../access-control';
import type { AclGrant } from '../access-control';
import { encodeStoredTags } from '../object-tags';
import type { CorsRule } from '@tessera/rpc';
import type { Tag } from '../object-tags';
import type { VerifiedBody } from '../request-body';
import { deleteStripeShards, storeBody } from './body-storage';
import { ByteBudget } from './byte-budget';
import type { PlacedStripe, StoredBody } from './body-storage';
import { writeBufferBytesOf } from './data-path-options';
import type { DataPathOptions } from './data-path-options';
import { isDefiniteRefusal, toBackendError } from './metadata-error-mapping';
import {
  bucketInfoOf,
  checksumMapOf,
  failedShardsMetadataKey,
  aclMetadataKey,
  legacyGrantsMetadataKey,
  multipartChecksumAnnotations,
  objectInfoOf,
  partInfoOf,
  stripeToRecord,
  systemMetadataOf,
  tagsMetadataKey,
  uploadInfoOf,
} from './metadata-records';
import { ObjectStitcher } from './object-stitcher';
import { RepairReporter } from './repair-reporter';
import type { StorageNodePool } from './storage-node-pool';
import { QuorumUnavailableError } from './stripe';
import type { Stripe } from './stripe';
import { StripeReader } from './stripe-reader';
import { placeNewStripe } from './stripe-placement';
import { StripeWriter } from './stripe-writer';

export interface ClusterBackendComponents {
  readonly metadata: MetadataClient;
  readonly pool: StorageNodePool;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: GatewayMetrics;
}

export interface ClusterBackendOptions {
  readonly dataPath: DataPathOptions;
}

/** /health/ready answers within this time. */
const readinessTimeoutMs = 2_000;
/** Metadata pages are at most 1000 entries (ListObjects, ListMultipartUploads). */
const metadataPageSizeMax = 1000;
/**
 * A streamed body is kept for a retry up to this size: the 8 MiB parts of the AWS CLI and
 * boto3 and single PUTs up to 16 MiB survive an AZ that stops answering (body-storage.ts).
 */
const retryRetainedBytesPerBodyMax = 16 * 1024 * 1024;
/** All writes of a gateway together keep at most this much for retries. */
const retryRetainedBytesTotalMax = 64 * 1024 * 1024;

export class ClusterS3Backend implements S3Backend {
  private readonly writer: StripeWriter;
  /** Bytes of streamed bodies kept for a retry, by all writes together (see body-storage.ts). */
  private readonly retainedForRetries = new ByteBudget(retryRetainedBytesTotalMax);
  /** Buffers of striped writes in progress (see DataPathOptions.writeBufferBytesMax). */
  private readonly writeBuffers: ByteBudget;
  private readonly stitcher: ObjectStitcher;
  private readonly repairs: RepairReporter;

  constructor(
    private readonly options: ClusterBackendOptions,
    private readonly components: ClusterBackendComponents,
  ) {
    this.writer = new StripeWriter(components.pool, options.dataPath, components.logger);
    this.writeBuffers = new ByteBudget(options.dataPath.writeBufferBytesMax, (reservedBytes) => components.metrics.writeBufferBytes.set(reservedBytes));
    this.repairs = new RepairReporter(components.metadata, components.clock, components.logger);
    const readBudget = new ByteBudget(options.dataPath.readBufferBytesMax, (reservedBytes) => components.metrics.readBufferBytes.set(reservedBytes));
    this.stitcher = new ObjectStitcher(new StripeReader(components.pool, options.dataPath, components.logger, readBudget), components.pool, this.repairs, components.metrics, components.logger);
  }

  /** Stops background work (repair reports still waiting for a retry are left to the scrubber). */
  close(): void {
    this.repairs.stop();
  }

  /** Metadata quorum answers (a linearizable read) and enough storage nodes are up to write. */
  async isReady(): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    // A probe must answer quickly: the metadata client would otherwise retry for many seconds.
    const timedOut = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), readinessTimeoutMs)));
    try {
      const nodes = await Promise.race([this.components.metadata.listNodes(), timedOut]);
      return nodes !== undefined && nodes.filter((node) => node.state === 'up').length >= this.options.dataPath.writeQuorumShardCount;
    } catch {
      return false;
    } finally {
      clearTimeout(timer);
    }
  }

  listBuckets(): Promise<readonly BucketInfo[]> {
    return this.call(async () => (await this.components.metadata.listBuckets()).map(bucketInfoOf));
  }

  createBucket(name: string, owner: string, options: { readonly objectLockEnabled?: boolean } = {}): Promise<void> {
    return this.call(async () => {
      await this.components.metadata.createBucket({ bucket: name, owner, objectLockEnabled: options.objectLockEnabled === true });
    });
  }

  setBucketObjectLock(name: string, defaultRetention: DefaultRetention | undefined): Promise<void> {
    return this.call(async () => {
      await this.components.metadata.setBucketObjectLock({
        bucket: name, defaultRetentionMode: defaultRetention?.mode ?? '', defaultRetentionDays: defaultRetention?.days ?? 0, defaultRetentionYears: defaultRetention?.years ?? 0,
      });
    });
  }

  setObjectLock(bucket: string, key: string, versionId: string | undefined, change: ObjectLockChange): Promise<ObjectInfo> {
    return this.call(async () => {
      const retention = change.retention === undefined ? { retentionAction: 'keep' }
        : change.retention === null ? { retentionAction: 'remove' }
        : { retentionAction: 'set', retentionMode: change.retention.mode, retainUntilMs: change.retention.retainUntilMs };
      const legalHoldAction = change.legalHold === undefined ? 'keep' : change.legalHold ? 'on' : 'off';
      return objectInfoOf(await this.components.metadata.setObjectLock({
        bucket, key, versionId: versionId ?? '', ...retention, legalHoldAction, bypassGovernance: change.bypassGovernance,
      }));
    });
  }

  deleteBucket(name: string): Promise<void> {
    return this.call(() => this.components.metadata.deleteBucket(name));
  }

  headBucket(name: string): Promise<BucketInfo> {
    return this.call(async () => bucketInfoOf(await this.components.metadata.headBucket(name)));
  }

  setBucketGrants(name: string, grants: readonly BucketGrant[], exactAcl?: readonly AclGrant[]): Promise<void> {
    return this.call(async () => {
      await this.components.metadata.replaceBucketGrants(name, grants, exactAcl);
    });
  }

  setBucketTags(name: string, tags: readonly Tag[]): Promise<void> {
    return this.call(async () => {
      await this.components.metadata.setBucketTags(name, tags);
    });
  }

  setBucketCors(name: string, rules: readonly CorsRule[]): Promise<void> {
    return this.call(async () => {
      await this.components.metadata.setBucketCors(name, rules);
    });
  }

  putObject(request: PutObjectRequest): Promise<ObjectInfo> {
    return this.call(async () => {
      const stored = await this.store(request.body, `${request.bucket}/${request.key}`);
      const summary = request.body.summary();
      try {
        const version = await this.components.metadata.commitVersion({
          writeId: '',
          versionId: '',
          bucket: request.bucket,
          key: request.key,
          sizeBytes: summary.sizeBytes,
          etag: summary.md5Hex,
          checksums: checksumMapOf(summary.checksums),
          contentType: request.headers.system['content-type'] ?? '',
          systemMetadata: systemMetadataOf(request.headers, failedShardsAnnotation(stored)),
          userMetadata: { ...request.headers.user },
          ...dataOf(stored),
          condition: metadataConditionOf(request.condition),
        });
        this.reportFailedShards(stored, `PutObject ${request.bucket}/${request.key}`);
        return objectInfoOf(version);
      } catch (error) {
        // Refused for sure (a failed condition, a deleted bucket): nothing refers to the shards.
        // An unknown outcome (timeout, lost leader) may have committed: the shards stay, and if
        // the version was not in fact committed the healer's orphan scan deletes them later.
        if (stored.kind === 'stripe' && (isConditionFailure(error) || isDefiniteRefusal(error))) await this.deleteShards(stored.stripe);
        throw preconditionErrorOf(error);
      }
    });
  }

  headObject(bucket: string, key: string, versionId = ''): Promise<ObjectInfo> {
    return this.call(async () => objectInfoOf(await this.components.metadata.getObject({ bucket, key, versionId, readsEncrypted: true })));
  }

  openObject(bucket: string, key: string, versionId = ''): Promise<ObjectReader> {
    return this.call(async () => {
      const version = await this.components.metadata.getObject({ bucket, key, versionId, readsEncrypted: true });
      await this.stitcher.checkReadable(version);
      return this.readerOf(version);
    });
  }

  setObjectTags(bucket: string, key: string, tags: readonly Tag[], versionId = ''): Promise<ObjectInfo> {
    return this.replaceSystemMetadataEntry(bucket, key, versionId, tagsMetadataKey, tags.length === 0 ? undefined : encodeStoredTags(tags));
  }

  setObjectAcl(bucket: string, key: string, acl: readonly AclGrant[] | undefined, versionId = ''): Promise<ObjectInfo> {
    // The grants an older version kept (legacyGrantsMetadataKey) go with the ACL they were part of.
    return this.replaceSystemMetadataEntry(bucket, key, versionId, aclMetadataKey, acl === undefined ? undefined : encodeStoredAcl(acl), [legacyGrantsMetadataKey]);
  }

  /** Sets one system metadata entry of a version in place, or removes it (`value` undefined), and removes `alsoRemove`. */
  private replaceSystemMetadataEntry(bucket: string, key: string, versionId: string, name: string, value: string | undefined, alsoRemove: readonly string[] = []): Promise<ObjectInfo> {
    return this.call(async () => {
      const setSystemMetadata: Record<string, string> = value === undefined ? {} : { [name]: value };
      const removeSystemMetadata = value === undefined ? [name, ...alsoRemove] : [...alsoRemove];
      return objectInfoOf(await this.components.metadata.updateObjectMetadata({ bucket, key, versionId, setSystemMetadata, removeSystemMetadata }));
    });
  }

  deleteObject(bucket: string, key: string, versionId = '', options: DeleteOptions = {}): Promise<DeleteObjectResult> {
    return this.call(async () => {
      const result = await this.components.metadata
        .deleteObject(bucket, key, versionId, undefined, options.bypassGovernance === true, options.ifMatchEtag ?? '')
        .catch((error: unknown) => { throw preconditionErrorOf(error); });
      return { versionId: result.versionId === '' ? undefined : result.versionId, deleteMarker: result.deleteMarker };
    });
  }

  setBucketEncryption(name: string, algorithm: 'AES256' | undefined): Promise<void> {
    return this.call(async () => {
      await this.components.metadata.setBucketEncryption(name, algorithm ?? '');
    });
  }

  setBucketPolicy(name: string, policy: string | undefined): Promise<void> {
    return this.call(async () => {
      await this.components.metadata.setBucketPolicy(name, policy ?? '');
    });
  }

  setBucketOwnershipControls(name: string, objectOwnership: ObjectOwnership | undefined): Promise<void> {
    return this.call(async () => {
      await this.components.metadata.setBucketOwnershipControls(name, objectOwnership ?? '');
    });
  }

  setBucketPublicAccessBlock(name: string, configuration: PublicAccessBlock | undefined): Promise<void> {
    return this.call(async () => {
      await this.components.metadata.setBucketPublicAccessBlock(name, configuration);
    });
  }

  setBucketLifecycle(name: string, rules: readonly LifecycleRule[]): Promise<void> {
    return this.call(async () => {
      await this.components.metadata.setBucketLifecycle(name, rules);
    });
  }

  setBucketVersioning(name: string, status: 'Enabled' | 'Suspended'): Promise<void> {
    return this.call(async () => {
      await this.components.metadata.setBucketVersioning(name, status);
    });
  }

  listObjectVersions(request: ListVersionsRequest): Promise<ListVersionsPage> {
    return this.call(async () => {
      if (request.maxKeys <= 0) return { entries: [], isTruncated: false, nextKeyMarker: undefined, nextVersionIdMarker: undefined };
      const page = await this.components.metadata.listObjectVersions({
        bucket: request.bucket, prefix: request.prefix, delimiter: request.delimiter ?? '', keyMarker: request.keyMarker ?? '',
        versionIdMarker: request.versionIdMarker ?? '', maxKeys: Math.min(request.maxKeys, metadataPageSizeMax),
      });
      const entries: VersionListEntry[] = [
        ...page.versions.map((version): VersionListEntry => (version.deleteMarker
          ? { kind: 'deleteMarker', key: version.key, versionId: version.versionId, lastModifiedMs: version.createdAtMs, isLatest: version.isLatest }
          : { kind: 'version', object: objectInfoOf(version), isLatest: version.isLatest })),
        ...page.commonPrefixes.map((prefix): VersionListEntry => ({ kind: 'prefix', prefix })),
      ];
      // Stable: a key's versions keep their newest-first order.
      entries.sort((a, b) => Buffer.compare(Buffer.from(versionEntryKey(a)), Buffer.from(versionEntryKey(b))));
      return {
        entries, isTruncated: page.isTruncated,
        nextKeyMarker: page.isTruncated ? page.nextKeyMarker : undefined,
        nextVersionIdMarker: page.isTruncated && page.nextVersionIdMarker !== '' ? page.nextVersionIdMarker : undefined,
      };
    });
  }

  listObjects(request: ListObjectsRequest): Promise<ListObjectsPage> {
    return this.call(async () => {
      if (request.maxKeys <= 0) return { entries: [], isTruncated: false };
      // A returned common prefix is skipped by starting after it: the metadata listing treats a
      // start key that is a common prefix as "after that whole group" (as S3 does for v1 markers).
      const startAfter = maxKey(request.startAfter, request.skipPrefix) ?? '';
      const page = await this.components.metadata.listObjects({
        bucket: request.bucket,
        prefix: request.prefix,
        delimiter: request.delimiter ?? '',
        startAfter,
        continuationToken: '',
        maxKeys: Math.min(request.maxKeys, metadataPageSizeMax),
      });
      const entries: ListEntry[] = [
        ...page.objects.map((version): ListEntry => ({ kind: 'object', object: objectInfoOf(version) })),
        ...page.commonPrefixes.map((prefix): ListEntry => ({ kind: 'prefix', prefix })),
      ]
        .filter((entry) => request.skipPrefix === undefined || !entryKey(entry).startsWith(request.skipPrefix))
        .sort((a, b) => Buffer.compare(Buffer.from(entryKey(a)), Buffer.from(entryKey(b))));
      return { entries, isTruncated: page.isTruncated };
    });
  }

  createMultipartUpload(bucket: string, key: string, headers: ObjectHeaders, checksum: MultipartChecksum | undefined, initiator: string): Promise<MultipartUploadInfo> {
    return this.call(async () => {
      const upload = await this.components.metadata.createMultipartUpload({
        bucket,
        key,
        contentType: headers.system['content-type'] ?? '',
        systemMetadata: systemMetadataOf(headers, multipartChecksumAnnotations(checksum)),
        userMetadata: { ...headers.user },
        storageClass: '',
        owner: initiator,
      });
      return uploadInfoOf(upload);
    });
  }

  uploadPart(bucket: string, key: string, uploadId: string, partNumber: number, body: VerifiedBody, options: UploadPartOptions = {}): Promise<PartInfo> {
    return this.call(async () => {
      // A stripe of its own per attempt, so a re-upload of the same part never overwrites the
      // shards of the part it replaces.
      const stored = await this.store(body, `${bucket}/${key}/${uploadId}/${partNumber}`);
      const summary = body.summary();
      try {
        const part = await this.components.metadata.registerPart({
          bucket,
          key,
          uploadId,
          partNumber,
          sizeBytes: summary.sizeBytes,
          etag: summary.md5Hex,
          checksums: checksumMapOf(summary.checksums),
          ...dataOf(stored),
          cipherIv: options.cipherIv ?? '',
        });
        this.reportFailedShards(stored, `UploadPart ${bucket}/${key} upload ${uploadId} part ${partNumber}`);
        return partInfoOf(part);
      } catch (error) {
        if (stored.kind === 'stripe' && isDefiniteRefusal(error)) await this.deleteShards(stored.stripe);
        throw error;
      }
    });
  }

  listParts(bucket: string, key: string, uploadId: string, partNumberMarker: number, maxParts: number): Promise<ListPartsPage> {
    return this.call(async () => {
      const page = await this.components.metadata.listParts({ bucket, key, uploadId, partNumberMarker, maxParts: Math.min(Math.max(maxParts, 1), metadataPageSizeMax) });
      const upload = await this.findUpload(bucket, key, uploadId);
      return { upload, parts: page.parts.map(partInfoOf), isTruncated: page.isTruncated };
    });
  }

  completeMultipartUpload(request: CompleteMultipartRequest): Promise<ObjectInfo> {
    return this.call(async () => {
      // Every stored part ETag is a hex MD5, so any other ETag names no part (S3: InvalidPart);
      // the metadata service would refuse it as a malformed argument instead.
      if (request.parts.some((part) => !/^[0-9a-f]{32}$/.test(part.etag))) throw new S3BackendError('InvalidPart');
      const version = await this.components.metadata.completeMultipartUpload({
        bucket: request.bucket,
        key: request.key,
        uploadId: request.uploadId,
        parts: request.parts.map((part) => ({ partNumber: part.partNumber, etag: part.etag })),
        checksums: checksumMapOf(request.checksums),
        condition: metadataConditionOf(request.condition),
      }).catch((error: unknown) => {
        throw preconditionErrorOf(error);
      });
      if (version.etag !== request.etag) this.components.logger.warn('multipart ETag differs from the gateway computation', { stored: version.etag, computed: request.etag });
      return { ...objectInfoOf(version), etag: request.etag };
    });
  }

  abortMultipartUpload(bucket: string, key: string, uploadId: string): Promise<void> {
    return this.call(() => this.components.metadata.abortMultipartUpload({ bucket, key, uploadId }));
  }

  listMultipartUploads(request: ListUploadsRequest): Promise<ListUploadsPage> {
    return this.call(async () => {
      // The metadata service pages uploads without a delimiter; the roll-up into common
      // prefixes happens here, reading pages until the roll-up has more than maxUploads entries.
      const uploads: MultipartUploadInfo[] = [];
      let keyMarker = request.keyMarker ?? '';
      let uploadIdMarker = request.uploadIdMarker ?? '';
      for (;;) {
        const page = await this.components.metadata.listMultipartUploads({ bucket: request.bucket, prefix: request.prefix, keyMarker, uploadIdMarker, maxUploads: metadataPageSizeMax });
        uploads.push(...page.uploads.map(uploadInfoOf));
        const rolled = rollUpUploads(uploads, request);
        if (!page.isTruncated || rolled.entries.length > request.maxUploads) return rolled;
        keyMarker = page.nextKeyMarker;
        uploadIdMarker = page.nextUploadIdMarker;
      }
    });
  }

  /** `stripeKeyPrefix` (bucket/key, or bucket/key/upload/part) spreads placement by key. */
  private async store(body: VerifiedBody, stripeKeyPrefix: string): Promise<StoredBody> {
    const { inlineSizeBytesMax, blockSizeBytes, writeBufferWaitMsMax } = this.options.dataPath;
    // Inline bodies are small and held by the request anyway; striped ones wait for buffers.
    // (Reserving 0 bytes would still queue behind waiting writes in the budget's FIFO.)
    const bufferBytes = body.sizeBytesMax <= inlineSizeBytesMax ? 0 : writeBufferBytesOf(this.options.dataPath, body.sizeBytesMax);
    if (bufferBytes > 0) {
      try {
        await this.writeBuffers.reserve(bufferBytes, AbortSignal.timeout(writeBufferWaitMsMax));
      } catch {
        throw new S3BackendError('Overloaded', `no write buffers free within ${writeBufferWaitMsMax} ms`, {
          clientMessage: 'The gateway is writing as much as its memory allows. Please reduce your request rate and retry.',
        });
      }
    }
    try {
      const retry = { bytesPerBodyMax: retryRetainedBytesPerBodyMax, budget: this.retainedForRetries };
      return await storeBody(body, { inlineSizeBytesMax, retainSizeBytesMax: blockSizeBytes, retry }, this.writer, {
        place: () => this.placeStripe(stripeKeyPrefix),
        placeAround: (failed) => this.placeStripeAround(stripeKeyPrefix, failed),
        onFailure: (stripe) => this.deleteShards(stripe),
        onRetry: (outcome) => this.components.metrics.writeRetriesTotal.labels(outcome).inc(),
      });
    } catch (error) {
      if (error instanceof QuorumUnavailableError) this.components.metrics.quorumFailuresTotal.labels('write').inc();
      throw error;
    } finally {
      if (bufferBytes > 0) this.writeBuffers.release(bufferBytes);
    }
  }

  /** A committed stripe with failed shards goes to the repair queue (after the commit: the healer needs its owner). */
  private reportFailedShards(stored: StoredBody, what: string): void {
    if (stored.kind !== 'stripe' || stored.failedShardIndexes.length === 0) return;
    this.components.logger.warn('committed with failed shards', { what, stripeId: stored.stripe.stripeId, failedShardIndexes: stored.failedShardIndexes });
    this.repairs.report(stripeToRecord(stored.stripe, stored.degradedSpread), `${what}: shards ${stored.failedShardIndexes.join(',')} failed at write`);
  }

  /**
   * A new stripe placed by the gateway over its cached node list (see stripe-placement.ts).
   * Too few live nodes in the cached list: the list is fetched again before the 503, since
   * nodes may have registered or come back since (a cluster just started, say).
   */
  private async placeStripe(stripeKeyPrefix: string): Promise<PlacedStripe> {
    const { dataShardCount, parityShardCount, blockSizeBytes } = this.options.dataPath;
    const shape = { dataShardCount, parityShardCount, blockSizeBytes };
    const { pool, metrics } = this.components;
    const avoided = pool.nodesToAvoidForWrites();
    metrics.writeAvoidedNodes.set(avoided.size);
    let placed: PlacedStripe;
    try {
      placed = placeNewStripe(await pool.nodes(), stripeKeyPrefix, shape, avoided);
    } catch (error) {
      if (!(error instanceof QuorumUnavailableError)) throw error;
      placed = placeNewStripe(await pool.nodes({ fresh: true }), stripeKeyPrefix, shape, avoided);
    }
    metrics.stripesPlacedTotal.inc({ spread: placed.degradedSpread ? 'degraded' : 'even' });
    return placed;
  }

  /**
   * A stripe for the retry of a write that missed its quorum: only when some of `failed`'s nodes
   * are now avoided (their streams broke, so something was learned) and the new placement keeps
   * clear of every avoided node; otherwise the retry would wait on the same nodes again.
   */
  private async placeStripeAround(stripeKeyPrefix: string, failed: Stripe): Promise<PlacedStripe | undefined> {
    const avoided = this.components.pool.nodesToAvoidForWrites();
    if (!failed.shardNodeIds.some((nodeId) => avoided.has(nodeId))) return undefined;
    const placed = await this.placeStripe(stripeKeyPrefix);
    return placed.stripe.shardNodeIds.some((nodeId) => avoided.has(nodeId)) ? undefined : placed;
  }

  /** Best effort: shards on a node that cannot be reached now are left to the orphan scan. */
  private deleteShards(stripe: Stripe): Promise<void> {
    return deleteStripeShards(this.components.pool, stripe, this.components.logger);
  }

  private readerOf(version: ObjectVersion__Output): ObjectReader {
    const info = objectInfoOf(version);
    return { info, read: (startByte, endByteInclusive) => this.stitcher.read(version, startByte, endByteInclusive) };
  }

  private async findUpload(bucket: string, key: string, uploadId: string): Promise<MultipartUploadInfo> {
    let keyMarker = '';
    let uploadIdMarker = '';
    for (;;) {
      const page = await this.components.metadata.listMultipartUploads({ bucket, prefix: key, keyMarker, uploadIdMarker, maxUploads: metadataPageSizeMax });
      const found = page.uploads.find((upload) => upload.uploadId === uploadId && upload.key === key);
      if (found !== undefined) return uploadInfoOf(found);
      if (!page.isTruncated) throw new S3BackendError('NoSuchUpload');
      keyMarker = page.nextKeyMarker;
      uploadIdMarker = page.nextUploadIdMarker;
    }
  }

  private async call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      throw toBackendError(error);
    }
  }
}

function dataOf(stored: StoredBody): { stripe: ReturnType<typeof stripeToRecord> } | { inlineData: Buffer } {
  return stored.kind === 'inline' ? { inlineData: stored.data } : { stripe: stripeToRecord(stored.stripe, stored.degradedSpread) };
}

/** S3 conditions travel to the metadata commit, which evaluates them atomically at apply. */
function metadataConditionOf(condition: WriteCondition): MetadataWriteCondition {
  return { ifNoneMatchAny: condition.ifNoneMatchAny, ifMatchEtag: condition.ifMatchEtag ?? '', ifNoneMatchEtags: condition.ifNoneMatchEtags ?? '' };
}

/** PreconditionFailed, or NoSuchKey for If-Match on a missing key: the commit released the write. */
function isConditionFailure(error: unknown): boolean {
  return error instanceof PreconditionFailedError || error instanceof NoSuchKeyError;
}

function preconditionErrorOf(error: unknown): unknown {
  return error instanceof PreconditionFailedError ? new S3BackendError('PreconditionFailed', error.message, { cause: error }) : error;
}

function failedShardsAnnotation(stored: StoredBody): Record<string, string> {
  if (stored.kind !== 'stripe' || stored.failedShardIndexes.length === 0) return {};
  return { [failedShardsMetadataKey]: stored.failedShardIndexes.join(',') };
}

function versionEntryKey(entry: VersionListEntry): string {
  if (entry.kind === 'prefix') return entry.prefix;
  return entry.kind === 'version' ? entry.object.key : entry.key;
}

function entryKey(entry: ListEntry): string {
  return entry.kind === 'object' ? entry.object.key : entry.prefix;
}

function maxKey(a: string | undefined, b: string | undefined): string | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Buffer.compare(Buffer.from(a), Buffer.from(b)) >= 0 ? a : b;
}

function rollUpUploads(uploads: readonly MultipartUploadInfo[], request: ListUploadsRequest): ListUploadsPage {
  const page = listWithDelimiter(
    uploads.map((upload) => [upload.key, upload] as const),
    { prefix: request.prefix, delimiter: request.delimiter, startAfter: undefined, skipPrefix: request.skipPrefix, maxKeys: request.maxUploads },
  );
  return {
    entries: page.entries.map((entry) => (entry.kind === 'item' ? { kind: 'upload', upload: entry.item } : { kind: 'prefix', prefix: entry.prefix })),
    isTruncated: page.isTruncated,
  };
}

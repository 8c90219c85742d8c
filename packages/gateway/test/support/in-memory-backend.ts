/**
 * InMemoryS3Backend: TEST CODE ONLY (not exported from src). A complete, simple S3Backend over
 * Maps, so that the protocol layer can be driven end to end by real S3 clients before the
 * erasure-coded data path exists. It follows the backend contract in src/backend.ts to the
 * letter: it reads each body to the end before committing and keeps nothing when reading
 * throws, and it pins versions for readers. `aborted` counts bodies that failed mid-stream.
 */
import { randomBytes } from 'node:crypto';
import type { Clock } from '@tessera/common';
import type { AclGrant } from '../../src/access-control';
import { S3BackendError } from '../../src/backend';
import { etagListMatches } from '../../src/conditional';
import type {
  BucketGrant,
  DeleteOptions,
  BucketInfo,
  CompleteMultipartRequest,
  DeleteObjectResult,
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
  ObjectReader,
  PartInfo,
  ObjectOwnership,
  PublicAccessBlock,
  PutObjectRequest,
  S3Backend,
  UploadPartOptions,
  VersionListEntry,
  WriteCondition,
} from '../../src/backend';
import { listWithDelimiter, markerCommonPrefix } from '../../src/listing';
import { S3Error } from '../../src/s3-errors';
import type { ObjectHeaders } from '../../src/object-headers';
import type { Tag } from '../../src/object-tags';
import type { CorsRule } from '../../src/cors';
import type { LifecycleRule } from '@tessera/rpc';
import type { VerifiedBody } from '../../src/request-body';

interface StoredObject {
  readonly info: ObjectInfo;
  readonly data: Buffer;
}

interface StoredPart {
  readonly info: PartInfo;
  readonly data: Buffer;
  readonly cipherIv: string | undefined;
}

interface Upload {
  readonly info: MultipartUploadInfo;
  readonly parts: Map<number, StoredPart>;
}

interface Bucket {
  info: BucketInfo;
  readonly objects: Map<string, StoredObject>;
  readonly uploads: Map<string, Upload>;
}

function byKey<T>(map: ReadonlyMap<string, T>): [string, T][] {
  return [...map].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

export class InMemoryS3Backend implements S3Backend {
  private readonly buckets = new Map<string, Bucket>();
  /** Bodies whose iteration threw (client gone, bad checksum...): nothing was kept for them. */
  abortedBodyCount = 0;
  ready = true;
  /** Chunk size used when streaming reads, to exercise multi-chunk responses. */
  readChunkSizeBytes = 64 * 1024;
  /** Fault injection: the next backend call throws this (then it is cleared). */
  nextFailure: Error | undefined;
  /** What a read throws once `readFailureAfterBytes` is reached (default: a plain Error). */
  readFailure: Error | undefined;
  /** Fault injection: reads throw after yielding this many bytes (storage failing mid-GET). */
  readFailureAfterBytes: number | undefined;

  constructor(private readonly clock: Clock) {}

  async isReady(): Promise<boolean> {
    return this.ready;
  }

  async listBuckets(): Promise<readonly BucketInfo[]> {
    return [...this.buckets.values()].map((bucket) => bucket.info);
  }

  async createBucket(name: string, owner: string, options: { readonly objectLockEnabled?: boolean } = {}): Promise<void> {
    if (options.objectLockEnabled === true) throw new S3Error('NotImplemented', { message: 'the in-memory test backend has no Object Lock' });
    const existing = this.buckets.get(name);
    if (existing !== undefined) throw new S3BackendError(existing.info.owner === owner ? 'BucketAlreadyOwnedByYou' : 'BucketAlreadyExists');
    this.buckets.set(name, {
      info: { name, createdAtMs: this.clock.nowMs(), tags: [], corsRules: [], versioning: 'Unversioned', lifecycleRules: [], objectLock: undefined, owner, grants: [], defaultEncryption: undefined, policy: undefined, publicAccessBlock: undefined, objectOwnership: undefined },
      objects: new Map(), uploads: new Map(),
    });
  }

  async deleteBucket(name: string): Promise<void> {
    const bucket = this.bucket(name);
    if (bucket.objects.size > 0 || bucket.uploads.size > 0) throw new S3BackendError('BucketNotEmpty');
    this.buckets.delete(name);
  }

  async headBucket(name: string): Promise<BucketInfo> {
    return this.bucket(name).info;
  }

  /** No key registry here: every id is accepted. */
  async setBucketGrants(name: string, grants: readonly BucketGrant[], exactAcl?: readonly AclGrant[]): Promise<void> {
    this.throwInjectedFailure();
    const bucket = this.bucket(name);
    const { exactAcl: _previous, ...info } = bucket.info;
    bucket.info = { ...info, grants: grants.map((grant) => ({ ...grant })), ...(exactAcl === undefined ? {} : { exactAcl: exactAcl.map((grant) => ({ ...grant })) }) };
  }

  async setBucketTags(name: string, tags: readonly Tag[]): Promise<void> {
    this.throwInjectedFailure();
    const bucket = this.bucket(name);
    bucket.info = { ...bucket.info, tags: [...tags] };
  }

  async setBucketCors(name: string, rules: readonly CorsRule[]): Promise<void> {
    this.throwInjectedFailure();
    const bucket = this.bucket(name);
    bucket.info = { ...bucket.info, corsRules: [...rules] };
  }

  async putObject(request: PutObjectRequest): Promise<ObjectInfo> {
    this.throwInjectedFailure();
    refuseObjectLock(request.headers);
    const bucket = this.bucket(request.bucket);
    const data = await this.readBody(request.body);
    const summary = request.body.summary();
    this.checkCondition(bucket, request.key, request.condition);
    const info: ObjectInfo = {
      key: request.key,
      etag: summary.md5Hex,
      sizeBytes: summary.sizeBytes,
      lastModifiedMs: this.clock.nowMs(),
      headers: request.headers,
      checksums: summary.checksums,
      partSizesBytes: undefined,
      versionId: undefined,
    };
    bucket.objects.set(request.key, { info, data });
    return info;
  }

  async headObject(bucketName: string, key: string, versionId?: string): Promise<ObjectInfo> {
    this.throwInjectedFailure();
    return this.object(bucketName, key, versionId).info;
  }

  async setObjectTags(bucketName: string, key: string, tags: readonly Tag[], versionId?: string): Promise<ObjectInfo> {
    return this.changeHeaders(bucketName, key, versionId, { tags });
  }

  async setObjectAcl(bucketName: string, key: string, acl: readonly AclGrant[] | undefined, versionId?: string): Promise<ObjectInfo> {
    return this.changeHeaders(bucketName, key, versionId, { acl, legacyGrants: undefined });
  }

  /** Replaces some of a stored object's headers in place (its data, ETag and dates stay). */
  private changeHeaders(bucketName: string, key: string, versionId: string | undefined, change: Partial<ObjectHeaders>): ObjectInfo {
    this.throwInjectedFailure();
    const stored = this.object(bucketName, key, versionId);
    const info: ObjectInfo = { ...stored.info, headers: { ...stored.info.headers, ...change } };
    this.bucket(bucketName).objects.set(key, { ...stored, info });
    return info;
  }

  async openObject(bucketName: string, key: string, versionId?: string): Promise<ObjectReader> {
    this.throwInjectedFailure();
    const stored = this.object(bucketName, key, versionId);
    const chunkSizeBytes = this.readChunkSizeBytes;
    const failureAfterBytes = this.readFailureAfterBytes;
    const readFailure = this.readFailure;
    return {
      info: stored.info,
      async *read(startByte: number, endByteInclusive: number): AsyncIterable<Uint8Array> {
        let yieldedBytes = 0;
        for (let offset = startByte; offset <= endByteInclusive; offset += chunkSizeBytes) {
          if (failureAfterBytes !== undefined && yieldedBytes >= failureAfterBytes) throw readFailure ?? new Error('injected storage failure mid-read');
          const part = stored.data.subarray(offset, Math.min(offset + chunkSizeBytes, endByteInclusive + 1));
          yieldedBytes += part.length;
          yield part;
        }
      },
    };
  }

  async deleteObject(bucketName: string, key: string, versionId?: string, options: DeleteOptions = {}): Promise<DeleteObjectResult> {
    if (versionId !== undefined && versionId !== 'null') throw new S3Error('NoSuchVersion');
    const bucket = this.bucket(bucketName);
    if (options.ifMatchEtag !== undefined) {
      const current = bucket.objects.get(key);
      if (current === undefined) throw new S3BackendError('NoSuchKey', `no object ${key}`);
      if (!etagListMatches(options.ifMatchEtag, current.info.etag)) throw new S3BackendError('PreconditionFailed', `${key} has another ETag`);
    }
    bucket.objects.delete(key);
    return { versionId: undefined, deleteMarker: false };
  }

  async setBucketEncryption(name: string, algorithm: 'AES256' | undefined): Promise<void> {
    this.throwInjectedFailure();
    const bucket = this.bucket(name);
    bucket.info = { ...bucket.info, defaultEncryption: algorithm };
  }

  async setBucketPolicy(name: string, policy: string | undefined): Promise<void> {
    this.throwInjectedFailure();
    const bucket = this.bucket(name);
    bucket.info = { ...bucket.info, policy };
  }

  async setBucketOwnershipControls(name: string, objectOwnership: ObjectOwnership | undefined): Promise<void> {
    this.throwInjectedFailure();
    const bucket = this.bucket(name);
    bucket.info = { ...bucket.info, objectOwnership };
  }

  async setBucketPublicAccessBlock(name: string, publicAccessBlock: PublicAccessBlock | undefined): Promise<void> {
    this.throwInjectedFailure();
    const bucket = this.bucket(name);
    bucket.info = { ...bucket.info, publicAccessBlock };
  }

  async setBucketLifecycle(name: string, rules: readonly LifecycleRule[]): Promise<void> {
    this.throwInjectedFailure();
    const bucket = this.bucket(name);
    bucket.info = { ...bucket.info, lifecycleRules: [...rules] };
  }

  /** Object Lock is the cluster's (test/cluster/cluster-object-lock.test.ts). */
  async setBucketObjectLock(): Promise<void> {
    throw new S3Error('NotImplemented', { message: 'the in-memory test backend has no Object Lock' });
  }

  async setObjectLock(): Promise<ObjectInfo> {
    throw new S3Error('NotImplemented', { message: 'the in-memory test backend has no Object Lock' });
  }

  /** Versioning is the cluster's (test/cluster-versioning.test.ts); buckets here stay unversioned. */
  async setBucketVersioning(): Promise<void> {
    throw new S3Error('NotImplemented', { message: 'the in-memory test backend keeps buckets unversioned' });
  }

  /** An unversioned bucket: every object is its only version, "null". */
  async listObjectVersions(request: ListVersionsRequest): Promise<ListVersionsPage> {
    const page = await this.listObjects({
      bucket: request.bucket, prefix: request.prefix, delimiter: request.delimiter, startAfter: request.keyMarker,
      skipPrefix: markerCommonPrefix(request.keyMarker, request.prefix, request.delimiter), maxKeys: request.maxKeys,
    });
    const entries = page.entries.map((entry): VersionListEntry => (entry.kind === 'object' ? { kind: 'version', object: entry.object, isLatest: true } : entry));
    const last = entries[entries.length - 1];
    return {
      entries, isTruncated: page.isTruncated,
      nextKeyMarker: page.isTruncated && last !== undefined ? (last.kind === 'version' ? last.object.key : last.kind === 'prefix' ? last.prefix : last.key) : undefined,
      nextVersionIdMarker: page.isTruncated && last?.kind === 'version' ? 'null' : undefined,
    };
  }

  async listObjects(request: ListObjectsRequest): Promise<ListObjectsPage> {
    this.throwInjectedFailure();
    const bucket = this.bucket(request.bucket);
    const page = listWithDelimiter(
      byKey(bucket.objects).map(([key, stored]) => [key, stored.info] as const),
      request,
    );
    return {
      entries: page.entries.map((entry) => (entry.kind === 'item' ? { kind: 'object', object: entry.item } : { kind: 'prefix', prefix: entry.prefix })),
      isTruncated: page.isTruncated,
    };
  }

  async createMultipartUpload(bucketName: string, key: string, headers: ObjectHeaders, checksum: MultipartChecksum | undefined, initiator: string): Promise<MultipartUploadInfo> {
    refuseObjectLock(headers);
    const bucket = this.bucket(bucketName);
    const uploadId = randomBytes(16).toString('base64url');
    const info: MultipartUploadInfo = {
      bucket: bucketName,
      key,
      uploadId,
      initiatedAtMs: this.clock.nowMs(),
      headers,
      checksumAlgorithm: checksum?.algorithm,
      checksumType: checksum?.type,
      initiator,
    };
    bucket.uploads.set(uploadId, { info, parts: new Map() });
    return info;
  }

  async uploadPart(bucketName: string, key: string, uploadId: string, partNumber: number, body: VerifiedBody, options: UploadPartOptions = {}): Promise<PartInfo> {
    const upload = this.upload(bucketName, key, uploadId);
    const data = await this.readBody(body);
    const summary = body.summary();
    const info: PartInfo = { partNumber, etag: summary.md5Hex, sizeBytes: summary.sizeBytes, lastModifiedMs: this.clock.nowMs(), checksums: summary.checksums };
    upload.parts.set(partNumber, { info, data, cipherIv: options.cipherIv });
    return info;
  }

  async listParts(bucketName: string, key: string, uploadId: string, partNumberMarker: number, maxParts: number): Promise<ListPartsPage> {
    const upload = this.upload(bucketName, key, uploadId);
    const after = [...upload.parts.values()].map((part) => part.info).filter((part) => part.partNumber > partNumberMarker).sort((a, b) => a.partNumber - b.partNumber);
    return { upload: upload.info, parts: after.slice(0, maxParts), isTruncated: after.length > maxParts };
  }

  async completeMultipartUpload(request: CompleteMultipartRequest): Promise<ObjectInfo> {
    const bucket = this.bucket(request.bucket);
    const upload = this.upload(request.bucket, request.key, request.uploadId);
    const chosen = request.parts.map((selection) => {
      const part = upload.parts.get(selection.partNumber);
      if (part === undefined || part.info.etag !== selection.etag) throw new S3BackendError('InvalidPart');
      return part;
    });
    this.checkCondition(bucket, request.key, request.condition);
    const info: ObjectInfo = {
      key: request.key,
      etag: request.etag,
      sizeBytes: chosen.reduce((sum, part) => sum + part.info.sizeBytes, 0),
      lastModifiedMs: this.clock.nowMs(),
      headers: upload.info.headers,
      checksums: request.checksums,
      partSizesBytes: chosen.map((part) => part.info.sizeBytes),
      ...(chosen.some((part) => part.cipherIv !== undefined) ? { partCipherIvs: chosen.map((part) => part.cipherIv) } : {}),
      ...(chosen.some((part) => Object.keys(part.info.checksums).length > 0) ? { partChecksums: chosen.map((part) => part.info.checksums) } : {}),
      completedUpload: { uploadId: request.uploadId, parts: request.parts.map(({ partNumber, etag }) => ({ partNumber, etag })) },
      versionId: undefined,
    };
    bucket.objects.set(request.key, { info, data: Buffer.concat(chosen.map((part) => part.data)) });
    bucket.uploads.delete(request.uploadId);
    return info;
  }

  async abortMultipartUpload(bucketName: string, key: string, uploadId: string): Promise<void> {
    this.upload(bucketName, key, uploadId);
    this.bucket(bucketName).uploads.delete(uploadId);
  }

  async listMultipartUploads(request: ListUploadsRequest): Promise<ListUploadsPage> {
    const bucket = this.bucket(request.bucket);
    const uploads = [...bucket.uploads.values()]
      .map((upload) => upload.info)
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.initiatedAtMs - b.initiatedAtMs || (a.uploadId < b.uploadId ? -1 : 1)));
    const afterMarker = uploads.filter((upload) => {
      if (request.keyMarker === undefined) return true;
      if (upload.key > request.keyMarker) return true;
      return upload.key === request.keyMarker && request.uploadIdMarker !== undefined && upload.uploadId > request.uploadIdMarker;
    });
    const page = listWithDelimiter(
      afterMarker.map((upload) => [upload.key, upload] as const),
      { prefix: request.prefix, delimiter: request.delimiter, startAfter: undefined, skipPrefix: request.skipPrefix, maxKeys: request.maxUploads },
    );
    return {
      entries: page.entries.map((entry) => (entry.kind === 'item' ? { kind: 'upload', upload: entry.item } : { kind: 'prefix', prefix: entry.prefix })),
      isTruncated: page.isTruncated,
    };
  }

  /** Test inspection: the stored bytes of an object, or undefined. */
  storedBytes(bucketName: string, key: string): Buffer | undefined {
    return this.buckets.get(bucketName)?.objects.get(key)?.data;
  }

  objectCount(bucketName: string): number {
    return this.buckets.get(bucketName)?.objects.size ?? 0;
  }

  private throwInjectedFailure(): void {
    const failure = this.nextFailure;
    this.nextFailure = undefined;
    if (failure !== undefined) throw failure;
  }

  private async readBody(body: VerifiedBody): Promise<Buffer> {
    const parts: Buffer[] = [];
    try {
      for await (const part of body) parts.push(Buffer.from(part));
    } catch (error) {
      this.abortedBodyCount += 1;
      throw error;
    }
    return Buffer.concat(parts);
  }

  private checkCondition(bucket: Bucket, key: string, condition: WriteCondition): void {
    const current = bucket.objects.get(key);
    if (condition.ifNoneMatchAny && current !== undefined) throw new S3BackendError('PreconditionFailed');
    if (condition.ifNoneMatchEtags !== undefined && current !== undefined && etagListMatches(condition.ifNoneMatchEtags, current.info.etag)) throw new S3BackendError('PreconditionFailed');
    if (condition.ifMatchEtag !== undefined) {
      if (current === undefined) throw new S3BackendError('NoSuchKey');
      if (!etagListMatches(condition.ifMatchEtag, current.info.etag)) throw new S3BackendError('PreconditionFailed');
    }
  }

  private bucket(name: string): Bucket {
    const bucket = this.buckets.get(name);
    if (bucket === undefined) throw new S3BackendError('NoSuchBucket');
    return bucket;
  }

  private object(bucketName: string, key: string, versionId?: string): StoredObject {
    const stored = this.bucket(bucketName).objects.get(key);
    if (versionId !== undefined && versionId !== 'null') throw new S3Error('NoSuchVersion');
    if (stored === undefined) throw new S3BackendError('NoSuchKey');
    return stored;
  }

  private upload(bucketName: string, key: string, uploadId: string): Upload {
    const upload = this.bucket(bucketName).uploads.get(uploadId);
    if (upload === undefined || upload.info.key !== key) throw new S3BackendError('NoSuchUpload');
    return upload;
  }
}

/** Buckets here never have Object Lock: lock settings are refused as S3 refuses them for such a bucket. */
function refuseObjectLock(headers: ObjectHeaders): void {
  if (headers.objectLock !== undefined) throw new S3Error('InvalidRequest', { message: 'Bucket is missing Object Lock Configuration' });
}

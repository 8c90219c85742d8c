/**
 * Server-side encryption as a decorator over any S3Backend: writes whose headers ask for it get
 * a fresh data key, sealed with the master key (SSE-S3) or the request's own key (SSE-C), and
 * ciphertext bodies; reads of encrypted versions are decrypted as they stream, and SSE-C reads
 * must present the key that sealed the version. The backend underneath stores the sealed key
 * with the version's headers and each part's counter block with the part, and never sees a
 * plaintext byte of an encrypted object, the master key or a client's key.
 */
import type {
  BucketGrant, CompleteMultipartRequest, DefaultRetention, DeleteObjectResult, DeleteOptions, ListObjectsPage, ListObjectsRequest, ListPartsPage, ListUploadsPage,
  ListUploadsRequest, ListVersionsPage, ListVersionsRequest, MultipartChecksum, MultipartUploadInfo, ObjectInfo, ObjectLockChange, ObjectReadOptions, ObjectReader,
  ObjectOwnership, PartInfo, PublicAccessBlock, PutObjectRequest, S3Backend, BucketInfo, UploadPartOptions,
} from './backend';
import type { AclGrant } from './access-control';
import type { CorsRule } from './cors';
import type { ObjectHeaders } from './object-headers';
import type { Tag } from './object-tags';
import { partNumberMax } from './parse-s3-request';
import type { VerifiedBody } from './request-body';
import { S3Error } from './s3-errors';
import {
  cipherSegments, decryptingStream, encryptingBody, isCustomerKeyed, newCounterBlock, newDataKey, sealDataKey, sealDataKeyWithCustomerKey, sseAlgorithm, unsealDataKey,
  unsealDataKeyWithCustomerKey, withCustomerKey,
} from './server-side-encryption';
import type { CustomerKey, MasterKeySource, SealedDataKey, ServerSideEncryption } from './server-side-encryption';
import type { LifecycleRule } from '@tessera/rpc';

/** Uploads whose encryption this gateway remembers (an upload's encryption never changes). */
const rememberedUploadCountMax = 4096;

export class EncryptingBackend implements S3Backend {
  private readonly uploadEncryption = new Map<string, ServerSideEncryption | null>();

  /** `keys` undefined: requests for encryption are NotImplemented (a gateway without a key source). */
  constructor(private readonly inner: S3Backend, private readonly keys: MasterKeySource | undefined) {}

  isReady(): Promise<boolean> {
    return this.inner.isReady();
  }
  listBuckets(): Promise<readonly BucketInfo[]> {
    return this.inner.listBuckets();
  }
  createBucket(name: string, owner: string, options?: { readonly objectLockEnabled?: boolean }): Promise<void> {
    return this.inner.createBucket(name, owner, options);
  }
  deleteBucket(name: string): Promise<void> {
    return this.inner.deleteBucket(name);
  }
  headBucket(name: string): Promise<BucketInfo> {
    return this.inner.headBucket(name);
  }
  setBucketGrants(name: string, grants: readonly BucketGrant[], exactAcl?: readonly AclGrant[]): Promise<void> {
    return this.inner.setBucketGrants(name, grants, exactAcl);
  }
  setBucketTags(name: string, tags: readonly Tag[]): Promise<void> {
    return this.inner.setBucketTags(name, tags);
  }
  setBucketCors(name: string, rules: readonly CorsRule[]): Promise<void> {
    return this.inner.setBucketCors(name, rules);
  }
  setBucketLifecycle(name: string, rules: readonly LifecycleRule[]): Promise<void> {
    return this.inner.setBucketLifecycle(name, rules);
  }
  setBucketObjectLock(name: string, defaultRetention: DefaultRetention | undefined): Promise<void> {
    return this.inner.setBucketObjectLock(name, defaultRetention);
  }
  setObjectLock(bucket: string, key: string, versionId: string | undefined, change: ObjectLockChange): Promise<ObjectInfo> {
    return this.inner.setObjectLock(bucket, key, versionId, change);
  }
  setBucketEncryption(name: string, algorithm: 'AES256' | undefined): Promise<void> {
    if (algorithm !== undefined) this.requireKeys();
    return this.inner.setBucketEncryption(name, algorithm);
  }
  setBucketPolicy(name: string, policy: string | undefined): Promise<void> {
    return this.inner.setBucketPolicy(name, policy);
  }
  setBucketOwnershipControls(name: string, objectOwnership: ObjectOwnership | undefined): Promise<void> {
    return this.inner.setBucketOwnershipControls(name, objectOwnership);
  }
  setBucketPublicAccessBlock(name: string, configuration: PublicAccessBlock | undefined): Promise<void> {
    return this.inner.setBucketPublicAccessBlock(name, configuration);
  }
  setBucketVersioning(name: string, status: 'Enabled' | 'Suspended'): Promise<void> {
    return this.inner.setBucketVersioning(name, status);
  }

  async putObject(request: PutObjectRequest): Promise<ObjectInfo> {
    const requested = request.headers.serverSideEncryption;
    if (requested === undefined) return this.inner.putObject(request);
    const dataKey = newDataKey();
    const iv = newCounterBlock();
    const customerKey = requested.customerKey;
    const headers: ObjectHeaders = { ...request.headers, serverSideEncryption: { algorithm: sseAlgorithm, key: await this.sealNewDataKey(customerKey, dataKey, iv) } };
    const info = await this.inner.putObject({ ...request, headers, body: encryptingBody(request.body, dataKey, iv, { keyedEtag: customerKey !== undefined }) });
    return withCustomerKey(info, customerKey);
  }

  async headObject(bucket: string, key: string, versionId?: string, options?: ObjectReadOptions): Promise<ObjectInfo> {
    const info = await this.inner.headObject(bucket, key, versionId);
    if (options === undefined) return info;
    this.customerDataKey(info, options.customerKey);
    return withCustomerKey(info, options.customerKey);
  }

  async openObject(bucket: string, key: string, versionId?: string, options?: ObjectReadOptions): Promise<ObjectReader> {
    const reader = await this.inner.openObject(bucket, key, versionId);
    const customerDataKey = this.customerDataKey(reader.info, options?.customerKey);
    const encryption = reader.info.headers.serverSideEncryption;
    if (encryption === undefined) return reader;
    const sealed = encryption.key;
    if (sealed === undefined) throw new Error(`${bucket}/${key} is marked encrypted but has no data key`);
    const dataKey = customerDataKey ?? unsealDataKey(await this.requireKeys().masterKeyById(sealed.masterKeyId), sealed);
    const info = withCustomerKey(reader.info, options?.customerKey);
    const parts = info.partSizesBytes?.map((sizeBytes, index) => {
      const iv = info.partCipherIvs?.[index];
      return { sizeBytes, iv: iv === undefined ? undefined : Buffer.from(iv, 'base64') };
    });
    const segments = cipherSegments(info.sizeBytes, sealed.iv === undefined ? undefined : Buffer.from(sealed.iv, 'base64'), parts);
    return {
      info,
      read: (startByte, endByteInclusive) => decryptingStream(reader.read(startByte, endByteInclusive), dataKey, segments, startByte),
    };
  }

  deleteObject(bucket: string, key: string, versionId?: string, options?: DeleteOptions): Promise<DeleteObjectResult> {
    return this.inner.deleteObject(bucket, key, versionId, options);
  }
  setObjectTags(bucket: string, key: string, tags: readonly Tag[], versionId?: string): Promise<ObjectInfo> {
    return this.inner.setObjectTags(bucket, key, tags, versionId);
  }
  setObjectAcl(bucket: string, key: string, acl: readonly AclGrant[] | undefined, versionId?: string): Promise<ObjectInfo> {
    return this.inner.setObjectAcl(bucket, key, acl, versionId);
  }
  listObjects(request: ListObjectsRequest): Promise<ListObjectsPage> {
    return this.inner.listObjects(request);
  }
  listObjectVersions(request: ListVersionsRequest): Promise<ListVersionsPage> {
    return this.inner.listObjectVersions(request);
  }

  async createMultipartUpload(bucket: string, key: string, headers: ObjectHeaders, checksum: MultipartChecksum | undefined, initiator: string): Promise<MultipartUploadInfo> {
    const requested = headers.serverSideEncryption;
    if (requested === undefined) return this.inner.createMultipartUpload(bucket, key, headers, checksum, initiator);
    // Parts draw their own counter blocks when they are uploaded.
    const encryption: ServerSideEncryption = { algorithm: sseAlgorithm, key: await this.sealNewDataKey(requested.customerKey, newDataKey(), undefined) };
    const upload = await this.inner.createMultipartUpload(bucket, key, { ...headers, serverSideEncryption: encryption }, checksum, initiator);
    this.rememberUpload(upload);
    return withCustomerKey(upload, requested.customerKey);
  }

  async uploadPart(bucket: string, key: string, uploadId: string, partNumber: number, body: VerifiedBody, options: UploadPartOptions = {}): Promise<PartInfo> {
    const encryption = await this.encryptionOfUpload(bucket, key, uploadId);
    const customerKeyed = isCustomerKeyed(encryption);
    if (customerKeyed && options.customerKey === undefined) {
      throw new S3Error('InvalidRequest', { message: 'The multipart upload initiate requested encryption. Subsequent part requests must include the appropriate encryption parameters.' });
    }
    if (!customerKeyed && options.customerKey !== undefined) {
      throw new S3Error('InvalidRequest', { message: 'The multipart upload initiate did not request encryption with a customer key; its parts may not carry one.' });
    }
    const sealed = encryption?.key;
    if (sealed === undefined) return this.inner.uploadPart(bucket, key, uploadId, partNumber, body);
    const dataKey = options.customerKey === undefined
      ? unsealDataKey(await this.requireKeys().masterKeyById(sealed.masterKeyId), sealed)
      : unsealCustomerKeyedPart(options.customerKey, sealed);
    const iv = newCounterBlock();
    return this.inner.uploadPart(bucket, key, uploadId, partNumber, encryptingBody(body, dataKey, iv, { keyedEtag: customerKeyed }), { cipherIv: iv.toString('base64') });
  }

  async listParts(bucket: string, key: string, uploadId: string, partNumberMarker: number, maxParts: number): Promise<ListPartsPage> {
    const page = await this.inner.listParts(bucket, key, uploadId, partNumberMarker, maxParts);
    this.rememberUpload(page.upload);
    return page;
  }

  async completeMultipartUpload(request: CompleteMultipartRequest): Promise<ObjectInfo> {
    const info = await this.inner.completeMultipartUpload(request);
    this.uploadEncryption.delete(request.uploadId);
    return info;
  }

  async abortMultipartUpload(bucket: string, key: string, uploadId: string): Promise<void> {
    await this.inner.abortMultipartUpload(bucket, key, uploadId);
    this.uploadEncryption.delete(uploadId);
  }

  listMultipartUploads(request: ListUploadsRequest): Promise<ListUploadsPage> {
    return this.inner.listMultipartUploads(request);
  }

  /**
   * SSE-C on a read: the data key of a customer-keyed version opened with the request's key;
   * undefined for other versions, which must not be asked for with a key. Throws InvalidRequest
   * (key missing or not applicable) or AccessDenied (another key).
   */
  private customerDataKey(info: ObjectInfo, customerKey: CustomerKey | undefined): Buffer | undefined {
    const encryption = info.headers.serverSideEncryption;
    if (!isCustomerKeyed(encryption)) {
      if (customerKey !== undefined) throw new S3Error('InvalidRequest', { message: 'The encryption parameters are not applicable to this object.' });
      return undefined;
    }
    if (customerKey === undefined) {
      throw new S3Error('InvalidRequest', { message: 'The object was stored using a form of Server Side Encryption. The correct parameters must be provided to retrieve the object.' });
    }
    const sealed = encryption?.key;
    if (sealed === undefined) throw new Error(`${info.key} is marked encrypted but has no data key`);
    return unsealDataKeyWithCustomerKey(customerKey, sealed);
  }

  /** A new object's or upload's data key, sealed with the request's SSE-C key or else the current master key. */
  private async sealNewDataKey(customerKey: CustomerKey | undefined, dataKey: Buffer, iv: Buffer | undefined): Promise<SealedDataKey> {
    return customerKey === undefined ? sealDataKey(await this.requireKeys().masterKey(), dataKey, iv) : sealDataKeyWithCustomerKey(customerKey, dataKey, iv);
  }

  private requireKeys(): MasterKeySource {
    if (this.keys === undefined) throw new S3Error('NotImplemented', { message: 'Server-side encryption is not configured on this gateway (it has no master key source).' });
    return this.keys;
  }

  private async encryptionOfUpload(bucket: string, key: string, uploadId: string): Promise<ServerSideEncryption | undefined> {
    const known = this.uploadEncryption.get(uploadId);
    if (known !== undefined) return known ?? undefined;
    // UploadPart's handler lists the upload just before (remembered above); this covers other callers.
    const page = await this.listParts(bucket, key, uploadId, partNumberMax, 0);
    return page.upload.headers.serverSideEncryption;
  }

  private rememberUpload(upload: MultipartUploadInfo): void {
    if (this.uploadEncryption.size >= rememberedUploadCountMax) {
      const oldest = this.uploadEncryption.keys().next();
      if (oldest.done !== true) this.uploadEncryption.delete(oldest.value);
    }
    this.uploadEncryption.set(upload.uploadId, upload.headers.serverSideEncryption ?? null);
  }
}

/** A part of an SSE-C upload: its key must be the upload's (400, as S3 answers a part with another key). */
function unsealCustomerKeyedPart(customerKey: CustomerKey, sealed: SealedDataKey): Buffer {
  try {
    return unsealDataKeyWithCustomerKey(customerKey, sealed);
  } catch (err) {
    if (!(err instanceof S3Error)) throw err;
    throw new S3Error('InvalidArgument', {
      message: 'The provided customer key does not match the key the multipart upload was created with.',
      fields: { ArgumentName: 'x-amz-server-side-encryption-customer-key', ArgumentValue: '' },
    });
  }
}

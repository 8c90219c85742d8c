/**
 * S3 server-side encryption: with keys the cluster manages (SSE-S3, `x-amz-server-side-encryption:
 * AES256`) and with keys the client sends on every request (SSE-C,
 * `x-amz-server-side-encryption-customer-*`): what a request asks for, and the cipher arithmetic.
 * No I/O here.
 *
 * Each encrypted object (or multipart upload) gets its own random 256-bit data key, sealed
 * (AES-256-GCM) with the cluster's master key for SSE-S3, or with the client's key for SSE-C,
 * and stored with the version; the client's key itself is never stored, and a wrong one fails
 * the seal's authentication. Bytes are encrypted with AES-256-CTR before they are cut into
 * stripes, so shards on the storage nodes (and inline bytes in the catalogue) are ciphertext of
 * exactly the plaintext's length: sizes, ranges, parts and the erasure code work unchanged. A
 * single-part object has one random 16-byte initial counter block; every upload of every part
 * draws its own, so no (key, counter) pair is ever used twice. Checksums are of the plaintext;
 * so are ETags for SSE-S3, as in S3, while an SSE-C ETag is keyed with the data key (S3's is not
 * the MD5 of the data either), so a listing does not reveal the MD5 of a customer-keyed body.
 */
import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes } from 'node:crypto';
import type { Decipher } from 'node:crypto';
import type { VerifiedBody } from './request-body';
import { S3Error } from './s3-errors';

export const sseAlgorithm = 'AES256';

/** Stands in for a master key id when the client's own key (SSE-C) sealed the data key. */
export const customerKeyId = 'customer';

/** The data key of one object, sealed with a master key or the client's key. */
export interface SealedDataKey {
  /** Names the master key that sealed it (the first 16 hex digits of its SHA-256), or `customerKeyId`. */
  readonly masterKeyId: string;
  /** Base64 of nonce (12) + AES-256-GCM ciphertext of the key (32) + tag (16). */
  readonly sealedKey: string;
  /** Base64 16-byte initial counter block of a single-part object; undefined for multipart (per part). */
  readonly iv: string | undefined;
}

/** An SSE-C key as a request presents it (never stored). */
export interface CustomerKey {
  /** 32 bytes. */
  readonly key: Buffer;
  /** Base64 MD5 of the key, as sent and as answered in x-amz-server-side-encryption-customer-key-MD5. */
  readonly keyMd5Base64: string;
}

/**
 * Server-side encryption of an object. A write request carries the algorithm (and for SSE-C the
 * client's key); the encrypting backend adds the sealed key, and every stored encrypted version
 * has one. `customerKey` on what the backend returns is the key of the request being answered.
 */
export interface ServerSideEncryption {
  readonly algorithm: typeof sseAlgorithm;
  readonly customerKey?: CustomerKey;
  readonly key?: SealedDataKey;
}

/** True for versions and uploads whose data key the client's key (SSE-C) sealed. */
export function isCustomerKeyed(encryption: ServerSideEncryption | undefined): boolean {
  return encryption?.key?.masterKeyId === customerKeyId;
}

/**
 * What the backend returns about a customer-keyed version or upload, with the key of the request
 * it answers (its MD5 goes into the response headers); anything else unchanged.
 */
export function withCustomerKey<T extends { readonly headers: { readonly serverSideEncryption?: ServerSideEncryption } }>(about: T, customerKey: CustomerKey | undefined): T {
  const encryption = about.headers.serverSideEncryption;
  if (customerKey === undefined || encryption === undefined) return about;
  return { ...about, headers: { ...about.headers, serverSideEncryption: { ...encryption, customerKey } } };
}

/** The cluster's master key (one per cluster, created on first use). */
export interface MasterKey {
  readonly keyId: string;
  /** 32 bytes. */
  readonly key: Buffer;
}

export interface MasterKeySource {
  /** The key new objects are sealed with (after a rotation, the new one within a short delay). */
  masterKey(): Promise<MasterKey>;
  /** The key with this id, current or retired: what opens an object it sealed. */
  masterKeyById(keyId: string): Promise<MasterKey>;
}

type HeaderLookup = (lowerCaseName: string) => string | undefined;

/** Which SSE-C headers a request carries: for the object written or read, or for a copy source. */
export type CustomerKeyHeaders = 'object' | 'copy-source';

const customerKeyHeaderPrefix: Record<CustomerKeyHeaders, string> = {
  object: 'x-amz-server-side-encryption-customer-',
  'copy-source': 'x-amz-copy-source-server-side-encryption-customer-',
};

/**
 * The SSE-C key a request presents, checked as S3 checks it: algorithm AES256, a 256-bit key in
 * base64 and its MD5; undefined when the request carries none of the three headers.
 */
export function requestedCustomerKey(header: HeaderLookup, which: CustomerKeyHeaders): CustomerKey | undefined {
  const prefix = customerKeyHeaderPrefix[which];
  const algorithm = header(`${prefix}algorithm`);
  const keyBase64 = header(`${prefix}key`);
  const keyMd5Base64 = header(`${prefix}key-md5`);
  if (algorithm === undefined && keyBase64 === undefined && keyMd5Base64 === undefined) return undefined;
  if (algorithm === undefined) {
    throw new S3Error('InvalidArgument', {
      message: 'Requests specifying Server Side Encryption with Customer provided keys must provide a valid encryption algorithm.',
      fields: { ArgumentName: `${prefix}algorithm`, ArgumentValue: 'null' },
    });
  }
  if (algorithm !== sseAlgorithm) {
    throw new S3Error('InvalidEncryptionAlgorithmError', {
      message: 'The encryption request you specified is not valid. The valid value is AES256.',
      fields: { ArgumentName: `${prefix}algorithm`, ArgumentValue: algorithm },
    });
  }
  if (keyBase64 === undefined) {
    throw new S3Error('InvalidArgument', {
      message: 'Requests specifying Server Side Encryption with Customer provided keys must provide an appropriate secret key.',
      fields: { ArgumentName: `${prefix}key`, ArgumentValue: 'null' },
    });
  }
  const key = Buffer.from(keyBase64, 'base64');
  if (key.length !== dataKeySizeBytes || key.toString('base64') !== keyBase64) {
    throw new S3Error('InvalidArgument', {
      message: 'The secret key was invalid for the specified algorithm.',
      fields: { ArgumentName: `${prefix}key`, ArgumentValue: '' },
    });
  }
  if (keyMd5Base64 === undefined) {
    throw new S3Error('InvalidArgument', {
      message: 'Requests specifying Server Side Encryption with Customer provided keys must provide the client calculated MD5 of the secret key.',
      fields: { ArgumentName: `${prefix}key-MD5`, ArgumentValue: 'null' },
    });
  }
  if (createHash('md5').update(key).digest('base64') !== keyMd5Base64) {
    throw new S3Error('InvalidArgument', {
      message: 'The calculated MD5 hash of the key did not match the hash that was provided.',
      fields: { ArgumentName: `${prefix}key-MD5`, ArgumentValue: keyMd5Base64 },
    });
  }
  return { key, keyMd5Base64 };
}

/**
 * The encryption a write request asks for: SSE-S3 (AES256), SSE-C (the client's key), or
 * nothing. SSE-KMS is refused as not implemented (never ignored: the client would believe its
 * data encrypted); KMS parameters without aws:kms are InvalidArgument, as in S3.
 */
export function requestedServerSideEncryption(header: HeaderLookup): ServerSideEncryption | undefined {
  const value = header('x-amz-server-side-encryption');
  const kmsParameter = ['x-amz-server-side-encryption-aws-kms-key-id', 'x-amz-server-side-encryption-context'].find((name) => header(name) !== undefined);
  // SSE-C with any other method is a conflict S3 answers first, whatever that method is.
  const customerKey = requestedCustomerKey(header, 'object');
  if (customerKey !== undefined && value !== undefined) {
    throw new S3Error('InvalidArgument', {
      message: 'Server Side Encryption with Customer provided key is incompatible with the encryption method specified',
      fields: { ArgumentName: 'x-amz-server-side-encryption', ArgumentValue: value },
    });
  }
  if (value === 'aws:kms' || value === 'aws:kms:dsse') {
    throw new S3Error('NotImplemented', { message: 'Server-side encryption with KMS keys (SSE-KMS) is not implemented by Tessera; use x-amz-server-side-encryption: AES256.' });
  }
  if (kmsParameter !== undefined) {
    throw new S3Error('InvalidArgument', {
      message: 'Server Side Encryption with AWS KMS managed key requires HTTP header x-amz-server-side-encryption : aws:kms',
      fields: { ArgumentName: kmsParameter, ArgumentValue: header(kmsParameter) ?? '' },
    });
  }
  if (customerKey !== undefined) return { algorithm: sseAlgorithm, customerKey };
  if (value === undefined) return undefined;
  if (value !== sseAlgorithm) {
    throw new S3Error('InvalidArgument', {
      message: 'The encryption method specified is not supported',
      fields: { ArgumentName: 'x-amz-server-side-encryption', ArgumentValue: value },
    });
  }
  return { algorithm: sseAlgorithm };
}

/**
 * The response headers about an encrypted object, upload or part: x-amz-server-side-encryption
 * for SSE-S3, the customer algorithm (and the key's MD5 when the request sent the key) for SSE-C.
 */
export function serverSideEncryptionHeaders(encryption: ServerSideEncryption | undefined): Record<string, string> {
  if (encryption === undefined) return {};
  if (!isCustomerKeyed(encryption)) return { 'x-amz-server-side-encryption': encryption.algorithm };
  return {
    'x-amz-server-side-encryption-customer-algorithm': encryption.algorithm,
    ...(encryption.customerKey === undefined ? {} : { 'x-amz-server-side-encryption-customer-key-MD5': encryption.customerKey.keyMd5Base64 }),
  };
}

/** The encryption headers of an UploadPart(Copy) response: the upload's, with this request's SSE-C key. */
export function partEncryptionHeaders(upload: { readonly headers: { readonly serverSideEncryption?: ServerSideEncryption } }, customerKey: CustomerKey | undefined): Record<string, string> {
  return serverSideEncryptionHeaders(withCustomerKey(upload, customerKey).headers.serverSideEncryption);
}

const sealContext = Buffer.from('tessera-sse-s3-v1', 'utf8');
const customerSealContext = Buffer.from('tessera-sse-c-v1', 'utf8');
const dataKeySizeBytes = 32;
const gcmNonceSizeBytes = 12;
const gcmTagSizeBytes = 16;
const ivSizeBytes = 16;
const aesBlockSizeBytes = 16;

export function newDataKey(): Buffer {
  return randomBytes(dataKeySizeBytes);
}

export function newCounterBlock(): Buffer {
  return randomBytes(ivSizeBytes);
}

export function sealDataKey(master: MasterKey, dataKey: Buffer, iv: Buffer | undefined): SealedDataKey {
  return seal(master.keyId, master.key, sealContext, dataKey, iv);
}

/** SSE-C: the data key sealed with the client's key, which is not kept. */
export function sealDataKeyWithCustomerKey(customerKey: CustomerKey, dataKey: Buffer, iv: Buffer | undefined): SealedDataKey {
  return seal(customerKeyId, customerKey.key, customerSealContext, dataKey, iv);
}

function seal(keyId: string, sealingKey: Buffer, context: Buffer, dataKey: Buffer, iv: Buffer | undefined): SealedDataKey {
  const nonce = randomBytes(gcmNonceSizeBytes);
  const cipher = createCipheriv('aes-256-gcm', sealingKey, nonce);
  cipher.setAAD(context);
  const sealed = Buffer.concat([nonce, cipher.update(dataKey), cipher.final(), cipher.getAuthTag()]);
  return { masterKeyId: keyId, sealedKey: sealed.toString('base64'), iv: iv?.toString('base64') };
}

/** The data key, or an Error (never wrong bytes) when another master key sealed it or it was altered. */
export function unsealDataKey(master: MasterKey, sealed: SealedDataKey): Buffer {
  if (sealed.masterKeyId !== master.keyId) {
    throw new Error(`object data key was sealed with master key ${sealed.masterKeyId}, but this cluster's master key is ${master.keyId}`);
  }
  return unseal(master.key, sealContext, sealed);
}

/** SSE-C: the data key, or AccessDenied when the request's key is not the one that sealed it. */
export function unsealDataKeyWithCustomerKey(customerKey: CustomerKey, sealed: SealedDataKey): Buffer {
  if (sealed.masterKeyId !== customerKeyId) throw new Error(`object data key was sealed with master key ${sealed.masterKeyId}, not a customer key`);
  try {
    return unseal(customerKey.key, customerSealContext, sealed);
  } catch {
    throw new S3Error('AccessDenied', { message: 'The provided customer key does not match the key the object was encrypted with.' });
  }
}

function unseal(sealingKey: Buffer, context: Buffer, sealed: SealedDataKey): Buffer {
  const bytes = Buffer.from(sealed.sealedKey, 'base64');
  if (bytes.length !== gcmNonceSizeBytes + dataKeySizeBytes + gcmTagSizeBytes) throw new Error('sealed data key has the wrong length');
  const decipher = createDecipheriv('aes-256-gcm', sealingKey, bytes.subarray(0, gcmNonceSizeBytes));
  decipher.setAAD(context);
  decipher.setAuthTag(bytes.subarray(gcmNonceSizeBytes + dataKeySizeBytes));
  return Buffer.concat([decipher.update(bytes.subarray(gcmNonceSizeBytes, gcmNonceSizeBytes + dataKeySizeBytes)), decipher.final()]);
}

/**
 * An SSE-C body's ETag: the plaintext's MD5 keyed with the object's data key (HMAC-SHA-256, 32
 * hex digits), stable for the object and meaningless without the key.
 */
export function customerKeyedEtag(dataKey: Buffer, md5Hex: string): string {
  return createHmac('sha256', dataKey).update(`etag:${md5Hex}`).digest('hex').slice(0, 32);
}

/** The counter block for byte `offsetBytes` of a stream that starts at `iv` (128-bit big-endian add). */
export function counterBlockAt(iv: Buffer, offsetBytes: number): Buffer {
  const value = (BigInt(`0x${iv.toString('hex')}`) + BigInt(Math.floor(offsetBytes / aesBlockSizeBytes))) % (1n << 128n);
  return Buffer.from(value.toString(16).padStart(ivSizeBytes * 2, '0'), 'hex');
}

/** An AES-256-CTR keystream positioned at `offsetBytes` of the stream that starts at counter `iv`. */
export function ctrCipherAt(dataKey: Buffer, iv: Buffer, offsetBytes: number): Decipher {
  const decipher = createDecipheriv('aes-256-ctr', dataKey, counterBlockAt(iv, offsetBytes));
  const intoBlockBytes = offsetBytes % aesBlockSizeBytes;
  if (intoBlockBytes > 0) decipher.update(Buffer.alloc(intoBlockBytes));
  return decipher;
}

/**
 * The body encrypted as it streams; its summary (checksums, ETag) stays that of the plaintext,
 * except an SSE-C body's ETag (`keyedEtag`: customerKeyedEtag).
 */
export function encryptingBody(body: VerifiedBody, dataKey: Buffer, iv: Buffer, options: { readonly keyedEtag?: boolean } = {}): VerifiedBody {
  return {
    // CTR mode: the ciphertext is as long as the plaintext.
    sizeBytesMax: body.sizeBytesMax,
    summary: () => {
      const summary = body.summary();
      return options.keyedEtag === true ? { ...summary, md5Hex: customerKeyedEtag(dataKey, summary.md5Hex) } : summary;
    },
    async *[Symbol.asyncIterator]() {
      const cipher = ctrCipherAt(dataKey, iv, 0);
      for await (const chunk of body) yield cipher.update(chunk);
    },
  };
}

/** A contiguous run of the object encrypted from one counter block: the whole object, or one part. */
export interface CipherSegment {
  readonly startByte: number;
  readonly sizeBytes: number;
  readonly iv: Buffer;
}

/** The segments of an object: one, or one per part (`parts` in object order). */
export function cipherSegments(sizeBytes: number, iv: Buffer | undefined, parts: readonly { readonly sizeBytes: number; readonly iv: Buffer | undefined }[] | undefined): CipherSegment[] {
  if (parts === undefined) {
    if (iv === undefined) throw new Error('encrypted object without a counter block');
    return [{ startByte: 0, sizeBytes, iv }];
  }
  let startByte = 0;
  return parts.map((part, index) => {
    if (part.iv === undefined) throw new Error(`encrypted object's part ${index + 1} has no counter block`);
    const segment = { startByte, sizeBytes: part.sizeBytes, iv: part.iv };
    startByte += part.sizeBytes;
    return segment;
  });
}

/**
 * Decrypts ciphertext bytes [startByte, ...] of an object as they stream, switching keystreams
 * at part boundaries.
 */
export async function* decryptingStream(source: AsyncIterable<Uint8Array>, dataKey: Buffer, segments: readonly CipherSegment[], startByte: number): AsyncGenerator<Uint8Array> {
  let offset = startByte;
  let index = 0;
  let decipher: Decipher | undefined;
  for await (const chunk of source) {
    let position = 0;
    while (position < chunk.length) {
      while (index < segments.length && offset >= (segments[index] as CipherSegment).startByte + (segments[index] as CipherSegment).sizeBytes) {
        index += 1;
        decipher = undefined;
      }
      const segment = segments[index];
      if (segment === undefined) throw new Error('encrypted object yielded bytes past its end');
      decipher ??= ctrCipherAt(dataKey, segment.iv, offset - segment.startByte);
      const takeBytes = Math.min(chunk.length - position, segment.startByte + segment.sizeBytes - offset);
      yield decipher.update(chunk.subarray(position, position + takeBytes));
      position += takeBytes;
      offset += takeBytes;
    }
  }
}

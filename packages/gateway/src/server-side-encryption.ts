/**
 * S3 server-side encryption with keys the cluster manages (SSE-S3, `x-amz-server-side-encryption:
 * AES256`): what a request asks for, and the cipher arithmetic. No I/O here.
 *
 * Each encrypted object (or multipart upload) gets its own random 256-bit data key, sealed with
 * the cluster's master key (AES-256-GCM) and stored with the version. Bytes are encrypted with
 * AES-256-CTR before they are cut into stripes, so shards on the storage nodes (and inline bytes
 * in the catalogue) are ciphertext of exactly the plaintext's length: sizes, ranges, parts and
 * the erasure code work unchanged. A single-part object has one random 16-byte initial counter
 * block; every upload of every part draws its own, so no (key, counter) pair is ever used twice.
 * ETags and flexible checksums are of the plaintext, as S3's are for SSE-S3.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Decipher } from 'node:crypto';
import type { VerifiedBody } from './request-body';
import { S3Error } from './s3-errors';

export const sseAlgorithm = 'AES256';

/** The data key of one object, sealed with a master key. */
export interface SealedDataKey {
  /** Names the master key that sealed it (the first 16 hex digits of its SHA-256). */
  readonly masterKeyId: string;
  /** Base64 of nonce (12) + AES-256-GCM ciphertext of the key (32) + tag (16). */
  readonly sealedKey: string;
  /** Base64 16-byte initial counter block of a single-part object; undefined for multipart (per part). */
  readonly iv: string | undefined;
}

/**
 * Server-side encryption of an object. A request carries only the algorithm; the encrypting
 * backend adds the sealed key, and every stored encrypted version has one.
 */
export interface ServerSideEncryption {
  readonly algorithm: typeof sseAlgorithm;
  readonly key?: SealedDataKey;
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

/**
 * The encryption a write request asks for: AES256, or nothing. SSE-KMS and SSE-C are refused
 * as not implemented (never ignored: the client would believe its data encrypted); KMS
 * parameters without aws:kms are InvalidArgument, as in S3.
 */
export function requestedServerSideEncryption(header: HeaderLookup, headerNames: readonly string[]): ServerSideEncryption | undefined {
  if (headerNames.some((name) => name.startsWith('x-amz-server-side-encryption-customer-') || name.startsWith('x-amz-copy-source-server-side-encryption-customer-'))) {
    throw new S3Error('NotImplemented', { message: 'Server-side encryption with customer-provided keys (SSE-C) is not implemented by Tessera; use x-amz-server-side-encryption: AES256.' });
  }
  const value = header('x-amz-server-side-encryption');
  const kmsParameter = ['x-amz-server-side-encryption-aws-kms-key-id', 'x-amz-server-side-encryption-context'].find((name) => header(name) !== undefined);
  if (value === 'aws:kms' || value === 'aws:kms:dsse') {
    throw new S3Error('NotImplemented', { message: 'Server-side encryption with KMS keys (SSE-KMS) is not implemented by Tessera; use x-amz-server-side-encryption: AES256.' });
  }
  if (kmsParameter !== undefined) {
    throw new S3Error('InvalidArgument', {
      message: 'Server Side Encryption with AWS KMS managed key requires HTTP header x-amz-server-side-encryption : aws:kms',
      fields: { ArgumentName: kmsParameter, ArgumentValue: header(kmsParameter) ?? '' },
    });
  }
  if (value === undefined) return undefined;
  if (value !== sseAlgorithm) {
    throw new S3Error('InvalidArgument', {
      message: 'The encryption method specified is not supported',
      fields: { ArgumentName: 'x-amz-server-side-encryption', ArgumentValue: value },
    });
  }
  return { algorithm: sseAlgorithm };
}

/** x-amz-server-side-encryption on responses about an encrypted object, upload or part. */
export function serverSideEncryptionHeaders(encryption: ServerSideEncryption | undefined): Record<string, string> {
  return encryption === undefined ? {} : { 'x-amz-server-side-encryption': encryption.algorithm };
}

const sealContext = Buffer.from('tessera-sse-s3-v1', 'utf8');
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
  const nonce = randomBytes(gcmNonceSizeBytes);
  const cipher = createCipheriv('aes-256-gcm', master.key, nonce);
  cipher.setAAD(sealContext);
  const sealed = Buffer.concat([nonce, cipher.update(dataKey), cipher.final(), cipher.getAuthTag()]);
  return { masterKeyId: master.keyId, sealedKey: sealed.toString('base64'), iv: iv?.toString('base64') };
}

/** The data key, or an Error (never wrong bytes) when another master key sealed it or it was altered. */
export function unsealDataKey(master: MasterKey, sealed: SealedDataKey): Buffer {
  if (sealed.masterKeyId !== master.keyId) {
    throw new Error(`object data key was sealed with master key ${sealed.masterKeyId}, but this cluster's master key is ${master.keyId}`);
  }
  const bytes = Buffer.from(sealed.sealedKey, 'base64');
  if (bytes.length !== gcmNonceSizeBytes + dataKeySizeBytes + gcmTagSizeBytes) throw new Error('sealed data key has the wrong length');
  const decipher = createDecipheriv('aes-256-gcm', master.key, bytes.subarray(0, gcmNonceSizeBytes));
  decipher.setAAD(sealContext);
  decipher.setAuthTag(bytes.subarray(gcmNonceSizeBytes + dataKeySizeBytes));
  return Buffer.concat([decipher.update(bytes.subarray(gcmNonceSizeBytes, gcmNonceSizeBytes + dataKeySizeBytes)), decipher.final()]);
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

/** The body encrypted as it streams; its summary (ETag, checksums) stays that of the plaintext. */
export function encryptingBody(body: VerifiedBody, dataKey: Buffer, iv: Buffer): VerifiedBody {
  return {
    summary: () => body.summary(),
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

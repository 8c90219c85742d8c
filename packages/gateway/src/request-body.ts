/**
 * Turns an incoming request body into the stream a backend consumes: aws-chunked decoding
 * (when used), then one verifier that counts bytes and computes MD5 (the ETag), the declared
 * SHA-256 and every flexible checksum in one pass. All verdicts are given in the verifier's
 * flush, i.e. before the consumer sees the end of the stream: a backend that iterates the body
 * to completion without an exception holds exactly the bytes the client signed and declared.
 */
import { createHash } from 'node:crypto';
import type { Hash } from 'node:crypto';
import { pipeline, Transform } from 'node:stream';
import type { Readable, TransformCallback } from 'node:stream';
import { assert } from '@tessera/common';
import { AwsChunkedDecoder } from './auth/aws-chunked-decoder';
import type { PayloadMode } from './auth/verify-request';
import {
  checksumAlgorithmOfHeader,
  checksumAlgorithms,
  checksumHeaderName,
  createChecksum,
  isWellFormedChecksum,
  parseChecksumAlgorithm,
  parseContentMd5,
} from './checksums';
import type { ChecksumAlgorithm, ChecksumValues, IncrementalChecksum } from './checksums';
import { S3Error } from './s3-errors';

/** What is known about a body once it has been read to the end and verified. */
export interface BodySummary {
  /** Hex MD5 of the body: the single-part ETag (unquoted). */
  readonly md5Hex: string;
  readonly sizeBytes: number;
  /** Flexible checksums that were sent (header or trailer) or asked for, verified. */
  readonly checksums: ChecksumValues;
}

/**
 * The request body as the backend sees it: iterate it once to the end. Iteration throws if the
 * client disconnects, the body is truncated, or any signature, digest or length check fails.
 */
export interface VerifiedBody extends AsyncIterable<Uint8Array> {
  /** The most bytes iteration can yield: the declared length, or the top of the allowed range. */
  readonly sizeBytesMax: number;
  /** Available only after iteration completed without throwing. */
  summary(): BodySummary;
}

/** How a body is expected to look, derived from headers and authentication. */
export interface BodyExpectation {
  readonly payload: PayloadMode;
  /**
   * Bytes after aws-chunked decoding: Content-Length or x-amz-decoded-content-length; or, for a
   * body whose length is known only at its end (the file of a browser-form upload), the range
   * it must fall in (EntityTooLarge as soon as it grows past the maximum, EntityTooSmall at the end).
   */
  readonly sizeBytes: number | { readonly minBytes: number; readonly maxBytes: number };
  readonly contentMd5Hex: string | undefined;
  /** Checksums to verify: value known from a header, or undefined when it comes in a trailer. */
  readonly checksumsExpected: ReadonlyMap<ChecksumAlgorithm, string | undefined>;
  /** Checksum algorithms to compute and store without a value to compare (x-amz-checksum-algorithm). */
  readonly checksumsComputed: readonly ChecksumAlgorithm[];
  readonly declaredTrailers: readonly string[];
}

export interface BodyLimits {
  /** Largest body accepted (EntityTooLarge beyond). */
  readonly sizeBytesMax: number;
  /** Largest aws-chunked chunk accepted (signed chunks are buffered whole). */
  readonly chunkSizeBytesMax: number;
}

type HeaderLookup = (lowerCaseName: string) => string | undefined;

function isStreaming(payload: PayloadMode): boolean {
  return payload.kind === 'streaming-signed' || payload.kind === 'streaming-unsigned-trailer';
}

function parseLength(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value.trim())) throw new S3Error('InvalidArgument', { message: `${name} must be a non-negative integer.`, fields: { ArgumentName: name, ArgumentValue: value } });
  return Number(value.trim());
}

function expectedSize(header: HeaderLookup, payload: PayloadMode, limits: BodyLimits): number {
  const contentLength = parseLength(header('content-length'), 'Content-Length');
  const decodedLength = parseLength(header('x-amz-decoded-content-length'), 'x-amz-decoded-content-length');
  const sizeBytes = isStreaming(payload) ? decodedLength : contentLength;
  if (sizeBytes === undefined) throw new S3Error('MissingContentLength');
  if (sizeBytes > limits.sizeBytesMax) {
    throw new S3Error('EntityTooLarge', { fields: { ProposedSize: String(sizeBytes), MaxSizeAllowed: String(limits.sizeBytesMax) } });
  }
  return sizeBytes;
}

/**
 * The checksum algorithms S3 added after the classic five. A value for one is refused rather than
 * ignored: the client asked for a check Tessera would not make.
 */
const unsupportedChecksumNames = ['md5', 'sha512', 'xxhash64', 'xxhash3', 'xxhash128'] as const;

function expectedChecksums(header: HeaderLookup, declaredTrailers: readonly string[]): Map<ChecksumAlgorithm, string | undefined> {
  for (const name of unsupportedChecksumNames) {
    if (header(`x-amz-checksum-${name}`) !== undefined) {
      throw new S3Error('NotImplemented', { message: `The ${name.toUpperCase()} checksum (x-amz-checksum-${name}) is not implemented by Tessera: use CRC32, CRC32C, CRC64NVME, SHA1 or SHA256.` });
    }
  }
  const expected = new Map<ChecksumAlgorithm, string | undefined>();
  for (const algorithm of checksumAlgorithms) {
    const value = header(checksumHeaderName(algorithm));
    if (value === undefined) continue;
    if (!isWellFormedChecksum(algorithm, value)) {
      throw new S3Error('InvalidRequest', { message: `Value for ${checksumHeaderName(algorithm)} header is invalid.` });
    }
    expected.set(algorithm, value);
  }
  for (const name of declaredTrailers) {
    const algorithm = checksumAlgorithmOfHeader(name);
    if (algorithm === undefined) throw new S3Error('InvalidRequest', { message: `The value specified in the x-amz-trailer header is not supported: ${name}` });
    expected.set(algorithm, undefined);
  }
  // S3 accepts exactly one flexible checksum per request.
  if (expected.size > 1) throw new S3Error('InvalidRequest', { message: 'Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.' });
  return expected;
}

/** Reads the body-related headers; throws the S3 error for inconsistent ones. */
export function bodyExpectation(
  header: HeaderLookup,
  payload: PayloadMode,
  limits: BodyLimits,
  alsoCompute: readonly ChecksumAlgorithm[] = [],
): BodyExpectation {
  const declaredTrailers = (header('x-amz-trailer') ?? '')
    .split(',')
    .map((name) => name.trim().toLowerCase())
    .filter((name) => name !== '');
  const trailerForm = payload.kind === 'streaming-unsigned-trailer' || (payload.kind === 'streaming-signed' && payload.trailer);
  if (declaredTrailers.length > 0 && !trailerForm) {
    throw new S3Error('InvalidRequest', { message: 'x-amz-trailer requires a STREAMING-*-TRAILER x-amz-content-sha256.' });
  }
  const checksumsExpected = expectedChecksums(header, declaredTrailers);
  const md5Header = header('content-md5');
  return {
    payload,
    sizeBytes: expectedSize(header, payload, limits),
    contentMd5Hex: md5Header === undefined ? undefined : parseContentMd5(md5Header),
    checksumsExpected,
    checksumsComputed: computedChecksums(header('x-amz-sdk-checksum-algorithm') ?? header('x-amz-checksum-algorithm'), checksumsExpected, alsoCompute),
    declaredTrailers,
  };
}

/** Algorithms to compute without a value to compare: the one named by x-amz-checksum-algorithm, and `alsoCompute`. */
function computedChecksums(algorithmName: string | undefined, checksumsExpected: ReadonlyMap<ChecksumAlgorithm, string | undefined>, alsoCompute: readonly ChecksumAlgorithm[]): ChecksumAlgorithm[] {
  const computed: ChecksumAlgorithm[] = [];
  if (algorithmName !== undefined) {
    const algorithm = parseChecksumAlgorithm(algorithmName);
    if (algorithm === undefined) throw new S3Error('InvalidRequest', { message: `Checksum algorithm ${algorithmName} is not supported.` });
    if (!checksumsExpected.has(algorithm)) computed.push(algorithm);
  }
  for (const algorithm of alsoCompute) if (!checksumsExpected.has(algorithm) && !computed.includes(algorithm)) computed.push(algorithm);
  return computed;
}

/**
 * The expectation of a browser-form upload's file: not signed (the policy is), its length known
 * only at its end and bounded by `sizeBytesRange`; Content-MD5 and one flexible checksum may be
 * given as form fields (read through `field`, like headers).
 */
export function formFileExpectation(field: HeaderLookup, sizeBytesRange: { readonly minBytes: number; readonly maxBytes: number }): BodyExpectation {
  const md5Field = field('content-md5');
  const checksumsExpected = expectedChecksums(field, []);
  return {
    payload: { kind: 'unsigned' },
    sizeBytes: sizeBytesRange,
    contentMd5Hex: md5Field === undefined ? undefined : parseContentMd5(md5Field),
    checksumsExpected,
    checksumsComputed: computedChecksums(field('x-amz-checksum-algorithm'), checksumsExpected, []),
    declaredTrailers: [],
  };
}

class PayloadVerifier extends Transform {
  private readonly md5 = createHash('md5');
  private readonly sha256: Hash | undefined;
  private readonly checksums = new Map<ChecksumAlgorithm, IncrementalChecksum>();
  private receivedBytes = 0;
  result: BodySummary | undefined;

  constructor(
    private readonly expectation: BodyExpectation,
    private readonly trailerValue: (name: string) => string | undefined,
  ) {
    super();
    this.sha256 = expectation.payload.kind === 'sha256' ? createHash('sha256') : undefined;
    for (const algorithm of [...expectation.checksumsExpected.keys(), ...expectation.checksumsComputed]) {
      this.checksums.set(algorithm, createChecksum(algorithm));
    }
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.receivedBytes += chunk.length;
    const expected = this.expectation.sizeBytes;
    if (typeof expected === 'number' && this.receivedBytes > expected) {
      callback(new S3Error('IncompleteBody', { message: 'The body is longer than the declared length.' }));
      return;
    }
    if (typeof expected !== 'number' && this.receivedBytes > expected.maxBytes) {
      callback(new S3Error('EntityTooLarge', { fields: { MaxSizeAllowed: String(expected.maxBytes) } }));
      return;
    }
    this.md5.update(chunk);
    this.sha256?.update(chunk);
    for (const checksum of this.checksums.values()) checksum.update(chunk);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    try {
      this.result = this.verify();
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }

  private verify(): BodySummary {
    const expected = this.expectation.sizeBytes;
    if (typeof expected === 'number' && this.receivedBytes !== expected) throw new S3Error('IncompleteBody');
    if (typeof expected !== 'number' && this.receivedBytes < expected.minBytes) {
      throw new S3Error('EntityTooSmall', { fields: { ProposedSize: String(this.receivedBytes), MinSizeAllowed: String(expected.minBytes) } });
    }
    const md5Hex = this.md5.digest('hex');
    const payload = this.expectation.payload;
    if (payload.kind === 'sha256' && this.sha256?.digest('hex') !== payload.sha256Hex) {
      throw new S3Error('XAmzContentSHA256Mismatch', { fields: { ClientComputedContentSHA256: payload.sha256Hex } });
    }
    if (this.expectation.contentMd5Hex !== undefined && this.expectation.contentMd5Hex !== md5Hex) {
      throw new S3Error('BadDigest', { fields: { ExpectedDigest: this.expectation.contentMd5Hex } });
    }
    const values: ChecksumValues = {};
    for (const [algorithm, checksum] of this.checksums) {
      const computed = checksum.digestBase64();
      const declared = this.expectation.checksumsExpected.has(algorithm)
        ? (this.expectation.checksumsExpected.get(algorithm) ?? this.trailerValue(checksumHeaderName(algorithm)))
        : computed;
      if (declared === undefined) throw new S3Error('IncompleteBody', { message: `The trailer ${checksumHeaderName(algorithm)} was not sent.` });
      if (declared !== computed) {
        throw new S3Error('BadDigest', { message: `The ${algorithm} you specified did not match the calculated checksum.` });
      }
      values[algorithm] = computed;
    }
    return { md5Hex, sizeBytes: this.receivedBytes, checksums: values };
  }
}

/** Builds the verified body stream over `source` (the request). */
export function createVerifiedBody(
  source: Readable,
  expectation: BodyExpectation,
  limits: BodyLimits,
  onSourceBytes: (byteCount: number) => void = () => undefined,
): VerifiedBody {
  const payload = expectation.payload;
  const decoder = isStreaming(payload)
    ? new AwsChunkedDecoder({
        signing: payload.kind === 'streaming-signed' ? payload.signing : undefined,
        trailer: payload.kind === 'streaming-unsigned-trailer' || (payload.kind === 'streaming-signed' && payload.trailer),
        declaredTrailers: expectation.declaredTrailers,
        chunkSizeBytesMax: limits.chunkSizeBytesMax,
      })
    : undefined;
  const verifier = new PayloadVerifier(expectation, (name) => decoder?.trailers.get(name));
  // pipeline() destroys every stage when one fails or the client goes away, so the consumer's
  // iteration ends with an error, never with a silently short body.
  const noop = (): void => undefined;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      onSourceBytes(chunk.length);
      callback(null, chunk);
    },
  });
  if (decoder === undefined) pipeline(source, counter, verifier, noop);
  else pipeline(source, counter, decoder, verifier, noop);
  let consumed = false;
  return {
    sizeBytesMax: typeof expectation.sizeBytes === 'number' ? expectation.sizeBytes : expectation.sizeBytes.maxBytes,
    [Symbol.asyncIterator]: () => {
      assert(!consumed, 'a request body is iterated at most once');
      consumed = true;
      return verifier[Symbol.asyncIterator]();
    },
    summary: () => {
      assert(verifier.result !== undefined, 'summary() is called only after the body was read to the end');
      return verifier.result;
    },
  };
}

/** Reads a small body (an XML request) whole; its size limit was set when the body was created. */
export async function readWholeBody(body: VerifiedBody): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of body) parts.push(Buffer.from(part));
  return Buffer.concat(parts);
}

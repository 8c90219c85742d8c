/**
 * Decoder for `Content-Encoding: aws-chunked` bodies, as a streaming Transform:
 *
 *   <hex size>[;chunk-signature=<64 hex>]\r\n<size bytes>\r\n ... 0[;chunk-signature=...]\r\n
 *   [<trailer name>:<value>\r\n ... [x-amz-trailer-signature:<64 hex>\r\n]]\r\n
 *
 * In signed mode every chunk signature is verified (each chains from the previous one, the
 * first from the request signature) before its bytes are passed on, so a forged chunk never
 * reaches storage; a chunk is therefore buffered whole, and its size is bounded by
 * `chunkSizeBytesMax`. Unsigned mode (STREAMING-UNSIGNED-PAYLOAD-TRAILER) passes bytes through
 * as they arrive. Trailers are parsed and, in signed-trailer mode, their signature verified.
 */
import { createHash } from 'node:crypto';
import type { Hash } from 'node:crypto';
import { Transform } from 'node:stream';
import type { TransformCallback } from 'node:stream';
import { S3Error } from '../s3-errors';
import type { ChunkSigningContext } from './verify-request';
import { canonicalHeaderValue, chunkStringToSign, emptySha256Hex, signHex, signaturesEqual, trailerStringToSign } from './sigv4';

/** AWS requires every chunk but the last to carry at least 8 KiB in signed streaming. */
export const signedChunkSizeBytesMin = 8192;
/** A chunk-header or trailer line longer than this is not aws-chunked. */
const lineLengthBytesMax = 4096;

export interface AwsChunkedDecoderOptions {
  /** Present for STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]; absent for the unsigned form. */
  readonly signing: ChunkSigningContext | undefined;
  /** Whether trailers follow the final chunk (the *-TRAILER forms). */
  readonly trailer: boolean;
  /** Lower-case trailer names announced in `x-amz-trailer`; others are refused. */
  readonly declaredTrailers: readonly string[];
  /** Upper bound for one chunk's size; signed chunks are buffered whole before verification. */
  readonly chunkSizeBytesMax: number;
}

type State = 'chunk-header' | 'chunk-data' | 'chunk-data-end' | 'final-line' | 'trailer' | 'done';

function malformed(detail: string): S3Error {
  return new S3Error('InvalidRequest', { message: `Malformed aws-chunked body: ${detail}.` });
}

export class AwsChunkedDecoder extends Transform {
  /** Trailer values by lower-case name; complete once the stream has ended. */
  readonly trailers = new Map<string, string>();
  private state: State = 'chunk-header';
  private pending: Buffer = Buffer.alloc(0);
  private chunkRemainingBytes = 0;
  private chunkSignature: string | undefined;
  private chunkHash: Hash | undefined;
  private chunkParts: Buffer[] = [];
  private previousSignature: string | undefined;
  private previousChunkSizeBytes: number | undefined;
  private trailerSignature: string | undefined;

  constructor(private readonly options: AwsChunkedDecoderOptions) {
    super();
    this.previousSignature = options.signing?.seedSignature;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
      this.drain();
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }

  override _flush(callback: TransformCallback): void {
    try {
      this.drain();
      this.finishAtEnd();
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }

  private finishAtEnd(): void {
    // Clients such as the AWS SDK end an unsigned trailer body right after "0\r\n" when there
    // is no checksum to send, so a trailer section may end at EOF without its blank line.
    if (this.state === 'trailer' && this.pending.length === 0) this.endTrailers();
    if (this.state === 'done' && /^(\r\n)*$/.test(this.pending.toString('latin1'))) return;
    if (this.state === 'done') throw malformed('bytes after the final chunk');
    throw new S3Error('IncompleteBody', { message: 'The aws-chunked body ended before its final chunk.' });
  }

  private takeLine(): string | undefined {
    const index = this.pending.indexOf('\r\n');
    if (index < 0) {
      if (this.pending.length > lineLengthBytesMax) throw malformed('line too long');
      return undefined;
    }
    if (index > lineLengthBytesMax) throw malformed('line too long');
    const line = this.pending.subarray(0, index).toString('latin1');
    this.pending = this.pending.subarray(index + 2);
    return line;
  }

  private drain(): void {
    for (;;) {
      switch (this.state) {
        case 'chunk-header': {
          const line = this.takeLine();
          if (line === undefined) return;
          this.startChunk(line);
          break;
        }
        case 'chunk-data':
          if (!this.consumeData()) return;
          break;
        case 'chunk-data-end':
          if (this.pending.length < 2) return;
          if (this.pending[0] !== 0x0d || this.pending[1] !== 0x0a) throw malformed('chunk data not followed by CRLF');
          this.pending = this.pending.subarray(2);
          this.finishChunk();
          this.state = 'chunk-header';
          break;
        case 'final-line': {
          const line = this.takeLine();
          if (line === undefined) return;
          if (line !== '') throw malformed('final chunk not followed by an empty line');
          this.state = 'done';
          break;
        }
        case 'trailer': {
          const line = this.takeLine();
          if (line === undefined) return;
          if (line === '') this.endTrailers();
          else this.addTrailer(line);
          break;
        }
        case 'done':
          return;
      }
    }
  }

  private startChunk(line: string): void {
    const [sizeText = '', ...extensions] = line.split(';');
    if (!/^[0-9a-fA-F]{1,16}$/.test(sizeText)) throw malformed(`bad chunk size "${sizeText.slice(0, 32)}"`);
    const sizeBytes = parseInt(sizeText, 16);
    if (sizeBytes > this.options.chunkSizeBytesMax) throw malformed(`chunk of ${sizeBytes} bytes exceeds ${this.options.chunkSizeBytesMax}`);
    const signatureExtension = extensions.find((e) => e.startsWith('chunk-signature='));
    this.chunkSignature = signatureExtension?.slice('chunk-signature='.length);
    if (this.options.signing !== undefined && this.chunkSignature === undefined) throw malformed('chunk without chunk-signature');
    if (this.options.signing !== undefined && sizeBytes > 0) this.checkPreviousChunkSize();
    if (sizeBytes > 0) this.previousChunkSizeBytes = sizeBytes;
    this.chunkRemainingBytes = sizeBytes;
    this.chunkHash = this.options.signing === undefined ? undefined : createHash('sha256');
    this.chunkParts = [];
    if (sizeBytes === 0) {
      this.verifyChunkSignature(emptySha256Hex);
      this.state = this.options.trailer ? 'trailer' : 'final-line';
      return;
    }
    this.state = 'chunk-data';
  }

  private checkPreviousChunkSize(): void {
    if (this.previousChunkSizeBytes !== undefined && this.previousChunkSizeBytes < signedChunkSizeBytesMin) {
      throw new S3Error('InvalidChunkSizeError', { fields: { Chunk: String(this.previousChunkSizeBytes), BadChunkSize: String(this.previousChunkSizeBytes) } });
    }
  }

  /** Returns true when the chunk's data is complete. */
  private consumeData(): boolean {
    if (this.pending.length === 0) return false;
    const take = Math.min(this.chunkRemainingBytes, this.pending.length);
    const part = this.pending.subarray(0, take);
    this.pending = this.pending.subarray(take);
    this.chunkRemainingBytes -= take;
    if (this.chunkHash === undefined) {
      this.push(part);
    } else {
      this.chunkHash.update(part);
      this.chunkParts.push(part);
    }
    if (this.chunkRemainingBytes > 0) return false;
    this.state = 'chunk-data-end';
    return true;
  }

  private finishChunk(): void {
    if (this.chunkHash === undefined) return;
    this.verifyChunkSignature(this.chunkHash.digest('hex'));
    for (const part of this.chunkParts) this.push(part);
    this.chunkParts = [];
  }

  private verifyChunkSignature(chunkSha256Hex: string): void {
    const signing = this.options.signing;
    if (signing === undefined) return;
    const previous = this.previousSignature;
    if (previous === undefined || this.chunkSignature === undefined) throw malformed('missing chunk signature');
    const expected = signHex(signing.signingKey, chunkStringToSign(signing.amzDate, signing.scope, previous, chunkSha256Hex));
    if (!signaturesEqual(expected, this.chunkSignature)) {
      throw new S3Error('SignatureDoesNotMatch', { message: 'The chunk signature we calculated does not match the signature you provided.' });
    }
    this.previousSignature = this.chunkSignature;
  }

  private addTrailer(line: string): void {
    const colonIndex = line.indexOf(':');
    if (colonIndex <= 0) throw malformed('bad trailer line');
    const name = line.slice(0, colonIndex).trim().toLowerCase();
    const value = canonicalHeaderValue(line.slice(colonIndex + 1));
    if (name === 'x-amz-trailer-signature') {
      this.trailerSignature = value;
      return;
    }
    if (!this.options.declaredTrailers.includes(name)) throw new S3Error('InvalidRequest', { message: `The trailer ${name} was not declared in x-amz-trailer.` });
    this.trailers.set(name, value);
  }

  private endTrailers(): void {
    for (const name of this.options.declaredTrailers) {
      if (!this.trailers.has(name)) throw new S3Error('IncompleteBody', { message: `The trailer ${name} declared in x-amz-trailer was not sent.` });
    }
    const signing = this.options.signing;
    if (signing !== undefined) {
      if (this.trailerSignature === undefined || this.previousSignature === undefined) throw malformed('signed trailer without x-amz-trailer-signature');
      const canonical = [...this.trailers].map(([name, value]) => `${name}:${value}\n`).join('');
      const expected = signHex(signing.signingKey, trailerStringToSign(signing.amzDate, signing.scope, this.previousSignature, canonical));
      if (!signaturesEqual(expected, this.trailerSignature)) {
        throw new S3Error('SignatureDoesNotMatch', { message: 'The trailer signature we calculated does not match the signature you provided.' });
      }
    }
    this.state = 'done';
  }
}

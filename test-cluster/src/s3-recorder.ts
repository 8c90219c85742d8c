/**
 * S3 operations through @aws-sdk/client-s3 (and @aws-sdk/lib-storage for multipart), each
 * recorded in the History with its SHA-256 and outcome. The client makes exactly one attempt
 * per call: SDK retries would hide the unavailability a scenario must count.
 */
import { createHash } from 'node:crypto';
import { DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { History, ListObservation, ReadObservation, WriteRecord } from './history';
import { nowMs } from './history';

export interface S3Target {
  readonly endpoint: string;
  readonly region: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly bucket: string;
}

export function createS3Client(target: S3Target, requestTimeoutMs: number): S3Client {
  return new S3Client({
    endpoint: target.endpoint,
    region: target.region,
    forcePathStyle: true,
    credentials: { accessKeyId: target.accessKeyId, secretAccessKey: target.secretAccessKey },
    maxAttempts: 1,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler: { requestTimeout: requestTimeoutMs, connectionTimeout: 2_000 },
  });
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function errorStatus(err: unknown): number | undefined {
  const meta = (err as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata;
  return meta?.httpStatusCode;
}

function errorMessage(err: unknown): string {
  const e = err as { name?: string; message?: string } | undefined;
  return `${e?.name ?? 'Error'}: ${e?.message ?? String(err)}`.slice(0, 300);
}

export interface PutOptions {
  readonly multipartThresholdBytes: number;
  /** Called once per uploaded byte count (multipart progress), for fault timing. */
  readonly onProgress?: (loadedBytes: number) => void;
}

export class S3Recorder {
  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
    private readonly history: History,
  ) {}

  async put(scenario: string, key: string, body: Buffer, options: PutOptions): Promise<WriteRecord> {
    const sha256 = sha256Hex(body);
    const multipart = body.length >= options.multipartThresholdBytes;
    const startMs = nowMs();
    let error: string | undefined;
    try {
      if (multipart) {
        const upload = new Upload({ client: this.client, params: { Bucket: this.bucket, Key: key, Body: body }, partSize: 5 * 1024 * 1024, queueSize: 2, leavePartsOnError: false });
        if (options.onProgress !== undefined) {
          const onProgress = options.onProgress;
          upload.on('httpUploadProgress', (p) => onProgress(p.loaded ?? 0));
        }
        await upload.done();
      } else {
        await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentLength: body.length }));
      }
    } catch (err) {
      error = errorMessage(err);
    }
    const record: WriteRecord = { kind: 'write', scenario, key, sha256, sizeBytes: body.length, multipart, startMs, endMs: nowMs(), outcome: error === undefined ? 'ok' : 'maybe', ...(error === undefined ? {} : { error }) };
    this.history.add(record);
    return record;
  }

  async delete(scenario: string, key: string): Promise<WriteRecord> {
    const startMs = nowMs();
    let error: string | undefined;
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch (err) {
      error = errorMessage(err);
    }
    const record: WriteRecord = { kind: 'write', scenario, key, sha256: undefined, sizeBytes: 0, multipart: false, startMs, endMs: nowMs(), outcome: error === undefined ? 'ok' : 'maybe', ...(error === undefined ? {} : { error }) };
    this.history.add(record);
    return record;
  }

  /** GETs the whole object, hashing it as it streams (a 100 MiB body is never held twice). */
  async get(scenario: string, key: string): Promise<ReadObservation> {
    const startMs = nowMs();
    let observed: ReadObservation;
    try {
      const response = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      const hash = createHash('sha256');
      let sizeBytes = 0;
      for await (const chunk of response.Body as AsyncIterable<Uint8Array>) {
        hash.update(chunk);
        sizeBytes += chunk.length;
      }
      observed = { kind: 'value', sha256: hash.digest('hex'), sizeBytes };
    } catch (err) {
      const status = errorStatus(err);
      const name = (err as { name?: string } | undefined)?.name;
      observed = status === 404 || name === 'NoSuchKey' ? { kind: 'absent' } : { kind: 'error', message: errorMessage(err), httpStatus: status };
    }
    this.history.add({ kind: 'read', scenario, key, startMs, endMs: nowMs(), observed });
    return observed;
  }

  /** ListObjectsV2 over every page (bounded to pageCountMax pages). */
  async list(scenario: string, prefix: string, pageCountMax = 100): Promise<ListObservation> {
    const startMs = nowMs();
    let observed: ListObservation;
    try {
      const keys = new Set<string>();
      let token: string | undefined;
      for (let page = 0; page < pageCountMax; page++) {
        const response = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }));
        for (const entry of response.Contents ?? []) if (entry.Key !== undefined) keys.add(entry.Key);
        token = response.IsTruncated === true ? response.NextContinuationToken : undefined;
        if (token === undefined) break;
      }
      observed = { kind: 'keys', keys };
    } catch (err) {
      observed = { kind: 'error', message: errorMessage(err), httpStatus: errorStatus(err) };
    }
    this.history.add({ kind: 'list', scenario, prefix, startMs, endMs: nowMs(), observed });
    return observed;
  }
}

/**
 * Maps backend failures to S3 errors. The reasons are a closed union, so a new reason without
 * an S3 code does not type-check.
 */
import type { S3BackendErrorReason } from './backend';
import { S3BackendError } from './backend';
import type { S3ErrorCode } from './s3-errors';
import { S3Error } from './s3-errors';

const s3CodeByReason: Record<S3BackendErrorReason, S3ErrorCode> = {
  NoSuchBucket: 'NoSuchBucket',
  NoSuchKey: 'NoSuchKey',
  NoSuchUpload: 'NoSuchUpload',
  BucketAlreadyOwnedByYou: 'BucketAlreadyOwnedByYou',
  BucketAlreadyExists: 'BucketAlreadyExists',
  BucketNotEmpty: 'BucketNotEmpty',
  InvalidPart: 'InvalidPart',
  PreconditionFailed: 'PreconditionFailed',
  QuorumUnavailable: 'ServiceUnavailable',
  Overloaded: 'SlowDown',
};

export interface ResourceNames {
  readonly bucket?: string | undefined;
  readonly key?: string | undefined;
  readonly uploadId?: string | undefined;
}

/** Converts a backend error into the S3Error to send; other errors pass through unchanged. */
export function mapBackendError(error: unknown, names: ResourceNames): unknown {
  if (!(error instanceof S3BackendError)) return error;
  const code = s3CodeByReason[error.reason];
  const fields: Record<string, string> = {};
  if (names.bucket !== undefined && (code === 'NoSuchBucket' || code.startsWith('Bucket'))) fields['BucketName'] = names.bucket;
  if (names.key !== undefined && code === 'NoSuchKey') fields['Key'] = names.key;
  if (names.uploadId !== undefined && code === 'NoSuchUpload') fields['UploadId'] = names.uploadId;
  // Internal detail (which nodes failed) stays in the log via `cause`; the client gets the
  // backend's client message, else the catalogue message.
  return new S3Error(code, { fields, cause: error, ...(error.clientMessage === undefined ? {} : { message: error.clientMessage }) });
}

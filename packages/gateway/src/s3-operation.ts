/**
 * The closed vocabulary of S3 requests the gateway understands. `parseS3Request` turns an HTTP
 * request into exactly one of these, with no storage access; the app dispatches with one
 * `switch (op.kind)` that ends in `assertNever`, so adding a kind without a handler does not
 * type-check.
 */

/** Where CopyObject / UploadPartCopy read from (`x-amz-copy-source`, decoded). */
export interface CopySource {
  readonly bucket: string;
  readonly key: string;
  /** `?versionId=` of the copy source: that version instead of the current one. */
  readonly versionId: string | undefined;
}

export type EncodingType = 'url' | undefined;

export interface ListObjectsV2Params {
  readonly prefix: string;
  readonly delimiter: string | undefined;
  readonly maxKeys: number;
  readonly continuationToken: string | undefined;
  readonly startAfter: string | undefined;
  readonly fetchOwner: boolean;
  readonly encodingType: EncodingType;
}

export interface ListObjectsV1Params {
  readonly prefix: string;
  readonly delimiter: string | undefined;
  readonly maxKeys: number;
  readonly marker: string | undefined;
  readonly encodingType: EncodingType;
}

export interface ListObjectVersionsParams {
  readonly prefix: string;
  readonly delimiter: string | undefined;
  readonly maxKeys: number;
  readonly keyMarker: string | undefined;
  readonly versionIdMarker: string | undefined;
  readonly encodingType: EncodingType;
}

export interface ListMultipartUploadsParams {
  readonly prefix: string;
  readonly delimiter: string | undefined;
  readonly maxUploads: number;
  readonly keyMarker: string | undefined;
  readonly uploadIdMarker: string | undefined;
  readonly encodingType: EncodingType;
}

export interface ListPartsParams {
  readonly maxParts: number;
  readonly partNumberMarker: number;
  readonly encodingType: EncodingType;
}

/**
 * Bucket configurations Tessera does not store. GET answers the way S3 answers for a bucket that
 * never had one: a "no such configuration" 404, or S3's default document for the four whose
 * absence S3 reports as an empty or default configuration (logging, accelerate, requestPayment,
 * notification).
 */
export type AbsentBucketConfiguration =
  | 'website'
  | 'replication'
  | 'logging'
  | 'accelerate'
  | 'requestPayment'
  | 'notification';

export type S3Operation =
  | { readonly kind: 'ListBuckets' }
  | { readonly kind: 'CreateBucket'; readonly bucket: string }
  | { readonly kind: 'DeleteBucket'; readonly bucket: string }
  | { readonly kind: 'HeadBucket'; readonly bucket: string }
  | { readonly kind: 'GetBucketLocation'; readonly bucket: string }
  | { readonly kind: 'GetBucketVersioning'; readonly bucket: string }
  | { readonly kind: 'PutBucketVersioning'; readonly bucket: string }
  | { readonly kind: 'GetBucketAcl'; readonly bucket: string }
  | { readonly kind: 'PutBucketAcl'; readonly bucket: string }
  | { readonly kind: 'GetBucketConfiguration'; readonly bucket: string; readonly configuration: AbsentBucketConfiguration }
  | { readonly kind: 'GetBucketTagging'; readonly bucket: string }
  | { readonly kind: 'PutBucketTagging'; readonly bucket: string }
  | { readonly kind: 'DeleteBucketTagging'; readonly bucket: string }
  | { readonly kind: 'GetBucketCors'; readonly bucket: string }
  | { readonly kind: 'PutBucketCors'; readonly bucket: string }
  | { readonly kind: 'DeleteBucketCors'; readonly bucket: string }
  | { readonly kind: 'GetObjectLockConfiguration'; readonly bucket: string }
  | { readonly kind: 'PutObjectLockConfiguration'; readonly bucket: string }
  | { readonly kind: 'GetObjectRetention'; readonly bucket: string; readonly key: string; readonly versionId: string | undefined }
  | { readonly kind: 'PutObjectRetention'; readonly bucket: string; readonly key: string; readonly versionId: string | undefined }
  | { readonly kind: 'GetObjectLegalHold'; readonly bucket: string; readonly key: string; readonly versionId: string | undefined }
  | { readonly kind: 'PutObjectLegalHold'; readonly bucket: string; readonly key: string; readonly versionId: string | undefined }
  | { readonly kind: 'GetBucketLifecycleConfiguration'; readonly bucket: string }
  | { readonly kind: 'PutBucketLifecycleConfiguration'; readonly bucket: string }
  | { readonly kind: 'DeleteBucketLifecycle'; readonly bucket: string }
  | { readonly kind: 'GetBucketEncryption'; readonly bucket: string }
  | { readonly kind: 'PutBucketEncryption'; readonly bucket: string }
  | { readonly kind: 'DeleteBucketEncryption'; readonly bucket: string }
  | { readonly kind: 'GetBucketPolicy'; readonly bucket: string }
  | { readonly kind: 'PutBucketPolicy'; readonly bucket: string }
  | { readonly kind: 'DeleteBucketPolicy'; readonly bucket: string }
  | { readonly kind: 'GetBucketPolicyStatus'; readonly bucket: string }
  | { readonly kind: 'GetPublicAccessBlock'; readonly bucket: string }
  | { readonly kind: 'GetBucketOwnershipControls'; readonly bucket: string }
  | { readonly kind: 'PutBucketOwnershipControls'; readonly bucket: string }
  | { readonly kind: 'DeleteBucketOwnershipControls'; readonly bucket: string }
  | { readonly kind: 'PutPublicAccessBlock'; readonly bucket: string }
  | { readonly kind: 'DeletePublicAccessBlock'; readonly bucket: string }
  /** A browser's CORS preflight (OPTIONS): answered from the bucket's CORS rules, unauthenticated. */
  | { readonly kind: 'CorsPreflight'; readonly bucket: string; readonly key: string | undefined }
  | { readonly kind: 'ListObjectsV2'; readonly bucket: string; readonly params: ListObjectsV2Params }
  | { readonly kind: 'ListObjects'; readonly bucket: string; readonly params: ListObjectsV1Params }
  | { readonly kind: 'ListObjectVersions'; readonly bucket: string; readonly params: ListObjectVersionsParams }
  | { readonly kind: 'ListMultipartUploads'; readonly bucket: string; readonly params: ListMultipartUploadsParams }
  | { readonly kind: 'DeleteObjects'; readonly bucket: string }
  | { readonly kind: 'PutObject'; readonly bucket: string; readonly key: string }
  /** A browser-form upload (POST to the bucket, multipart/form-data with a signed policy). */
  | { readonly kind: 'PostObject'; readonly bucket: string }
  | { readonly kind: 'CopyObject'; readonly bucket: string; readonly key: string; readonly source: CopySource }
  | { readonly kind: 'GetObject'; readonly bucket: string; readonly key: string; readonly partNumber: number | undefined; readonly versionId: string | undefined }
  | { readonly kind: 'HeadObject'; readonly bucket: string; readonly key: string; readonly partNumber: number | undefined; readonly versionId: string | undefined }
  | { readonly kind: 'GetObjectTagging'; readonly bucket: string; readonly key: string; readonly versionId: string | undefined }
  | { readonly kind: 'PutObjectTagging'; readonly bucket: string; readonly key: string; readonly versionId: string | undefined }
  | { readonly kind: 'DeleteObjectTagging'; readonly bucket: string; readonly key: string; readonly versionId: string | undefined }
  | { readonly kind: 'GetObjectAcl'; readonly bucket: string; readonly key: string; readonly versionId: string | undefined }
  | { readonly kind: 'GetObjectAttributes'; readonly bucket: string; readonly key: string; readonly versionId: string | undefined }
  | { readonly kind: 'PutObjectAcl'; readonly bucket: string; readonly key: string; readonly versionId: string | undefined }
  | { readonly kind: 'DeleteObject'; readonly bucket: string; readonly key: string; readonly versionId: string | undefined }
  | { readonly kind: 'CreateMultipartUpload'; readonly bucket: string; readonly key: string }
  | { readonly kind: 'UploadPart'; readonly bucket: string; readonly key: string; readonly uploadId: string; readonly partNumber: number }
  | {
      readonly kind: 'UploadPartCopy';
      readonly bucket: string;
      readonly key: string;
      readonly uploadId: string;
      readonly partNumber: number;
      readonly source: CopySource;
    }
  | { readonly kind: 'CompleteMultipartUpload'; readonly bucket: string; readonly key: string; readonly uploadId: string }
  | { readonly kind: 'AbortMultipartUpload'; readonly bucket: string; readonly key: string; readonly uploadId: string }
  | { readonly kind: 'ListParts'; readonly bucket: string; readonly key: string; readonly uploadId: string; readonly params: ListPartsParams }
  | { readonly kind: 'NotImplemented'; readonly bucket: string | undefined; readonly key: string | undefined; readonly feature: string };

export type S3OperationKind = S3Operation['kind'];

/** Every kind, for metrics label pre-registration and exhaustive tests. */
export const s3OperationKinds: readonly S3OperationKind[] = [
  'ListBuckets',
  'CreateBucket',
  'DeleteBucket',
  'HeadBucket',
  'GetBucketLocation',
  'GetBucketVersioning',
  'PutBucketVersioning',
  'GetBucketAcl',
  'PutBucketAcl',
  'GetBucketConfiguration',
  'GetBucketTagging',
  'PutBucketTagging',
  'DeleteBucketTagging',
  'GetBucketCors',
  'PutBucketCors',
  'DeleteBucketCors',
  'GetObjectLockConfiguration',
  'PutObjectLockConfiguration',
  'GetObjectRetention',
  'PutObjectRetention',
  'GetObjectLegalHold',
  'PutObjectLegalHold',
  'GetBucketLifecycleConfiguration',
  'PutBucketLifecycleConfiguration',
  'DeleteBucketLifecycle',
  'GetBucketEncryption',
  'PutBucketEncryption',
  'DeleteBucketEncryption',
  'GetBucketPolicy',
  'PutBucketPolicy',
  'DeleteBucketPolicy',
  'GetBucketPolicyStatus',
  'GetPublicAccessBlock',
  'GetBucketOwnershipControls',
  'PutBucketOwnershipControls',
  'DeleteBucketOwnershipControls',
  'PutPublicAccessBlock',
  'DeletePublicAccessBlock',
  'CorsPreflight',
  'ListObjectsV2',
  'ListObjects',
  'ListObjectVersions',
  'ListMultipartUploads',
  'DeleteObjects',
  'PutObject',
  'PostObject',
  'CopyObject',
  'GetObject',
  'HeadObject',
  'GetObjectTagging',
  'PutObjectTagging',
  'DeleteObjectTagging',
  'GetObjectAcl',
  'GetObjectAttributes',
  'PutObjectAcl',
  'DeleteObject',
  'CreateMultipartUpload',
  'UploadPart',
  'UploadPartCopy',
  'CompleteMultipartUpload',
  'AbortMultipartUpload',
  'ListParts',
  'NotImplemented',
];

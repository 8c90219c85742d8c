/**
 * The one switch from operation kind to handler. Ends in assertNever: a new S3Operation kind
 * without a handler does not type-check.
 */
import { assertNever } from '@tessera/common';
import type { S3Operation } from './s3-operation';
import { S3Error } from './s3-errors';
import type { HandlerContext } from './handler-context';
import { handleAbortMultipartUpload } from './handlers/abort-multipart-upload';
import { handleCompleteMultipartUpload } from './handlers/complete-multipart-upload';
import { handleCopyObject } from './handlers/copy-object';
import { handleCreateBucket } from './handlers/create-bucket';
import { handleCreateMultipartUpload } from './handlers/create-multipart-upload';
import { handleDeleteBucket } from './handlers/delete-bucket';
import { handleDeleteObject } from './handlers/delete-object';
import { handleDeleteObjects } from './handlers/delete-objects';
import { handleGetBucketAcl } from './handlers/get-bucket-acl';
import { handleGetBucketConfiguration } from './handlers/get-bucket-configuration';
import { handleGetBucketLocation } from './handlers/get-bucket-location';
import { handleGetBucketVersioning, handlePutBucketVersioning } from './handlers/bucket-versioning';
import {
  handleGetObjectLegalHold, handleGetObjectLockConfiguration, handleGetObjectRetention, handlePutObjectLegalHold, handlePutObjectLockConfiguration,
  handlePutObjectRetention,
} from './handlers/object-lock';
import { handleDeleteBucketLifecycle, handleGetBucketLifecycle, handlePutBucketLifecycle } from './handlers/bucket-lifecycle';
import { handleDeleteBucketEncryption, handleGetBucketEncryption, handlePutBucketEncryption } from './handlers/bucket-encryption';
import { handleDeleteBucketOwnershipControls, handleGetBucketOwnershipControls, handlePutBucketOwnershipControls } from './handlers/bucket-ownership';
import {
  handleDeleteBucketPolicy, handleDeletePublicAccessBlock, handleGetBucketPolicy, handleGetBucketPolicyStatus, handleGetPublicAccessBlock, handlePutBucketPolicy,
  handlePutPublicAccessBlock,
} from './handlers/bucket-policy';
import { handleGetObject } from './handlers/get-object';
import { handleGetObjectAcl } from './handlers/get-object-acl';
import { handleGetObjectAttributes } from './handlers/get-object-attributes';
import {
  handleDeleteBucketTagging, handleDeleteObjectTagging, handleGetBucketTagging, handleGetObjectTagging, handlePutBucketTagging, handlePutObjectTagging,
} from './handlers/object-tagging';
import { handleHeadBucket } from './handlers/head-bucket';
import { handleHeadObject } from './handlers/head-object';
import { handleListBuckets } from './handlers/list-buckets';
import { handleListMultipartUploads } from './handlers/list-multipart-uploads';
import { handleListObjectVersions } from './handlers/list-object-versions';
import { handleListObjectsV1 } from './handlers/list-objects-v1';
import { handleListObjectsV2 } from './handlers/list-objects-v2';
import { handleListParts } from './handlers/list-parts';
import { handleNotImplemented } from './handlers/not-implemented';
import { handlePutAcl } from './handlers/put-acl';
import { handlePutObject } from './handlers/put-object';
import { handleUploadPart } from './handlers/upload-part';
import { handleUploadPartCopy } from './handlers/upload-part-copy';
import { handleCorsPreflight, handleDeleteBucketCors, handleGetBucketCors, handlePutBucketCors } from './handlers/bucket-cors';

export async function dispatchS3Operation(ctx: HandlerContext, op: S3Operation): Promise<void> {
  switch (op.kind) {
    case 'ListBuckets':
      return handleListBuckets(ctx);
    case 'CreateBucket':
      ctx.bucketCache.forget(op.bucket);
      return handleCreateBucket(ctx, op.bucket);
    case 'DeleteBucket':
      ctx.bucketCache.forget(op.bucket);
      return handleDeleteBucket(ctx, op.bucket);
    case 'HeadBucket':
      return handleHeadBucket(ctx, op.bucket);
    case 'GetBucketLocation':
      return handleGetBucketLocation(ctx, op.bucket);
    case 'GetBucketVersioning':
      return handleGetBucketVersioning(ctx, op.bucket);
    case 'PutBucketVersioning':
      return handlePutBucketVersioning(ctx, op.bucket);
    case 'GetObjectLockConfiguration':
      return handleGetObjectLockConfiguration(ctx, op.bucket);
    case 'PutObjectLockConfiguration':
      return handlePutObjectLockConfiguration(ctx, op.bucket);
    case 'GetObjectRetention':
      return handleGetObjectRetention(ctx, op.bucket, op.key, op.versionId);
    case 'PutObjectRetention':
      return handlePutObjectRetention(ctx, op.bucket, op.key, op.versionId);
    case 'GetObjectLegalHold':
      return handleGetObjectLegalHold(ctx, op.bucket, op.key, op.versionId);
    case 'PutObjectLegalHold':
      return handlePutObjectLegalHold(ctx, op.bucket, op.key, op.versionId);
    case 'GetBucketLifecycleConfiguration':
      return handleGetBucketLifecycle(ctx, op.bucket);
    case 'PutBucketLifecycleConfiguration':
      return handlePutBucketLifecycle(ctx, op.bucket);
    case 'DeleteBucketLifecycle':
      return handleDeleteBucketLifecycle(ctx, op.bucket);
    case 'GetBucketEncryption':
      return handleGetBucketEncryption(ctx, op.bucket);
    case 'PutBucketEncryption':
      return handlePutBucketEncryption(ctx, op.bucket);
    case 'DeleteBucketEncryption':
      return handleDeleteBucketEncryption(ctx, op.bucket);
    case 'GetBucketPolicy':
      return handleGetBucketPolicy(ctx, op.bucket);
    case 'PutBucketPolicy':
      return handlePutBucketPolicy(ctx, op.bucket);
    case 'DeleteBucketPolicy':
      return handleDeleteBucketPolicy(ctx, op.bucket);
    case 'GetBucketPolicyStatus':
      return handleGetBucketPolicyStatus(ctx, op.bucket);
    case 'GetBucketOwnershipControls':
      return handleGetBucketOwnershipControls(ctx, op.bucket);
    case 'PutBucketOwnershipControls':
      return handlePutBucketOwnershipControls(ctx, op.bucket);
    case 'DeleteBucketOwnershipControls':
      return handleDeleteBucketOwnershipControls(ctx, op.bucket);
    case 'GetPublicAccessBlock':
      return handleGetPublicAccessBlock(ctx, op.bucket);
    case 'PutPublicAccessBlock':
      return handlePutPublicAccessBlock(ctx, op.bucket);
    case 'DeletePublicAccessBlock':
      return handleDeletePublicAccessBlock(ctx, op.bucket);
    case 'GetBucketAcl':
      return handleGetBucketAcl(ctx, op.bucket);
    case 'PutBucketAcl':
      return handlePutAcl(ctx, op.bucket, undefined);
    case 'GetBucketTagging':
      return handleGetBucketTagging(ctx, op.bucket);
    case 'PutBucketTagging':
      return handlePutBucketTagging(ctx, op.bucket);
    case 'DeleteBucketTagging':
      return handleDeleteBucketTagging(ctx, op.bucket);
    case 'GetBucketCors':
      return handleGetBucketCors(ctx, op.bucket);
    case 'PutBucketCors':
      return handlePutBucketCors(ctx, op.bucket);
    case 'DeleteBucketCors':
      return handleDeleteBucketCors(ctx, op.bucket);
    case 'CorsPreflight':
      // Answered before authentication (app.ts); a signed OPTIONS never gets here.
      return handleCorsPreflight(ctx.res, { bucket: op.bucket, key: op.key, header: ctx.header }, ctx.bucketCache);
    case 'GetBucketConfiguration':
      return handleGetBucketConfiguration(ctx, op.bucket, op.configuration);
    case 'ListObjectsV2':
      return handleListObjectsV2(ctx, op.bucket, op.params);
    case 'ListObjects':
      return handleListObjectsV1(ctx, op.bucket, op.params);
    case 'ListObjectVersions':
      return handleListObjectVersions(ctx, op.bucket, op.params);
    case 'ListMultipartUploads':
      return handleListMultipartUploads(ctx, op.bucket, op.params);
    case 'DeleteObjects':
      return handleDeleteObjects(ctx, op.bucket);
    case 'PutObject':
      return handlePutObject(ctx, op.bucket, op.key);
    case 'PostObject':
      // Authenticated by its form and answered before dispatch (app.ts, handlers/post-object.ts).
      throw new S3Error('InternalError', { message: 'POST Object is served before request authentication.' });
    case 'CopyObject':
      return handleCopyObject(ctx, op.bucket, op.key, op.source);
    case 'GetObject':
      return handleGetObject(ctx, op.bucket, op.key, op.partNumber, op.versionId);
    case 'HeadObject':
      return handleHeadObject(ctx, op.bucket, op.key, op.partNumber, op.versionId);
    case 'GetObjectTagging':
      return handleGetObjectTagging(ctx, op.bucket, op.key, op.versionId);
    case 'PutObjectTagging':
      return handlePutObjectTagging(ctx, op.bucket, op.key, op.versionId);
    case 'DeleteObjectTagging':
      return handleDeleteObjectTagging(ctx, op.bucket, op.key, op.versionId);
    case 'GetObjectAcl':
      return handleGetObjectAcl(ctx, op.bucket, op.key, op.versionId);
    case 'GetObjectAttributes':
      return handleGetObjectAttributes(ctx, op.bucket, op.key, op.versionId);
    case 'PutObjectAcl':
      return handlePutAcl(ctx, op.bucket, op.key, op.versionId);
    case 'DeleteObject':
      return handleDeleteObject(ctx, op.bucket, op.key, op.versionId);
    case 'CreateMultipartUpload':
      return handleCreateMultipartUpload(ctx, op.bucket, op.key);
    case 'UploadPart':
      return handleUploadPart(ctx, op.bucket, op.key, op.uploadId, op.partNumber);
    case 'UploadPartCopy':
      return handleUploadPartCopy(ctx, op.bucket, op.key, op.uploadId, op.partNumber, op.source);
    case 'CompleteMultipartUpload':
      return handleCompleteMultipartUpload(ctx, op.bucket, op.key, op.uploadId);
    case 'AbortMultipartUpload':
      return handleAbortMultipartUpload(ctx, op.bucket, op.key, op.uploadId);
    case 'ListParts':
      return handleListParts(ctx, op.bucket, op.key, op.uploadId, op.params);
    case 'NotImplemented':
      return handleNotImplemented(op.feature);
    default:
      return assertNever(op, 'S3 operation');
  }
}

/**
 * Where a version made by CompleteMultipartUpload keeps the id of the upload it completed: in its
 * system metadata under a reserved key. The metadata service writes it at apply; the gateway reads
 * it to answer a retried CompleteMultipartUpload of the same parts with the same result (S3 and
 * s3-tests treat the retry as a success).
 */
export const completedUploadIdMetadataKey = 'x-tessera-upload-id';

/**
 * Bucket and object sub-resources that Tessera does not store are answered the way S3 answers a
 * bucket that never had them configured, because common clients (the AWS CLI, SDK helpers,
 * rclone) read them before acting.
 * Policy, CORS, lifecycle and encryption: their S3 "no such configuration" 404s.
 */
import { S3Error } from '../s3-errors';
import type { S3ErrorCode } from '../s3-errors';
import type { AbsentBucketConfiguration } from '../s3-operation';
import { callBackend } from '../handler-context';
import type { HandlerContext } from '../handler-context';

const absentConfigurationCodes: Record<AbsentBucketConfiguration, S3ErrorCode> = {
  policy: 'NoSuchBucketPolicy',
  cors: 'NoSuchCORSConfiguration',
  lifecycle: 'NoSuchLifecycleConfiguration',
  encryption: 'ServerSideEncryptionConfigurationNotFoundError',
};

export async function handleGetBucketConfiguration(ctx: HandlerContext, bucket: string, configuration: AbsentBucketConfiguration): Promise<void> {
  await callBackend({ bucket }, () => ctx.backend.headBucket(bucket));
  throw new S3Error(absentConfigurationCodes[configuration], { fields: { BucketName: bucket } });
}

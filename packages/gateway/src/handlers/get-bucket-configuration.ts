/**
 * Bucket and object sub-resources that Tessera does not store are answered the way S3 answers a
 * bucket that never had them configured, because common clients (the AWS CLI, SDK helpers,
 * rclone, Terraform's S3 bucket resource) read them before acting. Most answer a "no such
 * configuration" 404; S3 reports four as a default document instead: logging disabled, transfer
 * acceleration never set, the bucket owner pays, no notifications.
 */
import { S3Error } from '../s3-errors';
import type { S3ErrorCode } from '../s3-errors';
import type { AbsentBucketConfiguration } from '../s3-operation';
import { callBackend, sendXml } from '../handler-context';
import type { HandlerContext } from '../handler-context';
import { xmlDocument, xmlText } from '../xml';

const absentConfigurationAnswers: Record<AbsentBucketConfiguration, { readonly errorCode: S3ErrorCode } | { readonly defaultXml: string }> = {
  website: { errorCode: 'NoSuchWebsiteConfiguration' },
  replication: { errorCode: 'ReplicationConfigurationNotFoundError' },
  logging: { defaultXml: xmlDocument('BucketLoggingStatus') },
  accelerate: { defaultXml: xmlDocument('AccelerateConfiguration') },
  requestPayment: { defaultXml: xmlDocument('RequestPaymentConfiguration', xmlText('Payer', 'BucketOwner')) },
  notification: { defaultXml: xmlDocument('NotificationConfiguration') },
};

export async function handleGetBucketConfiguration(ctx: HandlerContext, bucket: string, configuration: AbsentBucketConfiguration): Promise<void> {
  await callBackend({ bucket }, () => ctx.backend.headBucket(bucket));
  const answer = absentConfigurationAnswers[configuration];
  if ('defaultXml' in answer) {
    sendXml(ctx, 200, answer.defaultXml);
    return;
  }
  throw new S3Error(answer.errorCode, { fields: { BucketName: bucket } });
}

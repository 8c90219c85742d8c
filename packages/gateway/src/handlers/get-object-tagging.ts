/**
 * Bucket and object sub-resources that Tessera does not store are answered the way S3 answers a
 * bucket that never had them configured, because common clients (the AWS CLI, SDK helpers,
 * rclone) read them before acting.
 * Object tagging: an empty tag set.
 */
import { callBackend, sendXml } from '../handler-context';
import type { HandlerContext } from '../handler-context';
import { emptyTaggingXml } from '../xml-responses';

export async function handleGetObjectTagging(ctx: HandlerContext, bucket: string, key: string): Promise<void> {
  await callBackend({ bucket, key }, () => ctx.backend.headObject(bucket, key));
  sendXml(ctx, 200, emptyTaggingXml());
}

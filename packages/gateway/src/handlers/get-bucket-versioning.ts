/**
 * Bucket and object sub-resources that Tessera does not store are answered the way S3 answers a
 * bucket that never had them configured, because common clients (the AWS CLI, SDK helpers,
 * rclone) read them before acting.
 * Versioning was never enabled: an empty VersioningConfiguration.
 */
import { callBackend, sendXml } from '../handler-context';
import type { HandlerContext } from '../handler-context';
import { versioningConfigurationXml } from '../xml-responses';

export async function handleGetBucketVersioning(ctx: HandlerContext, bucket: string): Promise<void> {
  await callBackend({ bucket }, () => ctx.backend.headBucket(bucket));
  sendXml(ctx, 200, versioningConfigurationXml());
}

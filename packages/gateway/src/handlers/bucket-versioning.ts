/**
 * GetBucketVersioning and PutBucketVersioning. A bucket that never had versioning answers an
 * empty VersioningConfiguration, as S3 does; once Enabled or Suspended it never returns there.
 */
import { callBackend, readSmallBody, sendEmpty, sendXml } from '../handler-context';
import type { HandlerContext } from '../handler-context';
import { parseVersioningConfiguration, versioningConfigurationBodyBytesMax } from '../xml-requests';
import { versioningConfigurationXml } from '../xml-responses';

export async function handleGetBucketVersioning(ctx: HandlerContext, bucket: string): Promise<void> {
  const info = await callBackend({ bucket }, () => ctx.backend.headBucket(bucket));
  sendXml(ctx, 200, versioningConfigurationXml(info.versioning === 'Unversioned' ? undefined : info.versioning));
}

export async function handlePutBucketVersioning(ctx: HandlerContext, bucket: string): Promise<void> {
  const status = parseVersioningConfiguration(await readSmallBody(ctx, versioningConfigurationBodyBytesMax));
  if (status === undefined) await callBackend({ bucket }, () => ctx.backend.headBucket(bucket));
  else await callBackend({ bucket }, () => ctx.backend.setBucketVersioning(bucket, status));
  sendEmpty(ctx, 200);
}

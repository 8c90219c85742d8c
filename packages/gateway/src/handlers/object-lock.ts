/**
 * S3 Object Lock: GetObjectLockConfiguration / PutObjectLockConfiguration (the bucket's switch
 * and default retention), GetObjectRetention / PutObjectRetention and GetObjectLegalHold /
 * PutObjectLegalHold (one version's settings). The metadata service checks S3's rules when it
 * applies a change (a COMPLIANCE retention only extended, a GOVERNANCE one weakened only with
 * x-amz-bypass-governance-retention), so they hold however requests interleave.
 */
import { callBackend, readSmallBody, sendEmpty, sendXml } from '../handler-context';
import type { HandlerContext } from '../handler-context';
import { bypassGovernanceOf } from '../object-lock';
import { versionIdHeader } from '../object-response';
import { S3Error } from '../s3-errors';
import { objectLockBodyBytesMax, parseLegalHold, parseObjectLockConfiguration, parseRetention } from '../xml-requests';
import { legalHoldXml, objectLockConfigurationXml, retentionXml } from '../xml-responses';

export async function handleGetObjectLockConfiguration(ctx: HandlerContext, bucket: string): Promise<void> {
  const info = await callBackend({ bucket }, () => ctx.backend.headBucket(bucket));
  if (info.objectLock === undefined) throw new S3Error('ObjectLockConfigurationNotFoundError', { fields: { BucketName: bucket } });
  sendXml(ctx, 200, objectLockConfigurationXml(info.objectLock.defaultRetention));
}

export async function handlePutObjectLockConfiguration(ctx: HandlerContext, bucket: string): Promise<void> {
  const defaultRetention = parseObjectLockConfiguration(await readSmallBody(ctx, objectLockBodyBytesMax));
  await callBackend({ bucket }, () => ctx.backend.setBucketObjectLock(bucket, defaultRetention));
  sendEmpty(ctx, 200);
}

async function lockedBucketVersion(ctx: HandlerContext, bucket: string, key: string, versionId: string | undefined) {
  const bucketInfo = await callBackend({ bucket }, () => ctx.backend.headBucket(bucket));
  if (bucketInfo.objectLock === undefined) throw new S3Error('InvalidRequest', { message: 'Bucket is missing Object Lock Configuration' });
  return callBackend({ bucket, key }, () => ctx.backend.headObject(bucket, key, versionId));
}

export async function handleGetObjectRetention(ctx: HandlerContext, bucket: string, key: string, versionId: string | undefined): Promise<void> {
  const info = await lockedBucketVersion(ctx, bucket, key, versionId);
  const lock = info.headers.objectLock;
  if (lock?.mode === undefined || lock.retainUntilMs === undefined) throw new S3Error('NoSuchObjectLockConfiguration');
  sendXml(ctx, 200, retentionXml(lock.mode, lock.retainUntilMs), versionIdHeader(info.versionId));
}

export async function handlePutObjectRetention(ctx: HandlerContext, bucket: string, key: string, versionId: string | undefined): Promise<void> {
  const retention = parseRetention(await readSmallBody(ctx, objectLockBodyBytesMax), ctx.clock.nowMs());
  const bypassGovernance = bypassGovernanceOf((name) => ctx.header(name));
  const info = await callBackend({ bucket, key }, () => ctx.backend.setObjectLock(bucket, key, versionId, { retention, bypassGovernance }));
  sendEmpty(ctx, 200, versionIdHeader(info.versionId));
}

export async function handleGetObjectLegalHold(ctx: HandlerContext, bucket: string, key: string, versionId: string | undefined): Promise<void> {
  const info = await lockedBucketVersion(ctx, bucket, key, versionId);
  sendXml(ctx, 200, legalHoldXml(info.headers.objectLock?.legalHold === true), versionIdHeader(info.versionId));
}

export async function handlePutObjectLegalHold(ctx: HandlerContext, bucket: string, key: string, versionId: string | undefined): Promise<void> {
  const legalHold = parseLegalHold(await readSmallBody(ctx, objectLockBodyBytesMax));
  const info = await callBackend({ bucket, key }, () => ctx.backend.setObjectLock(bucket, key, versionId, { legalHold, bypassGovernance: false }));
  sendEmpty(ctx, 200, versionIdHeader(info.versionId));
}

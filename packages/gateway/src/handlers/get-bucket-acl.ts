/**
 * Bucket and object sub-resources that Tessera does not store are answered the way S3 answers a
 * bucket that never had them configured, because common clients (the AWS CLI, SDK helpers,
 * rclone) read them before acting.
 * ACL: the owner has FULL_CONTROL; keys granted read or write in the bucket have READ / WRITE.
 */
import { callBackend, sendXml } from '../handler-context';
import type { HandlerContext } from '../handler-context';
import { ownerOfKey } from '../xml-responses';
import { accessControlPolicyXml } from '../xml-responses';

export async function handleGetBucketAcl(ctx: HandlerContext, bucket: string): Promise<void> {
  const info = await callBackend({ bucket }, () => ctx.backend.headBucket(bucket));
  sendXml(ctx, 200, accessControlPolicyXml(ownerOfKey(info.owner), info.grants));
}

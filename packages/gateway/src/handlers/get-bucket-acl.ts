/**
 * GetBucketAcl: the ACL as PutBucketAcl (or CreateBucket's grant headers) stated it, else the
 * owner's FULL_CONTROL, then each access key's grant as S3 permissions (access-control.ts
 * bucketAclOf).
 */
import { callBackend, sendXml } from '../handler-context';
import type { HandlerContext } from '../handler-context';
import { bucketAclOf } from '../access-control';
import { accessControlPolicyXml, ownerOfKey } from '../xml-responses';

export async function handleGetBucketAcl(ctx: HandlerContext, bucket: string): Promise<void> {
  const info = await callBackend({ bucket }, () => ctx.backend.headBucket(bucket));
  sendXml(ctx, 200, accessControlPolicyXml(ownerOfKey(info.owner), info.exactAcl ?? bucketAclOf(info.owner, info.grants)));
}

/**
 * GetObjectAcl: the version's owner (the key that wrote it, or the bucket's) and its ACL, by
 * default the owner's FULL_CONTROL (access-control.ts). Clients read it routinely (`s3cmd info`,
 * SDK copy helpers).
 */
import { objectAclOf } from '../access-control';
import { existingBucketInfo } from '../bucket-access';
import { callBackend, sendXml } from '../handler-context';
import type { HandlerContext } from '../handler-context';
import { accessControlPolicyXml, ownerOfKey } from '../xml-responses';

export async function handleGetObjectAcl(ctx: HandlerContext, bucket: string, key: string, versionId: string | undefined): Promise<void> {
  const bucketInfo = await existingBucketInfo(ctx, bucket);
  const info = await callBackend({ bucket, key }, () => ctx.backend.headObject(bucket, key, versionId));
  const { owner, acl } = objectAclOf(info.headers, bucketInfo);
  sendXml(ctx, 200, accessControlPolicyXml(ownerOfKey(owner), acl));
}

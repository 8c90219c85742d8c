/**
 * GetObjectAcl: the owner (the bucket's) with FULL_CONTROL, then the version's grants to other
 * access keys (access-control.ts). Clients read it routinely (`s3cmd info`, SDK copy helpers).
 */
import { callBackend, sendXml } from '../handler-context';
import type { HandlerContext } from '../handler-context';
import { bucketOwner } from '../bucket-access';
import { accessControlPolicyXml } from '../xml-responses';

export async function handleGetObjectAcl(ctx: HandlerContext, bucket: string, key: string, versionId: string | undefined): Promise<void> {
  const info = await callBackend({ bucket, key }, () => ctx.backend.headObject(bucket, key, versionId));
  sendXml(ctx, 200, accessControlPolicyXml(await bucketOwner(ctx, bucket), info.headers.grants));
}

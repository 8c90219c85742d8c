/**
 * GetObjectAcl: the single owner has FULL_CONTROL, as for buckets (get-bucket-acl.ts). Clients
 * read it routinely (`s3cmd info`, SDK copy helpers), so it is answered, not NotImplemented.
 */
import { callBackend, sendXml } from '../handler-context';
import type { HandlerContext } from '../handler-context';
import { bucketOwner } from '../bucket-access';
import { accessControlPolicyXml } from '../xml-responses';

export async function handleGetObjectAcl(ctx: HandlerContext, bucket: string, key: string, versionId: string | undefined): Promise<void> {
  await callBackend({ bucket, key }, () => ctx.backend.headObject(bucket, key, versionId));
  sendXml(ctx, 200, accessControlPolicyXml(await bucketOwner(ctx, bucket)));
}

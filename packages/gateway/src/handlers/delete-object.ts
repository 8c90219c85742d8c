/**
 * DeleteObject: deleting a missing key succeeds, as in S3. In a bucket with versioning, a delete
 * without a version id adds a delete marker; with one, that version goes for good.
 */
import { callBackend, sendEmpty } from '../handler-context';
import { versionIdHeader } from '../object-response';
import { bypassGovernanceOf } from '../object-lock';
import type { HandlerContext } from '../handler-context';

export async function handleDeleteObject(ctx: HandlerContext, bucket: string, key: string, versionId: string | undefined): Promise<void> {
  const bypassGovernance = bypassGovernanceOf((name) => ctx.header(name));
  const result = await callBackend({ bucket, key }, () => ctx.backend.deleteObject(bucket, key, versionId, { bypassGovernance }));
  sendEmpty(ctx, 204, { ...versionIdHeader(result.versionId), ...(result.deleteMarker ? { 'x-amz-delete-marker': 'true' } : {}) });
}

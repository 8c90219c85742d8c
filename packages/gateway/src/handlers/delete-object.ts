/**
 * DeleteObject: deleting a missing key succeeds, as in S3. In a bucket with versioning, a delete
 * without a version id adds a delete marker; with one, that version goes for good. `If-Match`
 * makes it conditional (S3 conditional deletes): only if the version it removes is an object with
 * that ETag (`*`: any object), checked atomically with the delete by the metadata service; else
 * 412 PreconditionFailed, or 404 NoSuchKey when there is no object.
 */
import { callBackend, sendEmpty } from '../handler-context';
import { ifMatchEtagOf, versionIdHeader } from '../object-response';
import { bypassGovernanceOf } from '../object-lock';
import type { HandlerContext } from '../handler-context';
import { S3Error } from '../s3-errors';

export async function handleDeleteObject(ctx: HandlerContext, bucket: string, key: string, versionId: string | undefined): Promise<void> {
  const bypassGovernance = bypassGovernanceOf((name) => ctx.header(name));
  // S3 evaluates these two only in directory buckets; refused rather than ignored here.
  for (const name of ['x-amz-if-match-last-modified-time', 'x-amz-if-match-size']) {
    if (ctx.header(name) !== undefined) throw new S3Error('NotImplemented', { message: `${name} is not implemented by Tessera (S3 takes it in directory buckets only); use If-Match.` });
  }
  const ifMatchEtag = ifMatchEtagOf((name) => ctx.header(name));
  const result = await callBackend({ bucket, key }, () => ctx.backend.deleteObject(bucket, key, versionId, { bypassGovernance, ...(ifMatchEtag === undefined ? {} : { ifMatchEtag }) }));
  sendEmpty(ctx, 204, { ...versionIdHeader(result.versionId), ...(result.deleteMarker ? { 'x-amz-delete-marker': 'true' } : {}) });
}

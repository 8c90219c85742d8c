/**
 * DeleteObjects: multi-object delete of up to 1000 keys, quiet mode; per-key failures are
 * reported in the result, not as a failure of the whole request (AccessDenied too: each key is
 * checked against the bucket's policy as S3 does). An object's `ETag` element makes its delete
 * conditional, as If-Match does DeleteObject's (PreconditionFailed / NoSuchKey per key).
 */
import { forEachConcurrently } from '@tessera/common';
import { objectDeleteAccess } from '../access-policy';
import { checkAccess } from '../bucket-access';
import { bypassGovernanceOf } from '../object-lock';
import { keyLengthBytesMax } from '../parse-s3-request';
import { toS3Error } from '../error-boundary';
import { mapBackendError } from '../backend-errors';
import { callBackend, readSmallBody, sendXml } from '../handler-context';
import type { HandlerContext } from '../handler-context';
import { requestContextOf } from '../request-context';
import { deleteObjectsBodyBytesMax, parseDeleteRequest } from '../xml-requests';
import type { DeleteRequest } from '../xml-requests';
import { deleteResultXml } from '../xml-responses';
import type { DeleteOutcome } from '../xml-responses';

async function deleteOne(ctx: HandlerContext, bucket: string, object: DeleteRequest['objects'][number], bypassGovernance: boolean): Promise<DeleteOutcome> {
  const { key, versionId, etag } = object;
  if (Buffer.byteLength(key, 'utf8') > keyLengthBytesMax || key === '') return { kind: 'error', key, versionId, code: 'KeyTooLongError', message: 'Your key is too long' };
  try {
    // Each key is its own resource: a bucket policy may allow or deny some keys and not others.
    for (const required of objectDeleteAccess(bucket, key, versionId, bypassGovernance)) await checkAccess(ctx, required);
    const result = await ctx.backend.deleteObject(bucket, key, versionId, { bypassGovernance, ...(etag === undefined ? {} : { ifMatchEtag: etag }) });
    return { kind: 'deleted', key, versionId, deleteMarkerVersionId: result.deleteMarker ? result.versionId : undefined };
  } catch (error) {
    const s3Error = toS3Error(mapBackendError(error, { bucket, key }), ctx.logger, requestContextOf(ctx.res).requestId);
    return { kind: 'error', key, versionId, code: s3Error.code, message: s3Error.message };
  }
}

/**
 * Keys one DeleteObjects deletes at a time. Each delete is a metadata commit; concurrent ones share
 * the leader's log writes (one fsync for many), so 1,000 keys go several times faster than one by
 * one, while one request still cannot put 1,000 commits in flight at once.
 */
export const deleteObjectsConcurrencyMax = 32;

export async function handleDeleteObjects(ctx: HandlerContext, bucket: string): Promise<void> {
  const request = parseDeleteRequest(await readSmallBody(ctx, deleteObjectsBodyBytesMax));
  await callBackend({ bucket }, () => ctx.backend.headBucket(bucket));
  const bypassGovernance = bypassGovernanceOf((name) => ctx.header(name));
  // Entries naming the same key run one after another in request order (in a versioned bucket
  // each makes its own delete marker, or removes the version it names, in that order); distinct
  // keys run concurrently. The result lists every entry in request order.
  const outcomes: DeleteOutcome[] = new Array<DeleteOutcome>(request.objects.length);
  const entriesByKey = new Map<string, number[]>();
  request.objects.forEach((object, index) => {
    const entries = entriesByKey.get(object.key);
    if (entries === undefined) entriesByKey.set(object.key, [index]);
    else entries.push(index);
  });
  await forEachConcurrently([...entriesByKey.values()], deleteObjectsConcurrencyMax, async (entries) => {
    for (const index of entries) outcomes[index] = await deleteOne(ctx, bucket, request.objects[index]!, bypassGovernance);
  });
  sendXml(ctx, 200, deleteResultXml(outcomes, request.quiet));
}

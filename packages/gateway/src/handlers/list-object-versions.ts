/**
 * ListObjectVersions (`GET /bucket?versions`). Tessera buckets are never versioned, so, as S3
 * answers for an unversioned bucket, every object is its own single version: VersionId "null",
 * IsLatest true, no delete markers. Clients and test suites list versions to empty a bucket
 * (s3-tests cleans up every bucket this way; `aws s3api list-object-versions`, rclone
 * --s3-versions, backup tools), so refusing it would leave them unable to clean up.
 * Paging: key-marker as in ListObjects v1; a version-id-marker needs a key-marker and, since
 * the only version of a key is "null", must be "null" (or empty).
 */
import type { ListObjectVersionsParams } from '../s3-operation';
import { callBackend, sendXml } from '../handler-context';
import type { HandlerContext } from '../handler-context';
import { S3Error } from '../s3-errors';
import { listVersionsXml } from '../xml-responses';
import { positionAfter } from './continuation-token';

export async function handleListObjectVersions(ctx: HandlerContext, bucket: string, params: ListObjectVersionsParams): Promise<void> {
  if (params.versionIdMarker !== undefined) {
    if (params.keyMarker === undefined) throw new S3Error('InvalidArgument', { message: 'A version-id marker cannot be specified without a key marker.', fields: { ArgumentName: 'version-id-marker', ArgumentValue: params.versionIdMarker } });
    if (params.versionIdMarker !== 'null') throw new S3Error('InvalidArgument', { message: 'Invalid version id specified', fields: { ArgumentName: 'version-id-marker', ArgumentValue: params.versionIdMarker } });
  }
  // As in v1, a marker ending with the delimiter names a common prefix already returned.
  const skipPrefix = params.delimiter !== undefined && params.keyMarker?.endsWith(params.delimiter) === true ? params.keyMarker : undefined;
  const page = await callBackend({ bucket }, () =>
    ctx.backend.listObjects({ bucket, prefix: params.prefix, delimiter: params.delimiter, startAfter: params.keyMarker, skipPrefix, maxKeys: params.maxKeys }),
  );
  const last = positionAfter(page.entries)?.startAfter;
  const isTruncated = page.isTruncated && last !== undefined;
  const lastIsObject = page.entries[page.entries.length - 1]?.kind === 'object';
  sendXml(
    ctx,
    200,
    listVersionsXml({
      bucket,
      prefix: params.prefix,
      delimiter: params.delimiter,
      maxKeys: params.maxKeys,
      encodingType: params.encodingType,
      keyMarker: params.keyMarker,
      versionIdMarker: params.versionIdMarker,
      nextKeyMarker: isTruncated ? last : undefined,
      nextVersionIdMarker: isTruncated && lastIsObject ? 'null' : undefined,
      entries: page.entries,
      isTruncated,
      owner: ctx.options.owner,
    }),
  );
}

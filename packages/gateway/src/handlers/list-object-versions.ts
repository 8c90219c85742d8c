/**
 * ListObjectVersions (`GET /bucket?versions`): every version and delete marker, each key's
 * newest first, with IsLatest. A bucket that never had versioning lists each object once, as
 * version "null". Paging follows S3: key-marker alone starts after that key (after the whole
 * group when it is a returned common prefix); with version-id-marker, that key's older versions
 * come first.
 */
import type { ListObjectVersionsParams } from '../s3-operation';
import { callBackend, sendXml } from '../handler-context';
import type { HandlerContext } from '../handler-context';
import { listingOwners } from '../bucket-access';
import { S3Error } from '../s3-errors';
import { listVersionsXml } from '../xml-responses';

export async function handleListObjectVersions(ctx: HandlerContext, bucket: string, params: ListObjectVersionsParams): Promise<void> {
  if (params.versionIdMarker !== undefined && params.keyMarker === undefined) {
    throw new S3Error('InvalidArgument', { message: 'A version-id marker cannot be specified without a key marker.', fields: { ArgumentName: 'version-id-marker', ArgumentValue: params.versionIdMarker } });
  }
  const page = await callBackend({ bucket }, () =>
    ctx.backend.listObjectVersions({
      bucket, prefix: params.prefix, delimiter: params.delimiter, keyMarker: params.keyMarker, versionIdMarker: params.versionIdMarker, maxKeys: params.maxKeys,
    }),
  );
  const owners = await listingOwners(ctx, bucket);
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
      nextKeyMarker: page.nextKeyMarker,
      nextVersionIdMarker: page.nextVersionIdMarker,
      entries: page.entries,
      isTruncated: page.isTruncated,
      owner: owners.bucketOwner,
      ownerOf: owners.ownerOf,
    }),
  );
}

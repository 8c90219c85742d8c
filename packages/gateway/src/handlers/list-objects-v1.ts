/**
 * ListObjects (v1): prefix, delimiter, max-keys, marker and NextMarker.
 */
import type { ListObjectsV1Params } from '../s3-operation';
import { callBackend, sendXml } from '../handler-context';
import type { HandlerContext } from '../handler-context';
import { listingOwners } from '../bucket-access';
import { markerCommonPrefix } from '../listing';
import { listObjectsV1Xml } from '../xml-responses';
import { positionAfter } from './continuation-token';

export async function handleListObjectsV1(ctx: HandlerContext, bucket: string, params: ListObjectsV1Params): Promise<void> {
  // v1 markers are plain strings chosen by the client (NextMarker is the last key or common
  // prefix); a marker in a group of this listing puts the whole group behind it.
  const skipPrefix = markerCommonPrefix(params.marker, params.prefix, params.delimiter);
  const page = await callBackend({ bucket }, () =>
    ctx.backend.listObjects({ bucket, prefix: params.prefix, delimiter: params.delimiter, startAfter: params.marker, skipPrefix, maxKeys: params.maxKeys }),
  );
  const last = positionAfter(page.entries)?.startAfter;
  const isTruncated = page.isTruncated && last !== undefined;
  sendXml(
    ctx,
    200,
    listObjectsV1Xml({
      bucket,
      prefix: params.prefix,
      delimiter: params.delimiter,
      maxKeys: params.maxKeys,
      encodingType: params.encodingType,
      marker: params.marker,
      // Without a delimiter S3 omits NextMarker and clients use the last key instead; we send
      // it whenever the page is truncated, which every client accepts.
      nextMarker: isTruncated ? last : undefined,
      entries: page.entries,
      isTruncated,
      ownerOf: (await listingOwners(ctx, bucket)).ownerOf,
    }),
  );
}

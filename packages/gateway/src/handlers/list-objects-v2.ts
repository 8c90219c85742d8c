/**
 * ListObjectsV2: prefix, delimiter, max-keys, continuation-token, start-after, fetch-owner,
 * encoding-type=url.
 */
import type { ListObjectsV2Params } from '../s3-operation';
import { callBackend, sendXml } from '../handler-context';
import type { HandlerContext } from '../handler-context';
import { listingOwners } from '../bucket-access';
import { markerCommonPrefix } from '../listing';
import { listObjectsV2Xml } from '../xml-responses';
import { decodeContinuationToken, encodeContinuationToken, positionAfter } from './continuation-token';

export async function handleListObjectsV2(ctx: HandlerContext, bucket: string, params: ListObjectsV2Params): Promise<void> {
  const position = params.continuationToken === undefined || params.continuationToken === '' ? undefined : decodeContinuationToken(params.continuationToken);
  const startAfter = position?.startAfter ?? params.startAfter;
  const skipPrefix = position === undefined ? markerCommonPrefix(params.startAfter, params.prefix, params.delimiter) : position.skipPrefix;
  const page = await callBackend({ bucket }, () =>
    ctx.backend.listObjects({ bucket, prefix: params.prefix, delimiter: params.delimiter, startAfter, skipPrefix, maxKeys: params.maxKeys }),
  );
  const next = positionAfter(page.entries);
  const isTruncated = page.isTruncated && next !== undefined;
  sendXml(
    ctx,
    200,
    listObjectsV2Xml({
      bucket,
      prefix: params.prefix,
      delimiter: params.delimiter,
      maxKeys: params.maxKeys,
      encodingType: params.encodingType,
      continuationToken: params.continuationToken,
      nextContinuationToken: isTruncated && next !== undefined ? encodeContinuationToken(next) : undefined,
      startAfter: params.startAfter,
      entries: page.entries,
      isTruncated,
      ownerOf: params.fetchOwner ? (await listingOwners(ctx, bucket)).ownerOf : undefined,
    }),
  );
}

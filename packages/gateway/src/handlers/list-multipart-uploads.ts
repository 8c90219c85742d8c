/**
 * ListMultipartUploads: uploads in progress, by key then upload id, with prefix and delimiter.
 */
import type { ListMultipartUploadsParams } from '../s3-operation';
import { callBackend, sendXml } from '../handler-context';
import type { HandlerContext } from '../handler-context';
import { bucketOwner } from '../bucket-access';
import { markerCommonPrefix } from '../listing';
import { listMultipartUploadsXml } from '../xml-responses';

export async function handleListMultipartUploads(ctx: HandlerContext, bucket: string, params: ListMultipartUploadsParams): Promise<void> {
  const page = await callBackend({ bucket }, () =>
    ctx.backend.listMultipartUploads({
      bucket,
      prefix: params.prefix,
      delimiter: params.delimiter,
      keyMarker: params.keyMarker,
      uploadIdMarker: params.uploadIdMarker,
      maxUploads: params.maxUploads,
      skipPrefix: markerCommonPrefix(params.keyMarker, params.prefix, params.delimiter),
    }),
  );
  sendXml(
    ctx,
    200,
    listMultipartUploadsXml({
      bucket,
      prefix: params.prefix,
      delimiter: params.delimiter,
      keyMarker: params.keyMarker,
      uploadIdMarker: params.uploadIdMarker,
      maxUploads: params.maxUploads,
      encodingType: params.encodingType,
      entries: page.entries,
      isTruncated: page.isTruncated,
      owner: await bucketOwner(ctx, bucket),
    }),
  );
}

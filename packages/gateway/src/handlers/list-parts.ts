/**
 * ListParts: the parts of an upload, paged by part-number-marker.
 */
import type { ListPartsParams } from '../s3-operation';
import { callBackend, sendXml } from '../handler-context';
import type { HandlerContext } from '../handler-context';
import { bucketOwner } from '../bucket-access';
import { listPartsXml } from '../xml-responses';

export async function handleListParts(ctx: HandlerContext, bucket: string, key: string, uploadId: string, params: ListPartsParams): Promise<void> {
  const page = await callBackend({ bucket, key, uploadId }, () => ctx.backend.listParts(bucket, key, uploadId, params.partNumberMarker, params.maxParts));
  const headers: Record<string, string> = page.upload.checksumAlgorithm === undefined ? {} : { 'x-amz-checksum-algorithm': page.upload.checksumAlgorithm };
  sendXml(
    ctx,
    200,
    listPartsXml({
      upload: page.upload,
      parts: page.parts,
      partNumberMarker: params.partNumberMarker,
      maxParts: params.maxParts,
      isTruncated: page.isTruncated,
      owner: await bucketOwner(ctx, bucket),
      encodingType: params.encodingType,
    }),
    headers,
  );
}

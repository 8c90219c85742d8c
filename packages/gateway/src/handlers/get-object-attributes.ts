/**
 * GetObjectAttributes (`GET /bucket/key?attributes`): the attributes named by
 * `x-amz-object-attributes` (ETag, Checksum, ObjectParts, StorageClass, ObjectSize) in one XML
 * document, without the body. Tools use it to learn a size or checksum cheaply. ObjectParts
 * appears only for multipart objects, paged by `x-amz-max-parts` / `x-amz-part-number-marker`;
 * each part carries its PartNumber, Size and, when it was uploaded with one, its checksum.
 */
import { callBackend, sendXml } from '../handler-context';
import { versionIdHeader } from '../object-response';
import type { HandlerContext } from '../handler-context';
import { listPageEntryCountMax } from '../parse-s3-request';
import { S3Error } from '../s3-errors';
import { getObjectAttributesXml, objectAttributeNames } from '../xml-responses';
import type { ObjectAttributeName } from '../xml-responses';
import { customerKeyOf } from './request-encryption';

function parseAttributeNames(value: string | undefined): ReadonlySet<ObjectAttributeName> {
  if (value === undefined || value.trim() === '') {
    throw new S3Error('InvalidArgument', { message: 'The x-amz-object-attributes header specifying the attributes to be retrieved is either missing or empty', fields: { ArgumentName: 'x-amz-object-attributes' } });
  }
  const names = new Set<ObjectAttributeName>();
  for (const raw of value.split(',')) {
    const name = objectAttributeNames.find((candidate) => candidate === raw.trim());
    if (name === undefined) throw new S3Error('InvalidArgument', { message: 'Invalid attribute name specified.', fields: { ArgumentName: 'x-amz-object-attributes', ArgumentValue: raw.trim() } });
    names.add(name);
  }
  return names;
}

function parseCount(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  if (!/^\d+$/.test(value)) throw new S3Error('InvalidArgument', { message: `${name} must be a non-negative integer.`, fields: { ArgumentName: name, ArgumentValue: value } });
  return Number(value);
}

export async function handleGetObjectAttributes(ctx: HandlerContext, bucket: string, key: string, versionId: string | undefined): Promise<void> {
  const attributes = parseAttributeNames(ctx.header('x-amz-object-attributes'));
  const maxParts = Math.min(parseCount(ctx.header('x-amz-max-parts'), 'x-amz-max-parts', listPageEntryCountMax), listPageEntryCountMax);
  const partNumberMarker = parseCount(ctx.header('x-amz-part-number-marker'), 'x-amz-part-number-marker', 0);
  const info = await callBackend({ bucket, key }, () => ctx.backend.headObject(bucket, key, versionId, { customerKey: customerKeyOf(ctx, 'object') }));
  sendXml(ctx, 200, getObjectAttributesXml(info, attributes, { maxParts, partNumberMarker }), { 'Last-Modified': new Date(info.lastModifiedMs).toUTCString(), ...versionIdHeader(info.versionId) });
}

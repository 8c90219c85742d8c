/**
 * CopyObject: metadata directive COPY (default) or REPLACE, and independently the tagging
 * directive (x-amz-tagging-directive COPY, the default, or REPLACE with x-amz-tagging); copying
 * an object onto itself without changing anything (metadata, storage class, checksum algorithm)
 * is refused, as S3 does.
 */
import { lockOf, parseObjectLockHeaders } from '../object-lock';
import type { ObjectReader } from '../backend';
import { copyBody } from '../copy-body';
import { extractObjectHeaders } from '../object-headers';
import type { ObjectHeaders } from '../object-headers';
import { parseTaggingHeader } from '../object-tags';
import type { Tag } from '../object-tags';
import { refuseUnsupportedWriteHeaders, writtenVersionIdHeader, writeConditionOf } from '../object-response';
import { S3Error } from '../s3-errors';
import type { CopySource } from '../s3-operation';
import { callBackend, sendXml } from '../handler-context';
import { objectAclForWrite } from '../bucket-access';
import type { NewObjectAcl } from '../bucket-access';
import type { HandlerContext } from '../handler-context';
import { copyObjectResultXml } from '../xml-responses';
import { serverSideEncryptionHeaders } from '../server-side-encryption';
import type { ServerSideEncryption } from '../server-side-encryption';
import { encryptionForWrite } from './request-encryption';
import { copyChecksumAlgorithms, copySourceVersionHeader, openSource } from './copy-source';
import { lifecycleExpirationHeader } from './lifecycle-expiration';

function metadataFor(ctx: HandlerContext, reader: ObjectReader, target: { bucket: string; key: string; ownership: NewObjectAcl }, source: CopySource, encryption: ServerSideEncryption | undefined): ObjectHeaders {
  const { bucket, key } = target;
  const directive = (ctx.header('x-amz-metadata-directive') ?? 'COPY').toUpperCase();
  if (directive !== 'COPY' && directive !== 'REPLACE') {
    throw new S3Error('InvalidArgument', { message: 'Unknown metadata directive.', fields: { ArgumentName: 'x-amz-metadata-directive', ArgumentValue: directive } });
  }
  // A copy in place that names a storage class or a checksum algorithm is a request to rewrite
  // the object with those attributes, which S3 allows even when the value is unchanged (rclone
  // settier, `aws s3 cp --storage-class`, re-checksumming). STANDARD is the only class accepted.
  const changesAttributes = ['x-amz-storage-class', 'x-amz-checksum-algorithm', 'x-amz-server-side-encryption', 'x-amz-server-side-encryption-customer-algorithm'].some((name) => ctx.header(name) !== undefined);
  // Copying an older version over the key (restoring it) is a change, as in S3.
  if (directive === 'COPY' && source.bucket === bucket && source.key === key && source.versionId === undefined && !changesAttributes) {
    throw new S3Error('InvalidRequest', {
      message: "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
    });
  }
  const { objectLock: _sourceLock, serverSideEncryption: _sourceEncryption, owner: _sourceOwner, acl: _sourceAcl, legacyGrants: _sourceGrants, ...headers } = directive === 'REPLACE' ? extractObjectHeaders(ctx.headerNames, (name) => ctx.header(name)) : reader.info.headers;
  // A copy's Object Lock settings, encryption, owner and ACL come from this request (or the
  // bucket's defaults), never from the source: an encrypted copy gets a data key of its own, the
  // copier owns the copy, and it starts private unless the request grants (as in S3).
  return {
    ...headers, tags: tagsFor(ctx, reader), ...target.ownership, ...lockOf(parseObjectLockHeaders((name) => ctx.header(name), ctx.clock.nowMs())),
    ...(encryption === undefined ? {} : { serverSideEncryption: encryption }),
  };
}

function tagsFor(ctx: HandlerContext, reader: ObjectReader): readonly Tag[] {
  const directive = (ctx.header('x-amz-tagging-directive') ?? 'COPY').toUpperCase();
  if (directive !== 'COPY' && directive !== 'REPLACE') {
    throw new S3Error('InvalidArgument', { message: 'Unknown tagging directive.', fields: { ArgumentName: 'x-amz-tagging-directive', ArgumentValue: directive } });
  }
  return directive === 'REPLACE' ? parseTaggingHeader(ctx.header('x-amz-tagging')) : reader.info.headers.tags;
}

export async function handleCopyObject(ctx: HandlerContext, bucket: string, key: string, source: CopySource): Promise<void> {
  const header = (name: string): string | undefined => ctx.header(name);
  refuseUnsupportedWriteHeaders(header);
  const ownership = await objectAclForWrite(ctx, bucket, header, ctx.headerNames);
  const condition = writeConditionOf(header);
  const reader = await openSource(ctx, source);
  if (reader.info.sizeBytes > ctx.options.limits.copySizeBytesMax) {
    throw new S3Error('InvalidRequest', { message: `The specified copy source is larger than the maximum allowable size for a copy source: ${ctx.options.limits.copySizeBytesMax}` });
  }
  const headers = metadataFor(ctx, reader, { bucket, key, ownership }, source, await encryptionForWrite(ctx, bucket, header));
  const body = copyBody(reader, undefined, copyChecksumAlgorithms(ctx, reader));
  const info = await callBackend({ bucket, key }, () => ctx.backend.putObject({ bucket, key, headers, body, condition }));
  sendXml(ctx, 200, copyObjectResultXml(info.etag, info.lastModifiedMs, info.checksums), {
    ...writtenVersionIdHeader(info.versionId), ...copySourceVersionHeader(reader), ...serverSideEncryptionHeaders(info.headers.serverSideEncryption),
    ...(await lifecycleExpirationHeader(ctx, bucket, info)),
  });
}

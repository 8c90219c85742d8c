/**
 * PutObject: stream the verified body to the backend, which commits it atomically.
 */
import { lockOf, parseObjectLockHeaders } from '../object-lock';
import { extractObjectHeaders } from '../object-headers';
import { checksumResponseHeaders, refuseUnsupportedWriteHeaders, writtenVersionIdHeader, writeConditionOf } from '../object-response';
import { callBackend, requestBody, sendEmpty } from '../handler-context';
import { objectAclForWrite } from '../bucket-access';
import type { HandlerContext } from '../handler-context';
import { serverSideEncryptionHeaders } from '../server-side-encryption';
import { lifecycleExpirationHeader } from './lifecycle-expiration';
import { encryptionForWrite } from './request-encryption';

export async function handlePutObject(ctx: HandlerContext, bucket: string, key: string): Promise<void> {
  const header = (name: string): string | undefined => ctx.header(name);
  refuseUnsupportedWriteHeaders(header);
  const ownership = await objectAclForWrite(ctx, bucket, header, ctx.headerNames);
  const serverSideEncryption = await encryptionForWrite(ctx, bucket, header);
  const headers = {
    ...extractObjectHeaders(ctx.headerNames, header), ...ownership, ...lockOf(parseObjectLockHeaders(header, ctx.clock.nowMs())),
    ...(serverSideEncryption === undefined ? {} : { serverSideEncryption }),
  };
  const condition = writeConditionOf(header);
  const body = requestBody(ctx, ctx.options.limits.putObjectSizeBytesMax);
  const info = await callBackend({ bucket, key }, () => ctx.backend.putObject({ bucket, key, headers, body, condition }));
  sendEmpty(ctx, 200, {
    ETag: `"${info.etag}"`, ...checksumResponseHeaders(info.checksums), ...writtenVersionIdHeader(info.versionId), ...serverSideEncryptionHeaders(info.headers.serverSideEncryption),
    ...(await lifecycleExpirationHeader(ctx, bucket, info)),
  });
}

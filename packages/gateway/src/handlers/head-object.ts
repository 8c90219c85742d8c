/**
 * HeadObject: the GetObject headers, no body; conditionals answered 304/412.
 */
import { conditionalHeadersOf, enforceReadConditions } from '../conditional';
import { callBackend } from '../handler-context';
import type { HandlerContext } from '../handler-context';
import { responseHeaders, selectRange, statusFor } from './object-read';
import { lifecycleExpirationHeader } from './lifecycle-expiration';
import { readerCustomerKeyOf } from './request-encryption';

export async function handleHeadObject(ctx: HandlerContext, bucket: string, key: string, partNumber: number | undefined, versionId: string | undefined): Promise<void> {
  const info = await callBackend({ bucket, key }, () => ctx.backend.headObject(bucket, key, versionId, { customerKey: readerCustomerKeyOf(ctx) }));
  enforceReadConditions(conditionalHeadersOf((name) => ctx.header(name)), info);
  const range = selectRange(ctx, info, partNumber);
  const expiration = versionId === undefined ? await lifecycleExpirationHeader(ctx, bucket, info) : {};
  ctx.res.status(statusFor(range));
  for (const [name, value] of Object.entries({ ...responseHeaders(ctx, info, range, partNumber), ...expiration })) ctx.res.setHeader(name, value);
  ctx.res.end();
}

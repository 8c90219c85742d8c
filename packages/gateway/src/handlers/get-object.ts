/**
 * GetObject: conditionals, Range or partNumber, response-* overrides; the body is streamed from
 * a pinned version of the object.
 */
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { conditionalHeadersOf, enforceReadConditions } from '../conditional';
import { callBackend } from '../handler-context';
import type { HandlerContext } from '../handler-context';
import { responseHeaders, selectRange, statusFor } from './object-read';

export async function handleGetObject(ctx: HandlerContext, bucket: string, key: string, partNumber: number | undefined): Promise<void> {
  const reader = await callBackend({ bucket, key }, () => ctx.backend.openObject(bucket, key));
  const info = reader.info;
  enforceReadConditions(conditionalHeadersOf((name) => ctx.header(name)), info);
  const range = selectRange(ctx, info, partNumber);
  ctx.res.status(statusFor(range));
  for (const [name, value] of Object.entries(responseHeaders(ctx, info, range))) ctx.res.setHeader(name, value);
  if (info.sizeBytes === 0) {
    ctx.res.end();
    return;
  }
  const startByte = range.kind === 'partial' ? range.startByte : 0;
  const endByteInclusive = range.kind === 'partial' ? range.endByteInclusive : info.sizeBytes - 1;
  const counter = ctx.metrics.responseBodyBytesTotal.labels(ctx.operationKind);
  async function* counted(): AsyncIterable<Uint8Array> {
    for await (const part of reader.read(startByte, endByteInclusive)) {
      counter.inc(part.length);
      yield part;
    }
  }
  // pipeline() stops reading from storage when the client goes away, and cuts the connection
  // if storage fails mid-body (the error boundary destroys a response whose headers are sent).
  await pipeline(Readable.from(counted(), { objectMode: false }), ctx.res);
}

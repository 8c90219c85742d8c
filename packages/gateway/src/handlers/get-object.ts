/**
 * GetObject: conditionals, Range or partNumber, response-* overrides; the body is streamed from
 * a pinned version of the object.
 */
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { conditionalHeadersOf, enforceReadConditions } from '../conditional';
import { callBackend } from '../handler-context';
import type { HandlerContext } from '../handler-context';
import type { ObjectInfo } from '../backend';
import { responseHeaders, selectRange, statusFor } from './object-read';
import { lifecycleExpirationHeader } from './lifecycle-expiration';
import { readerCustomerKeyOf } from './request-encryption';

export async function handleGetObject(ctx: HandlerContext, bucket: string, key: string, partNumber: number | undefined, versionId: string | undefined): Promise<void> {
  const reader = await callBackend({ bucket, key }, () => ctx.backend.openObject(bucket, key, versionId, { customerKey: readerCustomerKeyOf(ctx) }));
  const info = reader.info;
  enforceReadConditions(conditionalHeadersOf((name) => ctx.header(name)), info);
  const range = selectRange(ctx, info, partNumber);
  // Only the current version expires by an Expiration rule: a GET of a named version gets none.
  const expiration = versionId === undefined ? await lifecycleExpirationHeader(ctx, bucket, info) : {};
  if (info.sizeBytes === 0) {
    sendHead(ctx, info, range, partNumber, expiration);
    ctx.res.end();
    return;
  }
  cutWhenClientStalls(ctx, bucket, key);
  const startByte = range.kind === 'partial' ? range.startByte : 0;
  const endByteInclusive = range.kind === 'partial' ? range.endByteInclusive : info.sizeBytes - 1;
  const source = reader.read(startByte, endByteInclusive)[Symbol.asyncIterator]();
  // Pull the first piece before the status line goes out: a read that cannot be served at all
  // (more than m shards of the first window unavailable) still gets a proper S3 error, such as
  // 503 ServiceUnavailable, from the error boundary instead of a 200 and a cut connection.
  const first = await callBackend({ bucket, key }, () => source.next());
  const counter = ctx.metrics.responseBodyBytesTotal.labels(ctx.operationKind);
  const pulled = [first];
  if (first.done !== true && first.value.byteLength === endByteInclusive - startByte + 1) {
    // The whole body in one piece (an inline object, or a range within one read window): let
    // the reader finish, then send head and body in one write, without a stream pipeline.
    const rest = await callBackend({ bucket, key }, () => source.next());
    if (rest.done === true) {
      sendHead(ctx, info, range, partNumber, expiration);
      counter.inc(first.value.byteLength);
      ctx.res.end(Buffer.from(first.value.buffer, first.value.byteOffset, first.value.byteLength));
      return;
    }
    pulled.push(rest);
  }
  sendHead(ctx, info, range, partNumber, expiration);
  async function* counted(): AsyncIterable<Uint8Array> {
    try {
      for (const piece of pulled) {
        if (piece.done === true) return;
        counter.inc(piece.value.length);
        yield piece.value;
      }
      for (let next = await source.next(); next.done !== true; next = await source.next()) {
        counter.inc(next.value.length);
        yield next.value;
      }
    } finally {
      // The client went away or the pipeline failed: stop reading from storage.
      await source.return?.();
    }
  }
  // pipeline() stops reading from storage when the client goes away, and cuts the connection
  // if storage fails mid-body (the error boundary destroys a response whose headers are sent).
  await pipeline(Readable.from(counted(), { objectMode: false }), ctx.res);
}

/**
 * A client that stops reading (its socket buffers full) would hold the GET, its body bytes and
 * the read windows it reserved from the gateway's read budget for as long as it keeps the
 * connection open. Cut it once its socket has accepted no byte for responseStallMsMax while
 * bytes wait to be sent; a GET waiting on storage has nothing waiting and is not cut.
 */
function cutWhenClientStalls(ctx: HandlerContext, bucket: string, key: string): void {
  const socket = ctx.res.socket;
  if (socket === null) return;
  const stallMsMax = ctx.options.limits.responseStallMsMax;
  let bytesWritten = socket.bytesWritten;
  let progressAtMs = performance.now();
  const timer = setInterval(() => {
    const nowMs = performance.now();
    if (socket.bytesWritten !== bytesWritten || (socket.writableLength === 0 && ctx.res.writableLength === 0)) {
      bytesWritten = socket.bytesWritten;
      progressAtMs = nowMs;
    } else if (nowMs - progressAtMs >= stallMsMax) {
      clearInterval(timer);
      ctx.logger.info('GET cut: the client took no bytes', { bucket, key, stallMsMax });
      ctx.res.destroy(new Error(`the client took no bytes for ${stallMsMax} ms`));
    }
  }, Math.max(10, Math.min(stallMsMax / 4, 5_000)));
  timer.unref();
  ctx.res.once('close', () => clearInterval(timer));
}

function sendHead(ctx: HandlerContext, info: ObjectInfo, range: ReturnType<typeof selectRange>, partNumber: number | undefined, expiration: Record<string, string>): void {
  ctx.res.status(statusFor(range));
  for (const [name, value] of Object.entries({ ...responseHeaders(ctx, info, range, partNumber), ...expiration })) ctx.res.setHeader(name, value);
}

/**
 * The encryption a request asks for: on writes, its own (SSE-S3 or SSE-C) or else the bucket's
 * default; on reads, the SSE-C key it presents for the object or the copy source. SSE-C keys
 * travel in headers, so they are taken only over TLS, or from a client on this machine.
 */
import type { TLSSocket } from 'node:tls';
import type { HandlerContext } from '../handler-context';
import { S3Error } from '../s3-errors';
import { requestedCustomerKey, requestedServerSideEncryption, sseAlgorithm } from '../server-side-encryption';
import type { CustomerKey, CustomerKeyHeaders, ServerSideEncryption } from '../server-side-encryption';

/**
 * For PutObject, CopyObject, CreateMultipartUpload and form uploads (`header`: the request's
 * headers, or the form's fields). The default is read through the gateway's bucket cache, so a
 * change made through another gateway applies within its TTL.
 */
export async function encryptionForWrite(ctx: HandlerContext, bucket: string, header: (name: string) => string | undefined): Promise<ServerSideEncryption | undefined> {
  const requested = requestedServerSideEncryption(header);
  if (requested?.customerKey !== undefined) requireSecureTransport(ctx);
  if (requested !== undefined) return requested;
  const info = await ctx.bucketCache.infoOf(bucket);
  return info?.defaultEncryption === undefined ? undefined : { algorithm: sseAlgorithm };
}

/** The SSE-C key a request presents for the object (`object`) or its copy source, if any. */
export function customerKeyOf(ctx: HandlerContext, which: CustomerKeyHeaders): CustomerKey | undefined {
  const customerKey = requestedCustomerKey((name) => ctx.header(name), which);
  if (customerKey !== undefined) requireSecureTransport(ctx);
  return customerKey;
}

/**
 * The SSE-C key a GetObject or HeadObject presents. S3 refuses `x-amz-server-side-encryption` on
 * them (an SSE-S3 or SSE-KMS object is decrypted without being asked): 400 InvalidArgument.
 */
export function readerCustomerKeyOf(ctx: HandlerContext): CustomerKey | undefined {
  if (ctx.header('x-amz-server-side-encryption') !== undefined) {
    throw new S3Error('InvalidArgument', {
      message: 'x-amz-server-side-encryption header is not supported for this operation.',
      fields: { ArgumentName: 'x-amz-server-side-encryption', ArgumentValue: ctx.header('x-amz-server-side-encryption') ?? '' },
    });
  }
  return customerKeyOf(ctx, 'object');
}

/** As S3 does, SSE-C over plain HTTP is refused; a client on a loopback address is let through (`tessera start`). */
function requireSecureTransport(ctx: HandlerContext): void {
  const socket = ctx.req.socket as Partial<TLSSocket>;
  if (customerKeyTransportAllowed({ encrypted: socket.encrypted === true, remoteAddress: socket.remoteAddress })) return;
  throw new S3Error('InvalidRequest', { message: 'Requests specifying Server Side Encryption with Customer provided keys must be made over a secure connection.' });
}

/** Whether a connection may carry an SSE-C key: TLS, or a client on this machine's loopback. */
export function customerKeyTransportAllowed(connection: { readonly encrypted: boolean; readonly remoteAddress: string | undefined }): boolean {
  if (connection.encrypted) return true;
  const address = connection.remoteAddress;
  if (address === undefined) return false;
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}

/**
 * The one place where errors become HTTP responses. An `S3Error` is rendered as S3 XML with its
 * catalogue status; anything else is a bug or an internal failure and becomes InternalError 500,
 * logged with its cause, so no stack trace or internal message ever reaches a client.
 */
import type { Socket } from 'node:net';
import type { ErrorRequestHandler, Response } from 'express';
import type { Logger } from '@tessera/common';
import { S3Error } from './s3-errors';
import { requestContextOf } from './request-context';
import { xmlDocumentWithoutNamespace, xmlText } from './xml';

export function renderS3ErrorXml(error: S3Error, resource: string, requestId: string, hostId: string): string {
  const extra = Object.entries(error.fields).map(([name, value]) => xmlText(name, value));
  return xmlDocumentWithoutNamespace(
    'Error',
    xmlText('Code', error.code),
    xmlText('Message', error.message),
    ...extra,
    xmlText('Resource', resource),
    xmlText('RequestId', requestId),
    xmlText('HostId', hostId),
  );
}

/**
 * Normalises anything thrown into the S3Error the client will see, logging internal ones, and
 * logging server-side failures (5xx: a quorum short, an overloaded or leaderless metadata
 * service) with their internal cause, which names the stripe, nodes and shards the client's
 * message leaves out.
 */
export function toS3Error(error: unknown, logger: Logger, requestId: string): S3Error {
  if (error instanceof S3Error) {
    if (error.httpStatus >= 500) logger.warn('request failed', { requestId, code: error.code, status: error.httpStatus, cause: error.cause ?? error.message });
    return error;
  }
  logger.error('internal error answering request', { requestId, error });
  return new S3Error('InternalError', { cause: error });
}

/**
 * `closeConnection`: the request body was not read to the end (refused before or while reading
 * it), so the connection cannot carry another request; close it after this response.
 */
export function sendS3Error(res: Response, method: string, error: S3Error, closeConnection = false): void {
  const context = requestContextOf(res);
  if (res.headersSent) {
    // The status line is gone; the only honest signal left is to cut the connection so the
    // client sees a truncated body instead of a silently short object.
    res.destroy(error);
    return;
  }
  // The request ids stay, and so do CORS headers (a browser script may then read the error).
  for (const name of res.getHeaderNames()) {
    if (name !== 'x-amz-request-id' && name !== 'x-amz-id-2' && name !== 'vary' && !name.startsWith('access-control-')) res.removeHeader(name);
  }
  res.status(error.httpStatus);
  res.setHeader('x-amz-request-id', context.requestId);
  res.setHeader('x-amz-id-2', context.hostId);
  for (const [name, value] of Object.entries(error.headers)) res.setHeader(name, value);
  if (closeConnection) res.setHeader('Connection', 'close');
  // HEAD responses never carry a body, and 304 must not either (RFC 9110 §15.4.5).
  if (method === 'HEAD' || error.httpStatus === 304) {
    res.end();
    return;
  }
  const body = renderS3ErrorXml(error, context.resource, context.requestId, context.hostId);
  res.setHeader('Content-Type', 'application/xml');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(body);
}

/**
 * Whether a failure is the client going away (its connection closed before the answer was
 * complete: a GET it stopped reading, an upload it abandoned) rather than an internal error.
 */
export function isClientDisconnect(error: unknown, connectionClosed: boolean): boolean {
  // Node's own errors, read by shape (they may come from another realm than this module's Error).
  if (!connectionClosed || typeof error !== 'object' || error === null) return false;
  const { code, message } = error as { code?: unknown; message?: unknown };
  return code === 'ERR_STREAM_PREMATURE_CLOSE' || code === 'ECONNRESET' || code === 'EPIPE' || message === 'aborted';
}

export function createS3ErrorBoundary(logger: Logger): ErrorRequestHandler {
  return (error: unknown, req, res, _next) => {
    const context = requestContextOf(res);
    // A request whose connection is gone may have no socket any more (Node detaches it).
    if (isClientDisconnect(error, res.destroyed || (req.socket as Socket | null) === null || req.socket.destroyed)) {
      // Nobody is left to answer; an operator sees it, but not as a server fault.
      logger.info('client disconnected before the answer was complete', { requestId: context.requestId, method: req.method, error });
      res.destroy();
      return;
    }
    sendS3Error(res, req.method, toS3Error(error, logger, context.requestId), !req.complete);
  };
}

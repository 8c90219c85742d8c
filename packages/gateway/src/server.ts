/**
 * The HTTP server around the express app: a bounded header section, and an S3-shaped answer
 * (400 RequestHeaderSectionTooLarge) instead of Node's bare 431 when it is exceeded. Malformed
 * HTTP gets a plain 400 and the connection is closed; the process stays up.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Express } from 'express';
import type { Logger } from '@tessera/common';
import { renderS3ErrorXml } from './error-boundary';
import { S3Error } from './s3-errors';
import { newRequestContext } from './request-context';

/** S3 accepts at most 8 KB of headers plus 2 KB of user metadata; we allow 16 KiB in total. */
export const headerSectionBytesMaxDefault = 16 * 1024;

export interface GatewayServerOptions {
  readonly host: string;
  readonly port: number;
  readonly headerSectionBytesMax: number;
  /** Idle sockets are closed after this long (slowloris). */
  readonly requestTimeoutMs: number;
}

export interface RunningGatewayServer {
  readonly server: Server;
  readonly port: number;
  readonly endpoint: string;
  stop(): Promise<void>;
}

function answerClientError(error: NodeJS.ErrnoException, socket: Socket): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const s3Error = new S3Error(
    error.code === 'HPE_HEADER_OVERFLOW' ? 'RequestHeaderSectionTooLarge' : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 'RequestTimeout' : 'BadRequest',
  );
  const context = newRequestContext('/');
  const body = renderS3ErrorXml(s3Error, '/', context.requestId, context.hostId);
  socket.end(
    `HTTP/1.1 400 Bad Request\r\nContent-Type: application/xml\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
      `x-amz-request-id: ${context.requestId}\r\nConnection: close\r\n\r\n${body}`,
  );
}

export async function startGatewayServer(app: Express, options: GatewayServerOptions, logger: Logger): Promise<RunningGatewayServer> {
  const server = createServer({ maxHeaderSize: options.headerSectionBytesMax, requestTimeout: options.requestTimeoutMs }, app);
  // Node answers an Expect other than 100-continue with 417 by itself; S3 ignores such values
  // ("Expect: 200" succeeds, s3-tests' bad_expect_mismatch), so they are served as usual.
  server.on('checkExpectation', (req: IncomingMessage, res: ServerResponse) => {
    app(req, res);
  });
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    logger.debug('client error', { code: error.code });
    answerClientError(error, socket);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    port,
    endpoint: `http://${options.host}:${port}`,
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error === undefined ? resolve() : reject(error)));
        server.closeAllConnections();
      }),
  };
}

/**
 * The HTTP (or, given a certificate, HTTPS) server around the express app: a bounded header
 * section, and an S3-shaped answer (400 RequestHeaderSectionTooLarge) instead of Node's bare 431
 * when it is exceeded. Malformed HTTP gets a plain 400 and the connection is closed, after the
 * answers to the complete requests that came before it on the connection; the process stays up.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Server as HttpsServer } from 'node:https';
import { createSecureContext } from 'node:tls';
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
  /** A request whose headers and body take longer than this gets 400 RequestTimeout (slowloris). */
  readonly requestTimeoutMs: number;
  /**
   * An idle keep-alive connection is closed after this long. Longer than the idle timeout of
   * the clients' and load balancers' pools (60 s for AWS load balancers), so that the server is
   * not the side that closes: a request sent just as the server closes fails with a reset that
   * the client may not retry.
   */
  readonly keepAliveTimeoutMs: number;
  /** Serve HTTPS with this PEM certificate chain and private key; absent: plain HTTP. */
  readonly tls?: TlsCredentials;
}

export interface TlsCredentials {
  /** PEM: the server certificate, then any intermediates. */
  readonly cert: Buffer;
  /** PEM private key of the certificate. */
  readonly key: Buffer;
}

export class TlsCredentialsError extends Error {
  static readonly errorName = 'TlsCredentialsError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = TlsCredentialsError.errorName;
  }
}

/** Throws TlsCredentialsError when the PEMs cannot be used (unparsable, or a key that is not the certificate's). */
export function checkTlsCredentials(credentials: TlsCredentials): void {
  try {
    createSecureContext({ cert: credentials.cert, key: credentials.key });
  } catch (error) {
    throw new TlsCredentialsError(`the TLS certificate and key cannot be used together: ${(error as Error).message}`, { cause: error });
  }
}

/** Node's default is 5 s, shorter than every common client pool and load balancer. */
export const keepAliveTimeoutMsDefault = 65_000;

export interface RunningGatewayServer {
  readonly server: HttpServer | HttpsServer;
  readonly port: number;
  /** http://host:port, or https://host:port when serving TLS. */
  readonly endpoint: string;
  /**
   * Serves new TLS connections with these credentials (a renewed certificate); connections
   * already open keep theirs. Throws TlsCredentialsError, keeping the old ones, when they cannot
   * be used, or when the server does not serve TLS.
   */
  setTlsCredentials(credentials: TlsCredentials): void;
  /**
   * Stops accepting connections; requests in flight get `graceMs` to finish, then every
   * connection is cut. Each connection is closed as soon as it is idle, and requests that arrive
   * meanwhile are answered with `Connection: close`, so a long keep-alive timeout does not hold
   * the stop up.
   */
  stop(graceMs?: number): Promise<void>;
}

/** How often a stopping server looks for connections that went idle. */
const idleSweepIntervalMs = 100;

/**
 * Answers bytes Node's parser could not read as HTTP with a plain S3 400 and closes the
 * connection. Call it only when no response is still to be written on the socket: the 400 must
 * come after them, in request order.
 */
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
  const httpOptions = { maxHeaderSize: options.headerSectionBytesMax, requestTimeout: options.requestTimeoutMs, keepAliveTimeout: options.keepAliveTimeoutMs };
  const tls = options.tls;
  if (tls !== undefined) checkTlsCredentials(tls);
  const server = tls === undefined ? createServer(httpOptions, app) : createHttpsServer({ ...httpOptions, cert: tls.cert, key: tls.key }, app);
  if (tls !== undefined) {
    // A failed handshake (a plain-HTTP client, an untrusted certificate) costs only that connection.
    server.on('tlsClientError', (error: NodeJS.ErrnoException) => logger.debug('TLS handshake failed', { code: error.code, message: error.message }));
  }
  // Requests in progress per connection (those whose response has not closed), so that a stop
  // can close every connection that has none (Node's closeIdleConnections() leaves a connection
  // that has not sent a request yet), and so that a parse error after a request's last byte
  // waits for that request's answer. With TLS the requests' socket is the TLS socket, which
  // 'secureConnection' announces.
  const requestsInProgress = new Map<Socket, Set<IncomingMessage>>();
  // Connections whose parse error waits for the requests in progress to be answered.
  const clientErrorsPending = new Map<Socket, NodeJS.ErrnoException>();
  // Every TCP connection, also those still in their TLS handshake (which no HTTP bookkeeping
  // knows): a stop cuts them after its grace period.
  const tcpConnections = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    tcpConnections.add(socket);
    socket.once('close', () => tcpConnections.delete(socket));
  });
  server.on(tls === undefined ? 'connection' : 'secureConnection', (socket: Socket) => {
    requestsInProgress.set(socket, new Set());
    socket.once('close', () => {
      requestsInProgress.delete(socket);
      clientErrorsPending.delete(socket);
    });
  });
  const trackRequest = (request: IncomingMessage, response: ServerResponse): void => {
    const socket = request.socket;
    const requests = requestsInProgress.get(socket) ?? new Set<IncomingMessage>();
    requestsInProgress.set(socket, requests);
    requests.add(request);
    response.once('close', () => {
      requests.delete(request);
      const pendingError = clientErrorsPending.get(socket);
      if (pendingError !== undefined && requests.size === 0) {
        clientErrorsPending.delete(socket);
        answerClientError(pendingError, socket);
      }
    });
  };
  server.on('request', trackRequest);
  // Node answers an Expect other than 100-continue with 417 by itself; S3 ignores such values
  // ("Expect: 200" succeeds, s3-tests' bad_expect_mismatch), so they are served as usual.
  server.on('checkExpectation', (request: IncomingMessage, response: ServerResponse) => {
    trackRequest(request, response);
    app(request, response);
  });
  const closeConnectionsWithoutRequests = (): void => {
    for (const [socket, requests] of requestsInProgress) if (requests.size === 0) socket.destroy();
  };
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    logger.debug('client error', { code: error.code });
    if (clientErrorsPending.has(socket)) return;
    // Bytes after a complete request (a body longer than its Content-Length, a malformed
    // pipelined request): that request is still answered, then the 400, then the connection
    // closes. Answering at once would cut the request's own answer off, and a client would read
    // the 400 as the answer to a write that was stored. A parse error inside a request's body
    // (a malformed chunk) ends that request: the connection is answered and closed now.
    const requests = requestsInProgress.get(socket);
    if (requests !== undefined && requests.size > 0 && [...requests].every((request) => request.complete)) {
      clientErrorsPending.set(socket, error);
      return;
    }
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
    endpoint: `${tls === undefined ? 'http' : 'https'}://${options.host}:${port}`,
    setTlsCredentials: (credentials) => {
      if (!('setSecureContext' in server)) throw new TlsCredentialsError('this gateway serves plain HTTP; start it with a certificate to serve TLS');
      checkTlsCredentials(credentials);
      server.setSecureContext({ cert: credentials.cert, key: credentials.key });
    },
    stop: async (graceMs = 0) => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.on('request', (_request: IncomingMessage, response: ServerResponse) => {
        response.shouldKeepAlive = false;
      });
      closeConnectionsWithoutRequests();
      const idleSweep = setInterval(closeConnectionsWithoutRequests, idleSweepIntervalMs);
      let graceTimer: NodeJS.Timeout | undefined;
      const graceOver = new Promise<void>((resolve) => (graceTimer = setTimeout(resolve, graceMs)));
      await Promise.race([closed, graceOver]);
      clearInterval(idleSweep);
      clearTimeout(graceTimer);
      server.closeAllConnections();
      for (const socket of tcpConnections) socket.destroy();
      await closed;
    },
  };
}

/**
 * The express application: health and metrics endpoints, then every other request goes through
 * authentication (SigV4), the pure parser, and one dispatch switch; one error boundary renders
 * all failures. Components arrive through `GatewayComponents`; nothing here reads env or argv.
 */
import express from 'express';
import type { Express, NextFunction, Request, RequestHandler, Response } from 'express';
import type { Clock, Logger } from '@tessera/common';
import { anonymousPrincipal } from './auth/credential-store';
import type { CredentialStore } from './auth/credential-store';
import { requiredAccess } from './access-policy';
import { checkAccess, checkExpectedOwner } from './bucket-access';
import { authenticateRequest } from './auth/verify-request';
import type { AuthResult } from './auth/verify-request';
import type { S3Backend } from './backend';
import { BucketInfoCache } from './bucket-info-cache';
import { EncryptingBackend } from './encrypting-backend';
import type { MasterKeySource } from './server-side-encryption';
import { callBackend } from './handler-context';
import { applyCorsHeaders, handleCorsPreflight } from './handlers/bucket-cors';
import { handlePostObject } from './handlers/post-object';
import type { S3Operation } from './s3-operation';
import { PublicAclNotImplementedError, publicAclRefusal } from './access-control';
import { dispatchS3Operation } from './dispatch';
import { createS3ErrorBoundary } from './error-boundary';
import { validateGatewayLimits } from './limits';
import type { GatewayOptions, HandlerContext } from './handler-context';
import type { GatewayMetrics } from './metrics';
import { parseS3Request, resolveVirtualHostBucket } from './parse-s3-request';
import { newRequestContext, setRequestContext } from './request-context';
import type { RequestContext } from './request-context';
import { S3Error } from './s3-errors';
import { parseRawQuery, percentDecode } from './uri';

export interface GatewayComponents {
  readonly backend: S3Backend;
  readonly credentials: CredentialStore;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: GatewayMetrics;
  /** The SSE-S3 master key; without it, requests for server-side encryption are NotImplemented. */
  readonly encryptionKeys?: MasterKeySource;
}

/** All values of a header from rawHeaders (exact, unjoined), by lower-case name. */
function rawHeaderValues(req: Request): (lowerCaseName: string) => readonly string[] {
  const byName = new Map<string, string[]>();
  for (let index = 0; index + 1 < req.rawHeaders.length; index += 2) {
    const name = (req.rawHeaders[index] as string).toLowerCase();
    const values = byName.get(name) ?? [];
    values.push(req.rawHeaders[index + 1] as string);
    byName.set(name, values);
  }
  return (name) => byName.get(name) ?? [];
}

function isSigned(req: Request): boolean {
  return req.headers.authorization !== undefined || /[?&](X-Amz-(Signature|Algorithm)|AWSAccessKeyId|Signature)=/.test(req.originalUrl);
}

function splitUrl(url: string): { rawPath: string; rawQuery: string } {
  const questionIndex = url.indexOf('?');
  return questionIndex < 0 ? { rawPath: url, rawQuery: '' } : { rawPath: url.slice(0, questionIndex), rawQuery: url.slice(questionIndex + 1) };
}

function observe(res: Response, context: RequestContext, components: GatewayComponents): void {
  const { metrics, clock } = components;
  const startMs = clock.monotonicMs();
  metrics.requestsInFlight.inc();
  let done = false;
  const finish = (): void => {
    if (done) return;
    done = true;
    metrics.requestsInFlight.dec();
    const operation = context.operationKind;
    metrics.requestsTotal.labels(operation, String(res.statusCode)).inc();
    metrics.requestDurationSeconds.labels(operation).observe((clock.monotonicMs() - startMs) / 1000);
  };
  res.on('finish', finish);
  res.on('close', finish);
}

async function serveS3(req: Request, res: Response, options: GatewayOptions, components: GatewayComponents, bucketCache: BucketInfoCache): Promise<void> {
  const { rawPath, rawQuery } = splitUrl(req.originalUrl);
  const context = newRequestContext(rawPath);
  setRequestContext(res, context);
  res.setHeader('x-amz-request-id', context.requestId);
  res.setHeader('x-amz-id-2', context.hostId);
  observe(res, context, components);
  // A path that is not valid percent-encoded UTF-8 cannot name anything: refuse it before
  // authentication, as S3 does (InvalidURI), rather than report a signature mismatch.
  rawPath.split('/').forEach((segment) => percentDecode(segment));
  const query = parseRawQuery(rawQuery);
  const headerValues = rawHeaderValues(req);
  const header = (name: string): string | undefined => {
    const values = headerValues(name);
    return values.length === 0 ? undefined : values.join(',');
  };
  const virtualHostBucket = resolveVirtualHostBucket(req.headers.host, options.virtualHostBaseDomains);
  const parse = (): S3Operation => parseS3Request({
    method: req.method,
    path: rawPath,
    query,
    headers: Object.fromEntries(Object.keys(req.headers).map((name) => [name, header(name)])),
    virtualHostBucket,
  });
  // A CORS preflight carries no credentials (browsers never sign it): answered from the
  // bucket's CORS rules before authentication, as S3 does.
  if (req.method === 'OPTIONS') {
    const preflight = parse();
    context.operationKind = preflight.kind;
    if (preflight.kind !== 'CorsPreflight') throw new S3Error('MethodNotAllowed', { fields: { Method: 'OPTIONS', ResourceType: 'SERVICE' } });
    await handleCorsPreflight(res, { bucket: preflight.bucket, key: preflight.key, header }, bucketCache);
    return;
  }
  const queryMap = new Map<string, string>();
  for (const parameter of query) if (!queryMap.has(parameter.name)) queryMap.set(parameter.name, parameter.value);
  const contextFor = (auth: AuthResult, op: S3Operation): HandlerContext => ({
    req,
    res,
    auth,
    backend: components.backend,
    options,
    clock: components.clock,
    logger: components.logger,
    metrics: components.metrics,
    operationKind: op.kind,
    query: queryMap,
    rawQuery: query,
    header,
    headerNames: Object.keys(req.headers),
    bucketCache,
    credentials: components.credentials,
  });
  const authOptions = { credentials: components.credentials, region: options.region, clock: components.clock };
  // CORS headers come before authentication, as in S3: a page whose request is refused (an
  // expired presigned URL, a bad signature) can read why. A request that does not parse gets
  // none; it is refused below with the parser's error, after authentication as before.
  let parsedBeforeAuth: S3Operation | undefined;
  if (header('origin') !== undefined || req.method === 'POST') {
    try {
      parsedBeforeAuth = parse();
    } catch {
      parsedBeforeAuth = undefined;
    }
  }
  if (parsedBeforeAuth !== undefined && header('origin') !== undefined && 'bucket' in parsedBeforeAuth && parsedBeforeAuth.bucket !== undefined) {
    await applyCorsHeaders(contextFor({ principal: anonymousPrincipal, payload: { kind: 'unsigned' } }, parsedBeforeAuth), parsedBeforeAuth.bucket, bucketCache);
  }
  // A browser-form upload (POST Object) is signed by the policy inside the form, not by the
  // request: it authenticates while its form is read.
  if (parsedBeforeAuth?.kind === 'PostObject') {
    const op = parsedBeforeAuth;
    context.operationKind = op.kind;
    await handlePostObject({ req, header, virtualHostBucket }, op.bucket, authOptions, (auth) => contextFor(auth, op));
    return;
  }
  const auth = await authenticateRequest({ method: req.method, rawPath, query, headerValues, headerNames: Object.keys(req.headers), virtualHostBucket }, authOptions);
  const op = parsedBeforeAuth ?? parse();
  context.operationKind = op.kind;
  const ctx = contextFor(auth, op);
  for (const required of requiredAccess(op, header('x-amz-bypass-governance-retention')?.trim().toLowerCase() === 'true')) {
    await checkAccess(ctx, required);
  }
  const expectedOwner = header('x-amz-expected-bucket-owner');
  if (expectedOwner !== undefined && 'bucket' in op && op.bucket !== undefined) await checkExpectedOwner(ctx, op.bucket, expectedOwner.trim());
  const expectedSourceOwner = header('x-amz-source-expected-bucket-owner');
  if (expectedSourceOwner !== undefined && 'source' in op) await checkExpectedOwner(ctx, op.source.bucket, expectedSourceOwner.trim());
  try {
    await dispatchS3Operation(ctx, op);
  } catch (error) {
    if (error instanceof PublicAclNotImplementedError && 'bucket' in op && op.bucket !== undefined && op.kind !== 'CreateBucket') {
      const blockPublicAcls = (await ctx.bucketCache.infoOf(op.bucket).catch(() => undefined))?.publicAccessBlock?.blockPublicAcls === true;
      throw publicAclRefusal(error, blockPublicAcls);
    }
    throw error;
  }
}

export function createGatewayApp(options: GatewayOptions, givenComponents: GatewayComponents): Express {
  validateGatewayLimits(options.limits);
  // Every S3 handler sees the backend through SSE-S3 (encrypting-backend.ts).
  const components: GatewayComponents = { ...givenComponents, backend: new EncryptingBackend(givenComponents.backend, givenComponents.encryptionKeys) };
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.set('query parser', false);
  // /health/* and /metrics are served only to unsigned requests: "health" and "metrics" are
  // valid bucket names, and every S3 request is signed, so a signed request always means S3.
  const operational = (handler: RequestHandler): RequestHandler => (req, res, next) => (isSigned(req) ? next() : handler(req, res, next));
  app.get('/health/live', operational((_req, res) => {
    res.status(200).json({ status: 'live' });
  }));
  app.get('/health/ready', operational((_req, res, next) => {
    components.backend
      .isReady()
      .then((ready) => res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not-ready' }))
      .catch(next);
  }));
  app.get('/metrics', operational((_req, res, next) => {
    components.metrics.registry
      .metrics()
      .then((text) => res.status(200).type(components.metrics.registry.contentType).send(text))
      .catch(next);
  }));
  const bucketCache = new BucketInfoCache(
    async (bucket) => {
      try {
        return await callBackend({ bucket }, () => components.backend.headBucket(bucket));
      } catch (error) {
        if (error instanceof S3Error && error.code === 'NoSuchBucket') return undefined;
        throw error;
      }
    },
    components.clock,
  );
  app.use((req: Request, res: Response, next: NextFunction) => {
    serveS3(req, res, options, components, bucketCache).catch(next);
  });
  app.use(createS3ErrorBoundary(components.logger));
  return app;
}

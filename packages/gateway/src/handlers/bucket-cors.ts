/**
 * Bucket CORS: GetBucketCors (NoSuchCORSConfiguration when the bucket has none), PutBucketCors
 * (replaces every rule), DeleteBucketCors; the preflight OPTIONS a browser sends before a
 * cross-origin request (unauthenticated, as in S3), and the CORS headers of actual requests
 * that carry `Origin`. Matching and S3's exact answers live in cors.ts.
 */
import type { Response } from 'express';
import { callBackend, changeBucketSettings, readSmallBody, sendXml } from '../handler-context';
import type { HandlerContext } from '../handler-context';
import type { BucketInfoCache } from '../bucket-info-cache';
import { corsForbidden, corsResponseHeaders, matchActualRequest, matchPreflight, parseRequestedHeaders } from '../cors';
import { S3Error } from '../s3-errors';
import { corsConfigurationBodyBytesMax, parseCorsConfiguration } from '../xml-requests';
import { corsConfigurationXml } from '../xml-responses';

export async function handleGetBucketCors(ctx: HandlerContext, bucket: string): Promise<void> {
  const info = await callBackend({ bucket }, () => ctx.backend.headBucket(bucket));
  if (info.corsRules.length === 0) throw new S3Error('NoSuchCORSConfiguration', { fields: { BucketName: bucket } });
  sendXml(ctx, 200, corsConfigurationXml(info.corsRules));
}

export async function handlePutBucketCors(ctx: HandlerContext, bucket: string): Promise<void> {
  const rules = parseCorsConfiguration(await readSmallBody(ctx, corsConfigurationBodyBytesMax));
  await changeBucketSettings(ctx, bucket, () => ctx.backend.setBucketCors(bucket, rules), 200);
}

export async function handleDeleteBucketCors(ctx: HandlerContext, bucket: string): Promise<void> {
  await changeBucketSettings(ctx, bucket, () => ctx.backend.setBucketCors(bucket, []), 204);
}

export interface PreflightRequest {
  readonly bucket: string;
  readonly key: string | undefined;
  header(lowerCaseName: string): string | undefined;
}

/**
 * OPTIONS: 200 with the allowing rule's headers and no body, or S3's errors: BadRequest without
 * `Origin`, AccessForbidden when the bucket is missing, has no CORS rules, or no rule allows
 * the origin, method and headers asked for.
 */
export async function handleCorsPreflight(res: Response, request: PreflightRequest, cache: BucketInfoCache): Promise<void> {
  const origin = request.header('origin');
  if (origin === undefined) throw new S3Error('BadRequest', { message: 'Insufficient information. Origin request header needed.' });
  const method = request.header('access-control-request-method');
  const resourceType = request.key === undefined ? 'BUCKET' : 'OBJECT';
  const rules = (await cache.infoOf(request.bucket))?.corsRules;
  if (rules === undefined) throw corsForbidden('no-bucket', method ?? 'OPTIONS', 'BUCKET');
  if (rules.length === 0) throw corsForbidden('not-enabled', method ?? 'OPTIONS', resourceType);
  if (method === undefined) throw new S3Error('BadRequest', { message: 'Invalid Access-Control-Request-Method: null' });
  const corsRequest = { origin, method, requestHeaders: parseRequestedHeaders(request.header('access-control-request-headers')) };
  const rule = matchPreflight(rules, corsRequest);
  if (rule === undefined) throw corsForbidden('not-allowed', method, resourceType);
  for (const [name, value] of Object.entries(corsResponseHeaders(rule, corsRequest, true))) res.setHeader(name, value);
  res.status(200).setHeader('Content-Length', '0');
  res.end();
}

/**
 * An actual request with `Origin` gets the headers of the first rule allowing its origin and
 * method, set before the handler runs so that errors carry them too (a browser script can then
 * read the S3 error). No rule, no readable bucket: no CORS headers, and the request goes on.
 */
export async function applyCorsHeaders(ctx: HandlerContext, bucket: string, cache: BucketInfoCache): Promise<void> {
  const origin = ctx.header('origin');
  if (origin === undefined) return;
  let rules;
  try {
    rules = (await cache.infoOf(bucket))?.corsRules;
  } catch {
    return;
  }
  if (rules === undefined) return;
  const corsRequest = { origin, method: ctx.req.method, requestHeaders: [] };
  const rule = matchActualRequest(rules, corsRequest);
  if (rule === undefined) return;
  for (const [name, value] of Object.entries(corsResponseHeaders(rule, corsRequest, false))) ctx.res.setHeader(name, value);
}

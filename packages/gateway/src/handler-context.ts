/**
 * What every operation handler receives: the request seen through S3 eyes (headers by lower-case
 * name, decoded query, authenticated identity), the components, and helpers to read a verified
 * body and to send XML. Handlers never touch express directly except through `res` for streaming.
 */
import type { Request, Response } from 'express';
import type { Clock, Logger } from '@tessera/common';
import type { AuthResult } from './auth/verify-request';
import type { CredentialStore } from './auth/credential-store';
import { checksumAlgorithmOfHeader } from './checksums';
import type { ChecksumAlgorithm } from './checksums';
import type { S3Backend } from './backend';
import type { BucketInfoCache } from './bucket-info-cache';
import { mapBackendError } from './backend-errors';
import type { ResourceNames } from './backend-errors';
import { bodyExpectation, createVerifiedBody, readWholeBody } from './request-body';
import type { VerifiedBody } from './request-body';
import type { GatewayMetrics } from './metrics';
import type { S3OperationKind } from './s3-operation';
import type { QueryParameter } from './uri';

export interface GatewayLimits {
  /** Largest PutObject body (S3: 5 GiB). */
  readonly putObjectSizeBytesMax: number;
  /** Largest UploadPart body (S3: 5 GiB). */
  readonly partSizeBytesMax: number;
  /** Smallest non-final part in CompleteMultipartUpload (S3: 5 MiB). */
  readonly partSizeBytesMin: number;
  /** Largest aws-chunked chunk; signed chunks are buffered whole to verify them first. */
  readonly chunkSizeBytesMax: number;
  /** Largest CopyObject source (S3: 5 GiB; larger objects are copied with UploadPartCopy). */
  readonly copySizeBytesMax: number;
  /**
   * A response body the client has not taken any bytes of for this long (its socket full, the
   * client not reading) is cut, freeing what the GET holds of the gateway's read budget.
   */
  readonly responseStallMsMax: number;
}

export interface GatewayOptions {
  /** Signing region and the region reported by GetBucketLocation (default us-east-1). */
  readonly region: string;
  /** Base domains for virtual-hosted-style requests, e.g. ['s3.localhost', 'localhost']. */
  readonly virtualHostBaseDomains: readonly string[];
  readonly limits: GatewayLimits;
}

export interface HandlerContext {
  readonly req: Request;
  readonly res: Response;
  readonly auth: AuthResult;
  readonly backend: S3Backend;
  readonly options: GatewayOptions;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: GatewayMetrics;
  readonly operationKind: S3OperationKind;
  /** Decoded query values by name (first occurrence wins). */
  readonly query: ReadonlyMap<string, string>;
  readonly rawQuery: readonly QueryParameter[];
  header(lowerCaseName: string): string | undefined;
  readonly headerNames: readonly string[];
  /** Buckets' settings (CORS rules, owner, grants, policy) as this gateway last read them (bucket-info-cache.ts). */
  readonly bucketCache: BucketInfoCache;
  /** The access keys requests are signed with (a bucket policy may name only existing ones). */
  readonly credentials: CredentialStore;
}

/** The verified request body; `alsoCompute` adds checksums to compute even if the client sent none. */
export function requestBody(ctx: HandlerContext, sizeBytesMax: number, alsoCompute: readonly ChecksumAlgorithm[] = []): VerifiedBody {
  const limits = { sizeBytesMax, chunkSizeBytesMax: ctx.options.limits.chunkSizeBytesMax };
  const expectation = bodyExpectation((name) => ctx.header(name), ctx.auth.payload, limits, alsoCompute);
  const counter = ctx.metrics.requestBodyBytesTotal.labels(ctx.operationKind);
  return createVerifiedBody(ctx.req, expectation, limits, (byteCount) => counter.inc(byteCount));
}

/**
 * For the small XML bodies; a missing Content-Length is treated as empty. With
 * `checksumHeadersDescribeBody: false` (CompleteMultipartUpload), x-amz-checksum-* headers are
 * about the object being assembled, so they are not applied to the XML body.
 */
export async function readSmallBody(ctx: HandlerContext, sizeBytesMax: number, options: { checksumHeadersDescribeBody: boolean } = { checksumHeadersDescribeBody: true }): Promise<Buffer> {
  const streaming = ctx.auth.payload.kind === 'streaming-signed' || ctx.auth.payload.kind === 'streaming-unsigned-trailer';
  if (!streaming && ctx.header('content-length') === undefined && ctx.header('transfer-encoding') === undefined) return Buffer.alloc(0);
  const header = options.checksumHeadersDescribeBody
    ? (name: string): string | undefined => ctx.header(name)
    : (name: string): string | undefined => (checksumAlgorithmOfHeader(name) !== undefined ? undefined : ctx.header(name));
  const limits = { sizeBytesMax, chunkSizeBytesMax: ctx.options.limits.chunkSizeBytesMax };
  const counter = ctx.metrics.requestBodyBytesTotal.labels(ctx.operationKind);
  const body = createVerifiedBody(ctx.req, bodyExpectation(header, ctx.auth.payload, limits), limits, (byteCount) => counter.inc(byteCount));
  return readWholeBody(body);
}

export function sendXml(ctx: HandlerContext, httpStatus: number, xml: string, headers: Record<string, string> = {}): void {
  const body = Buffer.from(xml, 'utf8');
  ctx.res.status(httpStatus);
  for (const [name, value] of Object.entries(headers)) ctx.res.setHeader(name, value);
  ctx.res.setHeader('Content-Type', 'application/xml');
  ctx.res.setHeader('Content-Length', body.length);
  ctx.res.end(ctx.req.method === 'HEAD' ? undefined : body);
}

export function sendEmpty(ctx: HandlerContext, httpStatus: number, headers: Record<string, string> = {}): void {
  ctx.res.status(httpStatus);
  for (const [name, value] of Object.entries(headers)) ctx.res.setHeader(name, value);
  if (httpStatus !== 204 && httpStatus !== 304) ctx.res.setHeader('Content-Length', 0);
  ctx.res.end();
}

/**
 * Changes a bucket's settings through the backend, then drops this gateway's cached copy of them
 * (bucket-info-cache.ts) so the change applies here at once (on other gateways within the
 * cache's TTL), and answers with an empty body.
 */
export async function changeBucketSettings(ctx: HandlerContext, bucket: string, change: () => Promise<void>, httpStatus: 200 | 204): Promise<void> {
  await callBackend({ bucket }, change);
  ctx.bucketCache.forget(bucket);
  sendEmpty(ctx, httpStatus);
}

/** Runs a backend call, turning its typed errors into S3 errors with the right resource fields. */
export async function callBackend<T>(names: ResourceNames, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw mapBackendError(error, names);
  }
}

/**
 * AWS Signature Version 2 (S3 Developer Guide, "Signing and authenticating REST requests"),
 * pure functions. Tessera accepts it because the AWS CLI v1 (`aws s3 presign`) and boto3
 * (`generate_presigned_url`) still produce SigV2 presigned URLs by default for a custom
 * endpoint, and older tools sign headers with it. Payloads are not signed by SigV2: the body is
 * checked only by Content-MD5 / x-amz-checksum-*, as for UNSIGNED-PAYLOAD.
 *
 *   StringToSign = VERB \n Content-MD5 \n Content-Type \n Date-or-Expires \n
 *                  CanonicalizedAmzHeaders CanonicalizedResource
 *   Signature    = Base64(HMAC-SHA1(secret, StringToSign))
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { QueryParameter } from '../uri';
import { canonicalRequestBytes } from './sigv4';

/** The query parameters that are part of the CanonicalizedResource (the sub-resources). */
const subresourceNames: ReadonlySet<string> = new Set([
  'accelerate', 'acl', 'analytics', 'cors', 'delete', 'encryption', 'inventory', 'lifecycle', 'location', 'logging', 'metrics',
  'notification', 'object-lock', 'partNumber', 'policy', 'replication', 'requestPayment', 'response-cache-control',
  'response-content-disposition', 'response-content-encoding', 'response-content-language', 'response-content-type',
  'response-expires', 'restore', 'select', 'select-type', 'tagging', 'torrent', 'uploadId', 'uploads', 'versionId', 'versioning',
  'versions', 'website',
]);

/**
 * `/bucket/key` as sent (still percent-encoded), with the bucket prepended for virtual-hosted
 * requests, then the sub-resources sorted by name with decoded values (`?acl`, `?uploadId=x`).
 */
export function sigV2CanonicalResource(rawPath: string, query: readonly QueryParameter[], virtualHostBucket: string | undefined): string {
  const path = virtualHostBucket === undefined ? rawPath : `/${virtualHostBucket}${rawPath}`;
  const subresources = query
    .filter((parameter) => subresourceNames.has(parameter.name))
    .map((parameter) => (parameter.value === '' ? parameter.name : `${parameter.name}=${parameter.value}`))
    .sort((a, b) => {
      const nameA = a.split('=', 1)[0] ?? '';
      const nameB = b.split('=', 1)[0] ?? '';
      return nameA < nameB ? -1 : nameA > nameB ? 1 : 0;
    });
  return subresources.length === 0 ? path : `${path}?${subresources.join('&')}`;
}

/** `x-amz-*` headers, lower-cased, sorted, values trimmed and repeated values joined by ','. */
export function sigV2CanonicalAmzHeaders(headerNames: readonly string[], headerValues: (lowerCaseName: string) => readonly string[]): string {
  const names = [...new Set(headerNames.map((name) => name.toLowerCase()).filter((name) => name.startsWith('x-amz-')))].sort();
  return names.map((name) => `${name}:${headerValues(name).map((value) => value.trim()).join(',')}\n`).join('');
}

export interface SigV2StringToSignInput {
  readonly method: string;
  readonly contentMd5: string;
  readonly contentType: string;
  /** The Date header (empty when x-amz-date is used), or the Expires epoch seconds of a presigned URL. */
  readonly dateOrExpires: string;
  readonly canonicalAmzHeaders: string;
  readonly canonicalResource: string;
}

export function sigV2StringToSign(input: SigV2StringToSignInput): string {
  return `${input.method}\n${input.contentMd5}\n${input.contentType}\n${input.dateOrExpires}\n${input.canonicalAmzHeaders}${input.canonicalResource}`;
}

/** Base64 HMAC-SHA1; header values in the text are hashed as their wire bytes (see sigv4.ts). */
export function signV2(secretAccessKey: string, text: string): string {
  return createHmac('sha1', secretAccessKey).update(canonicalRequestBytes(text)).digest('base64');
}

/** Constant-time comparison of two base64 signatures. */
export function sigV2SignaturesEqual(expectedBase64: string, providedBase64: string): boolean {
  const expected = Buffer.from(expectedBase64, 'utf8');
  const provided = Buffer.from(providedBase64, 'utf8');
  return expected.length === provided.length && timingSafeEqual(expected, provided);
}

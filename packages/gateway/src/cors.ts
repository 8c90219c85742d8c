/**
 * S3 bucket CORS, the pure part: the rules of PutBucketCors checked as S3 checks them, and the
 * evaluation of a browser's cross-origin request against them. The first rule that matches
 * decides; nothing here does I/O.
 *
 * - A preflight (`OPTIONS` with `Origin` and `Access-Control-Request-Method`) matches a rule
 *   when the origin matches one of its AllowedOrigin patterns, the requested method is one of
 *   its AllowedMethods, and every header of `Access-Control-Request-Headers` matches one of its
 *   AllowedHeader patterns (case-insensitively). Patterns hold at most one `*`.
 * - An actual request with `Origin` matches on origin and method only (its headers were
 *   checked by the preflight); a request that matches no rule is served without CORS headers.
 */
import type { CorsRule } from '@tessera/rpc';
import { S3Error } from './s3-errors';

export type { CorsRule };

export const corsMethods: readonly string[] = ['GET', 'PUT', 'POST', 'DELETE', 'HEAD'];
export const corsRuleCountMax = 100;

/** Checks parsed rules as PutBucketCors does: InvalidRequest in S3's words for a bad method or wildcard. */
export function validateCorsConfiguration(rules: readonly CorsRule[]): readonly CorsRule[] {
  if (rules.length === 0) throw new S3Error('MalformedXML');
  if (rules.length > corsRuleCountMax) throw new S3Error('InvalidRequest', { message: `The CORS configuration has more than ${corsRuleCountMax} rules.` });
  for (const rule of rules) {
    if (rule.allowedOrigins.length === 0 || rule.allowedMethods.length === 0) throw new S3Error('MalformedXML');
    for (const method of rule.allowedMethods) {
      if (!corsMethods.includes(method)) throw new S3Error('InvalidRequest', { message: `Found unsupported HTTP method in CORS config. Unsupported method is ${method}` });
    }
    for (const origin of rule.allowedOrigins) {
      if (wildcardCount(origin) > 1) throw new S3Error('InvalidRequest', { message: `AllowedOrigin "${origin}" can not have more than one wildcard.` });
    }
    for (const header of rule.allowedHeaders) {
      if (wildcardCount(header) > 1) throw new S3Error('InvalidRequest', { message: `AllowedHeader "${header}" can not have more than one wildcard.` });
    }
    if (rule.id !== undefined && rule.id.length > 255) throw new S3Error('InvalidArgument', { message: 'A CORS rule ID has at most 255 characters.' });
  }
  return rules;
}

function wildcardCount(pattern: string): number {
  return pattern.split('*').length - 1;
}

/** `pattern` with at most one `*` standing for any run of characters (possibly empty). */
export function matchesWildcard(pattern: string, value: string): boolean {
  const star = pattern.indexOf('*');
  if (star < 0) return pattern === value;
  const prefix = pattern.slice(0, star);
  const suffix = pattern.slice(star + 1);
  return value.length >= prefix.length + suffix.length && value.startsWith(prefix) && value.endsWith(suffix);
}

/** The header names of `Access-Control-Request-Headers`, as sent (comma-separated). */
export function parseRequestedHeaders(value: string | undefined): string[] {
  if (value === undefined) return [];
  return value.split(',').map((name) => name.trim()).filter((name) => name !== '');
}

export interface CorsRequest {
  readonly origin: string;
  /** The method of the actual request (a preflight's Access-Control-Request-Method). */
  readonly method: string;
  /** Preflight only: the headers the actual request will send. */
  readonly requestHeaders: readonly string[];
}

/** The first rule allowing a preflight, or undefined. */
export function matchPreflight(rules: readonly CorsRule[], request: CorsRequest): CorsRule | undefined {
  return rules.find((rule) =>
    allowsOriginAndMethod(rule, request) &&
    request.requestHeaders.every((header) => rule.allowedHeaders.some((pattern) => matchesWildcard(pattern.toLowerCase(), header.toLowerCase()))));
}

/** The first rule allowing an actual request (origin and method; headers are not checked), or undefined. */
export function matchActualRequest(rules: readonly CorsRule[], request: Pick<CorsRequest, 'origin' | 'method'>): CorsRule | undefined {
  return rules.find((rule) => allowsOriginAndMethod(rule, request));
}

function allowsOriginAndMethod(rule: CorsRule, request: Pick<CorsRequest, 'origin' | 'method'>): boolean {
  return rule.allowedMethods.includes(request.method) && rule.allowedOrigins.some((pattern) => matchesWildcard(pattern, request.origin));
}

const varyValue = 'Origin, Access-Control-Request-Headers, Access-Control-Request-Method';

/**
 * The response headers for a request a rule allowed. A rule whose matching origin is `*`
 * answers `*` without credentials; otherwise the request's origin, with credentials allowed.
 * `Access-Control-Allow-Headers` belongs to preflights only.
 */
export function corsResponseHeaders(rule: CorsRule, request: CorsRequest, preflight: boolean): Record<string, string> {
  const anyOrigin = !rule.allowedOrigins.some((pattern) => pattern !== '*' && matchesWildcard(pattern, request.origin));
  const headers: Record<string, string> = {
    'Access-Control-Allow-Origin': anyOrigin ? '*' : request.origin,
    'Access-Control-Allow-Methods': rule.allowedMethods.join(', '),
    Vary: varyValue,
  };
  if (!anyOrigin) headers['Access-Control-Allow-Credentials'] = 'true';
  if (preflight && request.requestHeaders.length > 0) headers['Access-Control-Allow-Headers'] = request.requestHeaders.join(', ');
  if (rule.exposeHeaders.length > 0) headers['Access-Control-Expose-Headers'] = rule.exposeHeaders.join(', ');
  if (rule.maxAgeSeconds !== undefined) headers['Access-Control-Max-Age'] = String(rule.maxAgeSeconds);
  return headers;
}

/** The AccessForbidden of a refused preflight, with S3's message and fields. */
export function corsForbidden(reason: 'not-enabled' | 'not-allowed' | 'no-bucket', method: string, resourceType: 'BUCKET' | 'OBJECT'): S3Error {
  const message = reason === 'not-enabled'
    ? 'CORSResponse: CORS is not enabled for this bucket.'
    : reason === 'no-bucket'
      ? 'CORSResponse: Bucket not found'
      : 'CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource\'s CORS spec.';
  return new S3Error('AccessForbidden', { message, fields: { Method: method, ResourceType: resourceType } });
}

/**
 * AWS Signature Version 4 primitives, exactly as the AWS "Create a signed AWS API request"
 * guide and the S3 "Authenticating Requests (AWS Signature Version 4)" pages define them:
 * canonical request, string to sign, signing key, and the chunk / trailer strings to sign of
 * aws-chunked uploads. Pure functions over strings and bytes; verification lives in
 * verify-request.ts.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { percentDecodeToBytes, uriEncodeBytes } from '../uri';
import type { QueryParameter } from '../uri';

export const sigV4Algorithm = 'AWS4-HMAC-SHA256';
export const emptySha256Hex = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

export function hmacSha256(key: Uint8Array | string, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

/** The credential scope: "<yyyymmdd>/<region>/<service>/aws4_request". */
export interface CredentialScope {
  readonly date: string;
  readonly region: string;
  readonly service: string;
}

export function scopeString(scope: CredentialScope): string {
  return `${scope.date}/${scope.region}/${scope.service}/aws4_request`;
}

/**
 * Signing keys are valid for a whole day per (secret, region, service), so they are derived
 * once and kept: four HMACs fewer per request. Bounded: the cache is cleared when it grows past
 * `signingKeyCacheSizeMax` entries (many keys, or a client cycling through dates).
 */
const signingKeyCache = new Map<string, Buffer>();
const signingKeyCacheSizeMax = 1024;

export function deriveSigningKey(secretAccessKey: string, scope: CredentialScope): Buffer {
  const cacheKey = `${scope.date}\n${scope.region}\n${scope.service}\n${secretAccessKey}`;
  const cached = signingKeyCache.get(cacheKey);
  if (cached !== undefined) return cached;
  const dateKey = hmacSha256(`AWS4${secretAccessKey}`, scope.date);
  const regionKey = hmacSha256(dateKey, scope.region);
  const serviceKey = hmacSha256(regionKey, scope.service);
  const signingKey = hmacSha256(serviceKey, 'aws4_request');
  if (signingKeyCache.size >= signingKeyCacheSizeMax) signingKeyCache.clear();
  signingKeyCache.set(cacheKey, signingKey);
  return signingKey;
}

/**
 * Canonical URI: each path segment decoded and re-encoded with the SigV4 rules, so "%21" and
 * "!" canonicalise the same, while an encoded slash ("%2F") inside a segment stays encoded.
 * S3 never normalises "." or ".." segments or repeated slashes (keys are opaque).
 */
export function canonicalUri(rawPath: string): string {
  return rawPath
    .split('/')
    .map((segment) => uriEncodeBytes(percentDecodeToBytes(segment), false))
    .join('/');
}

/** Canonical query: names and values re-encoded, sorted by name then value, `exclude` dropped. */
export function canonicalQuery(parameters: readonly QueryParameter[], exclude: ReadonlySet<string> = new Set()): string {
  const encoded = parameters
    .filter((p) => !exclude.has(p.name))
    .map((p) => [uriEncodeBytes(percentDecodeToBytes(p.rawName), false), uriEncodeBytes(percentDecodeToBytes(p.rawValue), false)] as const);
  encoded.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  return encoded.map(([name, value]) => `${name}=${value}`).join('&');
}

/** Trim, and fold runs of spaces into one (the spec's Trimall). */
export function canonicalHeaderValue(value: string): string {
  return value.trim().replace(/ +/g, ' ');
}

export interface CanonicalRequestInput {
  readonly method: string;
  readonly rawPath: string;
  readonly query: readonly QueryParameter[];
  readonly excludeQuery?: ReadonlySet<string>;
  /** Lower-case signed header names, in the order of SignedHeaders (already sorted by clients). */
  readonly signedHeaders: readonly string[];
  /** All values of a header, in arrival order; multiple values are joined with ','. */
  readonly headerValues: (lowerCaseName: string) => readonly string[];
  readonly payloadHash: string;
}

export function canonicalRequest(input: CanonicalRequestInput): string {
  const headerLines = input.signedHeaders.map((name) => `${name}:${input.headerValues(name).map(canonicalHeaderValue).join(',')}\n`);
  return [
    input.method,
    canonicalUri(input.rawPath),
    canonicalQuery(input.query, input.excludeQuery),
    headerLines.join(''),
    input.signedHeaders.join(';'),
    input.payloadHash,
  ].join('\n');
}

/**
 * The canonical request as the octets the client signed. Header values arrive from Node's
 * parser as latin1 strings (one character per wire byte); every other part is ASCII. Clients
 * sign the bytes they send, so a UTF-8 metadata value (`x-amz-meta-x: é`, sent by boto3 as
 * C3 A9) must hash as those two bytes, not as the UTF-8 encoding of their latin1 reading.
 * Text with characters above U+00FF cannot have come off the wire (a caller building it by
 * hand); it is hashed as UTF-8, the only reading it has.
 */
export function canonicalRequestBytes(canonicalRequestText: string): Buffer {
  return /[^\u0000-\u00ff]/.test(canonicalRequestText) ? Buffer.from(canonicalRequestText, 'utf8') : Buffer.from(canonicalRequestText, 'latin1');
}

export function stringToSign(amzDate: string, scope: CredentialScope, canonicalRequestText: string): string {
  return [sigV4Algorithm, amzDate, scopeString(scope), sha256Hex(canonicalRequestBytes(canonicalRequestText))].join('\n');
}

/** String to sign for one aws-chunked chunk (S3 "Signature Calculations for the Authorization Header: Transferring Payload in Multiple Chunks"). */
export function chunkStringToSign(amzDate: string, scope: CredentialScope, previousSignature: string, chunkSha256Hex: string): string {
  return ['AWS4-HMAC-SHA256-PAYLOAD', amzDate, scopeString(scope), previousSignature, emptySha256Hex, chunkSha256Hex].join('\n');
}

/** String to sign for the trailing headers of a signed aws-chunked upload. */
export function trailerStringToSign(amzDate: string, scope: CredentialScope, previousSignature: string, canonicalTrailer: string): string {
  return ['AWS4-HMAC-SHA256-TRAILER', amzDate, scopeString(scope), previousSignature, sha256Hex(canonicalTrailer)].join('\n');
}

export function signHex(signingKey: Uint8Array, text: string): string {
  return hmacSha256(signingKey, text).toString('hex');
}

/** Constant-time comparison of two hex signatures (lengths may differ: then false). */
export function signaturesEqual(expectedHex: string, providedHex: string): boolean {
  const expected = Buffer.from(expectedHex, 'utf8');
  const provided = Buffer.from(providedHex, 'utf8');
  if (expected.length !== provided.length) return false;
  return timingSafeEqual(expected, provided);
}

/** "20130524T000000Z" -> epoch ms, or undefined when malformed. */
export function parseAmzDate(value: string): number | undefined {
  const match = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (match === null) return undefined;
  const [, y, mo, d, h, mi, s] = match.map(Number) as [number, number, number, number, number, number, number];
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  return Number.isNaN(ms) ? undefined : ms;
}

export function formatAmzDate(epochMs: number): string {
  return new Date(epochMs).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

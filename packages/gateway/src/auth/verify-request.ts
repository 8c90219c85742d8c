/**
 * Request authentication: SigV4 in the Authorization header form and the presigned (query)
 * form, and SigV2 in both forms (sigv2.ts: what the AWS CLI v1 and boto3 still presign with).
 * Returns who signed and how the payload is to be verified; the body itself is checked later,
 * while it streams (payload-verifier.ts, aws-chunked-decoder.ts). No anonymous access: a
 * request without any of these forms is AccessDenied.
 */
import type { Clock } from '@tessera/common';
import { S3Error } from '../s3-errors';
import type { QueryParameter } from '../uri';
import type { CredentialStore, Principal, StoredCredential } from './credential-store';
import { sigV2CanonicalAmzHeaders, sigV2CanonicalResource, sigV2SignaturesEqual, sigV2StringToSign, signV2 } from './sigv2';
import {
  canonicalRequest,
  deriveSigningKey,
  formatAmzDate,
  parseAmzDate,
  sigV4Algorithm,
  signHex,
  signaturesEqual,
  stringToSign,
} from './sigv4';
import type { CredentialScope } from './sigv4';

/** S3 refuses requests whose time is more than 15 minutes from the server's. */
export const clockSkewMsMax = 15 * 60 * 1000;
/** Presigned URLs live at most 7 days (604,800 s). */
export const presignExpiresSecondsMax = 604_800;

/** Everything the signer needs to verify aws-chunked chunk and trailer signatures. */
export interface ChunkSigningContext {
  readonly signingKey: Buffer;
  readonly scope: CredentialScope;
  readonly amzDate: string;
  /** The request signature; the first chunk's signature chains from it. */
  readonly seedSignature: string;
}

export type PayloadMode =
  | { readonly kind: 'unsigned' }
  | { readonly kind: 'sha256'; readonly sha256Hex: string }
  | { readonly kind: 'streaming-signed'; readonly trailer: boolean; readonly signing: ChunkSigningContext }
  | { readonly kind: 'streaming-unsigned-trailer' };

export interface AuthResult {
  readonly principal: Principal;
  readonly payload: PayloadMode;
}

/** The parts of an HTTP request that authentication reads. */
export interface AuthRequestView {
  readonly method: string;
  readonly rawPath: string;
  readonly query: readonly QueryParameter[];
  /** All values of a header by lower-case name, in arrival order (from rawHeaders). */
  readonly headerValues: (lowerCaseName: string) => readonly string[];
  /** Every header name present, lower-case (SigV2 signs all x-amz-* headers, not a chosen list). */
  readonly headerNames: readonly string[];
  /** The bucket named by the Host header (virtual-hosted style): part of SigV2's resource. */
  readonly virtualHostBucket: string | undefined;
}

export interface AuthOptions {
  readonly credentials: CredentialStore;
  readonly region: string;
  readonly clock: Clock;
}

function firstHeader(request: AuthRequestView, name: string): string | undefined {
  return request.headerValues(name)[0];
}

export interface ParsedCredential {
  readonly accessKeyId: string;
  readonly scope: CredentialScope;
}

export function parseCredential(value: string, errorCode: 'AuthorizationHeaderMalformed' | 'AuthorizationQueryParametersError' | 'InvalidArgument'): ParsedCredential {
  const parts = value.split('/');
  if (parts.length !== 5 || parts[4] !== 'aws4_request' || !/^\d{8}$/.test(parts[1] ?? '')) {
    throw new S3Error(errorCode, { message: `The credential is malformed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".` });
  }
  const [accessKeyId = '', date = '', region = '', service = ''] = parts;
  return { accessKeyId, scope: { date, region, service } };
}

export function checkScope(credential: ParsedCredential, amzDate: string, options: AuthOptions, errorCode: 'AuthorizationHeaderMalformed' | 'AuthorizationQueryParametersError' | 'InvalidArgument'): void {
  if (credential.scope.region !== options.region) {
    throw new S3Error(errorCode, {
      message: `The authorization header is malformed; the region '${credential.scope.region}' is wrong; expecting '${options.region}'`,
      fields: { Region: options.region },
    });
  }
  if (credential.scope.service !== 's3') throw new S3Error(errorCode, { message: `The credential scope service must be 's3', not '${credential.scope.service}'.` });
  if (credential.scope.date !== amzDate.slice(0, 8)) {
    throw new S3Error(errorCode, { message: `The credential date '${credential.scope.date}' does not match the request date '${amzDate.slice(0, 8)}'.` });
  }
}

export async function credentialOrThrow(accessKeyId: string, options: AuthOptions): Promise<StoredCredential> {
  const credential = await options.credentials.lookup(accessKeyId);
  if (credential === undefined) throw new S3Error('InvalidAccessKeyId', { fields: { AWSAccessKeyId: accessKeyId } });
  return credential;
}

function parseSignedHeaders(value: string, errorCode: 'AuthorizationHeaderMalformed' | 'AuthorizationQueryParametersError'): string[] {
  const names = value.split(';').map((name) => name.trim().toLowerCase());
  if (names.some((name) => name === '')) throw new S3Error(errorCode, { message: 'SignedHeaders is malformed.' });
  if (!names.includes('host')) throw new S3Error('AccessDenied', { message: "'Host' must be a signed header." });
  return names;
}

function payloadModeFor(hash: string, signing: ChunkSigningContext): PayloadMode {
  switch (hash) {
    case 'UNSIGNED-PAYLOAD':
      return { kind: 'unsigned' };
    case 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD':
      return { kind: 'streaming-signed', trailer: false, signing };
    case 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER':
      return { kind: 'streaming-signed', trailer: true, signing };
    case 'STREAMING-UNSIGNED-PAYLOAD-TRAILER':
      return { kind: 'streaming-unsigned-trailer' };
    default:
      if (/^[0-9a-f]{64}$/.test(hash)) return { kind: 'sha256', sha256Hex: hash };
      throw new S3Error('InvalidArgument', {
        message: 'x-amz-content-sha256 must be UNSIGNED-PAYLOAD, a STREAMING-* value, or a valid SHA-256 hex digest.',
        fields: { ArgumentName: 'x-amz-content-sha256', ArgumentValue: hash },
      });
  }
}

function verifySignature(expectedHex: string, providedHex: string, accessKeyId: string, toSign: string, canonical: string): void {
  if (!signaturesEqual(expectedHex, providedHex)) {
    throw new S3Error('SignatureDoesNotMatch', {
      fields: { AWSAccessKeyId: accessKeyId, StringToSign: toSign, SignatureProvided: providedHex, CanonicalRequest: canonical },
    });
  }
}

function parseAuthorizationHeader(header: string): { credential: string; signedHeaders: string; signature: string } {
  if (!header.startsWith(`${sigV4Algorithm} `)) {
    throw new S3Error('InvalidRequest', { message: 'The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.' });
  }
  const fields = new Map<string, string>();
  for (const part of header.slice(sigV4Algorithm.length + 1).split(',')) {
    const equalsIndex = part.indexOf('=');
    if (equalsIndex < 0) continue;
    fields.set(part.slice(0, equalsIndex).trim(), part.slice(equalsIndex + 1).trim());
  }
  const credential = fields.get('Credential');
  const signedHeaders = fields.get('SignedHeaders');
  const signature = fields.get('Signature');
  if (credential === undefined || signedHeaders === undefined || signature === undefined) {
    throw new S3Error('AuthorizationHeaderMalformed', { message: 'The authorization header is malformed; it must contain Credential, SignedHeaders and Signature.' });
  }
  return { credential, signedHeaders, signature };
}

function requestAmzDate(request: AuthRequestView): string {
  const amzDate = firstHeader(request, 'x-amz-date');
  if (amzDate !== undefined) return amzDate;
  const date = firstHeader(request, 'date');
  const parsedMs = date === undefined ? NaN : Date.parse(date);
  if (Number.isNaN(parsedMs)) throw new S3Error('AccessDenied', { message: 'AWS authentication requires a valid Date or x-amz-date header' });
  return formatAmzDate(parsedMs);
}

async function authenticateHeader(request: AuthRequestView, header: string, options: AuthOptions): Promise<AuthResult> {
  const parsed = parseAuthorizationHeader(header);
  const credential = parseCredential(parsed.credential, 'AuthorizationHeaderMalformed');
  const amzDate = requestAmzDate(request);
  const requestMs = parseAmzDate(amzDate);
  if (requestMs === undefined) throw new S3Error('AccessDenied', { message: 'AWS authentication requires a valid Date or x-amz-date header' });
  const nowMs = options.clock.nowMs();
  if (Math.abs(nowMs - requestMs) > clockSkewMsMax) {
    throw new S3Error('RequestTimeTooSkewed', {
      fields: { RequestTime: amzDate, ServerTime: new Date(nowMs).toISOString(), MaxAllowedSkewMilliseconds: String(clockSkewMsMax) },
    });
  }
  checkScope(credential, amzDate, options, 'AuthorizationHeaderMalformed');
  const signedHeaders = parseSignedHeaders(parsed.signedHeaders, 'AuthorizationHeaderMalformed');
  const payloadHash = firstHeader(request, 'x-amz-content-sha256');
  if (payloadHash === undefined) throw new S3Error('InvalidRequest', { message: 'Missing required header for this request: x-amz-content-sha256' });
  const { secretAccessKey: secret, principal } = await credentialOrThrow(credential.accessKeyId, options);
  const signingKey = deriveSigningKey(secret, credential.scope);
  const canonical = canonicalRequest({
    method: request.method,
    rawPath: request.rawPath,
    query: request.query,
    signedHeaders,
    headerValues: request.headerValues,
    payloadHash,
  });
  const toSign = stringToSign(amzDate, credential.scope, canonical);
  verifySignature(signHex(signingKey, toSign), parsed.signature, credential.accessKeyId, toSign, canonical);
  const signing: ChunkSigningContext = { signingKey, scope: credential.scope, amzDate, seedSignature: parsed.signature };
  return { principal, payload: payloadModeFor(payloadHash, signing) };
}

const presignRequiredParameters = ['X-Amz-Credential', 'X-Amz-Date', 'X-Amz-Expires', 'X-Amz-SignedHeaders', 'X-Amz-Signature'] as const;

function presignParameters(query: readonly QueryParameter[]): Map<string, string> {
  const values = new Map<string, string>();
  for (const parameter of query) if (!values.has(parameter.name)) values.set(parameter.name, parameter.value);
  if (values.get('X-Amz-Algorithm') !== sigV4Algorithm) {
    throw new S3Error('AuthorizationQueryParametersError', { message: 'X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"' });
  }
  for (const name of presignRequiredParameters) {
    if (!values.has(name)) throw new S3Error('AuthorizationQueryParametersError');
  }
  return values;
}

function checkPresignTime(amzDate: string, expiresText: string, options: AuthOptions): void {
  const requestMs = parseAmzDate(amzDate);
  if (requestMs === undefined) throw new S3Error('AuthorizationQueryParametersError', { message: "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"" });
  if (/^-\d+$/.test(expiresText)) throw new S3Error('AuthorizationQueryParametersError', { message: 'X-Amz-Expires must be non-negative' });
  if (!/^\d+$/.test(expiresText)) throw new S3Error('AuthorizationQueryParametersError', { message: 'X-Amz-Expires should be a number' });
  const expiresSeconds = Number(expiresText);
  if (expiresSeconds > presignExpiresSecondsMax) {
    throw new S3Error('AuthorizationQueryParametersError', { message: 'X-Amz-Expires must be less than a week (in seconds) that is 604800' });
  }
  const nowMs = options.clock.nowMs();
  if (requestMs - nowMs > clockSkewMsMax) throw new S3Error('AccessDenied', { message: 'Request is not valid yet' });
  if (nowMs > requestMs + expiresSeconds * 1000) {
    throw new S3Error('AccessDenied', {
      message: 'Request has expired',
      fields: { 'X-Amz-Expires': expiresText, Expires: new Date(requestMs + expiresSeconds * 1000).toISOString(), ServerTime: new Date(nowMs).toISOString() },
    });
  }
}

async function authenticatePresigned(request: AuthRequestView, options: AuthOptions): Promise<AuthResult> {
  const values = presignParameters(request.query);
  const credential = parseCredential(values.get('X-Amz-Credential') ?? '', 'AuthorizationQueryParametersError');
  const amzDate = values.get('X-Amz-Date') ?? '';
  checkPresignTime(amzDate, values.get('X-Amz-Expires') ?? '', options);
  checkScope(credential, amzDate, options, 'AuthorizationQueryParametersError');
  const signedHeaders = parseSignedHeaders(values.get('X-Amz-SignedHeaders') ?? '', 'AuthorizationQueryParametersError');
  const { secretAccessKey: secret, principal } = await credentialOrThrow(credential.accessKeyId, options);
  const signingKey = deriveSigningKey(secret, credential.scope);
  // A presigned URL cannot know the body in advance, so S3 signs the literal UNSIGNED-PAYLOAD
  // unless the URL itself carries X-Amz-Content-Sha256.
  const payloadHash = values.get('X-Amz-Content-Sha256') ?? 'UNSIGNED-PAYLOAD';
  const canonical = canonicalRequest({
    method: request.method,
    rawPath: request.rawPath,
    query: request.query,
    excludeQuery: new Set(['X-Amz-Signature']),
    signedHeaders,
    headerValues: request.headerValues,
    payloadHash,
  });
  const toSign = stringToSign(amzDate, credential.scope, canonical);
  const signature = values.get('X-Amz-Signature') ?? '';
  verifySignature(signHex(signingKey, toSign), signature, credential.accessKeyId, toSign, canonical);
  const signing: ChunkSigningContext = { signingKey, scope: credential.scope, amzDate, seedSignature: signature };
  const payload = payloadModeFor(payloadHash, signing);
  if (payload.kind !== 'unsigned' && payload.kind !== 'sha256') {
    throw new S3Error('InvalidRequest', { message: 'Streaming payloads cannot be used with presigned URLs.' });
  }
  return { principal, payload };
}

function checkSigV2Signature(request: AuthRequestView, secret: string, accessKeyId: string, dateOrExpires: string, provided: string): void {
  const stringToSignFor = (rawPath: string): string =>
    sigV2StringToSign({
      method: request.method,
      contentMd5: firstHeader(request, 'content-md5') ?? '',
      contentType: firstHeader(request, 'content-type') ?? '',
      dateOrExpires,
      canonicalAmzHeaders: sigV2CanonicalAmzHeaders(request.headerNames, request.headerValues),
      canonicalResource: sigV2CanonicalResource(rawPath, request.query, request.virtualHostBucket),
    });
  const toSign = stringToSignFor(request.rawPath);
  // A path-style bucket request (`/bucket?...`) is signed by botocore and s3cmd as `/bucket/`,
  // the resource S3's documentation gives for bucket requests; others sign the path as sent.
  // Both name the same resource, so either is accepted.
  const bucketOnlyPath = request.virtualHostBucket === undefined && /^\/[^/]+$/.test(request.rawPath);
  const matches = (text: string): boolean => sigV2SignaturesEqual(signV2(secret, text), provided);
  if (!matches(toSign) && !(bucketOnlyPath && matches(stringToSignFor(`${request.rawPath}/`)))) {
    throw new S3Error('SignatureDoesNotMatch', { fields: { AWSAccessKeyId: accessKeyId, StringToSign: toSign, SignatureProvided: provided } });
  }
}

/** SigV2 request time: x-amz-date wins over Date (and then the Date line is signed empty). */
function sigV2RequestTime(request: AuthRequestView, options: AuthOptions): { dateLine: string } {
  const amzDates = request.headerValues('x-amz-date');
  const date = firstHeader(request, 'date');
  const timeText = amzDates.length > 0 ? (amzDates[0] ?? '') : date;
  const timeMs = timeText === undefined ? Number.NaN : Date.parse(timeText);
  // A time before the epoch is as meaningless as an unparseable one (S3: AccessDenied).
  if (Number.isNaN(timeMs) || timeMs < 0) {
    throw new S3Error('AccessDenied', { message: 'AWS authentication requires a valid Date or x-amz-date header' });
  }
  const nowMs = options.clock.nowMs();
  if (Math.abs(nowMs - timeMs) > clockSkewMsMax) {
    throw new S3Error('RequestTimeTooSkewed', {
      fields: { RequestTime: timeText ?? '', ServerTime: new Date(nowMs).toISOString(), MaxAllowedSkewMilliseconds: String(clockSkewMsMax) },
    });
  }
  return { dateLine: amzDates.length > 0 ? '' : (date ?? '') };
}

async function authenticateV2Header(request: AuthRequestView, header: string, options: AuthOptions): Promise<AuthResult> {
  const match = /^AWS ([^:\s]+):(\S+)$/.exec(header.trim());
  if (match === null) throw new S3Error('InvalidArgument', { message: 'AWS authorization header is invalid.  Expected AwsAccessKeyId:signature', fields: { ArgumentName: 'Authorization', ArgumentValue: header } });
  const accessKeyId = match[1] ?? '';
  const { dateLine } = sigV2RequestTime(request, options);
  const { secretAccessKey: secret, principal } = await credentialOrThrow(accessKeyId, options);
  checkSigV2Signature(request, secret, accessKeyId, dateLine, match[2] ?? '');
  return { principal, payload: { kind: 'unsigned' } };
}

async function authenticateV2Presigned(request: AuthRequestView, values: ReadonlyMap<string, string>, options: AuthOptions): Promise<AuthResult> {
  const accessKeyId = values.get('AWSAccessKeyId') ?? '';
  const expiresText = values.get('Expires') ?? '';
  if (!/^\d+$/.test(expiresText)) throw new S3Error('AccessDenied', { message: 'Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters' });
  const nowMs = options.clock.nowMs();
  if (nowMs > Number(expiresText) * 1000) {
    throw new S3Error('AccessDenied', { message: 'Request has expired', fields: { Expires: new Date(Number(expiresText) * 1000).toISOString(), ServerTime: new Date(nowMs).toISOString() } });
  }
  // SigV2 URLs carry an absolute expiry with no limit of their own; the SigV4 week applies so a
  // leaked URL cannot outlive what a SigV4 one could.
  if (Number(expiresText) * 1000 - nowMs > presignExpiresSecondsMax * 1000) {
    throw new S3Error('AccessDenied', { message: 'Presigned URLs may be valid for at most 604800 seconds (7 days).' });
  }
  const { secretAccessKey: secret, principal } = await credentialOrThrow(accessKeyId, options);
  checkSigV2Signature(request, secret, accessKeyId, expiresText, values.get('Signature') ?? '');
  return { principal, payload: { kind: 'unsigned' } };
}

/** Authenticates one request; throws the S3Error AWS would answer with. */
export async function authenticateRequest(request: AuthRequestView, options: AuthOptions): Promise<AuthResult> {
  // An empty Authorization header carries no credentials: anonymous, as if absent (S3: 403).
  const authorization = firstHeader(request, 'authorization');
  const header = authorization === undefined || authorization.trim() === '' ? undefined : authorization;
  const presigned = request.query.some((parameter) => parameter.name === 'X-Amz-Algorithm' || parameter.name === 'X-Amz-Signature');
  if (header !== undefined && presigned) throw new S3Error('InvalidArgument', { message: 'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or the Authorization header should be specified' });
  if (header !== undefined && header.startsWith('AWS ')) return authenticateV2Header(request, header, options);
  if (header !== undefined) return authenticateHeader(request, header, options);
  if (presigned) return authenticatePresigned(request, options);
  const v2Values = new Map<string, string>();
  for (const parameter of request.query) if (!v2Values.has(parameter.name)) v2Values.set(parameter.name, parameter.value);
  if (v2Values.has('AWSAccessKeyId') || v2Values.has('Signature')) {
    if (!v2Values.has('AWSAccessKeyId') || !v2Values.has('Signature') || !v2Values.has('Expires')) {
      throw new S3Error('AccessDenied', { message: 'Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters' });
    }
    return authenticateV2Presigned(request, v2Values, options);
  }
  throw new S3Error('AccessDenied', { message: 'Access Denied: anonymous access is not allowed; sign the request with AWS Signature Version 4.' });
}

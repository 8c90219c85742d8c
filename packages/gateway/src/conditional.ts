/**
 * Conditional requests (RFC 9110 §13.2.2 order, with S3's documented combinations):
 *  1. If-Match fails -> 412; if it holds, If-Unmodified-Since is ignored.
 *  2. otherwise If-Unmodified-Since fails -> 412.
 *  3. If-None-Match matches -> 304 for GET/HEAD; if it is present, If-Modified-Since is ignored.
 *  4. otherwise If-Modified-Since not modified -> 304.
 * For copy sources (x-amz-copy-source-if-*), every failure is 412: a copy has no 304.
 * Dates compare at one-second resolution, as HTTP dates carry no fractions; an unparseable
 * date is ignored (RFC 9110 §13.1.3/§13.1.4).
 */
import { unquoteEtag } from './checksums';
import { S3Error } from './s3-errors';

export interface ConditionalHeaders {
  readonly ifMatch: string | undefined;
  readonly ifNoneMatch: string | undefined;
  readonly ifModifiedSince: string | undefined;
  readonly ifUnmodifiedSince: string | undefined;
}

export interface ObjectValidators {
  /** Unquoted ETag. */
  readonly etag: string;
  readonly lastModifiedMs: number;
}

export type ConditionalOutcome = 'proceed' | 'not-modified' | 'precondition-failed';

/** True when the header's entity-tag list contains `etag` (or is "*"). */
export function etagListMatches(header: string, etag: string): boolean {
  return header
    .split(',')
    .map((candidate) => candidate.trim())
    .some((candidate) => candidate === '*' || unquoteEtag(candidate.replace(/^W\//, '')) === etag);
}

function parseHttpDateMs(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

function secondsOf(ms: number): number {
  return Math.floor(ms / 1000);
}

export function evaluateConditions(headers: ConditionalHeaders, object: ObjectValidators): ConditionalOutcome {
  if (headers.ifMatch !== undefined) {
    if (!etagListMatches(headers.ifMatch, object.etag)) return 'precondition-failed';
  } else {
    const sinceMs = parseHttpDateMs(headers.ifUnmodifiedSince);
    if (sinceMs !== undefined && secondsOf(object.lastModifiedMs) > secondsOf(sinceMs)) return 'precondition-failed';
  }
  if (headers.ifNoneMatch !== undefined) {
    if (etagListMatches(headers.ifNoneMatch, object.etag)) return 'not-modified';
  } else {
    const sinceMs = parseHttpDateMs(headers.ifModifiedSince);
    if (sinceMs !== undefined && secondsOf(object.lastModifiedMs) <= secondsOf(sinceMs)) return 'not-modified';
  }
  return 'proceed';
}

export function conditionalHeadersOf(header: (name: string) => string | undefined, prefix = ''): ConditionalHeaders {
  return {
    ifMatch: header(`${prefix}if-match`),
    ifNoneMatch: header(`${prefix}if-none-match`),
    ifModifiedSince: header(`${prefix}if-modified-since`),
    ifUnmodifiedSince: header(`${prefix}if-unmodified-since`),
  };
}

/** GET/HEAD: throws NotModified (304, with ETag and Last-Modified) or PreconditionFailed. */
export function enforceReadConditions(headers: ConditionalHeaders, object: ObjectValidators): void {
  const outcome = evaluateConditions(headers, object);
  if (outcome === 'proceed') return;
  if (outcome === 'not-modified') {
    throw new S3Error('NotModified', { headers: { ETag: `"${object.etag}"`, 'Last-Modified': new Date(object.lastModifiedMs).toUTCString() } });
  }
  throw new S3Error('PreconditionFailed', { fields: { Condition: headers.ifMatch !== undefined ? 'If-Match' : 'If-Unmodified-Since' } });
}

/**
 * CopyObject / UploadPartCopy: any failed x-amz-copy-source-if-* condition is 412, naming the
 * header that failed, as S3 does (`<Condition>x-amz-copy-source-If-Match</Condition>`).
 */
export function enforceCopySourceConditions(headers: ConditionalHeaders, object: ObjectValidators): void {
  const outcome = evaluateConditions(headers, object);
  if (outcome === 'proceed') return;
  const failed =
    outcome === 'precondition-failed'
      ? headers.ifMatch !== undefined ? 'If-Match' : 'If-Unmodified-Since'
      : headers.ifNoneMatch !== undefined ? 'If-None-Match' : 'If-Modified-Since';
  throw new S3Error('PreconditionFailed', { fields: { Condition: `x-amz-copy-source-${failed}` } });
}

import { InvalidArgumentError, InvalidBucketNameError, KeyTooLongError, ShardsNotPlacedError } from '@tessera/rpc';
import type { CorsRuleRecord, LifecycleRuleRecord, StripeRecord, StringMap, TagRecord } from './model';

/** S3's limit on object key length, in UTF-8 bytes. */
export const objectKeyBytesMax = 1024;
/** S3's limit on user metadata: keys plus values, in UTF-8 bytes. */
export const userMetadataBytesMax = 2048;
/** S3's part-number range for multipart uploads. */
export const partNumberMax = 10_000;
/** Generous bound for ids, owners, content types and other short strings. */
const shortStringBytesMax = 1024;

const forbiddenPrefixes = ['xn--', 'sthree-', 'amzn-s3-demo-'];
const forbiddenSuffixes = ['-s3alias', '--ol-s3', '.mrap', '--x-s3', '--table-s3'];

/**
 * S3 general-purpose bucket naming rules (AWS "Bucket naming rules"): 3–63 characters of
 * lowercase letters, digits, dots and hyphens; starts and ends with a letter or digit; no two
 * adjacent dots; not shaped like an IPv4 address; no reserved prefixes/suffixes.
 */
export function validateBucketName(name: string): void {
  const fail = (reason: string): never => {
    throw new InvalidBucketNameError(name, reason);
  };
  if (name.length < 3 || name.length > 63) fail('must be 3 to 63 characters long');
  if (!/^[a-z0-9.-]+$/.test(name)) fail('only lowercase letters, digits, dots and hyphens are allowed');
  if (!/^[a-z0-9]/.test(name) || !/[a-z0-9]$/.test(name)) fail('must begin and end with a letter or digit');
  if (name.includes('..')) fail('must not contain two adjacent periods');
  if (/^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name)) fail('must not be formatted as an IP address');
  for (const prefix of forbiddenPrefixes) if (name.startsWith(prefix)) fail(`must not start with ${prefix}`);
  for (const suffix of forbiddenSuffixes) if (name.endsWith(suffix)) fail(`must not end with ${suffix}`);
}

/** No lone surrogates (String.prototype.isWellFormed is ES2024, beyond our lib target). */
export function isWellFormed(text: string): boolean {
  return !/\p{Surrogate}/u.test(text);
}

export function utf8Length(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/** Keys are 1..1024 bytes of well-formed UTF-8 (a lone surrogate cannot be stored faithfully). */
export function validateObjectKey(key: string): void {
  if (typeof key !== 'string' || key.length === 0) throw new InvalidArgumentError('object key must be non-empty');
  if (!isWellFormed(key)) throw new InvalidArgumentError('object key must be well-formed UTF-8');
  const lengthBytes = utf8Length(key);
  if (lengthBytes > objectKeyBytesMax) throw new KeyTooLongError(lengthBytes);
}

export function validateId(value: string, what: string): void {
  if (typeof value !== 'string' || value.length === 0) throw new InvalidArgumentError(`${what} must be non-empty`);
  if (utf8Length(value) > 256 || !/^[A-Za-z0-9._:/-]+$/.test(value)) throw new InvalidArgumentError(`${what} has invalid characters or is too long`);
}

export function validateShortString(value: string, what: string, allowEmpty = true): void {
  if (typeof value !== 'string') throw new InvalidArgumentError(`${what} must be a string`);
  if (!allowEmpty && value.length === 0) throw new InvalidArgumentError(`${what} must be non-empty`);
  if (!isWellFormed(value) || utf8Length(value) > shortStringBytesMax) throw new InvalidArgumentError(`${what} is too long or not UTF-8`);
}

export function validateNonNegativeInteger(value: number, what: string): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new InvalidArgumentError(`${what} must be a non-negative integer`);
}

export function validateStringMap(map: StringMap, what: string, bytesMax: number): void {
  if (typeof map !== 'object' || map === null) throw new InvalidArgumentError(`${what} must be a map`);
  let bytes = 0;
  for (const [name, value] of Object.entries(map)) {
    if (typeof value !== 'string' || !isWellFormed(name) || !isWellFormed(value)) throw new InvalidArgumentError(`${what} must map strings to strings`);
    bytes += utf8Length(name) + utf8Length(value);
  }
  if (bytes > bytesMax) throw new InvalidArgumentError(`${what} is ${bytes} bytes; at most ${bytesMax} allowed`);
}

/**
 * System headers (Cache-Control, Content-Disposition, …) plus the gateway's annotations, among
 * them up to 10 object tags of 128 + 256 characters (as many as 15 KiB of UTF-8).
 */
export const systemMetadataBytesMax = 32 * 1024;

export function validateSystemMetadata(map: StringMap): void {
  validateStringMap(map, 'system metadata', systemMetadataBytesMax);
}

export function validateUserMetadata(map: StringMap): void {
  validateStringMap(map, 'user metadata', userMetadataBytesMax);
}

/** S3's bucket tag limit; the gateway checks S3's finer rules (characters, `aws:`) itself. */
export const bucketTagCountMax = 50;

/** A bucket tag set: at most 50 tags, non-empty unique keys, keys and values within bounds. */
export function validateBucketTags(tags: readonly TagRecord[]): void {
  if (!Array.isArray(tags) || tags.length > bucketTagCountMax) throw new InvalidArgumentError(`a bucket has at most ${bucketTagCountMax} tags`);
  const keys = new Set<string>();
  for (const tag of tags) {
    if (typeof tag !== 'object' || tag === null) throw new InvalidArgumentError('a tag must be an object');
    validateShortString(tag.key, 'tag key', false);
    validateShortString(tag.value, 'tag value');
    if (keys.has(tag.key)) throw new InvalidArgumentError(`tag key ${JSON.stringify(tag.key)} given twice`);
    keys.add(tag.key);
  }
}

/** S3's limits: at most 100 rules, and the whole configuration within 64 KB. */
export const corsRuleCountMax = 100;
export const corsConfigurationBytesMax = 64 * 1024;
const corsMethods = new Set(['GET', 'PUT', 'POST', 'DELETE', 'HEAD']);

/**
 * A bucket's CORS rules, structurally: 1..100 rules (an empty list removes the configuration),
 * each with at least one origin and one method of GET, PUT, POST, DELETE, HEAD, strings within
 * bounds, the whole within 64 KB. The gateway checks S3's finer rules (one `*` per origin or
 * header) and answers in S3's words before anything is proposed.
 */
export function validateCorsRules(rules: readonly CorsRuleRecord[]): void {
  if (!Array.isArray(rules) || rules.length > corsRuleCountMax) throw new InvalidArgumentError(`a CORS configuration has at most ${corsRuleCountMax} rules`);
  let bytes = 0;
  const strings = (list: readonly string[], what: string, nonEmpty: boolean): void => {
    if (!Array.isArray(list) || (nonEmpty && list.length === 0)) throw new InvalidArgumentError(`a CORS rule needs at least one ${what}`);
    for (const item of list) {
      if (typeof item !== 'string') throw new InvalidArgumentError(`${what} must be a string`);
      bytes += Buffer.byteLength(item, 'utf8');
    }
  };
  for (const rule of rules) {
    if (typeof rule !== 'object' || rule === null) throw new InvalidArgumentError('a CORS rule must be an object');
    if (rule.id !== undefined) {
      if (typeof rule.id !== 'string' || rule.id.length > 255) throw new InvalidArgumentError('a CORS rule ID has at most 255 characters');
      bytes += rule.id.length;
    }
    strings(rule.allowedOrigins, 'AllowedOrigin', true);
    strings(rule.allowedMethods, 'AllowedMethod', true);
    for (const method of rule.allowedMethods) if (!corsMethods.has(method)) throw new InvalidArgumentError(`unsupported CORS method ${method}`);
    strings(rule.allowedHeaders, 'AllowedHeader', false);
    strings(rule.exposeHeaders, 'ExposeHeader', false);
    if (rule.maxAgeSeconds !== undefined && (!Number.isSafeInteger(rule.maxAgeSeconds) || rule.maxAgeSeconds < 0 || rule.maxAgeSeconds > 0xffffffff)) {
      throw new InvalidArgumentError('MaxAgeSeconds must be a non-negative 32-bit integer');
    }
  }
  if (bytes > corsConfigurationBytesMax) throw new InvalidArgumentError(`a CORS configuration is at most ${corsConfigurationBytesMax} bytes`);
}

/** S3's limit: 1,000 rules per lifecycle configuration. */
export const lifecycleRuleCountMax = 1000;
const lifecycleFilterForms = new Set(['legacyPrefix', 'empty', 'prefix', 'tag', 'sizeGreaterThan', 'sizeLessThan', 'and']);

/**
 * Shapes and limits of lifecycle rules (the gateway has already applied S3's rules to the
 * document): at most 1,000 rules, IDs of at most 255 characters, positive day counts.
 */
export function validateLifecycleRules(rules: readonly LifecycleRuleRecord[]): void {
  if (!Array.isArray(rules) || rules.length > lifecycleRuleCountMax) throw new InvalidArgumentError(`a lifecycle configuration has at most ${lifecycleRuleCountMax} rules`);
  const optionalCount = (value: number | undefined, what: string, min: number): void => {
    if (value !== undefined && (!Number.isSafeInteger(value) || value < min)) throw new InvalidArgumentError(`${what} must be an integer >= ${min}`);
  };
  for (const rule of rules) {
    if (typeof rule !== 'object' || rule === null) throw new InvalidArgumentError('a lifecycle rule must be an object');
    if (rule.id !== undefined && (typeof rule.id !== 'string' || rule.id.length > 255)) throw new InvalidArgumentError('a lifecycle rule ID has at most 255 characters');
    if (typeof rule.enabled !== 'boolean') throw new InvalidArgumentError('a lifecycle rule is enabled or not');
    if (!lifecycleFilterForms.has(rule.filterForm)) throw new InvalidArgumentError('unknown lifecycle filter form');
    validateShortString(rule.prefix, 'lifecycle prefix');
    validateBucketTags(rule.tags);
    optionalCount(rule.objectSizeGreaterThanBytes, 'ObjectSizeGreaterThan', 0);
    optionalCount(rule.objectSizeLessThanBytes, 'ObjectSizeLessThan', 1);
    optionalCount(rule.expirationDays, 'Expiration Days', 1);
    optionalCount(rule.expirationDateMs, 'Expiration Date', 1);
    optionalCount(rule.noncurrentDays, 'NoncurrentDays', 1);
    optionalCount(rule.newerNoncurrentVersions, 'NewerNoncurrentVersions', 1);
    optionalCount(rule.abortIncompleteUploadDays, 'DaysAfterInitiation', 1);
    if (rule.expiredObjectDeleteMarker !== undefined && typeof rule.expiredObjectDeleteMarker !== 'boolean') throw new InvalidArgumentError('ExpiredObjectDeleteMarker is true or false');
  }
}

export function validateEtag(etag: string): void {
  if (typeof etag !== 'string' || !/^[0-9a-f]{32}(-[0-9]{1,5})?$/.test(etag)) throw new InvalidArgumentError('etag must be a lowercase hex MD5, without quotes');
}

export function validatePartNumber(partNumber: number): void {
  if (!Number.isSafeInteger(partNumber) || partNumber < 1 || partNumber > partNumberMax) {
    throw new InvalidArgumentError(`part number must be in 1..${partNumberMax}`);
  }
}

/** Every shard index names a storage node, and the shape is a valid Reed-Solomon stripe. */
export function validateStripe(stripe: StripeRecord): void {
  validateId(stripe.stripeId, 'stripeId');
  const { dataShardCount, parityShardCount, blockSizeBytes } = stripe;
  if (!Number.isSafeInteger(dataShardCount) || dataShardCount < 1) throw new InvalidArgumentError('dataShardCount must be >= 1');
  if (!Number.isSafeInteger(parityShardCount) || parityShardCount < 0) throw new InvalidArgumentError('parityShardCount must be >= 0');
  if (dataShardCount + parityShardCount > 256) throw new InvalidArgumentError('at most 256 shards per stripe');
  if (!Number.isSafeInteger(blockSizeBytes) || blockSizeBytes < 1) throw new InvalidArgumentError('blockSizeBytes must be >= 1');
  const shardCount = dataShardCount + parityShardCount;
  if (!Array.isArray(stripe.shardNodeIds) || stripe.shardNodeIds.length !== shardCount) {
    throw new ShardsNotPlacedError(`stripe ${stripe.stripeId} places ${stripe.shardNodeIds?.length ?? 0} of ${shardCount} shards`);
  }
  stripe.shardNodeIds.forEach((nodeId, shardIndex) => {
    if (typeof nodeId !== 'string' || nodeId.length === 0) throw new ShardsNotPlacedError(`stripe ${stripe.stripeId}: shard ${shardIndex} has no node`);
  });
}

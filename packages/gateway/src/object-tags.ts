/**
 * Object and bucket tags (S3 object and bucket tagging). An object's tag set comes from the
 * `x-amz-tagging` header (URL query form, `k1=v1&k2=v2`) of PutObject, CreateMultipartUpload and
 * CopyObject (with `x-amz-tagging-directive: REPLACE`), or from the Tagging document of
 * PutObjectTagging; a bucket's from the Tagging document of PutBucketTagging. S3's limits apply
 * to all: at most 10 tags on an object and 50 on a bucket, keys of 1-128 and values of 0-256
 * Unicode characters, no key twice, no key in the reserved `aws:` namespace. Anything else is
 * InvalidTag (400).
 */
import { S3Error } from './s3-errors';

export interface Tag {
  readonly key: string;
  readonly value: string;
}

export const objectTagCountMax = 10;
export const bucketTagCountMax = 50;
/** What a tag set belongs to: the two differ only in how many tags they may hold. */
export type TagSetOwner = 'object' | 'bucket';
export const tagKeyCharactersMax = 128;
export const tagValueCharactersMax = 256;

function invalidTag(message: string): S3Error {
  return new S3Error('InvalidTag', { message });
}

/** Unicode characters (code points), as S3 counts them; a UTF-16 length would count emoji twice. */
function characterCount(text: string): number {
  let count = 0;
  for (const _character of text) count += 1;
  return count;
}

/** In a `u` regex a surrogate pair is one code point, so only an unpaired surrogate matches. */
const loneSurrogate = /\p{Surrogate}/u;

/** Returns `tags` when they are a tag set S3 accepts; throws InvalidTag naming the first problem. */
export function validateTags(tags: readonly Tag[], owner: TagSetOwner): readonly Tag[] {
  if (owner === 'object' && tags.length > objectTagCountMax) throw invalidTag(`Object tags cannot be greater than ${objectTagCountMax}`);
  if (owner === 'bucket' && tags.length > bucketTagCountMax) throw invalidTag(`Bucket tag count cannot be greater than ${bucketTagCountMax}`);
  const seen = new Set<string>();
  for (const { key, value } of tags) {
    if (key === '') throw invalidTag('The TagKey you have provided is invalid');
    if (characterCount(key) > tagKeyCharactersMax) throw invalidTag(`The TagKey you have provided is too long, max ${tagKeyCharactersMax}`);
    if (characterCount(value) > tagValueCharactersMax) throw invalidTag(`The TagValue you have provided is too long, max ${tagValueCharactersMax}`);
    if (loneSurrogate.test(key) || loneSurrogate.test(value)) throw invalidTag('Tag keys and values must be valid Unicode');
    if (key.toLowerCase().startsWith('aws:')) throw invalidTag('Your TagKey cannot be prefixed with aws:');
    if (seen.has(key)) throw invalidTag('Cannot provide multiple Tags with the same key');
    seen.add(key);
  }
  return tags;
}

/**
 * Parses and validates an `x-amz-tagging` header. Header values reach Node as latin1 (one
 * character per byte), so the percent-decoded bytes are read as UTF-8 here; an absent or empty
 * header is no tags.
 */
export function parseTaggingHeader(headerValue: string | undefined): readonly Tag[] {
  if (headerValue === undefined || headerValue.trim() === '') return [];
  const utf8 = Buffer.from(headerValue, 'latin1').toString('utf8');
  const tags: Tag[] = [];
  for (const [key, value] of new URLSearchParams(utf8)) tags.push({ key, value });
  return validateTags(tags, 'object');
}

/** The stored form lives in @tessera/rpc: the healer reads it too (lifecycle tag filters). */
export { decodeStoredTags, encodeStoredTags } from '@tessera/rpc';

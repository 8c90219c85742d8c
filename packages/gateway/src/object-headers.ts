/**
 * Object metadata carried in headers: the user metadata (x-amz-meta-*, 2 KB limit) and the
 * system headers S3 stores and returns (Content-Type, Content-Encoding, Content-Language,
 * Cache-Control, Content-Disposition, Expires), plus the response-* query overrides of GET.
 */
import type { AclGrant } from './access-control';
import type { BucketGrant } from './backend';
import type { ObjectLockSettings } from './object-lock';
import { parseTaggingHeader } from './object-tags';
import type { Tag } from './object-tags';
import { S3Error } from './s3-errors';
import type { ServerSideEncryption } from './server-side-encryption';

/** S3: user-defined metadata is limited to 2 KB (sum of UTF-8 bytes of names and values). */
export const userMetadataSizeBytesMax = 2048;

export const storedSystemHeaders = ['content-type', 'content-encoding', 'content-language', 'cache-control', 'content-disposition', 'expires'] as const;
export type StoredSystemHeader = (typeof storedSystemHeaders)[number];

/** Object metadata as stored: system headers by lower-case name, user metadata by suffix. */
export interface ObjectHeaders {
  readonly system: Readonly<Partial<Record<StoredSystemHeader, string>>>;
  /** Lower-case names without the "x-amz-meta-" prefix. */
  readonly user: Readonly<Record<string, string>>;
  /** Object tags (x-amz-tagging on writes; x-amz-tagging-count on reads). */
  readonly tags: readonly Tag[];
  /** S3 Object Lock settings of the version (x-amz-object-lock-* on writes and reads). */
  readonly objectLock?: ObjectLockSettings;
  /** SSE-S3 (server-side-encryption.ts): absent = stored as sent. */
  readonly serverSideEncryption?: ServerSideEncryption;
  /** The access key that owns the version (wrote it; access-control.ts), when it is not the bucket's owner. */
  readonly owner?: string;
  /** The version's ACL exactly as set (access-control.ts); absent: its owner's FULL_CONTROL. */
  readonly acl?: readonly AclGrant[];
  /** Read only: the grants a version written before 2026-11-24 kept besides its owner's FULL_CONTROL. */
  readonly legacyGrants?: readonly BucketGrant[];
}

export const defaultContentType = 'binary/octet-stream';

type HeaderLookup = (lowerCaseName: string) => string | undefined;

export function extractUserMetadata(headerNames: readonly string[], header: HeaderLookup): Record<string, string> {
  const user: Record<string, string> = {};
  let sizeBytes = 0;
  for (const name of headerNames) {
    if (!name.startsWith('x-amz-meta-')) continue;
    const shortName = name.slice('x-amz-meta-'.length);
    const value = header(name) ?? '';
    // The maps that carry metadata (here, in protobuf and in the catalogue) are plain objects,
    // where this one name is the prototype: it would be dropped without a word.
    if (shortName === '__proto__') throw new S3Error('InvalidArgument', { message: 'The metadata name x-amz-meta-__proto__ is not supported by Tessera.', fields: { ArgumentName: name } });
    user[shortName] = value;
    // Header strings hold one character per wire byte (latin1), so the wire size is their length:
    // a UTF-8 value counts its bytes once, not the UTF-8 encoding of their latin1 reading.
    sizeBytes += Buffer.byteLength(shortName, 'latin1') + Buffer.byteLength(value, 'latin1');
  }
  if (sizeBytes > userMetadataSizeBytesMax) {
    throw new S3Error('MetadataTooLarge', { fields: { Size: String(sizeBytes), MaxSizeAllowed: String(userMetadataSizeBytesMax) } });
  }
  return user;
}

/** Content-Encoding without the transport-only "aws-chunked" token (S3 does not store it). */
function storedContentEncoding(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const kept = value
    .split(',')
    .map((token) => token.trim())
    .filter((token) => token !== '' && token.toLowerCase() !== 'aws-chunked');
  return kept.length === 0 ? undefined : kept.join(',');
}

export function extractObjectHeaders(headerNames: readonly string[], header: HeaderLookup): ObjectHeaders {
  const system: Partial<Record<StoredSystemHeader, string>> = {};
  for (const name of storedSystemHeaders) {
    const value = name === 'content-encoding' ? storedContentEncoding(header(name)) : header(name);
    if (value !== undefined) system[name] = value;
  }
  return { system, user: extractUserMetadata(headerNames, header), tags: parseTaggingHeader(header('x-amz-tagging')) };
}

/** Canonical header spellings for responses. */
const responseHeaderNames: Record<StoredSystemHeader, string> = {
  'content-type': 'Content-Type',
  'content-encoding': 'Content-Encoding',
  'content-language': 'Content-Language',
  'cache-control': 'Cache-Control',
  'content-disposition': 'Content-Disposition',
  expires: 'Expires',
};

/** The response headers for stored metadata, with GET's response-* overrides applied. */
export function objectResponseHeaders(headers: ObjectHeaders, overrides: ReadonlyMap<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  out['Content-Type'] = headers.system['content-type'] ?? defaultContentType;
  for (const name of storedSystemHeaders) {
    const value = overrides.get(`response-${name}`) ?? headers.system[name];
    if (value !== undefined) out[responseHeaderNames[name]] = value;
  }
  for (const [name, value] of Object.entries(headers.user)) out[`x-amz-meta-${name}`] = value;
  return out;
}

/** The response-* query parameters S3 honours on GET (and only with signed requests). */
export const responseOverrideParameters = storedSystemHeaders.map((name) => `response-${name}`);

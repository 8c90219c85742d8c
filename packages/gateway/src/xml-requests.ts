/**
 * Parsing of the XML request bodies S3 defines: CompleteMultipartUpload, Delete,
 * CreateBucketConfiguration, AccessControlPolicy, Tagging and CORSConfiguration. Every body has a size limit, is validated for well-formedness, and
 * any shape S3 would not accept is MalformedXML. Text values are kept untrimmed: keys may begin
 * or end with spaces.
 */
import { randomBytes } from 'node:crypto';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { checksumAlgorithms, unquoteEtag } from './checksums';
import type { ChecksumValues } from './checksums';
import type { RequestedPart } from './multipart';
import { partNumberMax } from './parse-s3-request';
import { type CorsRule, validateCorsConfiguration } from './cors';
import { type TagSetOwner, validateTags } from './object-tags';
import type { Tag } from './object-tags';
import { S3Error } from './s3-errors';
import type { LifecycleRule } from '@tessera/rpc';
import type { DefaultRetention, ObjectOwnership, PublicAccessBlock } from './backend';
import { parseRetainUntil } from './object-lock';
import type { LockMode } from './object-lock';

/** 10,000 parts of ~150 bytes each fit well within this. */
export const completeMultipartBodyBytesMax = 4 * 1024 * 1024;
/** 1000 keys of up to 1024 bytes (escaped) fit within this. */
export const deleteObjectsBodyBytesMax = 8 * 1024 * 1024;
export const createBucketBodyBytesMax = 64 * 1024;
/** S3: DeleteObjects takes at most 1000 keys. */
export const deleteObjectsKeyCountMax = 1000;

const parser = new XMLParser({
  ignoreAttributes: true,
  parseTagValue: false,
  trimValues: false,
  processEntities: true,
  htmlEntities: true,
  removeNSPrefix: true,
  isArray: (name) => ['Part', 'Object', 'Grant', 'Tag', 'Rule', 'CORSRule', 'AllowedOrigin', 'AllowedMethod', 'AllowedHeader', 'ExposeHeader'].includes(name),
});

type XmlNode = Record<string, unknown>;

function malformed(detail?: string): S3Error {
  return new S3Error('MalformedXML', detail === undefined ? {} : { message: `The XML you provided was not well-formed or did not validate against our published schema: ${detail}.` });
}

/**
 * The XML parser drops character references to C0 controls (they are not XML 1.0 characters),
 * but S3 keys may contain them and S3 clients write them as "&#x1;". They are swapped for a
 * per-document random marker before parsing and restored in text values afterwards.
 */
function protectControlReferences(text: string): { text: string; restore: (value: string) => string } {
  // ASCII only: the parser also drops private-use characters. The random nonce keeps a
  // client-chosen key from ever matching the marker.
  const marker = `tessera-ctrl-${randomBytes(8).toString('hex')}-`;
  const protectedText = text.replace(/&#(x[0-9a-fA-F]{1,6}|[0-9]{1,7});/g, (reference, digits: string) => {
    const codePoint = digits.startsWith('x') ? parseInt(digits.slice(1), 16) : parseInt(digits, 10);
    return codePoint < 0x20 || codePoint === 0x7f ? `${marker}${codePoint};` : reference;
  });
  const pattern = new RegExp(`${marker}(\\d+);`, 'g');
  return { text: protectedText, restore: (value) => value.replace(pattern, (_m, code: string) => String.fromCharCode(Number(code))) };
}

interface ParsedDocument {
  readonly root: XmlNode;
  /** A text value with control-character references restored. */
  readonly text: (value: unknown, what: string) => string;
}

function parseDocument(body: Buffer, sizeBytesMax: number): ParsedDocument {
  if (body.length > sizeBytesMax) throw new S3Error('MaxMessageLengthExceeded', { fields: { MaxMessageLengthBytes: String(sizeBytesMax) } });
  const { text, restore } = protectControlReferences(body.toString('utf8'));
  // S3 request bodies never need a DTD; refusing them rules out entity-expansion attacks.
  if (/<!DOCTYPE/i.test(text)) throw malformed('document type declarations are not allowed');
  if (XMLValidator.validate(text) !== true) throw malformed();
  let parsed: unknown;
  try {
    parsed = parser.parse(text);
  } catch (error) {
    throw new S3Error('MalformedXML', { cause: error });
  }
  if (typeof parsed !== 'object' || parsed === null) throw malformed();
  return { root: parsed as XmlNode, text: (value, what) => restore(asText(value, what)) };
}

function child(node: XmlNode, name: string): unknown {
  return node[name];
}

function asNode(value: unknown, what: string): XmlNode {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw malformed(`${what} is missing or not an element`);
  return value as XmlNode;
}

function asText(value: unknown, what: string): string {
  if (typeof value === 'string') return value;
  // An empty element parses as "" and an element with only whitespace keeps it.
  throw malformed(`${what} must be text`);
}

function asArray(value: unknown): unknown[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

export function parseCompleteMultipartUpload(body: Buffer): RequestedPart[] {
  const document = parseDocument(body, completeMultipartBodyBytesMax);
  const root = asNode(child(document.root, 'CompleteMultipartUpload'), 'CompleteMultipartUpload');
  const parts = asArray(child(root, 'Part'));
  if (parts.length === 0) throw malformed('at least one Part is required');
  if (parts.length > partNumberMax) throw new S3Error('TooManyParts');
  return parts.map((value, index) => {
    const part = asNode(value, `Part ${index + 1}`);
    const partNumberText = asText(child(part, 'PartNumber'), 'PartNumber').trim();
    if (!/^\d+$/.test(partNumberText)) throw malformed('PartNumber must be an integer');
    const partNumber = Number(partNumberText);
    if (partNumber < 1 || partNumber > partNumberMax) throw new S3Error('InvalidArgument', { message: `Part number must be an integer between 1 and ${partNumberMax}, inclusive` });
    const etag = asText(child(part, 'ETag'), 'ETag').trim();
    const checksums: ChecksumValues = {};
    for (const algorithm of checksumAlgorithms) {
      const value = child(part, `Checksum${algorithm}`);
      if (value !== undefined) checksums[algorithm] = asText(value, `Checksum${algorithm}`).trim();
    }
    return { partNumber, etag, checksums };
  });
}

export interface DeleteRequest {
  readonly quiet: boolean;
  /** `etag`: the object's ETag element (S3 conditional delete, as If-Match on DeleteObject), unquoted. */
  readonly objects: readonly { readonly key: string; readonly versionId: string | undefined; readonly etag?: string | undefined }[];
}

export function parseDeleteRequest(body: Buffer): DeleteRequest {
  const document = parseDocument(body, deleteObjectsBodyBytesMax);
  const root = asNode(child(document.root, 'Delete'), 'Delete');
  const quietValue = child(root, 'Quiet');
  const quiet = quietValue !== undefined && asText(quietValue, 'Quiet').trim().toLowerCase() === 'true';
  const objects = asArray(child(root, 'Object')).map((value, index) => {
    const object = asNode(value, `Object ${index + 1}`);
    const key = document.text(child(object, 'Key'), 'Key');
    const versionIdValue = child(object, 'VersionId');
    const etagValue = child(object, 'ETag');
    const etag = etagValue === undefined ? undefined : unquoteEtag(asText(etagValue, 'ETag').trim());
    return { key, versionId: versionIdValue === undefined ? undefined : asText(versionIdValue, 'VersionId'), ...(etag === undefined || etag === '' ? {} : { etag }) };
  });
  if (objects.length === 0) throw malformed('at least one Object is required');
  if (objects.length > deleteObjectsKeyCountMax) throw malformed(`at most ${deleteObjectsKeyCountMax} objects may be deleted per request`);
  return { quiet, objects };
}

/** Returns the LocationConstraint, or undefined for an empty body or element. */
export function parseCreateBucketConfiguration(body: Buffer): string | undefined {
  if (body.length === 0) return undefined;
  const root = child(parseDocument(body, createBucketBodyBytesMax).root, 'CreateBucketConfiguration');
  if (root === undefined) throw malformed('CreateBucketConfiguration is required');
  if (root === '') return undefined;
  const value = child(asNode(root, 'CreateBucketConfiguration'), 'LocationConstraint');
  if (value === undefined) return undefined;
  const text = asText(value, 'LocationConstraint').trim();
  return text === '' ? undefined : text;
}

/** PutBucketAcl / PutObjectAcl bodies are small; S3 documents no limit, 64 KiB is generous. */
export const accessControlPolicyBodyBytesMax = 64 * 1024;

export interface AccessControlGrantRequest {
  /** The grantee's canonical ID, e-mail address or group URI, whichever it names (a grantee that names none has none). */
  readonly granteeId: string | undefined;
  readonly granteeEmail?: string | undefined;
  readonly granteeUri?: string | undefined;
  readonly permission: string;
}

export interface AccessControlPolicyRequest {
  readonly ownerId: string | undefined;
  readonly grants: readonly AccessControlGrantRequest[];
}

/** The AccessControlPolicy document of PutBucketAcl / PutObjectAcl. */
export function parseAccessControlPolicy(body: Buffer): AccessControlPolicyRequest {
  const document = parseDocument(body, accessControlPolicyBodyBytesMax);
  const root = asNode(child(document.root, 'AccessControlPolicy'), 'AccessControlPolicy');
  const ownerValue = child(root, 'Owner');
  const ownerIdValue = ownerValue === undefined || ownerValue === '' ? undefined : child(asNode(ownerValue, 'Owner'), 'ID');
  const listValue = child(root, 'AccessControlList');
  const grants = listValue === undefined || listValue === '' ? [] : asArray(child(asNode(listValue, 'AccessControlList'), 'Grant'));
  // An Owner must name its ID (S3 answers MalformedACLError for one without).
  if (ownerValue !== undefined && (ownerValue === '' || ownerIdValue === undefined || asText(ownerIdValue, 'Owner ID').trim() === '')) {
    throw new S3Error('MalformedACLError', { message: 'The Owner of an AccessControlPolicy must have an ID.' });
  }
  const textOf = (node: XmlNode, name: string): string | undefined => {
    const value = child(node, name);
    return value === undefined ? undefined : asText(value, `Grantee ${name}`).trim();
  };
  return {
    ownerId: ownerIdValue === undefined ? undefined : asText(ownerIdValue, 'Owner ID').trim(),
    grants: grants.map((value, index) => {
      const grant = asNode(value, `Grant ${index + 1}`);
      const grantee = asNode(child(grant, 'Grantee'), 'Grantee');
      return {
        granteeId: textOf(grantee, 'ID'), granteeEmail: textOf(grantee, 'EmailAddress'), granteeUri: textOf(grantee, 'URI'),
        permission: asText(child(grant, 'Permission'), 'Permission').trim(),
      };
    }),
  };
}

/** Ten tags of 128 + 256 characters, escaped, fit well within this. */
export const taggingBodyBytesMax = 64 * 1024;

/** The Tagging document of PutObjectTagging or PutBucketTagging, validated as S3 does (InvalidTag). */
export function parseTagging(body: Buffer, owner: TagSetOwner): readonly Tag[] {
  const document = parseDocument(body, taggingBodyBytesMax);
  const root = asNode(child(document.root, 'Tagging'), 'Tagging');
  const tagSet = child(root, 'TagSet');
  if (tagSet === undefined) throw malformed('TagSet is required');
  const tags = tagSet === '' ? [] : asArray(child(asNode(tagSet, 'TagSet'), 'Tag'));
  return validateTags(
    tags.map((value, index) => {
      const tag = asNode(value, `Tag ${index + 1}`);
      return { key: document.text(child(tag, 'Key'), 'Key'), value: document.text(child(tag, 'Value'), 'Value') };
    }),
    owner,
  );
}

/** 1,000 rules of a few hundred bytes each fit well within this. */
export const lifecycleConfigurationBodyBytesMax = 1024 * 1024;

/**
 * PutBucketLifecycleConfiguration's document, checked as S3 does: 1 to 1,000 rules with unique
 * IDs (at most 255 characters), Status Enabled or Disabled, the legacy top-level Prefix or a
 * Filter holding at most one of Prefix, Tag, ObjectSizeGreaterThan, ObjectSizeLessThan or And,
 * and at least one action: Expiration (Days > 0, a midnight-UTC Date, or
 * ExpiredObjectDeleteMarker, exactly one), NoncurrentVersionExpiration (NoncurrentDays > 0,
 * NewerNoncurrentVersions > 0), AbortIncompleteMultipartUpload (DaysAfterInitiation > 0; not
 * with tags). Transitions need storage classes Tessera does not have: NotImplemented.
 */
export function parseLifecycleConfiguration(body: Buffer): readonly LifecycleRule[] {
  const document = parseDocument(body, lifecycleConfigurationBodyBytesMax);
  const root = asNode(child(document.root, 'LifecycleConfiguration'), 'LifecycleConfiguration');
  const ruleNodes = asArray(child(root, 'Rule'));
  if (ruleNodes.length === 0) throw malformed('at least one Rule is required');
  if (ruleNodes.length > 1000) throw new S3Error('InvalidArgument', { message: 'A lifecycle configuration has at most 1000 rules.' });
  const invalid = (message: string): S3Error => new S3Error('InvalidArgument', { message });
  const count = (node: XmlNode, name: string, min: number, message: string): number | undefined => {
    const value = child(node, name);
    if (value === undefined) return undefined;
    const text = asText(value, name).trim();
    if (!/^-?[0-9]+$/.test(text)) throw malformed(`${name} must be an integer`);
    const parsed = Number(text);
    if (!Number.isSafeInteger(parsed) || parsed < min) throw invalid(message);
    return parsed;
  };
  const ids = new Set<string>();
  const rules = ruleNodes.map((value, index): LifecycleRule => {
    const rule = asNode(value, `Rule ${index + 1}`);
    const idValue = child(rule, 'ID');
    const id = idValue === undefined ? undefined : document.text(idValue, 'ID');
    if (id !== undefined && id.length > 255) throw invalid('ID length should not exceed allowed limit of 255');
    const effectiveId = id === undefined || id === '' ? undefined : id;
    if (effectiveId !== undefined) {
      if (ids.has(effectiveId)) throw invalid('Rule ID must be unique. Found same ID for more than one rule');
      ids.add(effectiveId);
    }
    const statusValue = child(rule, 'Status');
    const status = statusValue === undefined ? undefined : asText(statusValue, 'Status').trim();
    if (status !== 'Enabled' && status !== 'Disabled') throw malformed('Status must be Enabled or Disabled');
    if (child(rule, 'Transition') !== undefined || child(rule, 'NoncurrentVersionTransition') !== undefined) {
      throw new S3Error('NotImplemented', { message: 'Lifecycle transitions are not implemented by Tessera: it has one storage class.' });
    }
    const filter = lifecycleFilterOf(document, rule);
    const expirationValue = child(rule, 'Expiration');
    let expiration: Pick<LifecycleRule, 'expirationDays' | 'expirationDateMs' | 'expiredObjectDeleteMarker'> = {};
    if (expirationValue !== undefined) {
      const node = expirationValue === '' ? {} : asNode(expirationValue, 'Expiration');
      const days = count(node, 'Days', 1, "'Days' for Expiration action must be a positive integer");
      const dateValue = child(node, 'Date');
      const markerValue = child(node, 'ExpiredObjectDeleteMarker');
      const given = [days, dateValue, markerValue].filter((item) => item !== undefined).length;
      if (given !== 1) throw malformed('Expiration needs exactly one of Days, Date and ExpiredObjectDeleteMarker');
      if (dateValue !== undefined) {
        const dateMs = Date.parse(asText(dateValue, 'Date').trim());
        if (!Number.isFinite(dateMs) || dateMs % 86_400_000 !== 0) throw invalid("'Date' must be at midnight GMT");
        expiration = { expirationDateMs: dateMs };
      } else if (markerValue !== undefined) {
        const marker = asText(markerValue, 'ExpiredObjectDeleteMarker').trim();
        if (marker !== 'true' && marker !== 'false') throw malformed('ExpiredObjectDeleteMarker must be true or false');
        if (marker === 'true' && filter.tags.length > 0) throw invalid('ExpiredObjectDeleteMarker cannot be specified with tags.');
        expiration = marker === 'true' ? { expiredObjectDeleteMarker: true } : {};
      } else {
        expiration = { expirationDays: days };
      }
    }
    const noncurrentValue = child(rule, 'NoncurrentVersionExpiration');
    let noncurrent: Pick<LifecycleRule, 'noncurrentDays' | 'newerNoncurrentVersions'> = {};
    if (noncurrentValue !== undefined) {
      const node = noncurrentValue === '' ? {} : asNode(noncurrentValue, 'NoncurrentVersionExpiration');
      const days = count(node, 'NoncurrentDays', 1, "'NoncurrentDays' for NoncurrentVersionExpiration action must be a positive integer");
      if (days === undefined) throw malformed('NoncurrentVersionExpiration needs NoncurrentDays');
      const newer = count(node, 'NewerNoncurrentVersions', 1, "'NewerNoncurrentVersions' must be a positive integer");
      noncurrent = { noncurrentDays: days, ...(newer === undefined ? {} : { newerNoncurrentVersions: newer }) };
    }
    const abortValue = child(rule, 'AbortIncompleteMultipartUpload');
    let abort: Pick<LifecycleRule, 'abortIncompleteUploadDays'> = {};
    if (abortValue !== undefined) {
      const node = abortValue === '' ? {} : asNode(abortValue, 'AbortIncompleteMultipartUpload');
      const days = count(node, 'DaysAfterInitiation', 1, "'DaysAfterInitiation' for AbortIncompleteMultipartUpload action must be a positive integer");
      if (days === undefined) throw malformed('AbortIncompleteMultipartUpload needs DaysAfterInitiation');
      if (filter.tags.length > 0) throw invalid('AbortIncompleteMultipartUpload cannot be specified with tags.');
      abort = { abortIncompleteUploadDays: days };
    }
    const actions = { ...expiration, ...noncurrent, ...abort };
    if (expirationValue === undefined && noncurrentValue === undefined && abortValue === undefined) throw invalid('At least one action needs to be specified in a rule.');
    return { ...(effectiveId === undefined ? {} : { id: effectiveId }), enabled: status === 'Enabled', ...filter, ...actions };
  });
  return rules;
}

/** A rule's filter: the legacy top-level Prefix or the Filter element (exactly one of them). */
function lifecycleFilterOf(document: ParsedDocument, rule: XmlNode): Pick<LifecycleRule, 'filterForm' | 'prefix' | 'tags' | 'objectSizeGreaterThanBytes' | 'objectSizeLessThanBytes'> {
  const legacy = child(rule, 'Prefix');
  const filterValue = child(rule, 'Filter');
  if (legacy !== undefined && filterValue !== undefined) throw malformed('a rule has either Prefix or Filter, not both');
  if (filterValue === undefined) {
    if (legacy === undefined) throw malformed('a rule needs a Filter or a Prefix');
    return { filterForm: 'legacyPrefix', prefix: document.text(legacy, 'Prefix'), tags: [] };
  }
  if (filterValue === '') return { filterForm: 'empty', prefix: '', tags: [] };
  const filter = asNode(filterValue, 'Filter');
  const parts = ['Prefix', 'Tag', 'And', 'ObjectSizeGreaterThan', 'ObjectSizeLessThan'].filter((name) => child(filter, name) !== undefined);
  if (parts.length > 1) throw malformed('a Filter holds one of Prefix, Tag, ObjectSizeGreaterThan, ObjectSizeLessThan and And');
  const tagsOf = (node: XmlNode): { key: string; value: string }[] =>
    asArray(child(node, 'Tag')).map((tagValue, index) => {
      const tag = asNode(tagValue, `Tag ${index + 1}`);
      return { key: document.text(child(tag, 'Key'), 'Key'), value: document.text(child(tag, 'Value') ?? '', 'Value') };
    });
  const size = (node: XmlNode, name: string): number | undefined => {
    const value = child(node, name);
    if (value === undefined) return undefined;
    const text = asText(value, name).trim();
    if (!/^[0-9]+$/.test(text) || !Number.isSafeInteger(Number(text))) throw malformed(`${name} must be a non-negative integer`);
    return Number(text);
  };
  const sizes = (node: XmlNode): Pick<LifecycleRule, 'objectSizeGreaterThanBytes' | 'objectSizeLessThanBytes'> => {
    const greater = size(node, 'ObjectSizeGreaterThan');
    const less = size(node, 'ObjectSizeLessThan');
    if (greater !== undefined && less !== undefined && less <= greater) throw new S3Error('InvalidArgument', { message: 'ObjectSizeGreaterThan must be less than ObjectSizeLessThan.' });
    return { ...(greater === undefined ? {} : { objectSizeGreaterThanBytes: greater }), ...(less === undefined ? {} : { objectSizeLessThanBytes: less }) };
  };
  const [part] = parts;
  if (part === undefined) return { filterForm: 'empty', prefix: '', tags: [] };
  if (part === 'Prefix') return { filterForm: 'prefix', prefix: document.text(child(filter, 'Prefix'), 'Prefix'), tags: [] };
  if (part === 'Tag') {
    const tags = tagsOf(filter);
    if (tags.length !== 1) throw malformed('a Filter holds one Tag; use And for several');
    return { filterForm: 'tag', prefix: '', tags: validateTags(tags, 'object') };
  }
  if (part === 'ObjectSizeGreaterThan') return { filterForm: 'sizeGreaterThan', prefix: '', tags: [], ...sizes(filter) };
  if (part === 'ObjectSizeLessThan') return { filterForm: 'sizeLessThan', prefix: '', tags: [], ...sizes(filter) };
  const and = child(filter, 'And') === '' ? {} : asNode(child(filter, 'And'), 'And');
  const prefixValue = child(and, 'Prefix');
  return { filterForm: 'and', prefix: prefixValue === undefined ? '' : document.text(prefixValue, 'Prefix'), tags: validateTags(tagsOf(and), 'object'), ...sizes(and) };
}

/** Object Lock documents (configuration, retention, legal hold) are a few hundred bytes. */
export const objectLockBodyBytesMax = 4 * 1024;

/**
 * PutObjectLockConfiguration: ObjectLockEnabled must be Enabled; an optional Rule with a
 * DefaultRetention of Mode GOVERNANCE or COMPLIANCE and exactly one of Days and Years (> 0).
 */
export function parseObjectLockConfiguration(body: Buffer): DefaultRetention | undefined {
  const root = asNode(child(parseDocument(body, objectLockBodyBytesMax).root, 'ObjectLockConfiguration'), 'ObjectLockConfiguration');
  const enabled = child(root, 'ObjectLockEnabled');
  if (enabled === undefined || asText(enabled, 'ObjectLockEnabled').trim() !== 'Enabled') throw malformed('ObjectLockEnabled must be Enabled');
  const rules = asArray(child(root, 'Rule'));
  if (rules.length > 1) throw malformed('an ObjectLockConfiguration has at most one Rule');
  const [rule] = rules;
  if (rule === undefined) return undefined;
  const retention = asNode(child(asNode(rule, 'Rule'), 'DefaultRetention'), 'DefaultRetention');
  const modeValue = child(retention, 'Mode');
  if (modeValue === undefined) throw malformed('DefaultRetention needs a Mode');
  const mode = asText(modeValue, 'Mode').trim();
  if (mode !== 'GOVERNANCE' && mode !== 'COMPLIANCE') throw malformed('Mode must be GOVERNANCE or COMPLIANCE');
  const daysValue = child(retention, 'Days');
  const yearsValue = child(retention, 'Years');
  if ((daysValue === undefined) === (yearsValue === undefined)) throw malformed('DefaultRetention needs exactly one of Days and Years');
  const text = asText(daysValue ?? yearsValue, daysValue === undefined ? 'Years' : 'Days').trim();
  const period = /^-?[0-9]+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(period) || period < 1) throw new S3Error('InvalidArgument', { message: 'Default retention period must be a positive integer value.' });
  return daysValue === undefined ? { mode, years: period } : { mode, days: period };
}

/** PutObjectRetention: Mode and RetainUntilDate together, or neither (removing the retention). */
export function parseRetention(body: Buffer, nowMs: number): { mode: LockMode; retainUntilMs: number } | null {
  const root = child(parseDocument(body, objectLockBodyBytesMax).root, 'Retention');
  if (root === undefined) throw malformed('Retention is required');
  const node = root === '' ? {} : asNode(root, 'Retention');
  const modeValue = child(node, 'Mode');
  const untilValue = child(node, 'RetainUntilDate');
  if (modeValue === undefined && untilValue === undefined) return null;
  if (modeValue === undefined || untilValue === undefined) throw malformed('Retention needs both Mode and RetainUntilDate');
  // In the document a Mode other than GOVERNANCE or COMPLIANCE is MalformedXML, as S3 answers
  // (the x-amz-object-lock-mode header's is InvalidArgument).
  const mode = asText(modeValue, 'Mode').trim();
  if (mode !== 'GOVERNANCE' && mode !== 'COMPLIANCE') throw malformed('Mode must be GOVERNANCE or COMPLIANCE');
  return { mode, retainUntilMs: parseRetainUntil(asText(untilValue, 'RetainUntilDate').trim(), nowMs, 'RetainUntilDate') };
}

/** PutObjectLegalHold: Status ON or OFF. */
export function parseLegalHold(body: Buffer): boolean {
  const root = asNode(child(parseDocument(body, objectLockBodyBytesMax).root, 'LegalHold'), 'LegalHold');
  const status = child(root, 'Status');
  if (status === undefined) throw malformed('LegalHold needs a Status');
  const text = asText(status, 'Status').trim();
  if (text !== 'ON' && text !== 'OFF') throw malformed('Status must be ON or OFF');
  return text === 'ON';
}

/** A ServerSideEncryptionConfiguration document is a few hundred bytes. */
export const encryptionConfigurationBodyBytesMax = 4 * 1024;

/**
 * PutBucketEncryption's document: one Rule whose ApplyServerSideEncryptionByDefault names
 * SSEAlgorithm AES256 (aws:kms and aws:kms:dsse are NotImplemented). BucketKeyEnabled is
 * accepted and has no effect (bucket keys only change how often KMS is called).
 */
export function parseEncryptionConfiguration(body: Buffer): 'AES256' {
  const document = parseDocument(body, encryptionConfigurationBodyBytesMax);
  const root = asNode(child(document.root, 'ServerSideEncryptionConfiguration'), 'ServerSideEncryptionConfiguration');
  const rules = asArray(child(root, 'Rule'));
  if (rules.length !== 1) throw malformed('ServerSideEncryptionConfiguration needs exactly one Rule');
  const rule = asNode(rules[0], 'Rule');
  const bucketKey = child(rule, 'BucketKeyEnabled');
  if (bucketKey !== undefined && !['true', 'false'].includes(asText(bucketKey, 'BucketKeyEnabled').trim())) throw malformed('BucketKeyEnabled must be true or false');
  const byDefault = asNode(child(rule, 'ApplyServerSideEncryptionByDefault'), 'ApplyServerSideEncryptionByDefault');
  const algorithm = asText(child(byDefault, 'SSEAlgorithm'), 'SSEAlgorithm').trim();
  if (algorithm === 'aws:kms' || algorithm === 'aws:kms:dsse') {
    throw new S3Error('NotImplemented', { message: 'Server-side encryption with KMS keys (SSE-KMS) is not implemented by Tessera; use SSEAlgorithm AES256.' });
  }
  if (algorithm !== 'AES256') throw malformed('SSEAlgorithm must be AES256');
  if (child(byDefault, 'KMSMasterKeyID') !== undefined) {
    throw new S3Error('InvalidArgument', { message: 'a KMSMasterKeyID is not applicable if the default sse algorithm is not aws:kms or aws:kms:dsse' });
  }
  return algorithm;
}

/** An OwnershipControls document is a few hundred bytes. */
export const ownershipControlsBodyBytesMax = 4 * 1024;

/**
 * An ObjectOwnership value (ownership controls, CreateBucket's x-amz-object-ownership, a stored
 * bucket record); undefined when it is none of S3's three.
 */
export function objectOwnershipOf(value: string): ObjectOwnership | undefined {
  const ownership = value.trim();
  return ownership === 'BucketOwnerEnforced' || ownership === 'BucketOwnerPreferred' || ownership === 'ObjectWriter' ? ownership : undefined;
}

/** PutBucketOwnershipControls' document: one Rule with ObjectOwnership (objectOwnershipOf). */
export function parseOwnershipControls(body: Buffer): ObjectOwnership {
  const root = asNode(child(parseDocument(body, ownershipControlsBodyBytesMax).root, 'OwnershipControls'), 'OwnershipControls');
  const rules = asArray(child(root, 'Rule'));
  if (rules.length !== 1) throw malformed('OwnershipControls needs exactly one Rule');
  const ownership = objectOwnershipOf(asText(child(asNode(rules[0], 'Rule'), 'ObjectOwnership'), 'ObjectOwnership'));
  if (ownership === undefined) throw malformed('ObjectOwnership must be BucketOwnerEnforced, BucketOwnerPreferred or ObjectWriter');
  return ownership;
}

/** A PublicAccessBlockConfiguration document is a few hundred bytes. */
export const publicAccessBlockBodyBytesMax = 4 * 1024;

/** PutPublicAccessBlock's document: each of the four settings true or false, absent = false. */
export function parsePublicAccessBlockConfiguration(body: Buffer): PublicAccessBlock {
  const root = asNode(child(parseDocument(body, publicAccessBlockBodyBytesMax).root, 'PublicAccessBlockConfiguration'), 'PublicAccessBlockConfiguration');
  const flag = (name: string): boolean => {
    const value = child(root, name);
    if (value === undefined) return false;
    const text = asText(value, name).trim();
    if (text !== 'true' && text !== 'false') throw malformed(`${name} must be true or false`);
    return text === 'true';
  };
  return {
    blockPublicAcls: flag('BlockPublicAcls'),
    ignorePublicAcls: flag('IgnorePublicAcls'),
    blockPublicPolicy: flag('BlockPublicPolicy'),
    restrictPublicBuckets: flag('RestrictPublicBuckets'),
  };
}

/** A VersioningConfiguration document is a few hundred bytes. */
export const versioningConfigurationBodyBytesMax = 4 * 1024;

/**
 * PutBucketVersioning's document: Status Enabled or Suspended (absent: no change, as S3
 * treats it). MfaDelete Enabled needs MFA devices, which Tessera does not have.
 */
export function parseVersioningConfiguration(body: Buffer): 'Enabled' | 'Suspended' | undefined {
  const root = child(parseDocument(body, versioningConfigurationBodyBytesMax).root, 'VersioningConfiguration');
  if (root === undefined) throw malformed('VersioningConfiguration is required');
  if (root === '') return undefined;
  const node = asNode(root, 'VersioningConfiguration');
  const mfaDelete = child(node, 'MfaDelete');
  if (mfaDelete !== undefined && asText(mfaDelete, 'MfaDelete').trim() === 'Enabled') {
    throw new S3Error('NotImplemented', { message: 'MFA delete is not implemented by Tessera.' });
  }
  if (mfaDelete !== undefined && asText(mfaDelete, 'MfaDelete').trim() !== 'Disabled') throw malformed('MfaDelete must be Enabled or Disabled');
  const status = child(node, 'Status');
  if (status === undefined) return undefined;
  const text = asText(status, 'Status').trim();
  if (text !== 'Enabled' && text !== 'Suspended') throw malformed('Status must be Enabled or Suspended');
  return text;
}

/** S3's limit on a CORS configuration document. */
export const corsConfigurationBodyBytesMax = 64 * 1024;

/** The CORSConfiguration document of PutBucketCors, validated as S3 does (see cors.ts). */
export function parseCorsConfiguration(body: Buffer): readonly CorsRule[] {
  const document = parseDocument(body, corsConfigurationBodyBytesMax);
  const root = child(document.root, 'CORSConfiguration');
  if (root === '' || root === undefined) throw malformed('at least one CORSRule is required');
  const rules = asArray(child(asNode(root, 'CORSConfiguration'), 'CORSRule'));
  const texts = (node: XmlNode, name: string): string[] => asArray(child(node, name)).map((value) => document.text(value, name).trim());
  return validateCorsConfiguration(rules.map((value, index) => {
    const rule = asNode(value, `CORSRule ${index + 1}`);
    const id = child(rule, 'ID');
    const maxAge = child(rule, 'MaxAgeSeconds');
    let maxAgeSeconds: number | undefined;
    if (maxAge !== undefined) {
      const text = document.text(maxAge, 'MaxAgeSeconds').trim();
      if (!/^\d{1,10}$/.test(text) || Number(text) > 0xffffffff) throw malformed('MaxAgeSeconds must be a non-negative integer');
      maxAgeSeconds = Number(text);
    }
    return {
      ...(id === undefined ? {} : { id: document.text(id, 'ID') }),
      allowedOrigins: texts(rule, 'AllowedOrigin'),
      allowedMethods: texts(rule, 'AllowedMethod'),
      allowedHeaders: texts(rule, 'AllowedHeader'),
      exposeHeaders: texts(rule, 'ExposeHeader'),
      ...(maxAgeSeconds === undefined ? {} : { maxAgeSeconds }),
    };
  }));
}

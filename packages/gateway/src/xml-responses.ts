/**
 * XML bodies of every S3 response the gateway sends, in the S3 2006-03-01 namespace, with the
 * element order of the S3 API reference. With encoding-type=url, keys, prefixes, delimiters and
 * markers are URL-encoded (slashes kept) so that keys with characters XML 1.0 cannot carry
 * survive the trip.
 */
import type { LifecycleRule } from '@tessera/rpc';
import type { AclGrant } from './access-control';
import type { BucketInfo, DefaultRetention, ListEntry, MultipartUploadInfo, ObjectInfo, ObjectOwnership, PartInfo, PublicAccessBlock, UploadListEntry, VersionListEntry } from './backend';
import { checksumAlgorithms, checksumTypeOf } from './checksums';
import type { ChecksumType, ChecksumValues } from './checksums';
import type { CorsRule } from './cors';
import type { Tag } from './object-tags';
import type { EncodingType } from './s3-operation';
import { uriEncode } from './uri';
import { xmlDocument, xmlElement, xmlText } from './xml';

export interface Owner {
  readonly id: string;
  readonly displayName: string;
}

/**
 * S3 writes XML timestamps at whole-second resolution (`2009-10-12T17:50:30.000Z`), matching
 * the HTTP Last-Modified header; clients compare the two (a listing entry against HEAD), so the
 * milliseconds the backend keeps are dropped here.
 */
export function isoDate(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString();
}

function encodeName(value: string | undefined, encodingType: EncodingType): string | undefined {
  if (value === undefined || encodingType === undefined) return value;
  return uriEncode(value, true);
}

function ownerXml(owner: Owner, elementName = 'Owner'): string {
  return xmlElement(elementName, xmlText('ID', owner.id), xmlText('DisplayName', owner.displayName));
}

function checksumElements(checksums: ChecksumValues): string[] {
  return checksumAlgorithms.map((algorithm) => xmlText(`Checksum${algorithm}`, checksums[algorithm]));
}

export function listAllMyBucketsXml(
  owner: Owner,
  buckets: readonly BucketInfo[],
  page: { readonly region: string; readonly continuationToken: string | undefined; readonly prefix: string | undefined },
): string {
  const entries = buckets.map((bucket) =>
    xmlElement('Bucket', xmlText('Name', bucket.name), xmlText('CreationDate', isoDate(bucket.createdAtMs)), xmlText('BucketRegion', page.region)),
  );
  return xmlDocument(
    'ListAllMyBucketsResult',
    xmlElement('Buckets', ...entries),
    ownerXml(owner),
    xmlText('ContinuationToken', page.continuationToken),
    xmlText('Prefix', page.prefix),
  );
}

/** Who a listing names as an object's owner (bucket-access.ts listingOwners). */
export type ObjectOwnerOf = (object: ObjectInfo) => Owner;

/** A listed object's or version's checksum algorithms and checksum type (none when it has no checksum). */
function listedChecksumXml(object: ObjectInfo): string[] {
  const type = checksumTypeOf(object.checksums);
  if (type === undefined) return [];
  const algorithms = checksumAlgorithms.filter((algorithm) => object.checksums[algorithm] !== undefined);
  return [...algorithms.map((algorithm) => xmlText('ChecksumAlgorithm', algorithm)), xmlText('ChecksumType', type)];
}

function objectEntryXml(object: ObjectInfo, encodingType: EncodingType, ownerOf: ObjectOwnerOf | undefined): string {
  return xmlElement(
    'Contents',
    xmlText('Key', encodeName(object.key, encodingType)),
    xmlText('LastModified', isoDate(object.lastModifiedMs)),
    xmlText('ETag', `"${object.etag}"`),
    ...listedChecksumXml(object),
    xmlText('Size', object.sizeBytes),
    ownerOf === undefined ? '' : ownerXml(ownerOf(object)),
    xmlText('StorageClass', 'STANDARD'),
  );
}

function listEntriesXml(entries: readonly ListEntry[], encodingType: EncodingType, ownerOf: ObjectOwnerOf | undefined): string[] {
  const contents = entries.flatMap((entry) => (entry.kind === 'object' ? [objectEntryXml(entry.object, encodingType, ownerOf)] : []));
  const prefixes = entries.flatMap((entry) => (entry.kind === 'prefix' ? [xmlElement('CommonPrefixes', xmlText('Prefix', encodeName(entry.prefix, encodingType)))] : []));
  return [...contents, ...prefixes];
}

export interface ListV2XmlInput {
  readonly bucket: string;
  readonly prefix: string;
  readonly delimiter: string | undefined;
  readonly maxKeys: number;
  readonly encodingType: EncodingType;
  readonly continuationToken: string | undefined;
  readonly nextContinuationToken: string | undefined;
  readonly startAfter: string | undefined;
  readonly entries: readonly ListEntry[];
  readonly isTruncated: boolean;
  /** Present when fetch-owner=true. */
  readonly ownerOf: ObjectOwnerOf | undefined;
}

export function listObjectsV2Xml(input: ListV2XmlInput): string {
  return xmlDocument(
    'ListBucketResult',
    xmlText('Name', input.bucket),
    xmlText('Prefix', encodeName(input.prefix, input.encodingType)),
    xmlText('Delimiter', encodeName(input.delimiter, input.encodingType)),
    xmlText('MaxKeys', input.maxKeys),
    xmlText('EncodingType', input.encodingType),
    xmlText('KeyCount', input.entries.length),
    xmlText('ContinuationToken', input.continuationToken),
    xmlText('NextContinuationToken', input.nextContinuationToken),
    xmlText('StartAfter', encodeName(input.startAfter, input.encodingType)),
    xmlText('IsTruncated', input.isTruncated),
    ...listEntriesXml(input.entries, input.encodingType, input.ownerOf),
  );
}

export interface ListV1XmlInput {
  readonly bucket: string;
  readonly prefix: string;
  readonly delimiter: string | undefined;
  readonly maxKeys: number;
  readonly encodingType: EncodingType;
  readonly marker: string | undefined;
  /** S3 sends NextMarker only when a delimiter was given and the page is truncated. */
  readonly nextMarker: string | undefined;
  readonly entries: readonly ListEntry[];
  readonly isTruncated: boolean;
  readonly ownerOf: ObjectOwnerOf;
}

export function listObjectsV1Xml(input: ListV1XmlInput): string {
  return xmlDocument(
    'ListBucketResult',
    xmlText('Name', input.bucket),
    // Unlike v2, v1 returns Prefix as sent even with encoding-type=url: S3 does, and boto3
    // decodes only Delimiter, Marker, NextMarker and the entries of a v1 page.
    xmlText('Prefix', input.prefix),
    xmlText('Marker', encodeName(input.marker ?? '', input.encodingType)),
    xmlText('NextMarker', encodeName(input.nextMarker, input.encodingType)),
    xmlText('MaxKeys', input.maxKeys),
    xmlText('Delimiter', encodeName(input.delimiter, input.encodingType)),
    xmlText('EncodingType', input.encodingType),
    xmlText('IsTruncated', input.isTruncated),
    ...listEntriesXml(input.entries, input.encodingType, input.ownerOf),
  );
}

export function initiateMultipartUploadXml(bucket: string, key: string, uploadId: string): string {
  return xmlDocument('InitiateMultipartUploadResult', xmlText('Bucket', bucket), xmlText('Key', key), xmlText('UploadId', uploadId));
}

export function completeMultipartUploadXml(location: string, bucket: string, key: string, etag: string, checksums: ChecksumValues, checksumType: ChecksumType | undefined): string {
  return xmlDocument(
    'CompleteMultipartUploadResult',
    xmlText('Location', location),
    xmlText('Bucket', bucket),
    xmlText('Key', key),
    xmlText('ETag', `"${etag}"`),
    ...checksumElements(checksums),
    xmlText('ChecksumType', checksumType),
  );
}

export interface ListPartsXmlInput {
  readonly upload: MultipartUploadInfo;
  readonly parts: readonly PartInfo[];
  readonly partNumberMarker: number;
  readonly maxParts: number;
  readonly isTruncated: boolean;
  readonly owner: Owner;
  readonly encodingType: EncodingType;
}

/** An access key shown as an owner: its id is both ID and DisplayName (keys have no other name in S3 answers). */
export function ownerOfKey(accessKeyId: string): Owner {
  return { id: accessKeyId, displayName: accessKeyId };
}

/** Who an upload's Initiator and Owner are: the key that created it, else (not recorded) the bucket's owner. */
function initiatorOf(upload: MultipartUploadInfo, bucketOwner: Owner): Owner {
  return upload.initiator === undefined ? bucketOwner : ownerOfKey(upload.initiator);
}

export function listPartsXml(input: ListPartsXmlInput): string {
  const last = input.parts[input.parts.length - 1];
  const parts = input.parts.map((part) =>
    xmlElement(
      'Part',
      xmlText('PartNumber', part.partNumber),
      xmlText('LastModified', isoDate(part.lastModifiedMs)),
      xmlText('ETag', `"${part.etag}"`),
      ...checksumElements(part.checksums),
      xmlText('Size', part.sizeBytes),
    ),
  );
  return xmlDocument(
    'ListPartsResult',
    xmlText('Bucket', input.upload.bucket),
    xmlText('Key', encodeName(input.upload.key, input.encodingType)),
    xmlText('UploadId', input.upload.uploadId),
    ownerXml(initiatorOf(input.upload, input.owner), 'Initiator'),
    ownerXml(initiatorOf(input.upload, input.owner)),
    xmlText('StorageClass', 'STANDARD'),
    xmlText('PartNumberMarker', input.partNumberMarker),
    xmlText('NextPartNumberMarker', last?.partNumber ?? input.partNumberMarker),
    xmlText('MaxParts', input.maxParts),
    xmlText('IsTruncated', input.isTruncated),
    xmlText('ChecksumAlgorithm', input.upload.checksumAlgorithm),
    xmlText('ChecksumType', input.upload.checksumType),
    xmlText('EncodingType', input.encodingType),
    ...parts,
  );
}

export interface ListUploadsXmlInput {
  readonly bucket: string;
  readonly prefix: string;
  readonly delimiter: string | undefined;
  readonly keyMarker: string | undefined;
  readonly uploadIdMarker: string | undefined;
  readonly maxUploads: number;
  readonly encodingType: EncodingType;
  readonly entries: readonly UploadListEntry[];
  readonly isTruncated: boolean;
  readonly owner: Owner;
}

export function listMultipartUploadsXml(input: ListUploadsXmlInput): string {
  const last = input.entries[input.entries.length - 1];
  const nextKeyMarker = last === undefined ? undefined : last.kind === 'upload' ? last.upload.key : last.prefix;
  const nextUploadIdMarker = last?.kind === 'upload' ? last.upload.uploadId : undefined;
  const uploads = input.entries.flatMap((entry) =>
    entry.kind === 'upload'
      ? [
          xmlElement(
            'Upload',
            xmlText('Key', encodeName(entry.upload.key, input.encodingType)),
            xmlText('UploadId', entry.upload.uploadId),
            ownerXml(initiatorOf(entry.upload, input.owner), 'Initiator'),
            ownerXml(initiatorOf(entry.upload, input.owner)),
            xmlText('StorageClass', 'STANDARD'),
            xmlText('Initiated', isoDate(entry.upload.initiatedAtMs)),
            xmlText('ChecksumAlgorithm', entry.upload.checksumAlgorithm),
            xmlText('ChecksumType', entry.upload.checksumType),
          ),
        ]
      : [],
  );
  const prefixes = input.entries.flatMap((entry) => (entry.kind === 'prefix' ? [xmlElement('CommonPrefixes', xmlText('Prefix', encodeName(entry.prefix, input.encodingType)))] : []));
  return xmlDocument(
    'ListMultipartUploadsResult',
    xmlText('Bucket', input.bucket),
    xmlText('KeyMarker', encodeName(input.keyMarker ?? '', input.encodingType)),
    xmlText('UploadIdMarker', input.uploadIdMarker ?? ''),
    xmlText('NextKeyMarker', input.isTruncated ? encodeName(nextKeyMarker, input.encodingType) : undefined),
    xmlText('NextUploadIdMarker', input.isTruncated ? nextUploadIdMarker : undefined),
    xmlText('Prefix', encodeName(input.prefix, input.encodingType)),
    xmlText('Delimiter', encodeName(input.delimiter, input.encodingType)),
    xmlText('MaxUploads', input.maxUploads),
    xmlText('EncodingType', input.encodingType),
    xmlText('IsTruncated', input.isTruncated),
    ...uploads,
    ...prefixes,
  );
}

export function copyObjectResultXml(etag: string, lastModifiedMs: number, checksums: ChecksumValues): string {
  return xmlDocument('CopyObjectResult', xmlText('ETag', `"${etag}"`), xmlText('LastModified', isoDate(lastModifiedMs)), ...checksumElements(checksums));
}

export function copyPartResultXml(etag: string, lastModifiedMs: number, checksums: ChecksumValues): string {
  return xmlDocument('CopyPartResult', xmlText('ETag', `"${etag}"`), xmlText('LastModified', isoDate(lastModifiedMs)), ...checksumElements(checksums));
}

/**
 * One key of DeleteObjects. `versionId`: the version the request named. `deleteMarkerVersionId`:
 * the delete marker created, or the one deleted (then equal to versionId).
 */
export type DeleteOutcome =
  | { readonly kind: 'deleted'; readonly key: string; readonly versionId: string | undefined; readonly deleteMarkerVersionId: string | undefined }
  | { readonly kind: 'error'; readonly key: string; readonly versionId: string | undefined; readonly code: string; readonly message: string };

/** In quiet mode only errors are listed (S3 DeleteObjects). */
export function deleteResultXml(outcomes: readonly DeleteOutcome[], quiet: boolean): string {
  const versionIdXml = (versionId: string | undefined): string[] => (versionId === undefined ? [] : [xmlText('VersionId', versionId)]);
  const deleted = quiet ? [] : outcomes.flatMap((o) => (o.kind === 'deleted'
    ? [xmlElement(
        'Deleted', xmlText('Key', o.key), ...versionIdXml(o.versionId),
        ...(o.deleteMarkerVersionId === undefined ? [] : [xmlText('DeleteMarker', 'true'), xmlText('DeleteMarkerVersionId', o.deleteMarkerVersionId)]),
      )]
    : []));
  const errors = outcomes.flatMap((o) => (o.kind === 'error'
    ? [xmlElement('Error', xmlText('Key', o.key), ...versionIdXml(o.versionId), xmlText('Code', o.code), xmlText('Message', o.message))]
    : []));
  return xmlDocument('DeleteResult', ...deleted, ...errors);
}

/** S3 answers an empty LocationConstraint for us-east-1 and the region name otherwise. */
export function locationConstraintXml(region: string): string {
  return xmlDocument('LocationConstraint').replace('></LocationConstraint>', `>${region === 'us-east-1' ? '' : region}</LocationConstraint>`);
}

/** GetBucketVersioning: no Status for a bucket that never had versioning. */
/** GetBucketEncryption's answer for a bucket with default encryption. */
export function encryptionConfigurationXml(algorithm: 'AES256'): string {
  return xmlDocument(
    'ServerSideEncryptionConfiguration',
    xmlElement('Rule', xmlElement('ApplyServerSideEncryptionByDefault', xmlText('SSEAlgorithm', algorithm)), xmlText('BucketKeyEnabled', false)),
  );
}

export function ownershipControlsXml(objectOwnership: ObjectOwnership): string {
  return xmlDocument('OwnershipControls', xmlElement('Rule', xmlText('ObjectOwnership', objectOwnership)));
}

export function publicAccessBlockXml(configuration: PublicAccessBlock): string {
  return xmlDocument(
    'PublicAccessBlockConfiguration',
    xmlText('BlockPublicAcls', configuration.blockPublicAcls),
    xmlText('IgnorePublicAcls', configuration.ignorePublicAcls),
    xmlText('BlockPublicPolicy', configuration.blockPublicPolicy),
    xmlText('RestrictPublicBuckets', configuration.restrictPublicBuckets),
  );
}

export function versioningConfigurationXml(status: 'Enabled' | 'Suspended' | undefined): string {
  return status === undefined ? xmlDocument('VersioningConfiguration') : xmlDocument('VersioningConfiguration', xmlText('Status', status));
}

/** GetBucketAcl / GetObjectAcl: the owner, and the grants in order (access-control.ts bucketAclOf, objectAclOf). */
export function accessControlPolicyXml(owner: Owner, grants: readonly AclGrant[]): string {
  const grantXml = (id: string, permission: string): string => xmlElement(
    'Grant',
    `<Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser">${xmlText('ID', id)}${xmlText('DisplayName', id === owner.id ? owner.displayName : id)}</Grantee>`,
    xmlText('Permission', permission),
  );
  return xmlDocument('AccessControlPolicy', ownerXml(owner), xmlElement('AccessControlList', ...grants.map((grant) => grantXml(grant.accessKeyId, grant.permission))));
}

export function taggingXml(tags: readonly Tag[]): string {
  return xmlDocument('Tagging', xmlElement('TagSet', ...tags.map((tag) => xmlElement('Tag', xmlText('Key', tag.key), xmlText('Value', tag.value)))));
}

/** GetBucketCors: the rules as stored, elements in the S3 API reference order. */
export function corsConfigurationXml(rules: readonly CorsRule[]): string {
  return xmlDocument('CORSConfiguration', ...rules.map((rule) => xmlElement(
    'CORSRule',
    ...(rule.id === undefined ? [] : [xmlText('ID', rule.id)]),
    ...rule.allowedHeaders.map((header) => xmlText('AllowedHeader', header)),
    ...rule.allowedMethods.map((method) => xmlText('AllowedMethod', method)),
    ...rule.allowedOrigins.map((origin) => xmlText('AllowedOrigin', origin)),
    ...rule.exposeHeaders.map((header) => xmlText('ExposeHeader', header)),
    ...(rule.maxAgeSeconds === undefined ? [] : [xmlText('MaxAgeSeconds', rule.maxAgeSeconds)]),
  )));
}

/** GetObjectLockConfiguration: enabled, with the default retention if any. */
export function objectLockConfigurationXml(defaultRetention: DefaultRetention | undefined): string {
  const period = defaultRetention?.days !== undefined ? xmlText('Days', defaultRetention.days) : xmlText('Years', defaultRetention?.years ?? 0);
  return xmlDocument(
    'ObjectLockConfiguration',
    xmlText('ObjectLockEnabled', 'Enabled'),
    ...(defaultRetention === undefined ? [] : [xmlElement('Rule', xmlElement('DefaultRetention', xmlText('Mode', defaultRetention.mode), period))]),
  );
}

export function retentionXml(mode: string, retainUntilMs: number): string {
  return xmlDocument('Retention', xmlText('Mode', mode), xmlText('RetainUntilDate', new Date(retainUntilMs).toISOString()));
}

export function legalHoldXml(on: boolean): string {
  return xmlDocument('LegalHold', xmlText('Status', on ? 'ON' : 'OFF'));
}

/** GetBucketLifecycleConfiguration: the rules as stored, each filter in the form it was given. */
export function lifecycleConfigurationXml(rules: readonly LifecycleRule[]): string {
  return xmlDocument('LifecycleConfiguration', ...rules.map((rule) => {
    const expiration = rule.expirationDays !== undefined ? [xmlText('Days', rule.expirationDays)]
      : rule.expirationDateMs !== undefined ? [xmlText('Date', new Date(rule.expirationDateMs).toISOString())]
      : rule.expiredObjectDeleteMarker === true ? [xmlText('ExpiredObjectDeleteMarker', 'true')] : [];
    return xmlElement(
      'Rule',
      ...(expiration.length === 0 ? [] : [xmlElement('Expiration', ...expiration)]),
      ...(rule.id === undefined ? [] : [xmlText('ID', rule.id)]),
      lifecycleFilterXml(rule),
      xmlText('Status', rule.enabled ? 'Enabled' : 'Disabled'),
      ...(rule.noncurrentDays === undefined ? [] : [xmlElement(
        'NoncurrentVersionExpiration', xmlText('NoncurrentDays', rule.noncurrentDays),
        ...(rule.newerNoncurrentVersions === undefined ? [] : [xmlText('NewerNoncurrentVersions', rule.newerNoncurrentVersions)]),
      )]),
      ...(rule.abortIncompleteUploadDays === undefined ? [] : [xmlElement('AbortIncompleteMultipartUpload', xmlText('DaysAfterInitiation', rule.abortIncompleteUploadDays))]),
    );
  }));
}

function lifecycleFilterXml(rule: LifecycleRule): string {
  const tags = rule.tags.map((tag) => xmlElement('Tag', xmlText('Key', tag.key), xmlText('Value', tag.value)));
  const sizes = [
    ...(rule.objectSizeGreaterThanBytes === undefined ? [] : [xmlText('ObjectSizeGreaterThan', rule.objectSizeGreaterThanBytes)]),
    ...(rule.objectSizeLessThanBytes === undefined ? [] : [xmlText('ObjectSizeLessThan', rule.objectSizeLessThanBytes)]),
  ];
  switch (rule.filterForm) {
    case 'legacyPrefix':
      return xmlText('Prefix', rule.prefix);
    case 'empty':
      return xmlElement('Filter');
    case 'prefix':
      return xmlElement('Filter', xmlText('Prefix', rule.prefix));
    case 'tag':
      return xmlElement('Filter', ...tags);
    case 'sizeGreaterThan':
    case 'sizeLessThan':
      return xmlElement('Filter', ...sizes);
    case 'and':
      return xmlElement('Filter', xmlElement('And', ...(rule.prefix === '' ? [] : [xmlText('Prefix', rule.prefix)]), ...tags, ...sizes));
  }
}

export const objectAttributeNames = ['ETag', 'Checksum', 'ObjectParts', 'StorageClass', 'ObjectSize'] as const;
export type ObjectAttributeName = (typeof objectAttributeNames)[number];

/** GetObjectAttributesResponse; elements in the S3 API reference order. */
export function getObjectAttributesXml(
  object: ObjectInfo,
  attributes: ReadonlySet<ObjectAttributeName>,
  parts: { readonly maxParts: number; readonly partNumberMarker: number },
): string {
  const checksumType = checksumTypeOf(object.checksums);
  const checksum = attributes.has('Checksum') && checksumType !== undefined
    ? xmlElement('Checksum', ...checksumElements(object.checksums), xmlText('ChecksumType', checksumType))
    : '';
  let objectParts = '';
  if (attributes.has('ObjectParts') && object.partSizesBytes !== undefined) {
    const all = object.partSizesBytes.map((sizeBytes, index) => ({ partNumber: index + 1, sizeBytes, checksums: object.partChecksums?.[index] ?? {} }));
    const after = all.filter((part) => part.partNumber > parts.partNumberMarker);
    const page = after.slice(0, parts.maxParts);
    const isTruncated = after.length > page.length;
    objectParts = xmlElement(
      'ObjectParts',
      xmlText('IsTruncated', isTruncated),
      xmlText('MaxParts', parts.maxParts),
      xmlText('NextPartNumberMarker', isTruncated ? page[page.length - 1]?.partNumber : undefined),
      xmlText('PartNumberMarker', parts.partNumberMarker),
      ...page.map((part) => xmlElement('Part', ...checksumElements(part.checksums), xmlText('PartNumber', part.partNumber), xmlText('Size', part.sizeBytes))),
      xmlText('PartsCount', all.length),
    );
  }
  return xmlDocument(
    'GetObjectAttributesResponse',
    attributes.has('ETag') ? xmlText('ETag', object.etag) : '',
    checksum,
    objectParts,
    attributes.has('StorageClass') ? xmlText('StorageClass', 'STANDARD') : '',
    attributes.has('ObjectSize') ? xmlText('ObjectSize', object.sizeBytes) : '',
  );
}

export interface ListVersionsXmlInput {
  readonly bucket: string;
  readonly prefix: string;
  readonly delimiter: string | undefined;
  readonly maxKeys: number;
  readonly encodingType: EncodingType;
  readonly keyMarker: string | undefined;
  readonly versionIdMarker: string | undefined;
  readonly nextKeyMarker: string | undefined;
  readonly nextVersionIdMarker: string | undefined;
  readonly entries: readonly VersionListEntry[];
  readonly isTruncated: boolean;
  /** The owner of delete markers (the bucket's; their writer is not recorded). */
  readonly owner: Owner;
  readonly ownerOf: ObjectOwnerOf;
}

/** ListVersionsResult: Version and DeleteMarker elements in listing order, then common prefixes. */
export function listVersionsXml(input: ListVersionsXmlInput): string {
  const versions = input.entries.flatMap((entry) => {
    if (entry.kind === 'version') {
      return [
        xmlElement(
          'Version',
          xmlText('Key', encodeName(entry.object.key, input.encodingType)),
          xmlText('VersionId', entry.object.versionId ?? 'null'),
          xmlText('IsLatest', entry.isLatest),
          xmlText('LastModified', isoDate(entry.object.lastModifiedMs)),
          xmlText('ETag', `"${entry.object.etag}"`),
          ...listedChecksumXml(entry.object),
          xmlText('Size', entry.object.sizeBytes),
          ownerXml(input.ownerOf(entry.object)),
          xmlText('StorageClass', 'STANDARD'),
        ),
      ];
    }
    if (entry.kind === 'deleteMarker') {
      return [
        xmlElement(
          'DeleteMarker',
          xmlText('Key', encodeName(entry.key, input.encodingType)),
          xmlText('VersionId', entry.versionId),
          xmlText('IsLatest', entry.isLatest),
          xmlText('LastModified', isoDate(entry.lastModifiedMs)),
          ownerXml(input.owner),
        ),
      ];
    }
    return [];
  });
  const prefixes = input.entries.flatMap((entry) => (entry.kind === 'prefix' ? [xmlElement('CommonPrefixes', xmlText('Prefix', encodeName(entry.prefix, input.encodingType)))] : []));
  return xmlDocument(
    'ListVersionsResult',
    xmlText('Name', input.bucket),
    xmlText('Prefix', encodeName(input.prefix, input.encodingType)),
    xmlText('KeyMarker', encodeName(input.keyMarker ?? '', input.encodingType)),
    xmlText('VersionIdMarker', input.versionIdMarker ?? ''),
    xmlText('NextKeyMarker', encodeName(input.nextKeyMarker, input.encodingType)),
    xmlText('NextVersionIdMarker', input.nextVersionIdMarker),
    xmlText('MaxKeys', input.maxKeys),
    xmlText('Delimiter', encodeName(input.delimiter, input.encodingType)),
    xmlText('EncodingType', input.encodingType),
    xmlText('IsTruncated', input.isTruncated),
    ...versions,
    ...prefixes,
  );
}

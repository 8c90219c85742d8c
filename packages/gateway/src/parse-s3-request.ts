/**
 * The S3 router as a pure function (Garage's `Endpoint::from_request`): method, raw path, query
 * and headers in; one `S3Operation` out, or an `S3Error` thrown for requests S3 would refuse
 * before touching storage (bad bucket name, key too long, malformed URI, bad part number...).
 */
import { assertValidBucketName } from './bucket-name';
import { S3Error } from './s3-errors';
import type {
  AbsentBucketConfiguration,
  CopySource,
  EncodingType,
  ListMultipartUploadsParams,
  ListObjectVersionsParams,
  ListObjectsV1Params,
  ListObjectsV2Params,
  ListPartsParams,
  S3Operation,
} from './s3-operation';
import { percentDecode } from './uri';
import type { QueryParameter } from './uri';

/** S3's limit on a key: 1024 bytes of UTF-8. */
export const keyLengthBytesMax = 1024;
/** Part numbers run from 1 to 10,000 (S3 multipart limits). */
export const partNumberMax = 10_000;
/** S3 caps every list page at 1000 entries whatever max-keys asks for. */
export const listPageEntryCountMax = 1000;

export interface S3RequestInput {
  readonly method: string;
  /** The request path exactly as sent, still percent-encoded, without the query string. */
  readonly path: string;
  readonly query: readonly QueryParameter[];
  /** Header values by lower-case name. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  /** The bucket named by the Host header (virtual-hosted style), if any. */
  readonly virtualHostBucket: string | undefined;
}

/**
 * Virtual-hosted style: `bucket.<base domain>[:port]` names the bucket. The longest matching
 * base domain wins, so with ['s3.localhost', 'localhost'] the host 'b.s3.localhost' is bucket
 * 'b', not 'b.s3'. A host equal to a base domain (or matching none) is path style.
 */
export function resolveVirtualHostBucket(host: string | undefined, baseDomains: readonly string[]): string | undefined {
  if (host === undefined) return undefined;
  const hostname = host.replace(/:\d+$/, '').toLowerCase();
  const sorted = [...baseDomains].sort((a, b) => b.length - a.length);
  for (const base of sorted) {
    const baseLower = base.toLowerCase();
    if (hostname === baseLower) return undefined;
    if (hostname.endsWith(`.${baseLower}`)) return hostname.slice(0, hostname.length - baseLower.length - 1);
  }
  return undefined;
}

class QueryView {
  private readonly byName = new Map<string, string>();
  constructor(parameters: readonly QueryParameter[]) {
    for (const parameter of parameters) if (!this.byName.has(parameter.name)) this.byName.set(parameter.name, parameter.value);
  }
  has(name: string): boolean {
    return this.byName.has(name);
  }
  get(name: string): string | undefined {
    return this.byName.get(name);
  }
}

function splitPath(input: S3RequestInput): { bucket: string | undefined; key: string | undefined } {
  const path = input.path;
  if (!path.startsWith('/')) throw new S3Error('InvalidURI');
  if (input.virtualHostBucket !== undefined) {
    const rawKey = path.slice(1);
    return { bucket: input.virtualHostBucket, key: rawKey === '' ? undefined : percentDecode(rawKey) };
  }
  const rest = path.slice(1);
  if (rest === '') return { bucket: undefined, key: undefined };
  const slashIndex = rest.indexOf('/');
  const rawBucket = slashIndex < 0 ? rest : rest.slice(0, slashIndex);
  const rawKey = slashIndex < 0 ? '' : rest.slice(slashIndex + 1);
  return { bucket: percentDecode(rawBucket), key: rawKey === '' ? undefined : percentDecode(rawKey) };
}

/** KeyTooLongError beyond 1024 UTF-8 bytes (also used for the key field of a browser-form upload). */
export function validateKey(key: string): void {
  const lengthBytes = Buffer.byteLength(key, 'utf8');
  if (lengthBytes > keyLengthBytesMax) {
    throw new S3Error('KeyTooLongError', { fields: { MaxSizeAllowed: String(keyLengthBytesMax), Size: String(lengthBytes) } });
  }
}

function parseInteger(value: string, name: string, min: number, max: number): number {
  if (!/^\d+$/.test(value)) throw new S3Error('InvalidArgument', { message: `${name} must be an integer.`, fields: { ArgumentName: name, ArgumentValue: value } });
  const parsed = Number(value);
  if (parsed < min || parsed > max) {
    throw new S3Error('InvalidArgument', {
      message: `${name} must be an integer between ${min} and ${max}.`,
      fields: { ArgumentName: name, ArgumentValue: value },
    });
  }
  return parsed;
}

function parsePartNumber(value: string): number {
  return parseInteger(value, 'partNumber', 1, partNumberMax);
}

function parseMaxCount(query: QueryView, name: string): number {
  const value = query.get(name);
  if (value === undefined || value === '') return listPageEntryCountMax;
  return Math.min(parseInteger(value, name, 0, Number.MAX_SAFE_INTEGER), listPageEntryCountMax);
}

function parseEncodingType(query: QueryView): EncodingType {
  const value = query.get('encoding-type');
  if (value === undefined) return undefined;
  if (value.toLowerCase() === 'url') return 'url';
  throw new S3Error('InvalidArgument', { message: 'Invalid Encoding Method specified in Request', fields: { ArgumentName: 'encoding-type', ArgumentValue: value } });
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

function parseUploadId(query: QueryView): string {
  const uploadId = query.get('uploadId');
  if (uploadId === undefined || uploadId === '') throw new S3Error('InvalidArgument', { message: 'uploadId must not be empty.' });
  return uploadId;
}

/** `x-amz-copy-source`: "[/]bucket/key[?versionId=...]", URL-encoded. */
export function parseCopySource(header: string): CopySource {
  const [rawPath = '', rawQuery] = header.split('?', 2);
  const trimmed = rawPath.startsWith('/') ? rawPath.slice(1) : rawPath;
  const slashIndex = trimmed.indexOf('/');
  if (slashIndex <= 0 || slashIndex === trimmed.length - 1) {
    throw new S3Error('InvalidArgument', { message: 'Copy Source must mention the source bucket and key: sourcebucket/sourcekey' });
  }
  const bucket = percentDecode(trimmed.slice(0, slashIndex));
  const key = percentDecode(trimmed.slice(slashIndex + 1));
  assertValidBucketName(bucket);
  validateKey(key);
  let versionId: string | undefined;
  if (rawQuery !== undefined) {
    const match = /^versionId=(.*)$/.exec(rawQuery);
    if (match === null) throw new S3Error('InvalidArgument', { message: 'Unsupported copy source parameter.' });
    versionId = percentDecode(match[1] ?? '');
    if (versionId === '') throw new S3Error('InvalidArgument', { message: 'Version id cannot be the empty string', fields: { ArgumentName: 'versionId', ArgumentValue: '' } });
  }
  return { bucket, key, versionId };
}

/** `?versionId=`: a version of the object instead of its current one ("null": the null version). */
function versionIdOf(query: QueryView): string | undefined {
  const versionId = query.get('versionId');
  if (versionId === '') throw new S3Error('InvalidArgument', { message: 'Version id cannot be the empty string', fields: { ArgumentName: 'versionId', ArgumentValue: '' } });
  return versionId;
}

const absentConfigurations: readonly AbsentBucketConfiguration[] = [
  'website', 'replication', 'logging', 'accelerate', 'requestPayment', 'notification',
];

/** Bucket subresources recognised and answered NotImplemented (except the GETs handled above). */
const bucketSubresources = [
  'accelerate', 'acl', 'analytics', 'cors', 'encryption', 'intelligent-tiering', 'inventory', 'lifecycle', 'logging',
  'metadataTable', 'metrics', 'notification', 'object-lock', 'ownershipControls', 'policy', 'policyStatus',
  'publicAccessBlock', 'replication', 'requestPayment', 'tagging', 'versioning', 'versions', 'website',
];
const objectSubresources = ['acl', 'attributes', 'legal-hold', 'renameObject', 'restore', 'retention', 'select', 'tagging', 'torrent'];

function firstSubresource(query: QueryView, names: readonly string[]): string | undefined {
  return names.find((name) => query.has(name));
}

function listV2Params(query: QueryView): ListObjectsV2Params {
  return {
    prefix: query.get('prefix') ?? '',
    delimiter: nonEmpty(query.get('delimiter')),
    maxKeys: parseMaxCount(query, 'max-keys'),
    // Present but empty is no position, yet echoed back as given (s3-tests listv2_continuationtoken_empty).
    continuationToken: query.get('continuation-token'),
    startAfter: nonEmpty(query.get('start-after')),
    fetchOwner: query.get('fetch-owner') === 'true',
    encodingType: parseEncodingType(query),
  };
}

function listV1Params(query: QueryView): ListObjectsV1Params {
  return {
    prefix: query.get('prefix') ?? '',
    delimiter: nonEmpty(query.get('delimiter')),
    maxKeys: parseMaxCount(query, 'max-keys'),
    marker: nonEmpty(query.get('marker')),
    encodingType: parseEncodingType(query),
  };
}

function listVersionsParams(query: QueryView): ListObjectVersionsParams {
  return {
    prefix: query.get('prefix') ?? '',
    delimiter: nonEmpty(query.get('delimiter')),
    maxKeys: parseMaxCount(query, 'max-keys'),
    keyMarker: nonEmpty(query.get('key-marker')),
    versionIdMarker: nonEmpty(query.get('version-id-marker')),
    encodingType: parseEncodingType(query),
  };
}

function listUploadsParams(query: QueryView): ListMultipartUploadsParams {
  return {
    prefix: query.get('prefix') ?? '',
    delimiter: nonEmpty(query.get('delimiter')),
    maxUploads: parseMaxCount(query, 'max-uploads'),
    keyMarker: nonEmpty(query.get('key-marker')),
    uploadIdMarker: nonEmpty(query.get('upload-id-marker')),
    encodingType: parseEncodingType(query),
  };
}

function listPartsParams(query: QueryView): ListPartsParams {
  const marker = query.get('part-number-marker');
  return {
    maxParts: parseMaxCount(query, 'max-parts'),
    partNumberMarker: marker === undefined || marker === '' ? 0 : parseInteger(marker, 'part-number-marker', 0, partNumberMax),
    encodingType: parseEncodingType(query),
  };
}

function methodNotAllowed(method: string): S3Error {
  return new S3Error('MethodNotAllowed', { fields: { Method: method, ResourceType: 'OBJECT' } });
}

function parseServiceRequest(input: S3RequestInput): S3Operation {
  if (input.method === 'GET') return { kind: 'ListBuckets' };
  throw methodNotAllowed(input.method);
}

function parseBucketGet(bucket: string, query: QueryView): S3Operation {
  if (query.has('location')) return { kind: 'GetBucketLocation', bucket };
  if (query.has('versioning')) return { kind: 'GetBucketVersioning', bucket };
  if (query.has('acl')) return { kind: 'GetBucketAcl', bucket };
  if (query.has('tagging')) return { kind: 'GetBucketTagging', bucket };
  if (query.has('cors')) return { kind: 'GetBucketCors', bucket };
  if (query.has('lifecycle')) return { kind: 'GetBucketLifecycleConfiguration', bucket };
  if (query.has('object-lock')) return { kind: 'GetObjectLockConfiguration', bucket };
  if (query.has('encryption')) return { kind: 'GetBucketEncryption', bucket };
  if (query.has('policy')) return { kind: 'GetBucketPolicy', bucket };
  if (query.has('policyStatus')) return { kind: 'GetBucketPolicyStatus', bucket };
  if (query.has('publicAccessBlock')) return { kind: 'GetPublicAccessBlock', bucket };
  if (query.has('ownershipControls')) return { kind: 'GetBucketOwnershipControls', bucket };
  if (query.has('uploads')) return { kind: 'ListMultipartUploads', bucket, params: listUploadsParams(query) };
  if (query.has('versions')) return { kind: 'ListObjectVersions', bucket, params: listVersionsParams(query) };
  const configuration = absentConfigurations.find((name) => query.has(name));
  if (configuration !== undefined) return { kind: 'GetBucketConfiguration', bucket, configuration };
  const subresource = firstSubresource(query, bucketSubresources);
  if (subresource !== undefined) return { kind: 'NotImplemented', bucket, key: undefined, feature: `GET ?${subresource}` };
  const listType = query.get('list-type');
  if (listType === '2') return { kind: 'ListObjectsV2', bucket, params: listV2Params(query) };
  if (listType !== undefined) throw new S3Error('InvalidArgument', { message: 'Invalid list-type.', fields: { ArgumentName: 'list-type', ArgumentValue: listType } });
  return { kind: 'ListObjects', bucket, params: listV1Params(query) };
}

function parseBucketRequest(input: S3RequestInput, bucket: string, query: QueryView): S3Operation {
  const subresource = firstSubresource(query, bucketSubresources);
  switch (input.method) {
    case 'GET':
      return parseBucketGet(bucket, query);
    case 'HEAD':
      return { kind: 'HeadBucket', bucket };
    case 'PUT':
      if (subresource === 'acl') return { kind: 'PutBucketAcl', bucket };
      if (subresource === 'tagging') return { kind: 'PutBucketTagging', bucket };
      if (subresource === 'cors') return { kind: 'PutBucketCors', bucket };
      if (subresource === 'versioning') return { kind: 'PutBucketVersioning', bucket };
      if (subresource === 'lifecycle') return { kind: 'PutBucketLifecycleConfiguration', bucket };
      if (subresource === 'object-lock') return { kind: 'PutObjectLockConfiguration', bucket };
      if (subresource === 'encryption') return { kind: 'PutBucketEncryption', bucket };
      if (subresource === 'policy') return { kind: 'PutBucketPolicy', bucket };
      if (subresource === 'publicAccessBlock') return { kind: 'PutPublicAccessBlock', bucket };
      if (subresource === 'ownershipControls') return { kind: 'PutBucketOwnershipControls', bucket };
      if (subresource !== undefined) return { kind: 'NotImplemented', bucket, key: undefined, feature: `PUT ?${subresource}` };
      return { kind: 'CreateBucket', bucket };
    case 'DELETE':
      if (subresource === 'tagging') return { kind: 'DeleteBucketTagging', bucket };
      if (subresource === 'cors') return { kind: 'DeleteBucketCors', bucket };
      if (subresource === 'lifecycle') return { kind: 'DeleteBucketLifecycle', bucket };
      if (subresource === 'encryption') return { kind: 'DeleteBucketEncryption', bucket };
      if (subresource === 'policy') return { kind: 'DeleteBucketPolicy', bucket };
      if (subresource === 'publicAccessBlock') return { kind: 'DeletePublicAccessBlock', bucket };
      if (subresource === 'ownershipControls') return { kind: 'DeleteBucketOwnershipControls', bucket };
      if (subresource !== undefined) return { kind: 'NotImplemented', bucket, key: undefined, feature: `DELETE ?${subresource}` };
      return { kind: 'DeleteBucket', bucket };
    case 'POST':
      if (query.has('delete')) return { kind: 'DeleteObjects', bucket };
      if (subresource !== undefined) return { kind: 'NotImplemented', bucket, key: undefined, feature: `POST ?${subresource}` };
      // A browser-form upload: authenticated by the signed policy in the form (handlers/post-object.ts).
      return { kind: 'PostObject', bucket };
    default:
      throw methodNotAllowed(input.method);
  }
}

function copySourceOf(input: S3RequestInput): CopySource | undefined {
  const header = input.headers['x-amz-copy-source'];
  return header === undefined ? undefined : parseCopySource(header);
}

function parseObjectPut(input: S3RequestInput, bucket: string, key: string, query: QueryView): S3Operation {
  const source = copySourceOf(input);
  if (query.has('uploadId') || query.has('partNumber')) {
    const uploadId = parseUploadId(query);
    const partNumber = parsePartNumber(query.get('partNumber') ?? '');
    if (source !== undefined) return { kind: 'UploadPartCopy', bucket, key, uploadId, partNumber, source };
    return { kind: 'UploadPart', bucket, key, uploadId, partNumber };
  }
  const subresource = firstSubresource(query, objectSubresources);
  if (subresource === 'acl') return { kind: 'PutObjectAcl', bucket, key, versionId: versionIdOf(query) };
  if (subresource === 'tagging') return { kind: 'PutObjectTagging', bucket, key, versionId: versionIdOf(query) };
  if (subresource === 'retention') return { kind: 'PutObjectRetention', bucket, key, versionId: versionIdOf(query) };
  if (subresource === 'legal-hold') return { kind: 'PutObjectLegalHold', bucket, key, versionId: versionIdOf(query) };
  if (subresource !== undefined) return { kind: 'NotImplemented', bucket, key, feature: `PUT object ?${subresource}` };
  if (source !== undefined) return { kind: 'CopyObject', bucket, key, source };
  return { kind: 'PutObject', bucket, key };
}

function optionalPartNumber(query: QueryView): number | undefined {
  const value = query.get('partNumber');
  return value === undefined ? undefined : parsePartNumber(value);
}

function parseObjectRequest(input: S3RequestInput, bucket: string, key: string, query: QueryView): S3Operation {
  validateKey(key);
  const subresource = firstSubresource(query, objectSubresources);
  switch (input.method) {
    case 'PUT':
      return parseObjectPut(input, bucket, key, query);
    case 'GET':
      if (query.has('uploadId')) return { kind: 'ListParts', bucket, key, uploadId: parseUploadId(query), params: listPartsParams(query) };
      if (query.has('tagging')) return { kind: 'GetObjectTagging', bucket, key, versionId: versionIdOf(query) };
      if (query.has('acl')) return { kind: 'GetObjectAcl', bucket, key, versionId: versionIdOf(query) };
      if (query.has('attributes')) return { kind: 'GetObjectAttributes', bucket, key, versionId: versionIdOf(query) };
      if (query.has('retention')) return { kind: 'GetObjectRetention', bucket, key, versionId: versionIdOf(query) };
      if (query.has('legal-hold')) return { kind: 'GetObjectLegalHold', bucket, key, versionId: versionIdOf(query) };
      if (subresource !== undefined) return { kind: 'NotImplemented', bucket, key, feature: `GET object ?${subresource}` };
      return { kind: 'GetObject', bucket, key, partNumber: optionalPartNumber(query), versionId: versionIdOf(query) };
    case 'HEAD':
      return { kind: 'HeadObject', bucket, key, partNumber: optionalPartNumber(query), versionId: versionIdOf(query) };
    case 'DELETE':
      if (query.has('uploadId')) return { kind: 'AbortMultipartUpload', bucket, key, uploadId: parseUploadId(query) };
      if (subresource === 'tagging') return { kind: 'DeleteObjectTagging', bucket, key, versionId: versionIdOf(query) };
      if (subresource !== undefined) return { kind: 'NotImplemented', bucket, key, feature: `DELETE object ?${subresource}` };
      return { kind: 'DeleteObject', bucket, key, versionId: versionIdOf(query) };
    case 'POST':
      if (query.has('uploads')) return { kind: 'CreateMultipartUpload', bucket, key };
      if (query.has('uploadId')) return { kind: 'CompleteMultipartUpload', bucket, key, uploadId: parseUploadId(query) };
      return { kind: 'NotImplemented', bucket, key, feature: `POST object ?${subresource ?? ''}` };
    default:
      throw methodNotAllowed(input.method);
  }
}

/** Parses one request. Throws S3Error for requests that can be refused without storage. */
export function parseS3Request(input: S3RequestInput): S3Operation {
  const query = new QueryView(input.query);
  const { bucket, key } = splitPath(input);
  if (bucket === undefined) return parseServiceRequest(input);
  assertValidBucketName(bucket);
  if (input.method === 'OPTIONS') return { kind: 'CorsPreflight', bucket, key };
  if (key === undefined) return parseBucketRequest(input, bucket, query);
  return parseObjectRequest(input, bucket, key, query);
}

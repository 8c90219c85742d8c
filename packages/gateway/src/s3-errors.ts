/**
 * The one catalogue of S3 error codes the gateway can answer with. Every S3 error response is
 * produced from this table by the error boundary (error-boundary.ts); nothing else picks an HTTP
 * status for an S3 error. docs/s3-errors.md lists the same codes, and a test keeps the two in
 * step both ways. Statuses and messages follow the S3 API reference "Error responses" page.
 */
interface CatalogueEntry {
  readonly httpStatus: number;
  readonly message: string;
}

export const s3ErrorCatalogue = {
  AccessDenied: { httpStatus: 403, message: 'Access Denied' },
  /** A refused CORS preflight (OPTIONS). */
  AccessControlListNotSupported: { httpStatus: 400, message: 'The bucket does not allow ACLs' },
  AccessForbidden: { httpStatus: 403, message: 'CORSResponse: This CORS request is not allowed.' },
  AuthorizationHeaderMalformed: { httpStatus: 400, message: 'The authorization header is malformed.' },
  AuthorizationQueryParametersError: {
    httpStatus: 400,
    message: 'Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.',
  },
  BadDigest: { httpStatus: 400, message: 'The Content-MD5 or checksum value you specified did not match what we received.' },
  BadRequest: { httpStatus: 400, message: 'Bad Request' },
  BucketAlreadyExists: {
    httpStatus: 409,
    message: 'The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.',
  },
  BucketAlreadyOwnedByYou: { httpStatus: 409, message: 'Your previous request to create the named bucket succeeded and you already own it.' },
  BucketNotEmpty: { httpStatus: 409, message: 'The bucket you tried to delete is not empty' },
  EntityTooLarge: { httpStatus: 400, message: 'Your proposed upload exceeds the maximum allowed size' },
  EntityTooSmall: { httpStatus: 400, message: 'Your proposed upload is smaller than the minimum allowed object size.' },
  ExpiredToken: { httpStatus: 400, message: 'The provided token has expired.' },
  IllegalLocationConstraintException: { httpStatus: 400, message: 'The specified location-constraint is not valid for this endpoint.' },
  IncompleteBody: { httpStatus: 400, message: 'You did not provide the number of bytes specified by the Content-Length HTTP header.' },
  IncorrectNumberOfFilesInPostRequest: { httpStatus: 400, message: 'POST requires exactly one file upload per request.' },
  InternalError: { httpStatus: 500, message: 'We encountered an internal error. Please try again.' },
  InvalidAccessKeyId: { httpStatus: 403, message: 'The AWS Access Key Id you provided does not exist in our records.' },
  InvalidArgument: { httpStatus: 400, message: 'Invalid Argument' },
  InvalidBucketAclWithObjectOwnership: { httpStatus: 400, message: "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting" },
  InvalidBucketName: { httpStatus: 400, message: 'The specified bucket is not valid.' },
  InvalidBucketState: { httpStatus: 409, message: 'The request is not valid with the current state of the bucket.' },
  InvalidChunkSizeError: { httpStatus: 403, message: 'Only the last chunk is allowed to have a size less than 8192 bytes' },
  InvalidDigest: { httpStatus: 400, message: 'The Content-MD5 you specified is not valid.' },
  InvalidEncryptionAlgorithmError: { httpStatus: 400, message: 'The encryption request you specified is not valid.' },
  InvalidObjectState: { httpStatus: 403, message: 'The operation is not valid for the current state of the object.' },
  InvalidPart: {
    httpStatus: 400,
    message: "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
  },
  InvalidPartOrder: { httpStatus: 400, message: 'The list of parts was not in ascending order. Parts must be ordered by part number.' },
  InvalidPartNumber: { httpStatus: 416, message: 'The requested partnumber is not satisfiable' },
  InvalidPolicyDocument: { httpStatus: 400, message: 'The content of the form does not meet the conditions specified in the policy document.' },
  InvalidRange: { httpStatus: 416, message: 'The requested range is not satisfiable' },
  InvalidRequest: { httpStatus: 400, message: 'Invalid Request' },
  InvalidStorageClass: { httpStatus: 400, message: 'The storage class you specified is not valid' },
  InvalidTag: { httpStatus: 400, message: 'The tag provided was not a valid tag.' },
  InvalidURI: { httpStatus: 400, message: "Couldn't parse the specified URI." },
  KeyTooLongError: { httpStatus: 400, message: 'Your key is too long' },
  MalformedACLError: { httpStatus: 400, message: 'The XML you provided was not well-formed or did not validate against our published schema.' },
  MalformedXML: { httpStatus: 400, message: 'The XML you provided was not well-formed or did not validate against our published schema.' },
  MalformedPolicy: { httpStatus: 400, message: 'Policies must be valid JSON and follow the policy grammar.' },
  MalformedPOSTRequest: { httpStatus: 400, message: 'The body of your POST request is not well-formed multipart/form-data.' },
  MaxMessageLengthExceeded: { httpStatus: 400, message: 'Your request was too big.' },
  MaxPostPreDataLengthExceeded: { httpStatus: 400, message: 'Your POST request fields preceding the upload file were too large.' },
  MetadataTooLarge: { httpStatus: 400, message: 'Your metadata headers exceed the maximum allowed metadata size.' },
  MethodNotAllowed: { httpStatus: 405, message: 'The specified method is not allowed against this resource.' },
  MissingContentLength: { httpStatus: 411, message: 'You must provide the Content-Length HTTP header.' },
  MissingRequestBodyError: { httpStatus: 400, message: 'Request Body is empty' },
  NoSuchBucket: { httpStatus: 404, message: 'The specified bucket does not exist' },
  NoSuchBucketPolicy: { httpStatus: 404, message: 'The bucket policy does not exist' },
  NoSuchCORSConfiguration: { httpStatus: 404, message: 'The CORS configuration does not exist' },
  NoSuchKey: { httpStatus: 404, message: 'The specified key does not exist.' },
  NoSuchLifecycleConfiguration: { httpStatus: 404, message: 'The lifecycle configuration does not exist' },
  NoSuchObjectLockConfiguration: { httpStatus: 404, message: 'The specified object does not have a ObjectLock configuration' },
  NoSuchPublicAccessBlockConfiguration: { httpStatus: 404, message: 'The public access block configuration was not found' },
  NoSuchTagSet: { httpStatus: 404, message: 'The TagSet does not exist' },
  NoSuchUpload: {
    httpStatus: 404,
    message: 'The specified multipart upload does not exist. The upload ID might be invalid, or the multipart upload might have been aborted or completed.',
  },
  NoSuchVersion: { httpStatus: 404, message: 'The specified version does not exist.' },
  NoSuchWebsiteConfiguration: { httpStatus: 404, message: 'The specified bucket does not have a website configuration' },
  NotImplemented: { httpStatus: 501, message: 'A header or query you provided implies functionality that is not implemented.' },
  NotModified: { httpStatus: 304, message: 'Not Modified' },
  ObjectLockConfigurationNotFoundError: { httpStatus: 404, message: 'Object Lock configuration does not exist for this bucket' },
  OwnershipControlsNotFoundError: { httpStatus: 404, message: 'The bucket ownership controls were not found' },
  PreconditionFailed: { httpStatus: 412, message: 'At least one of the preconditions you specified did not hold.' },
  ReplicationConfigurationNotFoundError: { httpStatus: 404, message: 'The replication configuration was not found' },
  RequestHeaderSectionTooLarge: { httpStatus: 400, message: 'Your request header section exceeds the maximum allowed size.' },
  RequestTimeTooSkewed: { httpStatus: 403, message: "The difference between the request time and the server's time is too large." },
  RequestTimeout: { httpStatus: 400, message: 'Your socket connection to the server was not read from or written to within the timeout period.' },
  ServerSideEncryptionConfigurationNotFoundError: { httpStatus: 404, message: 'The server side encryption configuration was not found' },
  ServiceUnavailable: { httpStatus: 503, message: 'Please reduce your request rate.' },
  SignatureDoesNotMatch: {
    httpStatus: 403,
    message: 'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
  },
  SlowDown: { httpStatus: 503, message: 'Please reduce your request rate.' },
  TooManyParts: { httpStatus: 400, message: 'You have attempted to upload more than 10000 parts.' },
  UnresolvableGrantByEmailAddress: { httpStatus: 400, message: 'The email address you provided does not match any account on record.' },
  XAmzContentSHA256Mismatch: { httpStatus: 400, message: "The provided 'x-amz-content-sha256' header does not match what was computed." },
} as const satisfies Record<string, CatalogueEntry>;

export type S3ErrorCode = keyof typeof s3ErrorCatalogue;

export function isS3ErrorCode(value: string): value is S3ErrorCode {
  return Object.prototype.hasOwnProperty.call(s3ErrorCatalogue, value);
}

export interface S3ErrorOptions {
  /** Replaces the catalogue's default message. */
  readonly message?: string;
  /** Extra XML elements in the error body, e.g. `{ BucketName: 'b' }`, `{ Key: 'k' }`. */
  readonly fields?: Readonly<Record<string, string>>;
  /** Extra response headers, e.g. `Content-Range: bytes *\/123` for InvalidRange. */
  readonly headers?: Readonly<Record<string, string>>;
  /** The internal error that led here; logged, never sent to the client. */
  readonly cause?: unknown;
}

/**
 * An error the client is meant to see. Only the error boundary renders it; handlers throw it.
 * The resource is filled in by the boundary from the request path unless given.
 */
export class S3Error extends Error {
  static readonly errorName = 'S3Error';
  readonly code: S3ErrorCode;
  readonly httpStatus: number;
  readonly fields: Readonly<Record<string, string>>;
  readonly headers: Readonly<Record<string, string>>;

  constructor(code: S3ErrorCode, options: S3ErrorOptions = {}) {
    super(options.message ?? s3ErrorCatalogue[code].message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = S3Error.errorName;
    this.code = code;
    this.httpStatus = s3ErrorCatalogue[code].httpStatus;
    this.fields = options.fields ?? {};
    this.headers = options.headers ?? {};
  }
}

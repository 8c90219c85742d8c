/**
 * POST Object: a browser-form upload. The request is `multipart/form-data`; the fields before the
 * `file` field carry the key, the object's headers, the base64 policy and its signature; the
 * file is the object's body and is streamed to the backend like a PutObject body. Fields after
 * the file are ignored, as S3 does.
 *
 * Order of checks: the form up to the file (MaxPostPreDataLengthExceeded past 20 KiB), the
 * signature (post-form-auth.ts), the key, the policy (post-policy.ts: expiration, conditions,
 * extra fields) against the fields with `bucket` = the bucket of the URL and `key` after
 * `${filename}` substitution, then the object's headers as PutObject checks them. The file's size
 * must fall in the policy's content-length-range (and at most 5 GiB); nothing is stored otherwise.
 *
 * Success: `success_action_redirect` (or `redirect`) to an http(s) URL → 303 to it with bucket,
 * key and ETag in the query; else `success_action_status` 200 (empty), 201 (a PostResponse XML
 * document), or 204 (the default).
 */
import { lockOf, parseObjectLockHeaders } from '../object-lock';
import { Readable } from 'node:stream';
import { TextDecoder } from 'node:util';
import { authenticatePostForm } from '../auth/post-form-auth';
import type { AuthOptions, AuthResult } from '../auth/verify-request';
import { objectArn } from '../access-policy';
import { checkAccess, objectAclForWrite } from '../bucket-access';
import { callBackend, sendEmpty, sendXml } from '../handler-context';
import type { HandlerContext } from '../handler-context';
import { FormDataReader, formDataBoundaryOf } from '../form-data';
import type { FormPartHead } from '../form-data';
import { extractObjectHeaders } from '../object-headers';
import { checksumResponseHeaders, refuseUnsupportedWriteHeaders, writtenVersionIdHeader } from '../object-response';
import { serverSideEncryptionHeaders } from '../server-side-encryption';
import { encryptionForWrite } from './request-encryption';
import { validateKey } from '../parse-s3-request';
import { checkPostPolicy, parsePostPolicy } from '../post-policy';
import { createVerifiedBody, formFileExpectation } from '../request-body';
import { S3Error } from '../s3-errors';
import { uriEncode } from '../uri';
import { xmlDocumentWithoutNamespace, xmlText } from '../xml';
import { parseTagging } from '../xml-requests';

/** S3's limit on the form fields before the file (MaxPostPreDataLengthExceeded beyond). */
export const postFieldsBytesMax = 20 * 1024;
const partHeaderBytesMax = 8 * 1024;
const fileFieldName = 'file';

interface FormField {
  /** The value as text (UTF-8): what the policy and the key see. */
  readonly text: string;
  /** The value as header text (one character per byte), as object headers are kept. */
  readonly headerText: string;
}

// ignoreBOM: field values (the key among them) keep a leading U+FEFF.
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Reads the fields before the file; returns them by lower-case name (first value wins) and the file's head. */
async function readFieldsUpToFile(reader: FormDataReader): Promise<{ fields: Map<string, FormField>; file: FormPartHead }> {
  const fields = new Map<string, FormField>();
  const tooLarge = (): S3Error => new S3Error('MaxPostPreDataLengthExceeded', { fields: { MaxPostPreDataLength: String(postFieldsBytesMax) } });
  for (;;) {
    const part = await reader.nextPart();
    if (part === undefined) throw new S3Error('IncorrectNumberOfFilesInPostRequest', { fields: { ArgumentName: fileFieldName, ArgumentValue: '0' } });
    const name = part.name.toLowerCase();
    if (name === fileFieldName) return { fields, file: part };
    const value = await reader.readValue(postFieldsBytesMax, tooLarge);
    if (reader.parsedBytes > postFieldsBytesMax) throw tooLarge();
    let text: string;
    try {
      text = strictUtf8.decode(value);
    } catch {
      throw new S3Error('InvalidArgument', { message: `The form field ${part.name} is not valid UTF-8.`, fields: { ArgumentName: part.name, ArgumentValue: '' } });
    }
    if (!fields.has(name)) fields.set(name, { text, headerText: value.toString('latin1') });
  }
}

function redirectTarget(value: string | undefined): URL | undefined {
  if (value === undefined || value === '') return undefined;
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url : undefined;
  } catch {
    return undefined;
  }
}

/**
 * `contextFor` builds the handler context once the form says who signed it; CORS headers for the
 * request's Origin were already set (browsers read the answer of a form POST only with them).
 */
export async function handlePostObject(
  request: { readonly req: HandlerContext['req']; readonly header: (name: string) => string | undefined; readonly virtualHostBucket: string | undefined },
  bucket: string,
  authOptions: AuthOptions,
  contextFor: (auth: AuthResult) => HandlerContext,
): Promise<void> {
  const boundary = formDataBoundaryOf(request.header('content-type'));
  if (boundary === undefined) {
    const condition = 'Bucket POST must be of the enclosure-type multipart/form-data';
    throw new S3Error('PreconditionFailed', { message: condition, fields: { Condition: condition } });
  }
  const reader = new FormDataReader(request.req, boundary, { partHeaderBytesMax });
  const { fields, file } = await readFieldsUpToFile(reader);
  const texts = new Map([...fields].map(([name, field]) => [name, field.text]));
  const principal = await authenticatePostForm(texts, authOptions);
  const ctx = contextFor({ principal, payload: { kind: 'unsigned' } });
  const keyField = texts.get('key');
  if (keyField === undefined) {
    throw new S3Error('InvalidArgument', {
      message: "Bucket POST must contain a field named 'key'.  If it is specified, please check the order of the fields.",
      fields: { ArgumentName: 'key', ArgumentValue: '' },
    });
  }
  const key = keyField.split('${filename}').join(file.filename ?? '');
  if (key === '') throw new S3Error('InvalidArgument', { message: 'The key of a POST upload must not be empty.', fields: { ArgumentName: 'key', ArgumentValue: '' } });
  validateKey(key);
  await checkAccess(ctx, { bucket, level: 'write', action: 's3:PutObject', resource: objectArn(bucket, key) });
  const policy = parsePostPolicy(texts.get('policy') ?? '');
  const sizeBytesRange = checkPostPolicy(policy, new Map([...texts, ['bucket', bucket], ['key', key]]), ctx.clock.nowMs());

  // The object's headers come from fields of the same names (`acl` is the canned ACL).
  const headerNames = [...fields.keys()].map((name) => (name === 'acl' ? 'x-amz-acl' : name));
  const header = (name: string): string | undefined => fields.get(name === 'x-amz-acl' ? 'acl' : name)?.headerText;
  refuseUnsupportedWriteHeaders(header);
  const ownership = await objectAclForWrite(ctx, bucket, header, headerNames);
  // Tags come as a `tagging` field holding a <Tagging> document (not x-amz-tagging's query form).
  const tagging = fields.get('tagging');
  const serverSideEncryption = await encryptionForWrite(ctx, bucket, header);
  const headers = {
    ...extractObjectHeaders(headerNames, header), tags: tagging === undefined ? [] : parseTagging(Buffer.from(tagging.text, 'utf8'), 'object'), ...ownership,
    ...lockOf(parseObjectLockHeaders(header, ctx.clock.nowMs())), ...(serverSideEncryption === undefined ? {} : { serverSideEncryption }),
  };
  const maxBytes = Math.min(sizeBytesRange.maxBytes, ctx.options.limits.putObjectSizeBytesMax);
  const expectation = formFileExpectation(header, { minBytes: sizeBytesRange.minBytes, maxBytes });
  const counter = ctx.metrics.requestBodyBytesTotal.labels(ctx.operationKind);
  const body = createVerifiedBody(Readable.from(reader.body()), expectation, { sizeBytesMax: maxBytes, chunkSizeBytesMax: ctx.options.limits.chunkSizeBytesMax }, (byteCount) => counter.inc(byteCount));
  const info = await callBackend({ bucket, key }, () => ctx.backend.putObject({ bucket, key, headers, body, condition: { ifNoneMatchAny: false, ifMatchEtag: undefined } }));
  await reader.drain();

  const etag = `"${info.etag}"`;
  const host = request.header('host') ?? '127.0.0.1';
  const encodedKey = uriEncode(key, true);
  const location = request.virtualHostBucket === undefined ? `http://${host}/${uriEncode(bucket, false)}/${encodedKey}` : `http://${host}/${encodedKey}`;
  const responseHeaders = {
    ETag: etag, Location: location, ...checksumResponseHeaders(info.checksums), ...writtenVersionIdHeader(info.versionId), ...serverSideEncryptionHeaders(info.headers.serverSideEncryption),
  };
  const redirect = redirectTarget(texts.get('success_action_redirect') ?? texts.get('redirect'));
  if (redirect !== undefined) {
    redirect.searchParams.append('bucket', bucket);
    redirect.searchParams.append('key', key);
    redirect.searchParams.append('etag', etag);
    sendEmpty(ctx, 303, { ...responseHeaders, Location: redirect.toString() });
    return;
  }
  const status = texts.get('success_action_status');
  if (status === '201') {
    const xml = xmlDocumentWithoutNamespace('PostResponse', xmlText('Location', location), xmlText('Bucket', bucket), xmlText('Key', key), xmlText('ETag', etag));
    sendXml(ctx, 201, xml, responseHeaders);
    return;
  }
  sendEmpty(ctx, status === '200' ? 200 : 204, responseHeaders);
}

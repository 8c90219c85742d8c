/**
 * Goal: bucket CORS behaves as S3 does for a browser application. PutBucketCors / GetBucketCors /
 * DeleteBucketCors through the AWS SDK (rules kept as given and in order; S3's errors for an
 * unsupported method, an empty configuration, two wildcards); an unauthenticated OPTIONS
 * preflight answered from the rules (first match wins, origin patterns with one `*`, headers
 * matched case-insensitively, `*` origins without credentials) or refused with S3's
 * AccessForbidden / BadRequest; and signed requests with `Origin` carrying the rule's headers,
 * errors included, also when authentication refuses the request (as S3 does), while a request
 * no rule allows is served without them.
 * Method: a real gateway on loopback over the in-memory backend; the SDK for the configuration,
 * raw HTTP for preflights and for signed requests with an Origin header.
 */
import { createHash } from 'node:crypto';
import {
  CreateBucketCommand, DeleteBucketCorsCommand, GetBucketCorsCommand, PutBucketCorsCommand, PutObjectCommand, S3Client, S3ServiceException,
} from '@aws-sdk/client-s3';
import { sendRaw, signRequest } from './support/sigv4-test-signer';
import type { RawResponse } from './support/sigv4-test-signer';
import { startTestGateway, testAccessKeyId, testRegion, testSecretAccessKey } from './support/test-gateway';
import type { TestGateway } from './support/test-gateway';

const creds = { accessKeyId: testAccessKeyId, secretAccessKey: testSecretAccessKey, region: testRegion };
const sha256Hex = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');
const vary = 'Origin, Access-Control-Request-Headers, Access-Control-Request-Method';
let gateway: TestGateway;
let client: S3Client;

beforeAll(async () => {
  gateway = await startTestGateway();
  client = new S3Client({ endpoint: gateway.endpoint, region: testRegion, forcePathStyle: true, credentials: { accessKeyId: testAccessKeyId, secretAccessKey: testSecretAccessKey } });
  for (const bucket of ['web', 'plain']) await client.send(new CreateBucketCommand({ Bucket: bucket }));
  await client.send(new PutObjectCommand({ Bucket: 'web', Key: 'photo.jpg', Body: 'jpeg bytes' }));
});

afterAll(async () => {
  client.destroy();
  await gateway.stop();
});

async function sdkError(promise: Promise<unknown>): Promise<{ status: number | undefined; code: string; message: string }> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof S3ServiceException) return { status: error.$metadata.httpStatusCode, code: error.name, message: error.message };
    throw error;
  }
  throw new Error('expected an S3 error');
}

function preflight(path: string, headers: Record<string, string>): Promise<RawResponse> {
  return sendRaw(gateway.port, 'OPTIONS', path, { host: `127.0.0.1:${gateway.port}`, ...headers });
}

async function signedSend(method: string, path: string, headers: Record<string, string>): Promise<RawResponse> {
  const signed = signRequest(creds, { method, path, query: [], headers: { host: `127.0.0.1:${gateway.port}`, ...headers }, payloadHash: sha256Hex(Buffer.alloc(0)), date: new Date() });
  return sendRaw(gateway.port, method, signed.path, signed.headers);
}

const xmlField = (response: RawResponse, name: string): string | undefined => new RegExp(`<${name}>([^<]*)</${name}>`).exec(response.body.toString('utf8'))?.[1];
const corsHeaders = (response: RawResponse): Record<string, unknown> =>
  Object.fromEntries(Object.entries(response.headers).filter(([name]) => name.startsWith('access-control-') || name === 'vary'));

const appRule = {
  ID: 'web app',
  AllowedOrigins: ['https://app.example.com', 'http://*.example.com'],
  AllowedMethods: ['GET', 'PUT'],
  AllowedHeaders: ['Content-Type', 'x-amz-*'],
  ExposeHeaders: ['ETag', 'x-amz-request-id'],
  MaxAgeSeconds: 3000,
};
const publicReadRule = { AllowedOrigins: ['*'], AllowedMethods: ['GET', 'HEAD'] };

test('no configuration: GetBucketCors is NoSuchCORSConfiguration, a preflight is refused', async () => {
  expect(await sdkError(client.send(new GetBucketCorsCommand({ Bucket: 'plain' })))).toMatchObject({ status: 404, code: 'NoSuchCORSConfiguration' });
  const refused = await preflight('/plain/photo.jpg', { origin: 'https://app.example.com', 'access-control-request-method': 'GET' });
  expect(refused.status).toBe(403);
  expect([xmlField(refused, 'Code'), xmlField(refused, 'Message'), xmlField(refused, 'Method'), xmlField(refused, 'ResourceType')])
    .toEqual(['AccessForbidden', 'CORSResponse: CORS is not enabled for this bucket.', 'GET', 'OBJECT']);
  const missing = await preflight('/no-such-bucket', { origin: 'https://app.example.com', 'access-control-request-method': 'GET' });
  expect([missing.status, xmlField(missing, 'Code'), xmlField(missing, 'Message')]).toEqual([403, 'AccessForbidden', 'CORSResponse: Bucket not found']);
  const noOrigin = await preflight('/plain', { 'access-control-request-method': 'GET' });
  expect([noOrigin.status, xmlField(noOrigin, 'Code'), xmlField(noOrigin, 'Message')]).toEqual([400, 'BadRequest', 'Insufficient information. Origin request header needed.']);
});

test('PutBucketCors: invalid configurations are refused in S3\'s words and change nothing', async () => {
  const put = (rules: unknown[]): Promise<unknown> => client.send(new PutBucketCorsCommand({ Bucket: 'web', CORSConfiguration: { CORSRules: rules as never } }));
  expect(await sdkError(put([{ AllowedOrigins: ['*'], AllowedMethods: ['MYMETHOD'] }])))
    .toMatchObject({ status: 400, code: 'InvalidRequest', message: 'Found unsupported HTTP method in CORS config. Unsupported method is MYMETHOD' });
  expect(await sdkError(put([]))).toMatchObject({ status: 400, code: 'MalformedXML' });
  expect(await sdkError(put([{ AllowedOrigins: ['http://*.*.example.com'], AllowedMethods: ['GET'] }])))
    .toMatchObject({ status: 400, code: 'InvalidRequest', message: 'AllowedOrigin "http://*.*.example.com" can not have more than one wildcard.' });
  expect(await sdkError(put([{ AllowedOrigins: ['*'], AllowedMethods: ['GET'], AllowedHeaders: ['*-*'] }]))).toMatchObject({ status: 400, code: 'InvalidRequest' });
  expect(await sdkError(client.send(new GetBucketCorsCommand({ Bucket: 'web' })))).toMatchObject({ status: 404, code: 'NoSuchCORSConfiguration' });
});

test('PutBucketCors then GetBucketCors: the rules as given, in order', async () => {
  await client.send(new PutBucketCorsCommand({ Bucket: 'web', CORSConfiguration: { CORSRules: [appRule, publicReadRule] } }));
  const got = await client.send(new GetBucketCorsCommand({ Bucket: 'web' }));
  expect(got.CORSRules).toEqual([appRule, publicReadRule]);
});

test('preflight: the first rule allowing origin, method and headers answers; others are AccessForbidden', async () => {
  const allowed = await preflight('/web/photo.jpg', {
    origin: 'https://app.example.com', 'access-control-request-method': 'PUT', 'access-control-request-headers': 'content-type, X-Amz-Date',
  });
  expect(allowed.status).toBe(200);
  expect(allowed.body.length).toBe(0);
  expect(corsHeaders(allowed)).toEqual({
    'access-control-allow-origin': 'https://app.example.com',
    'access-control-allow-credentials': 'true',
    'access-control-allow-methods': 'GET, PUT',
    'access-control-allow-headers': 'content-type, X-Amz-Date',
    'access-control-expose-headers': 'ETag, x-amz-request-id',
    'access-control-max-age': '3000',
    vary,
  });
  // One `*` in an origin pattern stands for any run of characters.
  const subdomain = await preflight('/web', { origin: 'http://test.example.com', 'access-control-request-method': 'GET' });
  expect([subdomain.status, subdomain.headers['access-control-allow-origin']]).toEqual([200, 'http://test.example.com']);
  // Any other origin falls through to the public rule: `*`, no credentials, its own methods.
  const anyone = await preflight('/web/photo.jpg', { origin: 'https://elsewhere.org', 'access-control-request-method': 'GET' });
  expect(corsHeaders(anyone)).toEqual({ 'access-control-allow-origin': '*', 'access-control-allow-methods': 'GET, HEAD', vary });
  // The public rule allows no headers and no PUT; the app rule does not cover https subdomains.
  for (const [origin, method, headers] of [
    ['https://elsewhere.org', 'GET', 'x-custom'],
    ['https://elsewhere.org', 'PUT', ''],
    ['https://test.example.com', 'PUT', ''],
    ['https://app.example.com', 'DELETE', ''],
  ] as const) {
    const refused = await preflight('/web/photo.jpg', { origin, 'access-control-request-method': method, ...(headers === '' ? {} : { 'access-control-request-headers': headers }) });
    expect(refused.status).toBe(403);
    expect([xmlField(refused, 'Code'), xmlField(refused, 'Method'), xmlField(refused, 'ResourceType')]).toEqual(['AccessForbidden', method, 'OBJECT']);
    expect(xmlField(refused, 'Message')).toMatch(/^CORSResponse: This CORS request is not allowed/);
    expect(refused.headers['access-control-allow-origin']).toBeUndefined();
  }
});

test('signed requests with Origin carry the allowing rule\'s headers, errors too; others none', async () => {
  const got = await signedSend('GET', '/web/photo.jpg', { origin: 'https://app.example.com' });
  expect(got.status).toBe(200);
  expect(got.body.toString()).toBe('jpeg bytes');
  expect(corsHeaders(got)).toEqual({
    'access-control-allow-origin': 'https://app.example.com',
    'access-control-allow-credentials': 'true',
    'access-control-allow-methods': 'GET, PUT',
    'access-control-expose-headers': 'ETag, x-amz-request-id',
    'access-control-max-age': '3000',
    vary,
  });
  const missing = await signedSend('GET', '/web/absent.jpg', { origin: 'https://app.example.com' });
  expect([missing.status, xmlField(missing, 'Code'), missing.headers['access-control-allow-origin']]).toEqual([404, 'NoSuchKey', 'https://app.example.com']);
  // DELETE is in no rule: served, without CORS headers (the browser then hides the answer).
  const deleted = await signedSend('DELETE', '/web/absent.jpg', { origin: 'https://app.example.com' });
  expect([deleted.status, deleted.headers['access-control-allow-origin']]).toEqual([204, undefined]);
  const noOrigin = await signedSend('GET', '/web/photo.jpg', {});
  expect(corsHeaders(noOrigin)).toEqual({});
  const plain = await signedSend('GET', '/plain', { origin: 'https://app.example.com' });
  expect([plain.status, plain.headers['access-control-allow-origin']]).toEqual([200, undefined]);
});

test('a refused request (unsigned, bad signature) carries the CORS headers too, so the page can read why', async () => {
  const origin = { origin: 'https://app.example.com' };
  const unsigned = await sendRaw(gateway.port, 'GET', '/web/photo.jpg', { host: `127.0.0.1:${gateway.port}`, ...origin });
  expect([unsigned.status, xmlField(unsigned, 'Code'), unsigned.headers['access-control-allow-origin']]).toEqual([403, 'AccessDenied', 'https://app.example.com']);
  const wrongSecret = signRequest({ ...creds, secretAccessKey: 'not-the-secret' }, {
    method: 'GET', path: '/web/photo.jpg', query: [], headers: { host: `127.0.0.1:${gateway.port}`, ...origin }, payloadHash: sha256Hex(Buffer.alloc(0)), date: new Date(),
  });
  const badSignature = await sendRaw(gateway.port, 'GET', wrongSecret.path, wrongSecret.headers);
  expect([badSignature.status, xmlField(badSignature, 'Code'), badSignature.headers['access-control-allow-origin']]).toEqual([403, 'SignatureDoesNotMatch', 'https://app.example.com']);
  // No rule allows this method, or the bucket has no rules: refused without CORS headers.
  const otherMethod = await sendRaw(gateway.port, 'DELETE', '/web/photo.jpg', { host: `127.0.0.1:${gateway.port}`, ...origin });
  expect([otherMethod.status, otherMethod.headers['access-control-allow-origin']]).toEqual([403, undefined]);
  const plain = await sendRaw(gateway.port, 'GET', '/plain/x', { host: `127.0.0.1:${gateway.port}`, ...origin });
  expect([plain.status, plain.headers['access-control-allow-origin']]).toEqual([403, undefined]);
});

test('DeleteBucketCors removes the configuration: preflights are refused again', async () => {
  await client.send(new DeleteBucketCorsCommand({ Bucket: 'web' }));
  expect(await sdkError(client.send(new GetBucketCorsCommand({ Bucket: 'web' })))).toMatchObject({ status: 404, code: 'NoSuchCORSConfiguration' });
  const refused = await preflight('/web/photo.jpg', { origin: 'https://app.example.com', 'access-control-request-method': 'GET' });
  expect([refused.status, xmlField(refused, 'Message')]).toEqual([403, 'CORSResponse: CORS is not enabled for this bucket.']);
  // Deleting again is fine, as in S3.
  await client.send(new DeleteBucketCorsCommand({ Bucket: 'web' }));
});

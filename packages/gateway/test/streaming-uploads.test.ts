/**
 * Goal: every payload form S3 clients send is verified while it streams, against a real
 * gateway over loopback: signed aws-chunked (with and without trailers), unsigned trailers,
 * signed SHA-256 bodies, Content-MD5, and flexible checksums in headers and trailers. Each
 * negative case must be answered with the right S3 error and leave nothing stored.
 * Method: raw HTTP requests built by an independent test signer (test/support); bodies are
 * compared by SHA-256 with what the backend stored.
 */
import { createHash } from 'node:crypto';
import { SeededRandom } from '@tessera/common';
import { computeChecksum } from '../src/checksums';
import { awsChunkedBody, sendRaw, signRequest } from './support/sigv4-test-signer';
import type { RawResponse } from './support/sigv4-test-signer';
import { startTestGateway, testAccessKeyId, testRegion, testSecretAccessKey } from './support/test-gateway';
import type { TestGateway } from './support/test-gateway';

const creds = { accessKeyId: testAccessKeyId, secretAccessKey: testSecretAccessKey, region: testRegion };
const bucket = 'streaming';
const sha256Hex = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');

function payloadOf(seed: number, sizeBytes: number): Buffer {
  const bytes = Buffer.alloc(sizeBytes);
  new SeededRandom(seed).fillBytes(bytes);
  return bytes;
}

let gateway: TestGateway;

beforeAll(async () => {
  gateway = await startTestGateway();
  const signed = signRequest(creds, { method: 'PUT', path: `/${bucket}`, headers: { host: `127.0.0.1:${gateway.port}` }, payloadHash: sha256Hex(Buffer.alloc(0)), date: new Date() });
  const created = await sendRaw(gateway.port, 'PUT', signed.path, signed.headers);
  expect(created.status).toBe(200);
});

afterAll(async () => {
  await gateway.stop();
});

interface StreamingPut {
  readonly key: string;
  readonly payload: Buffer;
  readonly mode: 'signed' | 'signed-trailer' | 'unsigned-trailer';
  readonly chunkSizeBytes?: number;
  readonly trailers?: Record<string, string>;
  readonly decodedLength?: number;
  readonly date?: Date;
  readonly corruptChunkSignatureIndex?: number;
  readonly corruptTrailerSignature?: boolean;
  readonly extraHeaders?: Record<string, string>;
}

const payloadHashByMode = {
  signed: 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
  'signed-trailer': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER',
  'unsigned-trailer': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
} as const;

async function streamingPut(put: StreamingPut): Promise<RawResponse> {
  const headers: Record<string, string> = {
    host: `127.0.0.1:${gateway.port}`,
    'content-encoding': 'aws-chunked',
    'x-amz-decoded-content-length': String(put.decodedLength ?? put.payload.length),
    ...(put.trailers === undefined ? {} : { 'x-amz-trailer': Object.keys(put.trailers).join(',') }),
    ...put.extraHeaders,
  };
  const signed = signRequest(creds, { method: 'PUT', path: `/${bucket}/${put.key}`, headers, payloadHash: payloadHashByMode[put.mode], date: put.date ?? new Date() });
  const body = awsChunkedBody(put.payload, put.mode === 'unsigned-trailer' ? undefined : signed, {
    chunkSizeBytes: put.chunkSizeBytes ?? 65_536,
    signed: put.mode !== 'unsigned-trailer',
    ...(put.trailers === undefined ? {} : { trailers: put.trailers }),
    ...(put.corruptChunkSignatureIndex === undefined ? {} : { corruptChunkSignatureIndex: put.corruptChunkSignatureIndex }),
    ...(put.corruptTrailerSignature === undefined ? {} : { corruptTrailerSignature: put.corruptTrailerSignature }),
  });
  return sendRaw(gateway.port, 'PUT', signed.path, { ...signed.headers, 'content-length': String(body.length) }, body);
}

function errorCode(response: RawResponse): string | undefined {
  return /<Code>([^<]+)<\/Code>/.exec(response.body.toString('utf8'))?.[1];
}

function expectStored(key: string, payload: Buffer): void {
  const stored = gateway.backend.storedBytes(bucket, key);
  expect(stored === undefined ? undefined : sha256Hex(stored)).toBe(sha256Hex(payload));
}

describe('accepted payload forms', () => {
  test.each([0, 1, 8192, 65_536, 200_001])('STREAMING-AWS4-HMAC-SHA256-PAYLOAD, %i bytes', async (sizeBytes) => {
    const payload = payloadOf(sizeBytes, sizeBytes);
    const response = await streamingPut({ key: `signed/${sizeBytes}`, payload, mode: 'signed' });
    expect([response.status, errorCode(response)]).toEqual([200, undefined]);
    expect(response.headers['etag']).toBe(`"${createHash('md5').update(payload).digest('hex')}"`);
    expectStored(`signed/${sizeBytes}`, payload);
  });

  test.each(['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'] as const)('STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER with x-amz-checksum-%s', async (algorithm) => {
    const payload = payloadOf(3, 150_000);
    const trailerName = `x-amz-checksum-${algorithm.toLowerCase()}`;
    const response = await streamingPut({ key: `signed-trailer/${algorithm}`, payload, mode: 'signed-trailer', trailers: { [trailerName]: computeChecksum(algorithm, payload) } });
    expect([response.status, errorCode(response)]).toEqual([200, undefined]);
    expect(response.headers[trailerName]).toBe(computeChecksum(algorithm, payload));
    expectStored(`signed-trailer/${algorithm}`, payload);
  });

  test('STREAMING-UNSIGNED-PAYLOAD-TRAILER with small, uneven chunks (as the SDK sends them)', async () => {
    const payload = payloadOf(4, 100_000);
    const response = await streamingPut({ key: 'unsigned-trailer', payload, mode: 'unsigned-trailer', chunkSizeBytes: 1000, trailers: { 'x-amz-checksum-crc32': computeChecksum('CRC32', payload) } });
    expect([response.status, errorCode(response)]).toEqual([200, undefined]);
    expectStored('unsigned-trailer', payload);
  });

  test('signed SHA-256 payload and Content-MD5', async () => {
    const payload = payloadOf(5, 10_000);
    const md5 = createHash('md5').update(payload).digest('base64');
    const signed = signRequest(creds, { method: 'PUT', path: `/${bucket}/sha256`, headers: { host: `127.0.0.1:${gateway.port}`, 'content-md5': md5 }, payloadHash: sha256Hex(payload), date: new Date() });
    const response = await sendRaw(gateway.port, 'PUT', signed.path, signed.headers, payload);
    expect(response.status).toBe(200);
    expectStored('sha256', payload);
  });
});

describe('refused payloads leave nothing stored', () => {
  test('a tampered chunk signature is SignatureDoesNotMatch', async () => {
    const response = await streamingPut({ key: 'bad-chunk', payload: payloadOf(6, 200_000), mode: 'signed', corruptChunkSignatureIndex: 1 });
    expect([response.status, errorCode(response)]).toEqual([403, 'SignatureDoesNotMatch']);
    expect(gateway.backend.storedBytes(bucket, 'bad-chunk')).toBeUndefined();
  });

  test('a tampered final-chunk signature is SignatureDoesNotMatch', async () => {
    const response = await streamingPut({ key: 'bad-final', payload: payloadOf(6, 70_000), mode: 'signed', corruptChunkSignatureIndex: 2 });
    expect([response.status, errorCode(response)]).toEqual([403, 'SignatureDoesNotMatch']);
    expect(gateway.backend.storedBytes(bucket, 'bad-final')).toBeUndefined();
  });

  test('a tampered trailer signature is SignatureDoesNotMatch', async () => {
    const payload = payloadOf(7, 20_000);
    const response = await streamingPut({ key: 'bad-trailer-sig', payload, mode: 'signed-trailer', trailers: { 'x-amz-checksum-crc32c': computeChecksum('CRC32C', payload) }, corruptTrailerSignature: true });
    expect([response.status, errorCode(response)]).toEqual([403, 'SignatureDoesNotMatch']);
    expect(gateway.backend.storedBytes(bucket, 'bad-trailer-sig')).toBeUndefined();
  });

  test('a wrong trailer checksum is BadDigest', async () => {
    const payload = payloadOf(8, 20_000);
    const wrong = computeChecksum('CRC32', Buffer.from('something else'));
    const signedForm = await streamingPut({ key: 'bad-crc-signed', payload, mode: 'signed-trailer', trailers: { 'x-amz-checksum-crc32': wrong } });
    expect([signedForm.status, errorCode(signedForm)]).toEqual([400, 'BadDigest']);
    const unsignedForm = await streamingPut({ key: 'bad-crc-unsigned', payload, mode: 'unsigned-trailer', trailers: { 'x-amz-checksum-crc64nvme': computeChecksum('CRC64NVME', Buffer.from('x')) } });
    expect([unsignedForm.status, errorCode(unsignedForm)]).toEqual([400, 'BadDigest']);
    expect(gateway.backend.storedBytes(bucket, 'bad-crc-signed')).toBeUndefined();
    expect(gateway.backend.storedBytes(bucket, 'bad-crc-unsigned')).toBeUndefined();
  });

  test('x-amz-decoded-content-length that disagrees with the body is IncompleteBody', async () => {
    const payload = payloadOf(9, 30_000);
    const longer = await streamingPut({ key: 'wrong-length', payload, mode: 'signed', decodedLength: 30_001 });
    expect([longer.status, errorCode(longer)]).toEqual([400, 'IncompleteBody']);
    const shorter = await streamingPut({ key: 'wrong-length', payload, mode: 'signed', decodedLength: 29_999 });
    expect([shorter.status, errorCode(shorter)]).toEqual([400, 'IncompleteBody']);
    expect(gateway.backend.storedBytes(bucket, 'wrong-length')).toBeUndefined();
  });

  test('a missing x-amz-decoded-content-length is MissingContentLength', async () => {
    const payload = payloadOf(9, 100);
    const signed = signRequest(creds, { method: 'PUT', path: `/${bucket}/no-length`, headers: { host: `127.0.0.1:${gateway.port}` }, payloadHash: payloadHashByMode.signed, date: new Date() });
    const body = awsChunkedBody(payload, signed, { chunkSizeBytes: 65_536, signed: true });
    const response = await sendRaw(gateway.port, 'PUT', signed.path, signed.headers, body);
    expect([response.status, errorCode(response)]).toEqual([411, 'MissingContentLength']);
  });

  test('signed chunks below 8 KiB (except the last) are InvalidChunkSizeError', async () => {
    const response = await streamingPut({ key: 'tiny-chunks', payload: payloadOf(10, 20_000), mode: 'signed', chunkSizeBytes: 4096 });
    expect([response.status, errorCode(response)]).toEqual([403, 'InvalidChunkSizeError']);
    expect(gateway.backend.storedBytes(bucket, 'tiny-chunks')).toBeUndefined();
  });

  test('a request signed 20 minutes ago is RequestTimeTooSkewed', async () => {
    const response = await streamingPut({ key: 'skewed', payload: payloadOf(11, 100), mode: 'signed', date: new Date(Date.now() - 20 * 60_000) });
    expect([response.status, errorCode(response)]).toEqual([403, 'RequestTimeTooSkewed']);
  });

  test('a body that does not match x-amz-content-sha256 is XAmzContentSHA256Mismatch', async () => {
    const payload = payloadOf(12, 5000);
    const signed = signRequest(creds, { method: 'PUT', path: `/${bucket}/sha-mismatch`, headers: { host: `127.0.0.1:${gateway.port}` }, payloadHash: sha256Hex(Buffer.from('other')), date: new Date() });
    const response = await sendRaw(gateway.port, 'PUT', signed.path, signed.headers, payload);
    expect([response.status, errorCode(response)]).toEqual([400, 'XAmzContentSHA256Mismatch']);
    expect(gateway.backend.storedBytes(bucket, 'sha-mismatch')).toBeUndefined();
  });

  test('Content-MD5 that does not match is BadDigest; malformed is InvalidDigest', async () => {
    const payload = payloadOf(13, 5000);
    const wrongMd5 = createHash('md5').update('x').digest('base64');
    const signed = signRequest(creds, { method: 'PUT', path: `/${bucket}/md5`, headers: { host: `127.0.0.1:${gateway.port}`, 'content-md5': wrongMd5 }, payloadHash: 'UNSIGNED-PAYLOAD', date: new Date() });
    const mismatch = await sendRaw(gateway.port, 'PUT', signed.path, signed.headers, payload);
    expect([mismatch.status, errorCode(mismatch)]).toEqual([400, 'BadDigest']);
    const malformed = signRequest(creds, { method: 'PUT', path: `/${bucket}/md5`, headers: { host: `127.0.0.1:${gateway.port}`, 'content-md5': 'not-base64!' }, payloadHash: 'UNSIGNED-PAYLOAD', date: new Date() });
    const invalid = await sendRaw(gateway.port, 'PUT', malformed.path, malformed.headers, payload);
    expect([invalid.status, errorCode(invalid)]).toEqual([400, 'InvalidDigest']);
    expect(gateway.backend.storedBytes(bucket, 'md5')).toBeUndefined();
  });

  test('a wrong x-amz-checksum-sha256 header is BadDigest; a malformed one InvalidRequest', async () => {
    const payload = payloadOf(14, 5000);
    const wrong = computeChecksum('SHA256', Buffer.from('x'));
    const signed = signRequest(creds, { method: 'PUT', path: `/${bucket}/hdr-checksum`, headers: { host: `127.0.0.1:${gateway.port}`, 'x-amz-checksum-sha256': wrong }, payloadHash: 'UNSIGNED-PAYLOAD', date: new Date() });
    const response = await sendRaw(gateway.port, 'PUT', signed.path, signed.headers, payload);
    expect([response.status, errorCode(response)]).toEqual([400, 'BadDigest']);
    const malformed = signRequest(creds, { method: 'PUT', path: `/${bucket}/hdr-checksum`, headers: { host: `127.0.0.1:${gateway.port}`, 'x-amz-checksum-crc32': 'AAAA' }, payloadHash: 'UNSIGNED-PAYLOAD', date: new Date() });
    const bad = await sendRaw(gateway.port, 'PUT', malformed.path, malformed.headers, payload);
    expect([bad.status, errorCode(bad)]).toEqual([400, 'InvalidRequest']);
  });

  test('a declared trailer that never comes is IncompleteBody', async () => {
    const payload = payloadOf(15, 1000);
    const response = await streamingPut({ key: 'missing-trailer', payload, mode: 'unsigned-trailer', trailers: {}, extraHeaders: { 'x-amz-trailer': 'x-amz-checksum-crc32' } });
    expect([response.status, errorCode(response)]).toEqual([400, 'IncompleteBody']);
  });
});

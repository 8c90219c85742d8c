/**
 * Goal: SSE-C as S3 clients use it. A client sends its own AES-256 key with every request; the
 * object is stored as ciphertext under a data key only that key opens, reads without the key
 * are 400 and with another key 403 (GET, HEAD, copy sources, GetObjectAttributes), multipart
 * parts must all carry the upload's key, copies take the source's key from the copy-source
 * headers, and an in-place copy changes the key. Responses echo the algorithm and the key's MD5;
 * the ETag is not the body's MD5 (as in S3). Malformed key headers get S3's codes.
 * Method: a real gateway over the in-memory backend on loopback (where SSE-C over plain HTTP is
 * allowed), driven by @aws-sdk/client-s3 with SSECustomerKey (the SDK adds the MD5); what is
 * stored is read from the backend under the encryption; raw headers for what the SDK would not
 * send; the transport rule (TLS, or a loopback client) as a pure function.
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  CompleteMultipartUploadCommand, CopyObjectCommand, CreateBucketCommand, CreateMultipartUploadCommand, GetObjectAttributesCommand, GetObjectCommand, HeadObjectCommand,
  PutObjectCommand, S3Client, UploadPartCommand, UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { customerKeyTransportAllowed } from '../src/handlers/request-encryption';
import { s3ErrorOf, s3StatusAndName } from './support/s3-error-of';
import { storedBytes } from './support/stored-bytes';
import { startTestGateway, testAccessKeyId, testRegion, testSecretAccessKey } from './support/test-gateway';
import type { TestGateway } from './support/test-gateway';

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');
const md5Base64 = (bytes: Uint8Array): string => createHash('md5').update(bytes).digest('base64');
let gateway: TestGateway;
let client: S3Client;
const bucket = 'customer-keys';
const keyA = randomBytes(32);
const keyB = randomBytes(32);
/** The SDK's SSE-C parameters for a key (it computes and sends the MD5 itself). */
const ssec = (key: Buffer): { SSECustomerAlgorithm: string; SSECustomerKey: string } => ({ SSECustomerAlgorithm: 'AES256', SSECustomerKey: key.toString('base64') });
const copySourceSsec = (key: Buffer): { CopySourceSSECustomerAlgorithm: string; CopySourceSSECustomerKey: string } => ({
  CopySourceSSECustomerAlgorithm: 'AES256', CopySourceSSECustomerKey: key.toString('base64'),
});

beforeAll(async () => {
  gateway = await startTestGateway();
  client = new S3Client({ endpoint: gateway.endpoint, region: testRegion, forcePathStyle: true, credentials: { accessKeyId: testAccessKeyId, secretAccessKey: testSecretAccessKey } });
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
});
afterAll(async () => {
  client.destroy();
  await gateway.stop();
});

async function getBytes(key: string, customerKey: Buffer | undefined, extra: { Range?: string; PartNumber?: number } = {}): Promise<Uint8Array> {
  const response = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key, ...extra, ...(customerKey === undefined ? {} : ssec(customerKey)) }));
  return response.Body!.transformToByteArray();
}

/** The bytes as the backend under the encryption holds them. */
const storedOf = (key: string): Promise<Buffer> => storedBytes(gateway.backend, bucket, key);

const errorOf = s3StatusAndName;

/** A PutObject with raw SSE-C headers, for what the SDK would not send. */
function putWithHeaders(headers: Record<string, string>): Promise<unknown> {
  const command = new PutObjectCommand({ Bucket: bucket, Key: 'malformed', Body: 'x' });
  command.middlewareStack.add((next) => async (args) => {
    Object.assign((args.request as { headers: Record<string, string> }).headers, headers);
    return next(args);
  }, { step: 'build' });
  return client.send(command);
}

test('PutObject with a customer key stores ciphertext; GET, HEAD and GetObjectAttributes need that key (400 without, 403 with another)', async () => {
  const body = randomBytes(150_001);
  const put = await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'mine.bin', Body: body, ...ssec(keyA) }));
  expect([put.SSECustomerAlgorithm, put.SSECustomerKeyMD5, put.ServerSideEncryption]).toEqual(['AES256', md5Base64(keyA), undefined]);
  // The ETag is not the body's MD5 (a listing must not reveal it) but is stable for the object.
  expect(put.ETag).toMatch(/^"[0-9a-f]{32}"$/);
  expect(put.ETag).not.toBe(`"${createHash('md5').update(body).digest('hex')}"`);
  const stored = await storedOf('mine.bin');
  expect(stored.length).toBe(body.length);
  expect(stored.includes(body.subarray(5000, 5032))).toBe(false);

  const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: 'mine.bin', ...ssec(keyA) }));
  expect([got.SSECustomerAlgorithm, got.SSECustomerKeyMD5, got.ETag]).toEqual(['AES256', md5Base64(keyA), put.ETag]);
  expect(sha256(await got.Body!.transformToByteArray())).toBe(sha256(body));
  for (const [start, end] of [[0, 0], [17, 70_000], [150_000, 150_000]] as const) {
    expect(sha256(await getBytes('mine.bin', keyA, { Range: `bytes=${start}-${end}` }))).toBe(sha256(body.subarray(start, end + 1)));
  }
  expect(await errorOf(getBytes('mine.bin', undefined))).toEqual([400, 'InvalidRequest']);
  expect(await errorOf(getBytes('mine.bin', keyB))).toEqual([403, 'AccessDenied']);

  const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: 'mine.bin', ...ssec(keyA) }));
  expect([head.ContentLength, head.SSECustomerKeyMD5, head.ETag]).toEqual([body.length, md5Base64(keyA), put.ETag]);
  expect((await s3ErrorOf(client.send(new HeadObjectCommand({ Bucket: bucket, Key: 'mine.bin' })))).$metadata.httpStatusCode).toBe(400);
  expect((await s3ErrorOf(client.send(new HeadObjectCommand({ Bucket: bucket, Key: 'mine.bin', ...ssec(keyB) })))).$metadata.httpStatusCode).toBe(403);
  const attributes = await client.send(new GetObjectAttributesCommand({ Bucket: bucket, Key: 'mine.bin', ObjectAttributes: ['ObjectSize'], ...ssec(keyA) }));
  expect(attributes.ObjectSize).toBe(body.length);
  expect(await errorOf(client.send(new GetObjectAttributesCommand({ Bucket: bucket, Key: 'mine.bin', ObjectAttributes: ['ObjectSize'] })))).toEqual([400, 'InvalidRequest']);

  // A key on an object stored without one is refused too, never ignored.
  await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'plain.bin', Body: body }));
  expect(await errorOf(getBytes('plain.bin', keyA))).toEqual([400, 'InvalidRequest']);
  await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'sse-s3.bin', Body: body, ServerSideEncryption: 'AES256' }));
  expect(await errorOf(getBytes('sse-s3.bin', keyA))).toEqual([400, 'InvalidRequest']);
  expect(sha256(await getBytes('sse-s3.bin', undefined))).toBe(sha256(body));

  // Same bytes, same key, two objects: each has its own data key, so nothing stored repeats.
  await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'mine-again.bin', Body: body, ...ssec(keyA) }));
  expect((await storedOf('mine-again.bin')).equals(stored)).toBe(false);
});

test('malformed SSE-C headers get S3 error codes and store nothing', async () => {
  const key = randomBytes(32);
  const headers = { 'x-amz-server-side-encryption-customer-algorithm': 'AES256', 'x-amz-server-side-encryption-customer-key': key.toString('base64'), 'x-amz-server-side-encryption-customer-key-md5': md5Base64(key) };
  const without = (name: string): Record<string, string> => Object.fromEntries(Object.entries(headers).filter(([header]) => header !== name));
  expect(await errorOf(putWithHeaders({ ...headers, 'x-amz-server-side-encryption-customer-key-md5': md5Base64(randomBytes(32)) }))).toEqual([400, 'InvalidArgument']);
  expect(await errorOf(putWithHeaders(without('x-amz-server-side-encryption-customer-key-md5')))).toEqual([400, 'InvalidArgument']);
  expect(await errorOf(putWithHeaders(without('x-amz-server-side-encryption-customer-key')))).toEqual([400, 'InvalidArgument']);
  expect(await errorOf(putWithHeaders(without('x-amz-server-side-encryption-customer-algorithm')))).toEqual([400, 'InvalidArgument']);
  expect(await errorOf(putWithHeaders({ ...headers, 'x-amz-server-side-encryption-customer-algorithm': 'AES128' }))).toEqual([400, 'InvalidEncryptionAlgorithmError']);
  const shortKey = randomBytes(16);
  expect(await errorOf(putWithHeaders({ ...headers, 'x-amz-server-side-encryption-customer-key': shortKey.toString('base64'), 'x-amz-server-side-encryption-customer-key-md5': md5Base64(shortKey) })))
    .toEqual([400, 'InvalidArgument']);
  expect(await errorOf(putWithHeaders({ ...headers, 'x-amz-server-side-encryption': 'AES256' }))).toEqual([400, 'InvalidArgument']);
  await expect(gateway.backend.headObject(bucket, 'malformed')).rejects.toThrow();
});

test('multipart: every part must carry the upload\'s key; the object reads back whole and by part number with it', async () => {
  const partOne = randomBytes(5 * 1024 * 1024);
  const partTwo = randomBytes(777_777);
  const created = await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'mp.bin', ...ssec(keyA) }));
  expect([created.SSECustomerAlgorithm, created.SSECustomerKeyMD5]).toEqual(['AES256', md5Base64(keyA)]);
  const uploadId = created.UploadId!;
  const upload = (partNumber: number, body: Buffer, key: Buffer | undefined): Promise<{ ETag?: string; SSECustomerKeyMD5?: string }> =>
    client.send(new UploadPartCommand({ Bucket: bucket, Key: 'mp.bin', UploadId: uploadId, PartNumber: partNumber, Body: body, ...(key === undefined ? {} : ssec(key)) }));
  expect(await errorOf(upload(1, partOne, undefined))).toEqual([400, 'InvalidRequest']);
  expect(await errorOf(upload(1, partOne, keyB))).toEqual([400, 'InvalidArgument']);
  const first = await upload(1, partOne, keyA);
  expect(first.SSECustomerKeyMD5).toBe(md5Base64(keyA));
  const second = await upload(2, partTwo, keyA);
  const done = await client.send(new CompleteMultipartUploadCommand({
    Bucket: bucket, Key: 'mp.bin', UploadId: uploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: first.ETag }, { PartNumber: 2, ETag: second.ETag }] },
  }));
  expect(done.ETag).toMatch(/^"[0-9a-f]{32}-2"$/);
  const body = Buffer.concat([partOne, partTwo]);
  expect(sha256(await getBytes('mp.bin', keyA))).toBe(sha256(body));
  expect(sha256(await getBytes('mp.bin', keyA, { PartNumber: 2 }))).toBe(sha256(partTwo));
  expect(sha256(await getBytes('mp.bin', keyA, { Range: `bytes=${partOne.length - 3}-${partOne.length + 3}` }))).toBe(sha256(body.subarray(partOne.length - 3, partOne.length + 4)));
  expect(await errorOf(getBytes('mp.bin', keyB))).toEqual([403, 'AccessDenied']);
  expect((await storedOf('mp.bin')).subarray(0, 64).equals(partOne.subarray(0, 64))).toBe(false);

  // A plain upload's parts may not carry a key.
  const plain = await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'mp-plain.bin' }));
  expect(await errorOf(client.send(new UploadPartCommand({ Bucket: bucket, Key: 'mp-plain.bin', UploadId: plain.UploadId, PartNumber: 1, Body: partTwo, ...ssec(keyA) }))))
    .toEqual([400, 'InvalidRequest']);
});

test('copies: the source key comes in copy-source headers; an in-place copy changes the key; UploadPartCopy between customer keys', async () => {
  const body = randomBytes(6 * 1024 * 1024 + 11);
  await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'copy-src.bin', Body: body, ...ssec(keyA) }));
  expect(await errorOf(client.send(new CopyObjectCommand({ Bucket: bucket, Key: 'copy-plain.bin', CopySource: `${bucket}/copy-src.bin` })))).toEqual([400, 'InvalidRequest']);
  expect(await errorOf(client.send(new CopyObjectCommand({ Bucket: bucket, Key: 'copy-plain.bin', CopySource: `${bucket}/copy-src.bin`, ...copySourceSsec(keyB) }))))
    .toEqual([403, 'AccessDenied']);
  await client.send(new CopyObjectCommand({ Bucket: bucket, Key: 'copy-plain.bin', CopySource: `${bucket}/copy-src.bin`, ...copySourceSsec(keyA) }));
  expect((await storedOf('copy-plain.bin')).equals(body)).toBe(true);

  // Re-keying in place: the old key stops working, the new one reads the same bytes.
  const rekeyed = await client.send(new CopyObjectCommand({ Bucket: bucket, Key: 'copy-src.bin', CopySource: `${bucket}/copy-src.bin`, ...copySourceSsec(keyA), ...ssec(keyB) }));
  expect(rekeyed.SSECustomerKeyMD5).toBe(md5Base64(keyB));
  expect(await errorOf(getBytes('copy-src.bin', keyA))).toEqual([403, 'AccessDenied']);
  expect(sha256(await getBytes('copy-src.bin', keyB))).toBe(sha256(body));

  const created = await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'assembled.bin', ...ssec(keyA) }));
  const copied = await client.send(new UploadPartCopyCommand({
    Bucket: bucket, Key: 'assembled.bin', UploadId: created.UploadId, PartNumber: 1, CopySource: `${bucket}/copy-src.bin`, CopySourceRange: 'bytes=0-5242879',
    ...copySourceSsec(keyB), ...ssec(keyA),
  }));
  expect(copied.SSECustomerKeyMD5).toBe(md5Base64(keyA));
  await client.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'assembled.bin', UploadId: created.UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: copied.CopyPartResult!.ETag }] } }));
  expect(sha256(await getBytes('assembled.bin', keyA))).toBe(sha256(body.subarray(0, 5_242_880)));
});

test('SSE-C keys are taken over TLS or from a loopback client only', () => {
  expect(customerKeyTransportAllowed({ encrypted: true, remoteAddress: '10.1.2.3' })).toBe(true);
  for (const address of ['127.0.0.1', '127.5.6.7', '::1', '::ffff:127.0.0.1']) expect(customerKeyTransportAllowed({ encrypted: false, remoteAddress: address })).toBe(true);
  for (const address of ['10.1.2.3', '::ffff:192.168.1.9', 'fe80::1', undefined]) expect(customerKeyTransportAllowed({ encrypted: false, remoteAddress: address })).toBe(false);
});

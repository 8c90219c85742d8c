/**
 * Goal: the gateway serves S3 over HTTPS when given a certificate: an AWS SDK client that trusts
 * it does a byte-exact round trip (aws-chunked uploads included); a plain-HTTP client on the TLS
 * port costs only its own connection; a renewed certificate serves new connections while a
 * bad one (a key that is not the certificate's) is refused and the old one stays; a stop cuts
 * connections still in their handshake.
 * Method: a real gateway over the in-memory backend with the self-signed test certificates in
 * test/fixtures/tls (CN tessera-test-a / -b, SAN 127.0.0.1, valid until 2126); the certificate a
 * connection is served is read with tls.connect.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { TlsCredentialsError } from '../src/server';
import { startTestGateway, testAccessKeyId, testRegion, testSecretAccessKey } from './support/test-gateway';
import type { TestGateway } from './support/test-gateway';
import { sendRaw } from './support/sigv4-test-signer';
import { servedCommonName } from './support/tls-probe';

const fixture = (name: string): Buffer => readFileSync(join(__dirname, 'fixtures', 'tls', name));
const credentialsA = { cert: fixture('cert-a.pem'), key: fixture('key-a.pem') };
const credentialsB = { cert: fixture('cert-b.pem'), key: fixture('key-b.pem') };
let gateway: TestGateway;

beforeAll(async () => {
  gateway = await startTestGateway({ tls: credentialsA });
});
afterAll(async () => {
  await gateway.stop();
});

test('an SDK client that trusts the certificate does a byte-exact round trip over HTTPS', async () => {
  expect(gateway.endpoint).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
  const client = new S3Client({
    endpoint: gateway.endpoint, region: testRegion, forcePathStyle: true, credentials: { accessKeyId: testAccessKeyId, secretAccessKey: testSecretAccessKey },
    requestHandler: { httpsAgent: new Agent({ ca: credentialsA.cert }) },
  });
  try {
    await client.send(new CreateBucketCommand({ Bucket: 'secure' }));
    const body = randomBytes(3 * 1024 * 1024 + 11);
    await client.send(new PutObjectCommand({ Bucket: 'secure', Key: 'k', Body: body }));
    const got = await client.send(new GetObjectCommand({ Bucket: 'secure', Key: 'k' }));
    const sha = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');
    expect(sha(await got.Body!.transformToByteArray())).toBe(sha(body));
  } finally {
    client.destroy();
  }
  // A client that does not trust the certificate is refused by its own TLS stack.
  await expect(fetch(`${gateway.endpoint}/health/live`)).rejects.toThrow();
});

test('plain HTTP on the TLS port fails that connection only', async () => {
  await expect(sendRaw(gateway.port, 'GET', '/health/live', { host: 'x' }, Buffer.alloc(0))).rejects.toThrow();
  expect(await servedCommonName(gateway.port)).toBe('tessera-test-a');
});

test('a renewed certificate serves new connections; a mismatched key is refused and the old one stays', async () => {
  gateway.server.setTlsCredentials(credentialsB);
  expect(await servedCommonName(gateway.port)).toBe('tessera-test-b');
  expect(() => gateway.server.setTlsCredentials({ cert: credentialsA.cert, key: credentialsB.key })).toThrow(TlsCredentialsError);
  expect(await servedCommonName(gateway.port)).toBe('tessera-test-b');
  gateway.server.setTlsCredentials(credentialsA);
  expect(await servedCommonName(gateway.port)).toBe('tessera-test-a');
});

test('a stop does not wait for a connection that never finishes its TLS handshake', async () => {
  const other = await startTestGateway({ tls: credentialsA });
  const silent = createConnection({ host: '127.0.0.1', port: other.port });
  await new Promise<void>((resolve) => silent.once('connect', () => resolve()));
  const closed = new Promise<void>((resolve) => silent.once('close', () => resolve()));
  silent.on('error', () => undefined);
  const began = Date.now();
  await other.server.stop(200);
  await closed;
  expect(Date.now() - began).toBeLessThan(5_000);
});

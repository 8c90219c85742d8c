/**
 * Goal: SSE-S3 on a real cluster keeps plaintext off the storage nodes' disks and out of the
 * catalogue, and every gateway can read what any other encrypted: the master key is the
 * cluster's (created once in the metadata service), not a gateway's. Striped, inline and
 * multipart (lib-storage) objects round-trip byte-exact, with a storage node down too (a
 * degraded read decodes ciphertext, then decrypts); a bucket's default encryption applies to
 * writes through another gateway; after a master key rotation new objects are sealed with the
 * new key while the old one still opens what it sealed; the metadata service refuses an encrypted version to a caller
 * that does not say it decrypts (a gateway from before SSE), so none serves ciphertext; an SSE-C
 * object (a customer key) reads through another gateway only with that key.
 * Method: the in-process cluster fixture (3 metadata nodes, 9 storage nodes, the real gateway)
 * plus a second real gateway on the same metadata service, driven by @aws-sdk/client-s3 and
 * lib-storage; bodies compared by SHA-256; every file under the storage nodes' data
 * directories searched for a marker the plaintext repeats (and, as a control, found there for
 * an unencrypted object).
 */
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { CreateBucketCommand, GetObjectCommand, PutBucketEncryptionCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { silentLogger, systemClock } from '@tessera/common';
import { EncryptedObjectError } from '@tessera/rpc';
import { dataPathOptions } from '../../src/cluster/data-path-options';
import { startGateway } from '../../src/cluster/gateway-process';
import type { RunningGateway } from '../../src/cluster/gateway-process';
import { clusterAccessKeyId, clusterSecretAccessKey, startTestCluster } from './cluster-fixture';
import type { TestCluster } from './cluster-fixture';

jest.setTimeout(180_000);

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');
let cluster: TestCluster;
let second: RunningGateway;
let secondClient: S3Client;
const bucket = 'vault';

/** Random bytes with `marker` written every 64 KiB. */
function bodyWithMarker(sizeBytes: number, marker: string): Buffer {
  const body = randomBytes(sizeBytes);
  for (let at = 0; at + marker.length <= sizeBytes; at += 64 * 1024) body.write(marker, at, 'latin1');
  return body;
}

/** How many files under the storage nodes' data directories contain `marker`. */
async function filesOnStorageNodesContaining(marker: string): Promise<number> {
  let count = 0;
  for (const node of cluster.storageNodes) {
    const entries = await fs.readdir(node.dataDir, { recursive: true, withFileTypes: true });
    for (const entry of entries) {
      if (!entry.isFile()) continue;
      const bytes = await fs.readFile(path.join(entry.parentPath, entry.name));
      if (bytes.includes(marker, 0, 'latin1')) count += 1;
    }
  }
  return count;
}

async function getSha(client: S3Client, key: string): Promise<{ sha: string; encryption: string | undefined }> {
  const response = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return { sha: sha256(await response.Body!.transformToByteArray()), encryption: response.ServerSideEncryption };
}

/** Another real gateway on the cluster's metadata service, with a client of its own. */
async function startAnotherGateway(): Promise<{ gateway: RunningGateway; client: S3Client }> {
  const gateway = await startGateway(
    {
      listenHost: '127.0.0.1', listenPort: 0, metricsListen: undefined, metadataAddresses: cluster.metadataAddresses, region: 'us-east-1',
      virtualHostBaseDomains: [], rootAccessKeyId: clusterAccessKeyId, rootSecretAccessKey: clusterSecretAccessKey, dataPath: dataPathOptions({}),
      shutdownGraceMs: 1_000, requestTimeoutMs: 120_000, keepAliveTimeoutMs: 65_000, gcIntervalMs: 0, logLevel: 'warn',
    },
    { clock: systemClock, logger: silentLogger },
  );
  const client = new S3Client({
    endpoint: gateway.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: clusterAccessKeyId, secretAccessKey: clusterSecretAccessKey },
  });
  return { gateway, client };
}

beforeAll(async () => {
  cluster = await startTestCluster();
  ({ gateway: second, client: secondClient } = await startAnotherGateway());
  await cluster.s3.send(new CreateBucketCommand({ Bucket: bucket }));
});

afterAll(async () => {
  secondClient?.destroy();
  await second?.stop(0);
  await cluster?.stop();
});

test('striped and inline objects: ciphertext on disk and in the catalogue, plaintext through either gateway', async () => {
  const plainMarker = `PLAINTEXT-CONTROL-${randomBytes(8).toString('hex')}`;
  const secretMarker = `SECRET-MARKER-${randomBytes(8).toString('hex')}`;
  const plain = bodyWithMarker(3 * 1024 * 1024, plainMarker);
  const striped = bodyWithMarker(3 * 1024 * 1024 + 17, secretMarker);
  const small = Buffer.from(`${secretMarker} a small object kept inline ${secretMarker}`, 'latin1');
  await cluster.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'plain', Body: plain }));
  expect((await cluster.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'striped', Body: striped, ServerSideEncryption: 'AES256' }))).ServerSideEncryption).toBe('AES256');
  await cluster.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'small', Body: small, ServerSideEncryption: 'AES256' }));

  expect(await filesOnStorageNodesContaining(plainMarker)).toBeGreaterThan(0);
  expect(await filesOnStorageNodesContaining(secretMarker)).toBe(0);
  // A caller that does not decrypt (a gateway from before SSE) is refused the encrypted version.
  await expect(cluster.metadata.getObject({ bucket, key: 'small', versionId: '' })).rejects.toBeInstanceOf(EncryptedObjectError);
  await expect(cluster.metadata.getObject({ bucket, key: 'plain', versionId: '' })).resolves.toBeDefined();
  const inline = await cluster.metadata.getObject({ bucket, key: 'small', versionId: '', readsEncrypted: true });
  const inlineBytes = Buffer.from(inline.inlineData ?? Buffer.alloc(0));
  expect(inlineBytes.length).toBe(small.length);
  expect(inlineBytes.equals(small)).toBe(false);

  for (const client of [cluster.s3, secondClient]) {
    expect(await getSha(client, 'striped')).toEqual({ sha: sha256(striped), encryption: 'AES256' });
    expect(await getSha(client, 'small')).toEqual({ sha: sha256(small), encryption: 'AES256' });
  }
  // A degraded read: parity reconstructs ciphertext, which then decrypts.
  const down = cluster.storageNodes[0]!.nodeId;
  await cluster.stopStorageNode(down);
  try {
    expect((await getSha(secondClient, 'striped')).sha).toBe(sha256(striped));
  } finally {
    await cluster.startStorageNode(down);
  }
});

test('a rotated master key seals new objects while the old key still opens what it sealed, on every gateway', async () => {
  const keyIdOf = async (key: string): Promise<string | undefined> =>
    (await cluster.metadata.getObject({ bucket, key, versionId: '', readsEncrypted: true })).systemMetadata['x-tessera-sse-master-key-id'];
  const before = randomBytes(200_000);
  await cluster.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'before-rotation', Body: before, ServerSideEncryption: 'AES256' }));
  const oldKeyId = await keyIdOf('before-rotation');
  const rotated = await cluster.metadata.rotateEncryptionMasterKey();
  expect(rotated.keyId).not.toBe(oldKeyId);
  expect((await cluster.metadata.listEncryptionMasterKeys()).map((key) => key.keyId).slice(-2)).toEqual([oldKeyId, rotated.keyId]);
  // A gateway that never read the current key seals with the new one at once (the others within 60 s).
  const { gateway: third, client: thirdClient } = await startAnotherGateway();
  try {
    const after = randomBytes(300_000);
    await thirdClient.send(new PutObjectCommand({ Bucket: bucket, Key: 'after-rotation', Body: after, ServerSideEncryption: 'AES256' }));
    expect(await keyIdOf('after-rotation')).toBe(rotated.keyId);
    for (const client of [cluster.s3, secondClient, thirdClient]) {
      expect((await getSha(client, 'before-rotation')).sha).toBe(sha256(before));
      expect((await getSha(client, 'after-rotation')).sha).toBe(sha256(after));
    }
  } finally {
    thirdClient.destroy();
    await third.stop(0);
  }
});

test('multipart through lib-storage and a bucket default set through the other gateway', async () => {
  const secretMarker = `MULTIPART-SECRET-${randomBytes(8).toString('hex')}`;
  const body = bodyWithMarker(12 * 1024 * 1024 + 5, secretMarker);
  const upload = new Upload({ client: cluster.s3, params: { Bucket: bucket, Key: 'big', Body: body, ServerSideEncryption: 'AES256' }, partSize: 5 * 1024 * 1024, queueSize: 2 });
  await upload.done();
  expect(await getSha(secondClient, 'big')).toEqual({ sha: sha256(body), encryption: 'AES256' });
  const ranged = await secondClient.send(new GetObjectCommand({ Bucket: bucket, Key: 'big', Range: `bytes=${5 * 1024 * 1024 - 3}-${5 * 1024 * 1024 + 3}` }));
  expect(Buffer.from(await ranged.Body!.transformToByteArray()).equals(body.subarray(5 * 1024 * 1024 - 3, 5 * 1024 * 1024 + 4))).toBe(true);

  await cluster.s3.send(new CreateBucketCommand({ Bucket: 'defaults' }));
  await cluster.s3.send(new PutBucketEncryptionCommand({ Bucket: 'defaults', ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] } }));
  const defaultMarker = `DEFAULT-SECRET-${randomBytes(8).toString('hex')}`;
  const defaulted = bodyWithMarker(2 * 1024 * 1024, defaultMarker);
  // The other gateway learns the bucket's default within its bucket cache TTL (5 s); a bucket it never read is read now.
  expect((await secondClient.send(new PutObjectCommand({ Bucket: 'defaults', Key: 'k', Body: defaulted }))).ServerSideEncryption).toBe('AES256');
  expect(await filesOnStorageNodesContaining(secretMarker)).toBe(0);
  expect(await filesOnStorageNodesContaining(defaultMarker)).toBe(0);
  const response = await cluster.s3.send(new GetObjectCommand({ Bucket: 'defaults', Key: 'k' }));
  expect(sha256(await response.Body!.transformToByteArray())).toBe(sha256(defaulted));
});

test('SSE-C: a customer-keyed multipart object reads through the other gateway with the key only, also degraded; no plaintext on disk', async () => {
  const customerKey = randomBytes(32);
  const ssec = { SSECustomerAlgorithm: 'AES256', SSECustomerKey: customerKey.toString('base64') };
  const secretMarker = `CUSTOMER-SECRET-${randomBytes(8).toString('hex')}`;
  const body = bodyWithMarker(11 * 1024 * 1024 + 3, secretMarker);
  await new Upload({ client: cluster.s3, params: { Bucket: bucket, Key: 'customer-keyed', Body: body, ...ssec }, partSize: 5 * 1024 * 1024, queueSize: 2 }).done();
  const small = Buffer.from(`${secretMarker} inline and customer-keyed`, 'latin1');
  await cluster.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'customer-small', Body: small, ...ssec }));
  expect(await filesOnStorageNodesContaining(secretMarker)).toBe(0);
  const sealed = await cluster.metadata.getObject({ bucket, key: 'customer-small', versionId: '', readsEncrypted: true });
  expect(sealed.systemMetadata['x-tessera-sse-master-key-id']).toBe('customer');
  expect(Buffer.from(sealed.inlineData ?? Buffer.alloc(0)).includes(secretMarker, 0, 'latin1')).toBe(false);

  const read = async (key: string, withKey: boolean): Promise<string> => {
    const response = await secondClient.send(new GetObjectCommand({ Bucket: bucket, Key: key, ...(withKey ? ssec : {}) }));
    return sha256(await response.Body!.transformToByteArray());
  };
  expect([await read('customer-keyed', true), await read('customer-small', true)]).toEqual([sha256(body), sha256(small)]);
  await expect(read('customer-keyed', false)).rejects.toMatchObject({ name: 'InvalidRequest', $metadata: { httpStatusCode: 400 } });
  const down = cluster.storageNodes[4]!.nodeId;
  await cluster.stopStorageNode(down);
  try {
    expect(await read('customer-keyed', true)).toBe(sha256(body));
  } finally {
    await cluster.startStorageNode(down);
  }
});

/**
 * Goal: a write whose metadata commit went through although the gateway saw the call fail
 * must keep its shards. This is what a metadata leader that freezes (a GC pause, a stalled VM)
 * after replicating the entry looks like from the gateway: the connection drops, then every
 * node answers "not the leader" while the others elect, and the new leader commits the entry.
 * The gateway used to take the last "not the leader" for a refusal and delete the shards under
 * what was by then a live version: every later read of the object failed, 0 of 9 shards found
 * (seen in a soak test with metadata leaders paused). Method: the in-process cluster (3
 * metadata, 9 storage nodes, a gateway) with a MetadataFaultProxy between the gateway and the
 * metadata group, armed for one CommitVersion / RegisterPart; the AWS SDK; bodies compared by
 * SHA-256.
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  CompleteMultipartUploadCommand, CreateBucketCommand, CreateMultipartUploadCommand, GetObjectCommand, ListPartsCommand, PutObjectCommand, UploadPartCommand,
} from '@aws-sdk/client-s3';
import { shardFilesOnDisk, startTestCluster } from './cluster-fixture';
import type { TestCluster } from './cluster-fixture';
import { s3StatusAndName } from '../support/s3-error-of';
import type { MetadataFaultProxy } from './metadata-fault-proxy';

jest.setTimeout(120_000);

const bucket = 'outcome';
const mebibyte = 1024 * 1024;
const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

let cluster: TestCluster;
let proxy: MetadataFaultProxy;

beforeAll(async () => {
  cluster = await startTestCluster({ metadataFaultProxy: true });
  proxy = cluster.metadataProxy!;
  await cluster.s3.send(new CreateBucketCommand({ Bucket: bucket }));
});

afterAll(async () => {
  await cluster?.stop();
});

async function readBack(key: string): Promise<string> {
  const response = await cluster.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return sha256(await response.Body!.transformToByteArray());
}

test('a PUT committed while the gateway saw a dropped connection and then "not the leader" answers a 503 and keeps its shards: the object reads back', async () => {
  const body = randomBytes(3 * mebibyte + 17);
  const committedBefore = proxy.committedButFailedCount;
  proxy.injectCommitFault({ method: 'CommitVersion', notLeaderAttemptCount: 1_000 });
  // The outcome is unknown to the gateway: a 503 the client retries, never a claim that nothing was stored.
  expect(await s3StatusAndName(cluster.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'put', Body: body })))).toEqual([503, 'ServiceUnavailable']);
  expect(proxy.committedButFailedCount).toBe(committedBefore + 1);
  expect(await readBack('put')).toBe(sha256(body));
  const version = await cluster.metadata.getObject({ bucket, key: 'put', versionId: '', readsEncrypted: true });
  const stripeId = version.stripe?.stripeId ?? '';
  expect(stripeId).not.toBe('');
  expect((await shardFilesOnDisk(cluster)).stripeIds.filter((id) => id === stripeId)).toHaveLength(9);
});

test('an UploadPart registered while the gateway saw the call fail keeps its shards: the completed upload reads back', async () => {
  const created = await cluster.s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'multipart' }));
  const uploadId = created.UploadId!;
  const body = randomBytes(2 * mebibyte + 5);
  proxy.injectCommitFault({ method: 'RegisterPart', notLeaderAttemptCount: 1_000 });
  expect(await s3StatusAndName(cluster.s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'multipart', UploadId: uploadId, PartNumber: 1, Body: body }))))
    .toEqual([503, 'ServiceUnavailable']);
  // The part is registered: a client that lists the parts may complete with it.
  const parts = await cluster.s3.send(new ListPartsCommand({ Bucket: bucket, Key: 'multipart', UploadId: uploadId }));
  expect(parts.Parts?.map((p) => [p.PartNumber, p.Size])).toEqual([[1, body.length]]);
  await cluster.s3.send(new CompleteMultipartUploadCommand({
    Bucket: bucket, Key: 'multipart', UploadId: uploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: parts.Parts![0]!.ETag! }] },
  }));
  expect(await readBack('multipart')).toBe(sha256(body));
});

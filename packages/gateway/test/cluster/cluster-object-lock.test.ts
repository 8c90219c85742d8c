/**
 * Goal: S3 Object Lock protects versions on a real cluster, as backup software relies on it: a
 * bucket created with Object Lock is versioned for good; a version under COMPLIANCE retention or
 * a legal hold cannot be deleted by id (403), by anyone; GOVERNANCE only with the bypass header;
 * retention can be extended but not weakened; the default retention reaches new versions
 * (single-part and multipart); a delete without a version id still adds a delete marker and the
 * locked data stays readable; DeleteObjects reports locked versions per key; buckets without
 * Object Lock refuse lock settings.
 * Method: the in-process cluster fixture (3 metadata nodes, 9 storage nodes, the real gateway)
 * driven by @aws-sdk/client-s3; bodies compared by SHA-256.
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  CompleteMultipartUploadCommand, CreateBucketCommand, CreateMultipartUploadCommand, DeleteObjectCommand, DeleteObjectsCommand, GetBucketVersioningCommand,
  GetObjectCommand, GetObjectLegalHoldCommand, GetObjectLockConfigurationCommand, GetObjectRetentionCommand, HeadObjectCommand, PutBucketVersioningCommand,
  PutObjectCommand, PutObjectLegalHoldCommand, PutObjectLockConfigurationCommand, PutObjectRetentionCommand, UploadPartCommand,
} from '@aws-sdk/client-s3';
import { s3ErrorOf, s3StatusAndName } from '../support/s3-error-of';
import { startTestCluster } from './cluster-fixture';
import type { TestCluster } from './cluster-fixture';

jest.setTimeout(120_000);

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');
const hourMs = 3600_000;
const bucket = 'vault';
let cluster: TestCluster;

beforeAll(async () => {
  cluster = await startTestCluster();
  await cluster.s3.send(new CreateBucketCommand({ Bucket: bucket, ObjectLockEnabledForBucket: true }));
});

afterAll(async () => {
  await cluster?.stop();
});

const errorOf = s3StatusAndName;

test('a bucket created with Object Lock is versioned for good and reports its configuration', async () => {
  expect((await cluster.s3.send(new GetBucketVersioningCommand({ Bucket: bucket }))).Status).toBe('Enabled');
  expect((await cluster.s3.send(new GetObjectLockConfigurationCommand({ Bucket: bucket }))).ObjectLockConfiguration).toEqual({ ObjectLockEnabled: 'Enabled' });
  expect(await errorOf(cluster.s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Suspended' } })))).toEqual([409, 'InvalidBucketState']);
});

test('COMPLIANCE: no delete by id, retention only extended; a plain delete adds a marker and the data stays', async () => {
  const body = randomBytes(2 * 1024 * 1024);
  const until = new Date(Date.now() + hourMs);
  const put = await cluster.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'ledger', Body: body, ObjectLockMode: 'COMPLIANCE', ObjectLockRetainUntilDate: until }));
  const head = await cluster.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'ledger' }));
  expect([head.ObjectLockMode, head.ObjectLockRetainUntilDate?.getTime()]).toEqual(['COMPLIANCE', until.getTime()]);
  expect(await errorOf(cluster.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'ledger', VersionId: put.VersionId })))).toEqual([403, 'AccessDenied']);
  expect(await errorOf(cluster.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'ledger', VersionId: put.VersionId, BypassGovernanceRetention: true })))).toEqual([403, 'AccessDenied']);
  const shorter = new Date(until.getTime() - 60_000);
  expect(await errorOf(cluster.s3.send(new PutObjectRetentionCommand({ Bucket: bucket, Key: 'ledger', VersionId: put.VersionId, Retention: { Mode: 'COMPLIANCE', RetainUntilDate: shorter } })))).toEqual([403, 'AccessDenied']);
  expect(await errorOf(cluster.s3.send(new PutObjectRetentionCommand({ Bucket: bucket, Key: 'ledger', VersionId: put.VersionId, Retention: { Mode: 'GOVERNANCE', RetainUntilDate: until }, BypassGovernanceRetention: true })))).toEqual([403, 'AccessDenied']);
  const longer = new Date(until.getTime() + hourMs);
  // A Mode S3 does not have, in the document, is MalformedXML (s3-tests put_obj_retention_invalid_mode).
  for (const mode of ['governance', 'abc']) {
    expect(await errorOf(cluster.s3.send(new PutObjectRetentionCommand({ Bucket: bucket, Key: 'ledger', VersionId: put.VersionId, Retention: { Mode: mode as 'GOVERNANCE', RetainUntilDate: longer } })))).toEqual([400, 'MalformedXML']);
  }
  await cluster.s3.send(new PutObjectRetentionCommand({ Bucket: bucket, Key: 'ledger', VersionId: put.VersionId, Retention: { Mode: 'COMPLIANCE', RetainUntilDate: longer } }));
  expect((await cluster.s3.send(new GetObjectRetentionCommand({ Bucket: bucket, Key: 'ledger', VersionId: put.VersionId }))).Retention).toEqual({ Mode: 'COMPLIANCE', RetainUntilDate: longer });
  const marker = await cluster.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'ledger' }));
  expect(marker.DeleteMarker).toBe(true);
  const read = await cluster.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'ledger', VersionId: put.VersionId }));
  expect(sha256(await read.Body!.transformToByteArray())).toBe(sha256(body));
  // DeleteObjects reports the locked version and deletes the marker.
  const batch = await cluster.s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: [{ Key: 'ledger', VersionId: put.VersionId }, { Key: 'ledger', VersionId: marker.VersionId }] } }));
  expect((batch.Errors ?? []).map((e) => [e.VersionId, e.Code])).toEqual([[put.VersionId, 'AccessDenied']]);
  expect((batch.Deleted ?? []).map((d) => d.VersionId)).toEqual([marker.VersionId]);
});

test('GOVERNANCE: deleted or shortened only with the bypass header', async () => {
  const until = new Date(Date.now() + hourMs);
  const put = await cluster.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'draft', Body: 'draft', ObjectLockMode: 'GOVERNANCE', ObjectLockRetainUntilDate: until }));
  expect(await errorOf(cluster.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'draft', VersionId: put.VersionId })))).toEqual([403, 'AccessDenied']);
  const shorter = new Date(until.getTime() - 60_000);
  expect(await errorOf(cluster.s3.send(new PutObjectRetentionCommand({ Bucket: bucket, Key: 'draft', VersionId: put.VersionId, Retention: { Mode: 'GOVERNANCE', RetainUntilDate: shorter } })))).toEqual([403, 'AccessDenied']);
  await cluster.s3.send(new PutObjectRetentionCommand({ Bucket: bucket, Key: 'draft', VersionId: put.VersionId, Retention: { Mode: 'GOVERNANCE', RetainUntilDate: shorter }, BypassGovernanceRetention: true }));
  await cluster.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'draft', VersionId: put.VersionId, BypassGovernanceRetention: true }));
  expect((await s3ErrorOf(cluster.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'draft', VersionId: put.VersionId })))).$metadata.httpStatusCode).toBe(404);
});

test('a legal hold blocks deletion until it is released', async () => {
  const put = await cluster.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'evidence', Body: 'evidence' }));
  expect((await cluster.s3.send(new GetObjectLegalHoldCommand({ Bucket: bucket, Key: 'evidence' }))).LegalHold).toEqual({ Status: 'OFF' });
  await cluster.s3.send(new PutObjectLegalHoldCommand({ Bucket: bucket, Key: 'evidence', VersionId: put.VersionId, LegalHold: { Status: 'ON' } }));
  expect((await cluster.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'evidence' }))).ObjectLockLegalHoldStatus).toBe('ON');
  expect(await errorOf(cluster.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'evidence', VersionId: put.VersionId, BypassGovernanceRetention: true })))).toEqual([403, 'AccessDenied']);
  await cluster.s3.send(new PutObjectLegalHoldCommand({ Bucket: bucket, Key: 'evidence', VersionId: put.VersionId, LegalHold: { Status: 'OFF' } }));
  await cluster.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'evidence', VersionId: put.VersionId }));
});

test('the default retention reaches new versions, single-part and multipart; an explicit one wins', async () => {
  await cluster.s3.send(new PutObjectLockConfigurationCommand({
    Bucket: bucket, ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 1 } } },
  }));
  expect((await cluster.s3.send(new GetObjectLockConfigurationCommand({ Bucket: bucket }))).ObjectLockConfiguration?.Rule).toEqual({ DefaultRetention: { Mode: 'GOVERNANCE', Days: 1 } });
  const before = Date.now();
  await cluster.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'daily', Body: 'x' }));
  const head = await cluster.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'daily' }));
  expect(head.ObjectLockMode).toBe('GOVERNANCE');
  expect(Math.abs((head.ObjectLockRetainUntilDate?.getTime() ?? 0) - (before + 24 * hourMs))).toBeLessThan(60_000);
  const explicit = new Date(Date.now() + 2 * hourMs);
  await cluster.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'chosen', Body: 'x', ObjectLockMode: 'COMPLIANCE', ObjectLockRetainUntilDate: explicit }));
  expect((await cluster.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'chosen' }))).ObjectLockMode).toBe('COMPLIANCE');
  const upload = await cluster.s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'big', ObjectLockLegalHoldStatus: 'ON' }));
  const part = await cluster.s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'big', UploadId: upload.UploadId, PartNumber: 1, Body: randomBytes(1024) }));
  const completed = await cluster.s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'big', UploadId: upload.UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] } }));
  const big = await cluster.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'big' }));
  expect([big.ObjectLockLegalHoldStatus, big.ObjectLockMode]).toEqual(['ON', 'GOVERNANCE']);
  expect(await errorOf(cluster.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'big', VersionId: completed.VersionId, BypassGovernanceRetention: true })))).toEqual([403, 'AccessDenied']);
});

test('buckets without Object Lock refuse lock settings; a versioned one can have it turned on', async () => {
  await cluster.s3.send(new CreateBucketCommand({ Bucket: 'plain-lockless' }));
  await cluster.s3.send(new PutObjectCommand({ Bucket: 'plain-lockless', Key: 'k', Body: 'x' }));
  expect(await errorOf(cluster.s3.send(new PutObjectCommand({ Bucket: 'plain-lockless', Key: 'k2', Body: 'x', ObjectLockLegalHoldStatus: 'ON' })))).toEqual([400, 'InvalidRequest']);
  expect(await errorOf(cluster.s3.send(new HeadObjectCommand({ Bucket: 'plain-lockless', Key: 'k2' })))).toEqual([404, 'NotFound']);
  expect(await errorOf(cluster.s3.send(new PutObjectLegalHoldCommand({ Bucket: 'plain-lockless', Key: 'k', LegalHold: { Status: 'ON' } })))).toEqual([400, 'InvalidRequest']);
  expect(await errorOf(cluster.s3.send(new GetObjectLockConfigurationCommand({ Bucket: 'plain-lockless' })))).toEqual([404, 'ObjectLockConfigurationNotFoundError']);
  const enable = { Bucket: 'plain-lockless', ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled' as const } };
  expect(await errorOf(cluster.s3.send(new PutObjectLockConfigurationCommand(enable)))).toEqual([409, 'InvalidBucketState']);
  await cluster.s3.send(new PutBucketVersioningCommand({ Bucket: 'plain-lockless', VersioningConfiguration: { Status: 'Enabled' } }));
  await cluster.s3.send(new PutObjectLockConfigurationCommand(enable));
  await cluster.s3.send(new PutObjectLegalHoldCommand({ Bucket: 'plain-lockless', Key: 'k', LegalHold: { Status: 'ON' } }));
  expect((await cluster.s3.send(new GetObjectLegalHoldCommand({ Bucket: 'plain-lockless', Key: 'k' }))).LegalHold).toEqual({ Status: 'ON' });
});

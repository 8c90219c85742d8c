/**
 * Goal: S3 conditional writes are atomic on a real cluster. Eight concurrent PutObject calls
 * with `If-None-Match: *` for one key give exactly one 200 and seven 412 PreconditionFailed, the
 * stored body is the winner's, and the losers' shards are deleted from the nodes (nothing of
 * theirs is visible or left on disk); If-Match with a stale ETag fails; CompleteMultipartUpload with a failed condition
 * leaves the upload in place; DeleteObject and DeleteObjects with If-Match / ETag delete only the
 * object they name, atomically (412 for another ETag or a delete marker, 404 for a key without
 * any version, a versioned bucket's latest or named version); If-None-Match: <etag> and
 * If-Match: * on writes as s3-tests expects them; a retried CompleteMultipartUpload answered as
 * the first. Method: the in-process cluster fixture (3 metadata nodes, 9
 * storage nodes, the real gateway) driven by @aws-sdk/client-s3; bodies compared by SHA-256,
 * shard files counted on the storage nodes' disks.
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  ListPartsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  S3ServiceException,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { shardFilesOnDisk, startTestCluster, waitFor } from './cluster-fixture';
import type { TestCluster } from './cluster-fixture';
import { s3ErrorOf, s3StatusAndName } from '../support/s3-error-of';

jest.setTimeout(120_000);

const bucket = 'conditional';
const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

let cluster: TestCluster;

beforeAll(async () => {
  cluster = await startTestCluster();
  await cluster.s3.send(new CreateBucketCommand({ Bucket: bucket }));
});

afterAll(async () => {
  await cluster?.stop();
});

async function getBody(key: string): Promise<Buffer> {
  const result = await cluster.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await result.Body!.transformToByteArray());
}


/** Runs 8 create-only PUTs of one key at once; returns the winner's body and the outcomes. */
async function racePuts(key: string, sizeBytes: number): Promise<{ winner: Buffer; statuses: number[]; codes: string[] }> {
  const bodies = Array.from({ length: 8 }, () => randomBytes(sizeBytes));
  const outcomes = await Promise.allSettled(bodies.map((body) => cluster.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, IfNoneMatch: '*' }))));
  const statuses = outcomes.map((o) => (o.status === 'fulfilled' ? (o.value.$metadata.httpStatusCode ?? 0) : ((o.reason as S3ServiceException).$metadata?.httpStatusCode ?? -1)));
  const codes = outcomes.map((o) => (o.status === 'fulfilled' ? 'OK' : (o.reason as S3ServiceException).name));
  const winnerIndex = outcomes.findIndex((o) => o.status === 'fulfilled');
  return { winner: bodies[winnerIndex] ?? Buffer.alloc(0), statuses, codes };
}


test('PutObject If-None-Match: * x8 concurrently, striped bodies: one 200, seven 412, the winner stored, the losers\' shards deleted', async () => {
  const before = await shardFilesOnDisk(cluster);
  const { winner, statuses, codes } = await racePuts('race-striped', 200 * 1024);
  expect(statuses.filter((s) => s === 200)).toHaveLength(1);
  expect(statuses.filter((s) => s === 412)).toHaveLength(7);
  expect(codes.filter((c) => c === 'PreconditionFailed')).toHaveLength(7);
  expect(sha256(await getBody('race-striped'))).toBe(sha256(winner));
  // Each loser deleted the shards it wrote when its commit was refused: what is left on the
  // nodes beyond what was there before is the winner's stripe, 9 shard files.
  const winnerStripeId = (await cluster.metadata.getObject({ bucket, key: 'race-striped', versionId: '' })).stripe?.stripeId;
  const stripesBefore = new Set(before.stripeIds);
  const added = await waitFor('the losers\' shards to be gone', async () => {
    const after = await shardFilesOnDisk(cluster);
    const added = after.stripeIds.filter((id) => !stripesBefore.has(id));
    return after.tempFileCount === 0 && added.length === 9 ? added : undefined;
  });
  expect(new Set(added)).toEqual(new Set([winnerStripeId]));
});

test('PutObject If-None-Match: * x8 concurrently, inline bodies: one winner, its bytes stored', async () => {
  const { winner, statuses } = await racePuts('race-inline', 1000);
  expect(statuses.sort()).toEqual([200, 412, 412, 412, 412, 412, 412, 412]);
  expect(sha256(await getBody('race-inline'))).toBe(sha256(winner));
  // A second round on the now-existing key: every create-only PUT fails, the body is unchanged.
  const again = await racePuts('race-inline', 1000);
  expect(again.statuses).toEqual(Array(8).fill(412));
  expect(sha256(await getBody('race-inline'))).toBe(sha256(winner));
});

test('PutObject If-Match: the current ETag overwrites, a stale ETag is 412, a missing key is 404', async () => {
  const first = randomBytes(100 * 1024);
  const v1 = await cluster.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'if-match', Body: first }));
  const second = randomBytes(100 * 1024);
  const v2 = await cluster.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'if-match', Body: second, IfMatch: v1.ETag }));
  expect(v2.$metadata.httpStatusCode).toBe(200);
  const stale = await s3ErrorOf(cluster.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'if-match', Body: randomBytes(100 * 1024), IfMatch: v1.ETag })));
  expect([stale.name, stale.$metadata.httpStatusCode]).toEqual(['PreconditionFailed', 412]);
  expect(sha256(await getBody('if-match'))).toBe(sha256(second));
  const missing = await s3ErrorOf(cluster.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'never-written', Body: Buffer.from('x'), IfMatch: v1.ETag })));
  expect([missing.name, missing.$metadata.httpStatusCode]).toEqual(['NoSuchKey', 404]);
});

test('CompleteMultipartUpload with a failed condition leaves the upload for a retry or an abort', async () => {
  const existing = randomBytes(10 * 1024);
  await cluster.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'mpu', Body: existing }));
  const { UploadId } = await cluster.s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'mpu' }));
  const partBody = randomBytes(300 * 1024);
  const part = await cluster.s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'mpu', UploadId, PartNumber: 1, Body: partBody }));
  const complete = (condition: { IfNoneMatch?: string; IfMatch?: string }) => cluster.s3.send(new CompleteMultipartUploadCommand({
    Bucket: bucket, Key: 'mpu', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] }, ...condition,
  }));
  const refused = await s3ErrorOf(complete({ IfNoneMatch: '*' }));
  expect([refused.name, refused.$metadata.httpStatusCode]).toEqual(['PreconditionFailed', 412]);
  expect(sha256(await getBody('mpu'))).toBe(sha256(existing));
  // The upload and its part are still there: the client may retry with another condition...
  const parts = await cluster.s3.send(new ListPartsCommand({ Bucket: bucket, Key: 'mpu', UploadId }));
  expect(parts.Parts?.map((p) => p.PartNumber)).toEqual([1]);
  const staleEtag = `"${createHash('md5').update(randomBytes(8)).digest('hex')}"`;
  expect((await s3ErrorOf(complete({ IfMatch: staleEtag }))).name).toBe('PreconditionFailed');
  const current = await cluster.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'mpu' }));
  await current.Body?.transformToByteArray();
  const done = await complete({ IfMatch: current.ETag });
  expect(done.$metadata.httpStatusCode).toBe(200);
  expect(sha256(await getBody('mpu'))).toBe(sha256(partBody));

  // ...or abort it after a refusal.
  const second = await cluster.s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'mpu' }));
  const part2 = await cluster.s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'mpu', UploadId: second.UploadId, PartNumber: 1, Body: randomBytes(1024) }));
  const refused2 = await s3ErrorOf(cluster.s3.send(new CompleteMultipartUploadCommand({
    Bucket: bucket, Key: 'mpu', UploadId: second.UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part2.ETag }] }, IfNoneMatch: '*',
  })));
  expect(refused2.name).toBe('PreconditionFailed');
  await cluster.s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: 'mpu', UploadId: second.UploadId }));
  expect(sha256(await getBody('mpu'))).toBe(sha256(partBody));
});

test('PutObject and CompleteMultipartUpload take If-None-Match: <etag> and If-Match: * (the s3-tests matrix), a delete marker counting as no object', async () => {
  const first = await cluster.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'matrix', Body: 'one' }));
  const putWith = (conditions: { IfMatch?: string; IfNoneMatch?: string }): Promise<unknown> =>
    cluster.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'matrix', Body: 'next', ...conditions }));
  expect(await s3StatusAndName(putWith({ IfNoneMatch: '*' }))).toEqual([412, 'PreconditionFailed']);
  expect(await s3StatusAndName(putWith({ IfNoneMatch: first.ETag }))).toEqual([412, 'PreconditionFailed']);
  expect(await s3StatusAndName(putWith({ IfMatch: 'badetag' }))).toEqual([412, 'PreconditionFailed']);
  await putWith({ IfNoneMatch: 'badetag' });
  await putWith({ IfMatch: '*' });
  expect(sha256(await getBody('matrix'))).toBe(sha256(Buffer.from('next')));
  await cluster.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'matrix' }));
  expect(await s3StatusAndName(putWith({ IfMatch: '*' }))).toEqual([404, 'NoSuchKey']);
  expect(await s3StatusAndName(putWith({ IfMatch: 'badetag' }))).toEqual([404, 'NoSuchKey']);

  // Versioned: the current version only; a delete marker is no object.
  const versioned = 'conditional-matrix';
  await cluster.s3.send(new CreateBucketCommand({ Bucket: versioned }));
  await cluster.s3.send(new PutBucketVersioningCommand({ Bucket: versioned, VersioningConfiguration: { Status: 'Enabled' } }));
  await cluster.s3.send(new PutObjectCommand({ Bucket: versioned, Key: 'k', Body: 'v1' }));
  await cluster.s3.send(new DeleteObjectCommand({ Bucket: versioned, Key: 'k' }));
  expect(await s3StatusAndName(cluster.s3.send(new PutObjectCommand({ Bucket: versioned, Key: 'k', Body: 'v2', IfMatch: '*' })))).toEqual([404, 'NoSuchKey']);
  await cluster.s3.send(new PutObjectCommand({ Bucket: versioned, Key: 'k', Body: 'v2', IfNoneMatch: '*' }));

  // The same conditions on CompleteMultipartUpload.
  const upload = await cluster.s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'matrix' }));
  const part = await cluster.s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'matrix', UploadId: upload.UploadId, PartNumber: 1, Body: randomBytes(1024) }));
  const complete = (conditions: { IfMatch?: string; IfNoneMatch?: string }): Promise<unknown> => cluster.s3.send(new CompleteMultipartUploadCommand({
    Bucket: bucket, Key: 'matrix', UploadId: upload.UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] }, ...conditions,
  }));
  expect(await s3StatusAndName(complete({ IfMatch: '*' }))).toEqual([404, 'NoSuchKey']);
  await complete({ IfNoneMatch: 'badetag' });
});

test('DeleteObject If-Match (S3 conditional deletes): a stale ETag is 412 and the object stays, a missing object 404, the current ETag or * deletes; in a versioned bucket it names the version it removes; DeleteObjects takes an ETag per key', async () => {
  const stale = `"${createHash('md5').update(randomBytes(8)).digest('hex')}"`;
  const put = await cluster.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'guarded', Body: randomBytes(200 * 1024) }));
  expect(await s3StatusAndName(cluster.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'guarded', IfMatch: stale })))).toEqual([412, 'PreconditionFailed']);
  expect((await cluster.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'guarded' }))).ETag).toBe(put.ETag);
  await cluster.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'guarded', IfMatch: put.ETag }));
  expect(await s3StatusAndName(cluster.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'guarded' })))).toEqual([404, 'NotFound']);
  // Without the header a missing key is still 204; with it, 404 NoSuchKey.
  await cluster.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'guarded' }));
  expect(await s3StatusAndName(cluster.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'guarded', IfMatch: '*' })))).toEqual([404, 'NoSuchKey']);
  await cluster.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'guarded', Body: 'again' }));
  await cluster.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'guarded', IfMatch: '*' }));
  // The directory-bucket conditions are refused, not ignored.
  expect(await s3StatusAndName(cluster.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'guarded', IfMatchSize: 5 })))).toEqual([501, 'NotImplemented']);

  const versioned = 'conditional-versions';
  await cluster.s3.send(new CreateBucketCommand({ Bucket: versioned }));
  await cluster.s3.send(new PutBucketVersioningCommand({ Bucket: versioned, VersioningConfiguration: { Status: 'Enabled' } }));
  const first = await cluster.s3.send(new PutObjectCommand({ Bucket: versioned, Key: 'k', Body: 'first' }));
  const second = await cluster.s3.send(new PutObjectCommand({ Bucket: versioned, Key: 'k', Body: 'second' }));
  // The current version is `second`: the first version's ETag no longer matches.
  expect(await s3StatusAndName(cluster.s3.send(new DeleteObjectCommand({ Bucket: versioned, Key: 'k', IfMatch: first.ETag })))).toEqual([412, 'PreconditionFailed']);
  const marker = await cluster.s3.send(new DeleteObjectCommand({ Bucket: versioned, Key: 'k', IfMatch: second.ETag }));
  expect(marker.DeleteMarker).toBe(true);
  // A delete marker has no ETag: 412, as S3 answers (404 is for a key without any version).
  expect(await s3StatusAndName(cluster.s3.send(new DeleteObjectCommand({ Bucket: versioned, Key: 'k', IfMatch: '*' })))).toEqual([412, 'PreconditionFailed']);
  // By version id, the condition is the named version's.
  expect(await s3StatusAndName(cluster.s3.send(new DeleteObjectCommand({ Bucket: versioned, Key: 'k', VersionId: first.VersionId, IfMatch: second.ETag })))).toEqual([412, 'PreconditionFailed']);
  await cluster.s3.send(new DeleteObjectCommand({ Bucket: versioned, Key: 'k', VersionId: first.VersionId, IfMatch: first.ETag }));
  expect(await s3StatusAndName(cluster.s3.send(new DeleteObjectCommand({ Bucket: versioned, Key: 'k', VersionId: marker.VersionId, IfMatch: '*' })))).toEqual([412, 'PreconditionFailed']);
  expect(await s3StatusAndName(cluster.s3.send(new DeleteObjectCommand({ Bucket: versioned, Key: 'never-written', IfMatch: '*' })))).toEqual([404, 'NoSuchKey']);

  const a = await cluster.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'batch-a', Body: 'a' }));
  await cluster.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'batch-b', Body: 'b' }));
  const result = await cluster.s3.send(new DeleteObjectsCommand({
    Bucket: bucket, Delete: { Objects: [{ Key: 'batch-a', ETag: a.ETag }, { Key: 'batch-b', ETag: stale }, { Key: 'batch-missing', ETag: '*' }] },
  }));
  expect(result.Deleted?.map((entry) => entry.Key)).toEqual(['batch-a']);
  expect(result.Errors?.map((entry) => `${entry.Key}:${entry.Code}`)).toEqual(['batch-b:PreconditionFailed', 'batch-missing:NoSuchKey']);
  expect(sha256(await getBody('batch-b'))).toBe(sha256(Buffer.from('b')));
});

test('a retried CompleteMultipartUpload of the same parts gets the first answer (ETag, checksum, version id); other parts or a later overwrite do not', async () => {
  const versioned = 'retried-completions';
  await cluster.s3.send(new CreateBucketCommand({ Bucket: versioned }));
  await cluster.s3.send(new PutBucketVersioningCommand({ Bucket: versioned, VersioningConfiguration: { Status: 'Enabled' } }));
  const upload = await cluster.s3.send(new CreateMultipartUploadCommand({ Bucket: versioned, Key: 'mp', ChecksumAlgorithm: 'SHA256' }));
  const bodies = [randomBytes(5 * 1024 * 1024), randomBytes(1000)];
  const parts: { PartNumber: number; ETag: string | undefined; ChecksumSHA256: string | undefined }[] = [];
  for (const [index, body] of bodies.entries()) {
    const part = await cluster.s3.send(new UploadPartCommand({ Bucket: versioned, Key: 'mp', UploadId: upload.UploadId, PartNumber: index + 1, Body: body, ChecksumAlgorithm: 'SHA256' }));
    parts.push({ PartNumber: index + 1, ETag: part.ETag, ChecksumSHA256: part.ChecksumSHA256 });
  }
  const complete = (chosen: typeof parts): Promise<{ ETag?: string; ChecksumSHA256?: string; VersionId?: string }> =>
    cluster.s3.send(new CompleteMultipartUploadCommand({ Bucket: versioned, Key: 'mp', UploadId: upload.UploadId, MultipartUpload: { Parts: chosen } }));
  const first = await complete(parts);
  const again = await complete(parts);
  expect([again.ETag, again.ChecksumSHA256, again.VersionId]).toEqual([first.ETag, first.ChecksumSHA256, first.VersionId]);
  expect(await s3StatusAndName(complete(parts.slice(0, 1)))).toEqual([404, 'NoSuchUpload']);
  expect((await cluster.s3.send(new ListObjectVersionsCommand({ Bucket: versioned }))).Versions?.length).toBe(1);
  await cluster.s3.send(new PutObjectCommand({ Bucket: versioned, Key: 'mp', Body: 'newer' }));
  expect(await s3StatusAndName(complete(parts))).toEqual([404, 'NoSuchUpload']);
});

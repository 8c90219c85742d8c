/**
 * Goal: S3 versioning works end to end on a real erasure-coded cluster with the AWS SDK:
 * versions kept and read back by id (striped bodies, by SHA-256), delete markers (404 with
 * x-amz-delete-marker, 405 for GET of the marker itself), restoring an old version by copying it
 * over the key, DeleteObjects by version id, ListObjectVersions with paging, Suspended's null
 * version, multipart completion creating a version, and a bucket that empties only when every
 * version is gone, with the deleted versions' stripes queued for garbage collection.
 * A missing key with non-ASCII characters is an ordinary 404 (the metadata service once crashed on it).
 * Method: the in-process cluster fixture (3 metadata nodes, 9 storage nodes, the real gateway)
 * driven by @aws-sdk/client-s3.
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { s3ErrorOf } from '../support/s3-error-of';
import { startTestCluster } from './cluster-fixture';
import type { TestCluster } from './cluster-fixture';

jest.setTimeout(120_000);

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');
const mib = 1024 * 1024;

let cluster: TestCluster;

beforeAll(async () => {
  cluster = await startTestCluster();
});

afterAll(async () => {
  await cluster?.stop();
});

async function getBody(bucket: string, key: string, versionId?: string): Promise<{ sha: string; versionId: string | undefined }> {
  const result = await cluster.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId }));
  return { sha: sha256(await result.Body!.transformToByteArray()), versionId: result.VersionId };
}

/**
 * Every version and delete marker in the order the gateway lists them, following the paging
 * markers with a small page size. The SDK splits Version and DeleteMarker elements apart, so the
 * document is fetched through a presigned URL and read in order.
 */
async function allVersions(bucket: string, maxKeys = 2): Promise<{ key: string; versionId: string; isLatest: boolean; marker: boolean }[]> {
  const out: { key: string; versionId: string; isLatest: boolean; marker: boolean }[] = [];
  let keyMarker: string | undefined;
  let versionIdMarker: string | undefined;
  for (let page = 0; page < 100; page++) {
    const url = await getSignedUrl(cluster.s3, new ListObjectVersionsCommand({ Bucket: bucket, MaxKeys: maxKeys, KeyMarker: keyMarker, VersionIdMarker: versionIdMarker }));
    const response = await fetch(url);
    expect(response.status).toBe(200);
    const xml = await response.text();
    for (const match of xml.matchAll(/<(Version|DeleteMarker)>(.*?)<\/\1>/gs)) {
      const field = (name: string): string => new RegExp(`<${name}>(.*?)</${name}>`, 's').exec(match[2] ?? '')?.[1] ?? '';
      out.push({ key: field('Key'), versionId: field('VersionId'), isLatest: field('IsLatest') === 'true', marker: match[1] === 'DeleteMarker' });
    }
    if (!xml.includes('<IsTruncated>true</IsTruncated>')) break;
    keyMarker = /<NextKeyMarker>(.*?)<\/NextKeyMarker>/s.exec(xml)?.[1];
    versionIdMarker = /<NextVersionIdMarker>(.*?)<\/NextVersionIdMarker>/s.exec(xml)?.[1];
  }
  return out;
}

test('Enabled: versions by id, delete markers, restore by copy, delete by version id until the bucket is empty', async () => {
  const bucket = 'versioned';
  await cluster.s3.send(new CreateBucketCommand({ Bucket: bucket }));
  expect((await cluster.s3.send(new GetBucketVersioningCommand({ Bucket: bucket }))).Status).toBeUndefined();
  await cluster.s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
  expect((await cluster.s3.send(new GetBucketVersioningCommand({ Bucket: bucket }))).Status).toBe('Enabled');

  // Three striped versions of one key (3 MiB: several blocks each).
  const bodies = [randomBytes(3 * mib), randomBytes(3 * mib), randomBytes(3 * mib)];
  const versionIds: string[] = [];
  for (const body of bodies) {
    const put = await cluster.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'doc', Body: body }));
    expect(put.VersionId).toBeDefined();
    versionIds.push(put.VersionId!);
  }
  expect(new Set(versionIds).size).toBe(3);
  expect(await getBody(bucket, 'doc')).toEqual({ sha: sha256(bodies[2]!), versionId: versionIds[2] });
  for (const [i, versionId] of versionIds.entries()) expect((await getBody(bucket, 'doc', versionId)).sha).toBe(sha256(bodies[i]!));
  const head = await cluster.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'doc', VersionId: versionIds[0] }));
  expect([head.VersionId, head.ContentLength]).toEqual([versionIds[0], 3 * mib]);
  expect(await allVersions(bucket)).toEqual(versionIds.slice().reverse().map((versionId, i) => ({ key: 'doc', versionId, isLatest: i === 0, marker: false })));

  // Tags on an old version stay with it.
  await cluster.s3.send(new PutObjectTaggingCommand({ Bucket: bucket, Key: 'doc', VersionId: versionIds[0], Tagging: { TagSet: [{ Key: 'kept', Value: 'first' }] } }));
  expect((await cluster.s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'doc', VersionId: versionIds[0] }))).TagSet).toEqual([{ Key: 'kept', Value: 'first' }]);
  expect((await cluster.s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'doc' }))).TagSet).toEqual([]);

  // A delete hides the key behind a marker; older versions stay readable.
  const deleted = await cluster.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'doc' }));
  expect(deleted.DeleteMarker).toBe(true);
  const markerId = deleted.VersionId!;
  const missing = await s3ErrorOf(cluster.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'doc' })));
  expect([missing.name, missing.$metadata.httpStatusCode, missing.$response?.headers['x-amz-delete-marker'], missing.$response?.headers['x-amz-version-id']])
    .toEqual(['NoSuchKey', 404, 'true', markerId]);
  const onMarker = await s3ErrorOf(cluster.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'doc', VersionId: markerId })));
  expect([onMarker.$metadata.httpStatusCode, onMarker.$response?.headers['x-amz-delete-marker']]).toEqual([405, 'true']);
  expect((await getBody(bucket, 'doc', versionIds[1])).sha).toBe(sha256(bodies[1]!));
  const unknown = await s3ErrorOf(cluster.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'doc', VersionId: `${versionIds[0]!.slice(0, 15)}f` })));
  expect([unknown.name, unknown.$metadata.httpStatusCode]).toEqual(['NoSuchVersion', 404]);

  // Restoring the first version: copy it over the key, which makes a fourth version.
  const restored = await cluster.s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'doc', CopySource: `${bucket}/doc?versionId=${versionIds[0]}` }));
  expect(restored.CopySourceVersionId).toBe(versionIds[0]);
  expect(await getBody(bucket, 'doc')).toEqual({ sha: sha256(bodies[0]!), versionId: restored.VersionId });
  const listed = await allVersions(bucket);
  expect(listed.map((v) => [v.versionId, v.isLatest, v.marker])).toEqual([
    [restored.VersionId, true, false], [markerId, false, true], [versionIds[2], false, false], [versionIds[1], false, false], [versionIds[0], false, false],
  ]);

  // A bucket with versions is not empty; deleting every version (DeleteObjects) empties it.
  const notEmpty = await s3ErrorOf(cluster.s3.send(new DeleteBucketCommand({ Bucket: bucket })));
  expect(notEmpty.name).toBe('BucketNotEmpty');
  const queueBefore = (await cluster.metadata.listQueue(10_000)).filter((item) => item.kind === 'gcStripe').length;
  const result = await cluster.s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: listed.map((v) => ({ Key: v.key, VersionId: v.versionId })) } }));
  expect(result.Errors ?? []).toEqual([]);
  expect((result.Deleted ?? []).map((d) => [d.VersionId, d.DeleteMarker ?? false])).toEqual(listed.map((v) => [v.versionId, v.marker]));
  expect(await allVersions(bucket)).toEqual([]);
  // Four object versions' stripes go to garbage collection (the marker has none).
  const queueAfter = (await cluster.metadata.listQueue(10_000)).filter((item) => item.kind === 'gcStripe').length;
  expect(queueAfter - queueBefore).toBe(4);
  await cluster.s3.send(new DeleteBucketCommand({ Bucket: bucket }));
});

test('DeleteObjects deletes distinct keys concurrently, entries for one key in request order, and answers in request order', async () => {
  const bucket = 'versioned-batch';
  await cluster.s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await cluster.s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
  const keys = Array.from({ length: 150 }, (_, i) => `many/${String(i).padStart(3, '0')}`);
  await Promise.all(keys.map((key) => cluster.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: key }))));
  const dupVersions: string[] = [];
  for (const body of ['one', 'two', 'three']) dupVersions.push((await cluster.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'dup', Body: body }))).VersionId!);

  // Four entries for 'dup' among 150 others: remove version one, hide the key behind a
  // marker, remove version two, a second marker. Run out of order, the answers would name the
  // markers the other way round from the listing.
  const dupEntries = [{ Key: 'dup', VersionId: dupVersions[0] }, { Key: 'dup' }, { Key: 'dup', VersionId: dupVersions[1] }, { Key: 'dup' }];
  const objects: { Key: string; VersionId?: string }[] = keys.map((Key) => ({ Key }));
  objects.splice(10, 0, ...dupEntries);
  const first = await cluster.s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: objects } }));
  expect(first.Errors ?? []).toEqual([]);
  const deleted = first.Deleted ?? [];
  expect(deleted.map((d) => d.Key)).toEqual(objects.map((o) => o.Key));
  const dupResults = deleted.filter((d) => d.Key === 'dup');
  expect(dupResults.map((d) => [d.VersionId, d.DeleteMarker ?? false])).toEqual([[dupVersions[0], false], [undefined, true], [dupVersions[1], false], [undefined, true]]);
  const [firstMarker, secondMarker] = [dupResults[1]!.DeleteMarkerVersionId!, dupResults[3]!.DeleteMarkerVersionId!];
  expect(firstMarker).not.toBe(secondMarker);
  // Each of the 150 other keys now has a marker over its one version.
  const listed = await allVersions(bucket, 1000);
  expect(listed.filter((v) => v.key !== 'dup' && v.marker && v.isLatest).map((v) => v.key).sort()).toEqual(keys);
  expect(listed.filter((v) => v.key === 'dup').map((v) => [v.versionId, v.isLatest, v.marker])).toEqual([
    [secondMarker, true, true], [firstMarker, false, true], [dupVersions[2], false, false],
  ]);

  // Removing the later marker first and then the earlier one in one request brings back version three.
  const second = await cluster.s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: [{ Key: 'dup', VersionId: secondMarker }, { Key: 'dup', VersionId: firstMarker }], Quiet: true } }));
  expect([second.Deleted ?? [], second.Errors ?? []]).toEqual([[], []]);
  expect(await getBody(bucket, 'dup')).toEqual({ sha: sha256(Buffer.from('three')), versionId: dupVersions[2] });
});

test('Suspended: writes replace the null version; versions from before stay; a multipart completion is a version', async () => {
  const bucket = 'suspended';
  await cluster.s3.send(new CreateBucketCommand({ Bucket: bucket }));
  const unversioned = await cluster.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'before versioning' }));
  expect(unversioned.VersionId).toBeUndefined(); // never-versioned bucket: no version ids at all
  await cluster.s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
  const v1 = await cluster.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'v1' }));
  expect((await getBody(bucket, 'k', 'null')).sha).toBe(sha256(Buffer.from('before versioning')));

  // Multipart: two parts of 5 MiB and 1 MiB, completed into a new version.
  const upload = await cluster.s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'big' }));
  const parts = [randomBytes(5 * mib), randomBytes(mib)];
  const etags: string[] = [];
  for (const [i, part] of parts.entries()) etags.push((await cluster.s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'big', UploadId: upload.UploadId, PartNumber: i + 1, Body: part }))).ETag!);
  const completed = await cluster.s3.send(new CompleteMultipartUploadCommand({
    Bucket: bucket, Key: 'big', UploadId: upload.UploadId, MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
  }));
  expect(completed.VersionId).toMatch(/^[0-9a-f]{16}/);
  expect((await getBody(bucket, 'big', completed.VersionId)).sha).toBe(sha256(Buffer.concat(parts)));

  await cluster.s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Suspended' } }));
  expect((await cluster.s3.send(new GetBucketVersioningCommand({ Bucket: bucket }))).Status).toBe('Suspended');
  const n1 = await cluster.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'null one' }));
  expect(n1.VersionId).toBeUndefined(); // S3 names no version on a write that made the null version
  await cluster.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'null two' }));
  expect(await getBody(bucket, 'k')).toEqual({ sha: sha256(Buffer.from('null two')), versionId: 'null' });
  // The null version was replaced twice (the unversioned object, then "null one"); v1 stays.
  expect((await allVersions(bucket, 1000)).filter((v) => v.key === 'k').map((v) => [v.versionId, v.isLatest])).toEqual([['null', true], [v1.VersionId, false]]);
  const marker = await cluster.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'k' }));
  expect([marker.DeleteMarker, marker.VersionId]).toEqual([true, 'null']);
  expect((await allVersions(bucket, 1000)).filter((v) => v.key === 'k').map((v) => [v.versionId, v.marker])).toEqual([['null', true], [v1.VersionId, false]]);
  // Deleting the null marker by id brings v1 back as the current version.
  await cluster.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'k', VersionId: 'null' }));
  expect(await getBody(bucket, 'k')).toEqual({ sha: sha256(Buffer.from('v1')), versionId: v1.VersionId });
});

test('missing keys with non-ASCII characters are 404 NoSuchKey (a delete marker too), and the metadata service stays up', async () => {
  // The metadata service's NoSuchKey carries the key in gRPC metadata, which must be ASCII:
  // such a key once made the answer throw, which took the metadata node down.
  const bucket = 'unicode-missing';
  await cluster.s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await cluster.s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
  for (const key of ['®-', 'é/ü', 'emoji 😀', '日本語']) {
    // A HEAD error has no body: the SDK names it NotFound.
    const head = await s3ErrorOf(cluster.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })));
    expect([head.$metadata.httpStatusCode, head.name]).toEqual([404, 'NotFound']);
    const get = await s3ErrorOf(cluster.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key })));
    expect([get.$metadata.httpStatusCode, get.name]).toEqual([404, 'NoSuchKey']);
    await cluster.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: key }));
    const marker = await cluster.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    expect(marker.DeleteMarker).toBe(true);
    const behindMarker = await s3ErrorOf(cluster.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key })));
    expect([behindMarker.$metadata.httpStatusCode, behindMarker.name]).toEqual([404, 'NoSuchKey']);
  }
  await cluster.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'after', Body: 'still serving' }));
  expect(await (await cluster.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'after' }))).Body?.transformToString()).toBe('still serving');
});

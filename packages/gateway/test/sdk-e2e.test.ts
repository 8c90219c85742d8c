/**
 * Goal: the real @aws-sdk/client-s3 (default checksum behaviour: STREAMING-UNSIGNED-PAYLOAD-TRAILER
 * with CRC32 / CRC64NVME trailers), @aws-sdk/lib-storage multipart and presigned URLs work
 * unmodified against the gateway. Method: a real express server on 127.0.0.1:0 over the
 * in-memory backend; every body is compared by SHA-256.
 */
import { createHash } from 'node:crypto';
import { Agent } from 'node:http';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketLocationCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListMultipartUploadsCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import type { S3ClientConfig } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { SeededRandom } from '@tessera/common';
import { compositeChecksum, computeChecksum } from '../src/checksums';
import { startTestGateway, testAccessKeyId, testRegion, testSecretAccessKey } from './support/test-gateway';
import type { TestGateway } from './support/test-gateway';
import { s3ErrorOf } from './support/s3-error-of';
import { compareListings, writeRandomKeys } from './support/listing-model';

const sha256 = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');

function randomBody(seed: number, sizeBytes: number): Buffer {
  const bytes = Buffer.alloc(sizeBytes);
  new SeededRandom(seed).fillBytes(bytes);
  return bytes;
}

function client(gateway: TestGateway, overrides: Partial<S3ClientConfig> = {}): S3Client {
  return new S3Client({
    endpoint: gateway.endpoint,
    region: testRegion,
    forcePathStyle: true,
    credentials: { accessKeyId: testAccessKeyId, secretAccessKey: testSecretAccessKey },
    maxAttempts: 1,
    ...overrides,
  });
}


let gateway: TestGateway;
let s3: S3Client;

beforeAll(async () => {
  gateway = await startTestGateway();
  s3 = client(gateway);
});

afterAll(async () => {
  s3.destroy();
  await gateway.stop();
});

describe('buckets', () => {
  test('CreateBucket, HeadBucket, ListBuckets, GetBucketLocation, GetBucketVersioning, DeleteBucket', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'bucket-life' }));
    await s3.send(new HeadBucketCommand({ Bucket: 'bucket-life' }));
    const list = await s3.send(new ListBucketsCommand({}));
    expect(list.Buckets?.map((b) => b.Name)).toContain('bucket-life');
    expect([list.Owner?.ID, list.Owner?.DisplayName]).toEqual([testAccessKeyId, testAccessKeyId]);
    const location = await s3.send(new GetBucketLocationCommand({ Bucket: 'bucket-life' }));
    expect(location.LocationConstraint ?? '').toBe('');
    const versioning = await s3.send(new GetBucketVersioningCommand({ Bucket: 'bucket-life' }));
    expect(versioning.Status).toBeUndefined();
    await s3.send(new DeleteBucketCommand({ Bucket: 'bucket-life' }));
    const missing = await s3ErrorOf(s3.send(new HeadBucketCommand({ Bucket: 'bucket-life' })));
    expect(missing.$metadata.httpStatusCode).toBe(404);
  });

  test('CreateBucket twice is BucketAlreadyOwnedByYou; invalid names are InvalidBucketName', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'bucket-twice' }));
    const again = await s3ErrorOf(s3.send(new CreateBucketCommand({ Bucket: 'bucket-twice' })));
    expect(again.name).toBe('BucketAlreadyOwnedByYou');
    expect(again.$metadata.httpStatusCode).toBe(409);
    const invalid = await s3ErrorOf(s3.send(new CreateBucketCommand({ Bucket: 'Invalid_Name' })));
    expect(invalid.name).toBe('InvalidBucketName');
  });

  test('DeleteBucket of a non-empty bucket is BucketNotEmpty', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'bucket-full' }));
    await s3.send(new PutObjectCommand({ Bucket: 'bucket-full', Key: 'k', Body: 'x' }));
    const error = await s3ErrorOf(s3.send(new DeleteBucketCommand({ Bucket: 'bucket-full' })));
    expect(error.name).toBe('BucketNotEmpty');
  });
});

describe('objects', () => {
  const bucket = 'objects';
  beforeAll(async () => {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  });

  test.each([0, 1, 1000, 65_536, 1_000_003])('PutObject / GetObject round trip (%i bytes, default checksums)', async (sizeBytes) => {
    const body = randomBody(sizeBytes + 1, sizeBytes);
    const key = `round-trip/${sizeBytes}`;
    const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    expect(put.ETag).toBe(`"${createHash('md5').update(body).digest('hex')}"`);
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, ChecksumMode: 'ENABLED' }));
    const bytes = await got.Body?.transformToByteArray();
    expect(sha256(bytes ?? new Uint8Array())).toBe(sha256(body));
    expect(got.ContentLength).toBe(sizeBytes);
    expect(got.ETag).toBe(put.ETag);
  });

  test.each(['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'] as const)('PutObject with ChecksumAlgorithm %s is stored and returned', async (algorithm) => {
    const body = randomBody(7, 200_000);
    const key = `checksum/${algorithm}`;
    const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ChecksumAlgorithm: algorithm }));
    const field = `Checksum${algorithm}` as const;
    expect(put[field]).toBeDefined();
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key, ChecksumMode: 'ENABLED' }));
    expect(head[field]).toBe(put[field]);
  });

  test('keys are opaque: dots, double slashes, encoded slashes, unicode, spaces, control characters', async () => {
    const keys = ['../escape', 'a//b', 'a%2Fb', 'dir/./x', 'ünïcødé/日本語/🎉', 'with space+plus', 'ctrl\u0001char', 'trailing/', ' lead', 'q?x=1&y#z'];
    for (const [index, key] of keys.entries()) {
      const body = randomBody(index, 100 + index);
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `opaque/${key}`, Body: body }));
      const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: `opaque/${key}` }));
      expect(sha256((await got.Body?.transformToByteArray()) ?? new Uint8Array())).toBe(sha256(body));
    }
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'opaque/' }));
    expect(listed.Contents?.map((c) => c.Key).sort()).toEqual(keys.map((k) => `opaque/${k}`).sort());
  });

  test('metadata and system headers round trip; response-* overrides apply', async () => {
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: 'meta',
        Body: 'hello',
        ContentType: 'text/plain',
        ContentEncoding: 'identity',
        ContentLanguage: 'en',
        CacheControl: 'max-age=60',
        ContentDisposition: 'attachment; filename="a.txt"',
        Expires: new Date('2030-01-01T00:00:00Z'),
        Metadata: { color: 'blue', 'x-y': 'z' },
      }),
    );
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'meta' }));
    expect(head.ContentType).toBe('text/plain');
    expect(head.ContentEncoding).toBe('identity');
    expect(head.ContentLanguage).toBe('en');
    expect(head.CacheControl).toBe('max-age=60');
    expect(head.ContentDisposition).toBe('attachment; filename="a.txt"');
    expect(head.Expires?.toISOString()).toBe('2030-01-01T00:00:00.000Z');
    expect(head.Metadata).toEqual({ color: 'blue', 'x-y': 'z' });
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'meta', ResponseContentType: 'application/json', ResponseCacheControl: 'no-store' }));
    expect(got.ContentType).toBe('application/json');
    expect(got.CacheControl).toBe('no-store');
    await got.Body?.transformToByteArray();
  });

  test('user metadata over 2 KB is MetadataTooLarge', async () => {
    const error = await s3ErrorOf(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'big-meta', Body: 'x', Metadata: { big: 'v'.repeat(2100) } })));
    expect(error.name).toBe('MetadataTooLarge');
  });

  test('Range: a-b, a-, suffix, past the end (416)', async () => {
    const body = randomBody(99, 10_000);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'ranged', Body: body }));
    const cases: [string, number, number][] = [
      ['bytes=0-9', 0, 9],
      ['bytes=9990-', 9990, 9999],
      ['bytes=-100', 9900, 9999],
      ['bytes=5000-20000', 5000, 9999],
    ];
    for (const [range, start, end] of cases) {
      const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'ranged', Range: range }));
      const bytes = (await got.Body?.transformToByteArray()) ?? new Uint8Array();
      expect(sha256(bytes)).toBe(sha256(body.subarray(start, end + 1)));
      expect(got.ContentRange).toBe(`bytes ${start}-${end}/10000`);
      expect(got.$metadata.httpStatusCode).toBe(206);
    }
    const error = await s3ErrorOf(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'ranged', Range: 'bytes=10000-' })));
    expect(error.name).toBe('InvalidRange');
    expect(error.$metadata.httpStatusCode).toBe(416);
  });

  test('conditional GET: If-None-Match -> 304, If-Match mismatch -> 412', async () => {
    const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'cond', Body: 'abc' }));
    const notModified = await s3ErrorOf(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'cond', IfNoneMatch: put.ETag })));
    expect(notModified.$metadata.httpStatusCode).toBe(304);
    const failed = await s3ErrorOf(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'cond', IfMatch: '"0000"' })));
    expect(failed.name).toBe('PreconditionFailed');
    const future = new Date(Date.now() + 3_600_000);
    const notModifiedSince = await s3ErrorOf(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'cond', IfModifiedSince: future })));
    expect(notModifiedSince.$metadata.httpStatusCode).toBe(304);
    const ok = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'cond', IfMatch: put.ETag }));
    expect(await ok.Body?.transformToString()).toBe('abc');
  });

  test('conditional PUT: If-None-Match * refuses to overwrite', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'create-only', Body: 'first', IfNoneMatch: '*' }));
    const error = await s3ErrorOf(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'create-only', Body: 'second', IfNoneMatch: '*' })));
    expect(error.name).toBe('PreconditionFailed');
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'create-only' }));
    expect(await got.Body?.transformToString()).toBe('first');
  });

  test('a PUT refused before its body is read does not wedge the connection', async () => {
    const body = randomBody(41, 3 * 1024 * 1024);
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const error = await s3ErrorOf(s3.send(new PutObjectCommand({ Bucket: 'no-such-bucket', Key: 'k', Body: body })));
      expect(error.name).toBe('NoSuchBucket');
    }
    const wrong = client(gateway, { credentials: { accessKeyId: testAccessKeyId, secretAccessKey: 'wrong' } });
    expect((await s3ErrorOf(wrong.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: body })))).name).toBe('SignatureDoesNotMatch');
    wrong.destroy();
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'after-refusals', Body: body }));
    expect(sha256(gateway.backend.storedBytes(bucket, 'after-refusals') ?? Buffer.alloc(0))).toBe(sha256(body));
  });

  test('GetObject of a missing key is NoSuchKey; of a missing bucket NoSuchBucket', async () => {
    expect((await s3ErrorOf(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'nope' })))).name).toBe('NoSuchKey');
    expect((await s3ErrorOf(s3.send(new GetObjectCommand({ Bucket: 'no-such-bucket', Key: 'nope' })))).name).toBe('NoSuchBucket');
  });

  test('CopyObject with COPY and REPLACE metadata directives, and copy-source conditionals', async () => {
    const body = randomBody(5, 300_000);
    const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'copy/src', Body: body, ContentType: 'image/png', Metadata: { a: '1' } }));
    const copied = await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'copy/dst ü', CopySource: `${bucket}/${encodeURIComponent('copy/src')}` }));
    expect(copied.CopyObjectResult?.ETag).toBe(put.ETag);
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'copy/dst ü' }));
    expect(head.ContentType).toBe('image/png');
    expect(head.Metadata).toEqual({ a: '1' });
    await s3.send(
      new CopyObjectCommand({ Bucket: bucket, Key: 'copy/replaced', CopySource: `${bucket}/copy/src`, MetadataDirective: 'REPLACE', ContentType: 'text/csv', Metadata: { b: '2' } }),
    );
    const replaced = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'copy/replaced' }));
    expect(replaced.ContentType).toBe('text/csv');
    expect(replaced.Metadata).toEqual({ b: '2' });
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'copy/replaced' }));
    expect(sha256((await got.Body?.transformToByteArray()) ?? new Uint8Array())).toBe(sha256(body));
    const failed = await s3ErrorOf(s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'copy/x', CopySource: `${bucket}/copy/src`, CopySourceIfMatch: '"bad"' })));
    expect(failed.name).toBe('PreconditionFailed');
    const self = await s3ErrorOf(s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'copy/src', CopySource: `${bucket}/copy/src` })));
    expect(self.name).toBe('InvalidRequest');
  });

  test('a key that begins with a byte-order mark is a key of its own', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: '\uFEFFbom', Body: 'with' }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'bom', Body: 'without' }));
    const bodyOf = async (key: string): Promise<string> => (await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body?.transformToString()) ?? '';
    expect([await bodyOf('\uFEFFbom'), await bodyOf('bom')]).toEqual(['with', 'without']);
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: '\uFEFF' }));
    expect(listed.Contents?.map((c) => c.Key)).toEqual(['\uFEFFbom']);
  });

  test('DeleteObjects with keys that need XML escaping', async () => {
    const keys = ['x/<tag>', 'x/a&b', `x/"quoted'`, 'x/ spaced ', 'x/ü', '\uFEFFx/bom'];
    for (const key of keys) await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'x' }));
    const result = await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys.map((Key) => ({ Key })) } }));
    expect(result.Deleted?.map((d) => d.Key).sort()).toEqual([...keys].sort());
    for (const key of keys) expect(gateway.backend.storedBytes(bucket, key)).toBeUndefined();
  });

  test('DeleteObject, and DeleteObjects with and without quiet mode', async () => {
    for (const key of ['d/1', 'd/2', 'd/3', 'd/4']) await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: key }));
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'd/1' }));
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'd/never-existed' }));
    const loud = await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: [{ Key: 'd/2' }, { Key: 'd/missing' }] } }));
    expect(loud.Deleted?.map((d) => d.Key).sort()).toEqual(['d/2', 'd/missing']);
    const quiet = await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: [{ Key: 'd/3' }, { Key: 'd/4' }], Quiet: true } }));
    expect(quiet.Deleted ?? []).toEqual([]);
    const left = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'd/' }));
    expect(left.KeyCount).toBe(0);
  });
});

describe('listing', () => {
  const bucket = 'listing';
  const keys = ['a', 'b/1', 'b/2', 'b/c/3', 'c', 'd/1', 'e'];
  beforeAll(async () => {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    for (const key of keys) await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: key }));
  });

  test('ListObjectsV2 with delimiter and pagination visits every key and prefix once', async () => {
    const seen: string[] = [];
    let token: string | undefined;
    do {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Delimiter: '/', MaxKeys: 2, ContinuationToken: token }));
      seen.push(...(page.Contents ?? []).map((c) => c.Key ?? ''), ...(page.CommonPrefixes ?? []).map((p) => p.Prefix ?? ''));
      expect(page.KeyCount).toBeLessThanOrEqual(2);
      token = page.NextContinuationToken;
    } while (token !== undefined);
    expect(seen.sort()).toEqual(['a', 'b/', 'c', 'd/', 'e']);
  });

  test('ListObjectsV2 prefix, start-after, fetch-owner, encoding-type=url', async () => {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'b/', StartAfter: 'b/1', FetchOwner: true, EncodingType: 'url' }));
    expect(page.Contents?.map((c) => c.Key)).toEqual(['b/2', 'b/c/3']);
    expect(page.Contents?.[0]?.Owner?.ID).toBe(testAccessKeyId);
    const noOwner = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'b/' }));
    expect(noOwner.Contents?.[0]?.Owner).toBeUndefined();
  });

  test('ListObjects v1 with marker and next-marker', async () => {
    const first = await s3.send(new ListObjectsCommand({ Bucket: bucket, MaxKeys: 3 }));
    expect(first.Contents?.map((c) => c.Key)).toEqual(['a', 'b/1', 'b/2']);
    expect(first.IsTruncated).toBe(true);
    const second = await s3.send(new ListObjectsCommand({ Bucket: bucket, Marker: first.NextMarker, MaxKeys: 10 }));
    expect(second.Contents?.map((c) => c.Key)).toEqual(['b/c/3', 'c', 'd/1', 'e']);
    expect(second.IsTruncated).toBe(false);
  });

  test('randomized: 120 listings of 60 random keys (v1 and v2, every page) equal the reference', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'listing-model' }));
    const keys = await writeRandomKeys(s3, 'listing-model', 11, 60);
    expect(await compareListings(s3, 'listing-model', keys, 12, 120)).toEqual([]);
  });

  test('a marker in a common prefix puts the group behind it; a marker equal to the prefix lists the prefix', async () => {
    const entriesOf = (page: { Contents?: Array<{ Key?: string }>; CommonPrefixes?: Array<{ Prefix?: string }> }): string[] =>
      [...(page.Contents ?? []).map((c) => c.Key ?? ''), ...(page.CommonPrefixes ?? []).map((p) => p.Prefix ?? '')].sort();
    // "b/1" lies in the group "b/", which sorts before it: listed on an earlier page already.
    expect(entriesOf(await s3.send(new ListObjectsCommand({ Bucket: bucket, Delimiter: '/', Marker: 'b/1' })))).toEqual(['c', 'd/', 'e']);
    expect(entriesOf(await s3.send(new ListObjectsV2Command({ Bucket: bucket, Delimiter: '/', StartAfter: 'b/1' })))).toEqual(['c', 'd/', 'e']);
    // Clients that start a listing with marker = prefix ("b/" ends with the delimiter, but holds
    // none after the prefix): everything under the prefix (it used to come back empty).
    const underB = await s3.send(new ListObjectsCommand({ Bucket: bucket, Prefix: 'b/', Delimiter: '/', Marker: 'b/' }));
    expect(entriesOf(underB)).toEqual(['b/1', 'b/2', 'b/c/']);
    expect(entriesOf(await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'b/', Delimiter: '/', StartAfter: 'b/' })))).toEqual(['b/1', 'b/2', 'b/c/']);
  });
});

describe('multipart', () => {
  const bucket = 'multipart';
  const partSizeBytes = 5 * 1024 * 1024;
  beforeAll(async () => {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  });

  test('lib-storage Upload of 17 MiB (4 parts) reads back identical with the multipart ETag', async () => {
    const body = randomBody(17, 17 * 1024 * 1024);
    const upload = new Upload({ client: s3, params: { Bucket: bucket, Key: 'big/object.bin', Body: body }, partSize: partSizeBytes, queueSize: 2 });
    const result = await upload.done();
    const partMd5s = [0, 1, 2, 3].map((i) => createHash('md5').update(body.subarray(i * partSizeBytes, Math.min((i + 1) * partSizeBytes, body.length))).digest());
    const expectedEtag = `"${createHash('md5').update(Buffer.concat(partMd5s)).digest('hex')}-4"`;
    expect(result.ETag).toBe(expectedEtag);
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'big/object.bin', ChecksumMode: 'ENABLED' }));
    expect(sha256((await got.Body?.transformToByteArray()) ?? new Uint8Array())).toBe(sha256(body));
    const part2 = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'big/object.bin', PartNumber: 2 }));
    expect(part2.PartsCount).toBe(4);
    expect(sha256((await part2.Body?.transformToByteArray()) ?? new Uint8Array())).toBe(sha256(body.subarray(partSizeBytes, 2 * partSizeBytes)));
  });

  test('explicit multipart: ListParts, ListMultipartUploads, UploadPartCopy with range, Complete, Abort', async () => {
    const source = randomBody(3, 6 * 1024 * 1024);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'copy-source', Body: source }));
    const created = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'assembled', ContentType: 'application/x-test' }));
    const uploadId = created.UploadId ?? '';
    const part1 = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'assembled', UploadId: uploadId, PartNumber: 1, Body: source.subarray(0, partSizeBytes) }));
    const part2 = await s3.send(
      new UploadPartCopyCommand({ Bucket: bucket, Key: 'assembled', UploadId: uploadId, PartNumber: 2, CopySource: `${bucket}/copy-source`, CopySourceRange: `bytes=${partSizeBytes}-${source.length - 1}` }),
    );
    const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
    expect(uploads.Uploads?.map((u) => u.UploadId)).toContain(uploadId);
    const parts = await s3.send(new ListPartsCommand({ Bucket: bucket, Key: 'assembled', UploadId: uploadId }));
    expect(parts.Parts?.map((p) => [p.PartNumber, p.Size])).toEqual([
      [1, partSizeBytes],
      [2, source.length - partSizeBytes],
    ]);
    const wrongOrder = await s3ErrorOf(
      s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: bucket,
          Key: 'assembled',
          UploadId: uploadId,
          MultipartUpload: { Parts: [{ PartNumber: 2, ETag: part2.CopyPartResult?.ETag }, { PartNumber: 1, ETag: part1.ETag }] },
        }),
      ),
    );
    expect(wrongOrder.name).toBe('InvalidPartOrder');
    const badEtag = await s3ErrorOf(
      s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'assembled', UploadId: uploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: '"ffff"' }] } })),
    );
    expect(badEtag.name).toBe('InvalidPart');
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: 'assembled',
        UploadId: uploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part1.ETag }, { PartNumber: 2, ETag: part2.CopyPartResult?.ETag }] },
      }),
    );
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'assembled' }));
    expect(got.ContentType).toBe('application/x-test');
    expect(sha256((await got.Body?.transformToByteArray()) ?? new Uint8Array())).toBe(sha256(source));

    const small = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'too-small' }));
    const smallId = small.UploadId ?? '';
    const p1 = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'too-small', UploadId: smallId, PartNumber: 1, Body: 'tiny' }));
    const p2 = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'too-small', UploadId: smallId, PartNumber: 2, Body: 'tiny' }));
    const tooSmall = await s3ErrorOf(
      s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'too-small', UploadId: smallId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p1.ETag }, { PartNumber: 2, ETag: p2.ETag }] } })),
    );
    expect(tooSmall.name).toBe('EntityTooSmall');
    await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: 'too-small', UploadId: smallId }));
    const gone = await s3ErrorOf(s3.send(new ListPartsCommand({ Bucket: bucket, Key: 'too-small', UploadId: smallId })));
    expect(gone.name).toBe('NoSuchUpload');
    expect((await s3ErrorOf(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'too-small' })))).$metadata.httpStatusCode).toBe(404);
  });
});

describe('virtual-hosted style with the SDK', () => {
  test('forcePathStyle: false against <bucket>.s3.localhost (resolved to 127.0.0.1)', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'vhost-sdk' }));
    // *.s3.localhost need not resolve on this machine, so the agent resolves every name to loopback.
    const lookup = ((_hostname: string, options: unknown, callback: (error: null, address: string | { address: string; family: number }[], family?: number) => void) => {
      if ((options as { all?: boolean }).all === true) callback(null, [{ address: '127.0.0.1', family: 4 }]);
      else callback(null, '127.0.0.1', 4);
    }) as unknown as typeof import('node:dns').lookup;
    const vhost = client(gateway, { endpoint: `http://s3.localhost:${gateway.port}`, forcePathStyle: false, requestHandler: { httpAgent: new Agent({ lookup }) } });
    const body = randomBody(31, 50_000);
    await vhost.send(new PutObjectCommand({ Bucket: 'vhost-sdk', Key: 'dir/obj', Body: body }));
    expect(sha256(gateway.backend.storedBytes('vhost-sdk', 'dir/obj') ?? Buffer.alloc(0))).toBe(sha256(body));
    const listed = await vhost.send(new ListObjectsV2Command({ Bucket: 'vhost-sdk' }));
    expect(listed.Contents?.map((c) => c.Key)).toEqual(['dir/obj']);
    const got = await vhost.send(new GetObjectCommand({ Bucket: 'vhost-sdk', Key: 'dir/obj' }));
    expect(sha256((await got.Body?.transformToByteArray()) ?? new Uint8Array())).toBe(sha256(body));
    vhost.destroy();
  });
});

describe('multipart checksums', () => {
  test('an upload created with CRC32C gets the COMPOSITE checksum of its parts', async () => {
    const bucket = 'multipart-checksums';
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const parts = [randomBody(21, 5 * 1024 * 1024), randomBody(22, 1000)];
    const created = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'k', ChecksumAlgorithm: 'CRC32C' }));
    const uploaded = [];
    for (const [index, body] of parts.entries()) {
      const part = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'k', UploadId: created.UploadId, PartNumber: index + 1, Body: body, ChecksumAlgorithm: 'CRC32C' }));
      expect(part.ChecksumCRC32C).toBe(computeChecksum('CRC32C', body));
      uploaded.push({ PartNumber: index + 1, ETag: part.ETag, ChecksumCRC32C: part.ChecksumCRC32C });
    }
    const completed = await s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'k', UploadId: created.UploadId, MultipartUpload: { Parts: uploaded } }));
    const expected = compositeChecksum('CRC32C', parts.map((body) => computeChecksum('CRC32C', body)));
    expect(completed.ChecksumCRC32C).toBe(expected);
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'k', ChecksumMode: 'ENABLED' }));
    expect(head.ChecksumCRC32C).toBe(expected);
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'k', ChecksumMode: 'ENABLED' }));
    expect(sha256((await got.Body?.transformToByteArray()) ?? new Uint8Array())).toBe(sha256(Buffer.concat(parts)));
  });
});

describe('FULL_OBJECT multipart checksums', () => {
  const bucket = 'full-object-checksums';
  beforeAll(async () => {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  });

  test('lib-storage with CRC64NVME: the object gets the CRC64NVME of all its bytes', async () => {
    const body = randomBody(51, 11 * 1024 * 1024 + 17);
    await new Upload({ client: s3, params: { Bucket: bucket, Key: 'crc64', Body: body, ChecksumAlgorithm: 'CRC64NVME' }, partSize: 5 * 1024 * 1024 }).done();
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'crc64', ChecksumMode: 'ENABLED' }));
    expect(head.ChecksumCRC64NVME).toBe(computeChecksum('CRC64NVME', body));
    expect(head.ChecksumType).toBe('FULL_OBJECT');
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'crc64', ChecksumMode: 'ENABLED' }));
    expect(sha256((await got.Body?.transformToByteArray()) ?? new Uint8Array())).toBe(sha256(body));
  });

  test('CRC32 FULL_OBJECT: a matching whole-object value is accepted, a wrong one is BadDigest', async () => {
    const parts = [randomBody(52, 5 * 1024 * 1024), randomBody(53, 4321)];
    const whole = computeChecksum('CRC32', Buffer.concat(parts));
    for (const [key, declared] of [['good', whole], ['bad', computeChecksum('CRC32', Buffer.from('other'))]] as const) {
      const created = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ChecksumAlgorithm: 'CRC32', ChecksumType: 'FULL_OBJECT' }));
      const uploaded = [];
      for (const [index, body] of parts.entries()) {
        const part = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: created.UploadId, PartNumber: index + 1, Body: body, ChecksumAlgorithm: 'CRC32' }));
        uploaded.push({ PartNumber: index + 1, ETag: part.ETag, ChecksumCRC32: part.ChecksumCRC32 });
      }
      const complete = s3.send(
        new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: created.UploadId, MultipartUpload: { Parts: uploaded }, ChecksumCRC32: declared, ChecksumType: 'FULL_OBJECT' }),
      );
      if (key === 'good') {
        const result = await complete;
        expect([result.ChecksumCRC32, result.ChecksumType]).toEqual([whole, 'FULL_OBJECT']);
      } else {
        expect((await s3ErrorOf(complete)).name).toBe('BadDigest');
        expect(gateway.backend.storedBytes(bucket, key)).toBeUndefined();
      }
    }
  });
});

describe('presigned URLs and credentials', () => {
  const bucket = 'presigned';
  beforeAll(async () => {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  });

  test('presigned PUT and GET fetched with plain fetch', async () => {
    const body = randomBody(11, 123_456);
    const putUrl = await getSignedUrl(s3, new PutObjectCommand({ Bucket: bucket, Key: 'via url/ü' }), { expiresIn: 600 });
    const put = await fetch(putUrl, { method: 'PUT', body });
    expect(put.status).toBe(200);
    const getUrl = await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: 'via url/ü' }), { expiresIn: 600 });
    const got = await fetch(getUrl);
    expect(got.status).toBe(200);
    expect(sha256(new Uint8Array(await got.arrayBuffer()))).toBe(sha256(body));
  });

  test('an expired presigned URL is AccessDenied (Request has expired)', async () => {
    const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: 'via url/ü' }), { expiresIn: 60, signingDate: new Date(Date.now() - 2 * 3_600_000) });
    const response = await fetch(url);
    expect(response.status).toBe(403);
    const text = await response.text();
    expect(text).toContain('<Code>AccessDenied</Code>');
    expect(text).toContain('Request has expired');
  });

  test('presigned URL with a tampered signature is SignatureDoesNotMatch; beyond 7 days is refused', async () => {
    const url = new URL(await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: 'via url/ü' }), { expiresIn: 60 }));
    url.searchParams.set('X-Amz-Signature', '0'.repeat(64));
    const tampered = await fetch(url);
    expect(tampered.status).toBe(403);
    expect(await tampered.text()).toContain('<Code>SignatureDoesNotMatch</Code>');
    const tooLong = new URL(await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: 'via url/ü' }), { expiresIn: 60 }));
    tooLong.searchParams.set('X-Amz-Expires', '604801');
    const refused = await fetch(tooLong);
    expect(refused.status).toBe(400);
    expect(await refused.text()).toContain('<Code>AuthorizationQueryParametersError</Code>');
  });

  test('unknown access key is InvalidAccessKeyId; wrong secret is SignatureDoesNotMatch; no auth is AccessDenied', async () => {
    const unknown = client(gateway, { credentials: { accessKeyId: 'NOSUCHKEY', secretAccessKey: 'x' } });
    expect((await s3ErrorOf(unknown.send(new ListBucketsCommand({})))).name).toBe('InvalidAccessKeyId');
    unknown.destroy();
    const wrong = client(gateway, { credentials: { accessKeyId: testAccessKeyId, secretAccessKey: 'wrong' } });
    expect((await s3ErrorOf(wrong.send(new ListBucketsCommand({})))).name).toBe('SignatureDoesNotMatch');
    wrong.destroy();
    const anonymous = await fetch(`${gateway.endpoint}/`);
    expect(anonymous.status).toBe(403);
    expect(await anonymous.text()).toContain('<Code>AccessDenied</Code>');
  });
});

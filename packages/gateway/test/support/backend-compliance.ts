/**
 * The S3Backend compliance suite (STYLE habit 11): the contract of src/backend.ts as tests, run
 * against every implementation. `describeS3BackendCompliance('in-memory', make)` runs it on the
 * in-memory twin today; the erasure-coded backend will run the same suite. Test code only.
 */
import { Readable } from 'node:stream';
import { createHash } from 'node:crypto';
import { S3BackendError } from '../../src/backend';
import type { S3Backend, WriteCondition } from '../../src/backend';
import type { ChecksumAlgorithm } from '../../src/checksums';
import { createVerifiedBody } from '../../src/request-body';
import type { VerifiedBody } from '../../src/request-body';

export interface BackendUnderTest {
  readonly backend: S3Backend;
  cleanup(): Promise<void>;
}

const noCondition: WriteCondition = { ifNoneMatchAny: false, ifMatchEtag: undefined };
const noHeaders = { system: {}, user: {}, tags: [] };

/** A verified body over `bytes`, streamed in 64 KiB pieces. */
export function bodyOf(bytes: Buffer, checksums: readonly ChecksumAlgorithm[] = []): VerifiedBody {
  const pieces: Buffer[] = [];
  for (let offset = 0; offset < bytes.length; offset += 65_536) pieces.push(bytes.subarray(offset, offset + 65_536));
  return createVerifiedBody(
    Readable.from(pieces),
    { payload: { kind: 'unsigned' }, sizeBytes: bytes.length, contentMd5Hex: undefined, checksumsExpected: new Map(), checksumsComputed: checksums, declaredTrailers: [] },
    { sizeBytesMax: bytes.length, chunkSizeBytesMax: 0 },
  );
}

/** A body that fails after `goodBytes`, as when a client disconnects mid-upload. */
export function failingBody(goodBytes: number, declaredBytes: number): VerifiedBody {
  async function* source(): AsyncIterable<Buffer> {
    yield Buffer.alloc(goodBytes, 1);
    throw new Error('client went away');
  }
  return createVerifiedBody(
    Readable.from(source()),
    { payload: { kind: 'unsigned' }, sizeBytes: declaredBytes, contentMd5Hex: undefined, checksumsExpected: new Map(), checksumsComputed: [], declaredTrailers: [] },
    { sizeBytesMax: declaredBytes, chunkSizeBytesMax: 0 },
  );
}

async function readAll(iterable: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of iterable) parts.push(Buffer.from(part));
  return Buffer.concat(parts);
}

async function reasonOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof S3BackendError) return error.reason;
    throw error;
  }
  throw new Error('expected an S3BackendError');
}

const md5 = (bytes: Buffer): string => createHash('md5').update(bytes).digest('hex');

export function describeS3BackendCompliance(name: string, make: () => Promise<BackendUnderTest>): void {
  describe(`S3Backend compliance: ${name}`, () => {
    let subject: BackendUnderTest;
    let backend: S3Backend;
    beforeEach(async () => {
      subject = await make();
      backend = subject.backend;
      await backend.createBucket('bkt', 'owner-key');
    });
    afterEach(async () => {
      await subject.cleanup();
    });

    test('buckets: create twice, head, list, delete only when empty', async () => {
      expect(await reasonOf(backend.createBucket('bkt', 'owner-key'))).toBe('BucketAlreadyOwnedByYou');
      expect(await reasonOf(backend.createBucket('bkt', 'other-key'))).toBe('BucketAlreadyExists');
      expect((await backend.headBucket('bkt')).name).toBe('bkt');
      expect((await backend.listBuckets()).map((b) => b.name)).toContain('bkt');
      await backend.putObject({ bucket: 'bkt', key: 'k', headers: noHeaders, body: bodyOf(Buffer.from('x')), condition: noCondition });
      expect(await reasonOf(backend.deleteBucket('bkt'))).toBe('BucketNotEmpty');
      await backend.deleteObject('bkt', 'k');
      await backend.deleteBucket('bkt');
      expect(await reasonOf(backend.headBucket('bkt'))).toBe('NoSuchBucket');
      expect(await reasonOf(backend.setBucketTags('bkt', []))).toBe('NoSuchBucket');
      expect(await reasonOf(backend.putObject({ bucket: 'bkt', key: 'k', headers: noHeaders, body: bodyOf(Buffer.from('x')), condition: noCondition }))).toBe('NoSuchBucket');
    });

    test('put then read back: ETag is the MD5, ranges read only their bytes, checksums kept', async () => {
      const bytes = Buffer.alloc(300_000);
      for (let i = 0; i < bytes.length; i += 1) bytes[i] = (i * 7) % 251;
      const info = await backend.putObject({ bucket: 'bkt', key: 'obj', headers: { system: { 'content-type': 't/x' }, user: { a: 'b' }, tags: [] }, body: bodyOf(bytes, ['CRC32']), condition: noCondition });
      expect(info.etag).toBe(md5(bytes));
      expect(info.sizeBytes).toBe(bytes.length);
      expect(info.checksums.CRC32).toBeDefined();
      const head = await backend.headObject('bkt', 'obj');
      expect(head).toMatchObject({ etag: md5(bytes), sizeBytes: bytes.length, headers: { system: { 'content-type': 't/x' }, user: { a: 'b' } }, checksums: info.checksums });
      const reader = await backend.openObject('bkt', 'obj');
      expect((await readAll(reader.read(0, bytes.length - 1))).equals(bytes)).toBe(true);
      expect((await readAll(reader.read(70_000, 140_000))).equals(bytes.subarray(70_000, 140_001))).toBe(true);
      expect(await reasonOf(backend.headObject('bkt', 'missing'))).toBe('NoSuchKey');
    });

    test('bucket tags: none at creation, replaced in order, removed; the bucket keeps its name and date', async () => {
      await backend.createBucket('tagged-bucket', 'owner-key');
      const created = await backend.headBucket('tagged-bucket');
      expect(created.tags).toEqual([]);
      const tags = [{ key: 'team', value: 'storage' }, { key: 'empty', value: '' }, { key: 'ключ', value: '🚀' }];
      await backend.setBucketTags('tagged-bucket', tags);
      expect(await backend.headBucket('tagged-bucket')).toEqual({ ...created, tags });
      expect((await backend.listBuckets()).find((b) => b.name === 'tagged-bucket')?.tags).toEqual(tags);
      await backend.setBucketTags('tagged-bucket', [{ key: 'only', value: 'one' }]);
      expect((await backend.headBucket('tagged-bucket')).tags).toEqual([{ key: 'only', value: 'one' }]);
      await backend.setBucketTags('tagged-bucket', []);
      expect(await backend.headBucket('tagged-bucket')).toEqual(created);
      await backend.deleteBucket('tagged-bucket');
    });

    test('bucket CORS rules: stored as given and in order, replaced whole, removed; tags untouched', async () => {
      await backend.createBucket('cors-bucket', 'owner-key');
      const created = await backend.headBucket('cors-bucket');
      expect(created.corsRules).toEqual([]);
      const rules = [
        { id: 'web app', allowedOrigins: ['https://app.example.com', 'http://*.example.com'], allowedMethods: ['GET', 'PUT'], allowedHeaders: ['x-amz-*', 'Content-Type'], exposeHeaders: ['ETag'], maxAgeSeconds: 3000 },
        { allowedOrigins: ['*'], allowedMethods: ['GET'], allowedHeaders: [], exposeHeaders: [] },
      ];
      await backend.setBucketCors('cors-bucket', rules);
      await backend.setBucketTags('cors-bucket', [{ key: 'k', value: 'v' }]);
      expect(await backend.headBucket('cors-bucket')).toEqual({ ...created, corsRules: rules, tags: [{ key: 'k', value: 'v' }] });
      await backend.setBucketCors('cors-bucket', [rules[1]!]);
      expect((await backend.headBucket('cors-bucket')).corsRules).toEqual([rules[1]]);
      await backend.setBucketCors('cors-bucket', []);
      expect(await backend.headBucket('cors-bucket')).toEqual({ ...created, tags: [{ key: 'k', value: 'v' }] });
      await backend.deleteBucket('cors-bucket');
      expect(await reasonOf(backend.setBucketCors('cors-bucket', rules))).toBe('NoSuchBucket');
    });

    test('tags: stored with the object, replaced and removed in place without touching data, ETag or date', async () => {
      const tags = [{ key: 'project', value: 'tessera' }, { key: 'é 🙂', value: '' }];
      const info = await backend.putObject({ bucket: 'bkt', key: 'tagged', headers: { ...noHeaders, tags }, body: bodyOf(Buffer.from('tagged body')), condition: noCondition });
      expect((await backend.headObject('bkt', 'tagged')).headers.tags).toEqual(tags);
      const replaced = await backend.setObjectTags('bkt', 'tagged', [{ key: 'only', value: 'one' }]);
      expect(replaced.headers.tags).toEqual([{ key: 'only', value: 'one' }]);
      const head = await backend.headObject('bkt', 'tagged');
      expect(head).toMatchObject({ etag: info.etag, lastModifiedMs: info.lastModifiedMs, sizeBytes: info.sizeBytes, headers: { tags: [{ key: 'only', value: 'one' }] } });
      await backend.setObjectTags('bkt', 'tagged', []);
      expect((await backend.headObject('bkt', 'tagged')).headers.tags).toEqual([]);
      const reader = await backend.openObject('bkt', 'tagged');
      expect((await readAll(reader.read(0, reader.info.sizeBytes - 1))).toString()).toBe('tagged body');
      expect(await reasonOf(backend.setObjectTags('bkt', 'missing', tags))).toBe('NoSuchKey');
      expect(await reasonOf(backend.setObjectTags('no-such-bucket', 'tagged', tags))).toBe('NoSuchBucket');
    });

    test('a body that fails mid-stream leaves nothing, not even replacing an older version', async () => {
      await backend.putObject({ bucket: 'bkt', key: 'obj', headers: noHeaders, body: bodyOf(Buffer.from('old')), condition: noCondition });
      await expect(backend.putObject({ bucket: 'bkt', key: 'obj', headers: noHeaders, body: failingBody(100_000, 1_000_000), condition: noCondition })).rejects.toThrow();
      await expect(backend.putObject({ bucket: 'bkt', key: 'new', headers: noHeaders, body: failingBody(10, 20), condition: noCondition })).rejects.toThrow();
      const reader = await backend.openObject('bkt', 'obj');
      expect((await readAll(reader.read(0, 2))).toString()).toBe('old');
      expect(await reasonOf(backend.headObject('bkt', 'new'))).toBe('NoSuchKey');
    });

    test('a reader pins its version across an overwrite', async () => {
      await backend.putObject({ bucket: 'bkt', key: 'obj', headers: noHeaders, body: bodyOf(Buffer.from('first version')), condition: noCondition });
      const reader = await backend.openObject('bkt', 'obj');
      await backend.putObject({ bucket: 'bkt', key: 'obj', headers: noHeaders, body: bodyOf(Buffer.from('SECOND VERSION')), condition: noCondition });
      expect((await readAll(reader.read(0, reader.info.sizeBytes - 1))).toString()).toBe('first version');
    });

    test('conditional writes: If-None-Match * and ETags, If-Match * and ETags', async () => {
      const create = { ifNoneMatchAny: true, ifMatchEtag: undefined };
      const first = await backend.putObject({ bucket: 'bkt', key: 'c', headers: noHeaders, body: bodyOf(Buffer.from('1')), condition: create });
      expect(await reasonOf(backend.putObject({ bucket: 'bkt', key: 'c', headers: noHeaders, body: bodyOf(Buffer.from('2')), condition: create }))).toBe('PreconditionFailed');
      expect(await reasonOf(backend.putObject({ bucket: 'bkt', key: 'c', headers: noHeaders, body: bodyOf(Buffer.from('3')), condition: { ifNoneMatchAny: false, ifMatchEtag: 'nope' } }))).toBe('PreconditionFailed');
      await backend.putObject({ bucket: 'bkt', key: 'c', headers: noHeaders, body: bodyOf(Buffer.from('4')), condition: { ifNoneMatchAny: false, ifMatchEtag: first.etag } });
      expect(await reasonOf(backend.putObject({ bucket: 'bkt', key: 'absent', headers: noHeaders, body: bodyOf(Buffer.from('5')), condition: { ifNoneMatchAny: false, ifMatchEtag: first.etag } }))).toBe('NoSuchKey');
      expect((await backend.headObject('bkt', 'c')).etag).toBe(md5(Buffer.from('4')));
      const when = (condition: WriteCondition, body: string): Promise<unknown> => backend.putObject({ bucket: 'bkt', key: 'c', headers: noHeaders, body: bodyOf(Buffer.from(body)), condition });
      expect(await reasonOf(when({ ifNoneMatchAny: false, ifMatchEtag: undefined, ifNoneMatchEtags: `nope,${md5(Buffer.from('4'))}` }, '6'))).toBe('PreconditionFailed');
      await when({ ifNoneMatchAny: false, ifMatchEtag: undefined, ifNoneMatchEtags: 'nope' }, '7');
      await when({ ifNoneMatchAny: false, ifMatchEtag: '*' }, '8');
      expect(await reasonOf(backend.putObject({ bucket: 'bkt', key: 'absent', headers: noHeaders, body: bodyOf(Buffer.from('9')), condition: { ifNoneMatchAny: false, ifMatchEtag: '*' } }))).toBe('NoSuchKey');
      expect((await backend.headObject('bkt', 'c')).etag).toBe(md5(Buffer.from('8')));
    });

    test('listing: prefix, delimiter, exclusive start-after, skipPrefix skips a returned common prefix', async () => {
      for (const key of ['a', 'b/', 'b/1', 'b/2', 'c']) await backend.putObject({ bucket: 'bkt', key, headers: noHeaders, body: bodyOf(Buffer.from(key)), condition: noCondition });
      const names = (page: Awaited<ReturnType<S3Backend['listObjects']>>): string[] => page.entries.map((e) => (e.kind === 'object' ? e.object.key : `P:${e.prefix}`));
      const list = (prefix: string, delimiter: string | undefined, startAfter: string | undefined, skipPrefix: string | undefined, maxKeys: number) =>
        backend.listObjects({ bucket: 'bkt', prefix, delimiter, startAfter, skipPrefix, maxKeys });
      expect(names(await list('', '/', undefined, undefined, 10))).toEqual(['a', 'P:b/', 'c']);
      const firstPage = await list('', '/', undefined, undefined, 2);
      expect([names(firstPage), firstPage.isTruncated]).toEqual([['a', 'P:b/'], true]);
      expect(names(await list('', '/', 'b/', 'b/', 2))).toEqual(['c']);
      expect(names(await list('b/', undefined, 'b/1', undefined, 10))).toEqual(['b/2']);
      // The key "b/" ends with the delimiter but is a key: starting after it must not skip "b/1".
      expect(names(await list('b/', '/', 'b/', undefined, 10))).toEqual(['b/1', 'b/2']);
    });

    test('multipart: parts replace, list in pages, complete keeps only the selection, abort discards', async () => {
      const upload = await backend.createMultipartUpload('bkt', 'mp', noHeaders, undefined, 'TKINITIATOR');
      await backend.uploadPart('bkt', 'mp', upload.uploadId, 1, bodyOf(Buffer.from('wrong')));
      const p1 = await backend.uploadPart('bkt', 'mp', upload.uploadId, 1, bodyOf(Buffer.from('one-')));
      const p2 = await backend.uploadPart('bkt', 'mp', upload.uploadId, 2, bodyOf(Buffer.from('unused-')));
      const p3 = await backend.uploadPart('bkt', 'mp', upload.uploadId, 3, bodyOf(Buffer.from('three')));
      const page = await backend.listParts('bkt', 'mp', upload.uploadId, 0, 2);
      expect([page.parts.map((p) => p.partNumber), page.isTruncated]).toEqual([[1, 2], true]);
      expect((await backend.listParts('bkt', 'mp', upload.uploadId, 2, 2)).parts.map((p) => p.partNumber)).toEqual([3]);
      expect(p1.etag).toBe(md5(Buffer.from('one-')));
      expect(p2.sizeBytes).toBe(7);
      const uploads = await backend.listMultipartUploads({ bucket: 'bkt', prefix: '', delimiter: undefined, keyMarker: undefined, uploadIdMarker: undefined, maxUploads: 10, skipPrefix: undefined });
      expect(uploads.entries.map((e) => (e.kind === 'upload' ? e.upload.uploadId : e.prefix))).toEqual([upload.uploadId]);
      expect(
        await reasonOf(backend.completeMultipartUpload({ bucket: 'bkt', key: 'mp', uploadId: upload.uploadId, parts: [{ partNumber: 1, etag: 'bad' }], etag: 'x-1', checksums: {}, condition: noCondition })),
      ).toBe('InvalidPart');
      const info = await backend.completeMultipartUpload({
        bucket: 'bkt',
        key: 'mp',
        uploadId: upload.uploadId,
        parts: [{ partNumber: 1, etag: p1.etag }, { partNumber: 3, etag: p3.etag }],
        etag: 'computed-2',
        checksums: {},
        condition: noCondition,
      });
      expect(info).toMatchObject({ etag: 'computed-2', sizeBytes: 9, partSizesBytes: [4, 5] });
      // The version remembers what it completed, for a retried completion of the same parts.
      expect((await backend.headObject('bkt', 'mp')).completedUpload).toMatchObject({ uploadId: upload.uploadId, parts: [{ partNumber: 1, etag: p1.etag }, { partNumber: 3, etag: p3.etag }] });
      const reader = await backend.openObject('bkt', 'mp');
      expect((await readAll(reader.read(0, 8))).toString()).toBe('one-three');
      expect(await reasonOf(backend.listParts('bkt', 'mp', upload.uploadId, 0, 10))).toBe('NoSuchUpload');
      const aborted = await backend.createMultipartUpload('bkt', 'gone', noHeaders, { algorithm: 'CRC32', type: 'FULL_OBJECT' }, 'TKINITIATOR');
      expect([aborted.checksumAlgorithm, aborted.checksumType]).toEqual(['CRC32', 'FULL_OBJECT']);
      await backend.abortMultipartUpload('bkt', 'gone', aborted.uploadId);
      expect(await reasonOf(backend.abortMultipartUpload('bkt', 'gone', aborted.uploadId))).toBe('NoSuchUpload');
      expect(await reasonOf(backend.uploadPart('bkt', 'gone', aborted.uploadId, 1, bodyOf(Buffer.from('x'))))).toBe('NoSuchUpload');
    });

    test('a completed object keeps each chosen part\'s checksums, in part order', async () => {
      const upload = await backend.createMultipartUpload('bkt', 'summed', noHeaders, { algorithm: 'SHA256', type: 'COMPOSITE' }, 'TKINITIATOR');
      const bodies = [Buffer.from('first part'), Buffer.from('skipped'), Buffer.from('third')];
      const uploaded = [];
      for (const [index, bytes] of bodies.entries()) uploaded.push(await backend.uploadPart('bkt', 'summed', upload.uploadId, index + 1, bodyOf(bytes, ['SHA256'])));
      const sha256Of = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('base64');
      expect(uploaded.map((part) => part.checksums.SHA256)).toEqual(bodies.map(sha256Of));
      await backend.completeMultipartUpload({
        bucket: 'bkt', key: 'summed', uploadId: upload.uploadId, etag: 'computed-2', checksums: {}, condition: noCondition,
        parts: [{ partNumber: 1, etag: uploaded[0]!.etag }, { partNumber: 3, etag: uploaded[2]!.etag }],
      });
      expect((await backend.headObject('bkt', 'summed')).partChecksums).toEqual([{ SHA256: sha256Of(bodies[0]!) }, { SHA256: sha256Of(bodies[2]!) }]);
      // Parts without checksums leave none.
      const plain = await backend.createMultipartUpload('bkt', 'unsummed', noHeaders, undefined, 'TKINITIATOR');
      const only = await backend.uploadPart('bkt', 'unsummed', plain.uploadId, 1, bodyOf(Buffer.from('no checksum')));
      await backend.completeMultipartUpload({ bucket: 'bkt', key: 'unsummed', uploadId: plain.uploadId, etag: 'computed-1', checksums: {}, condition: noCondition, parts: [{ partNumber: 1, etag: only.etag }] });
      expect((await backend.headObject('bkt', 'unsummed')).partChecksums).toBeUndefined();
    });

    test('a bucket with an upload in progress is not empty', async () => {
      const upload = await backend.createMultipartUpload('bkt', 'pending', noHeaders, undefined, 'TKINITIATOR');
      expect(await reasonOf(backend.deleteBucket('bkt'))).toBe('BucketNotEmpty');
      await backend.abortMultipartUpload('bkt', 'pending', upload.uploadId);
    });
  });
}

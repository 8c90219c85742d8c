// Goal: the catalogue's apply enforces S3 rules and never lets a bad command change state.
// Method: a real CatalogueStateMachine over LevelDB in a temp dir; commands go through apply as
// the Raft host would send them, and reads check the resulting state.
import fc from 'fast-check';
import {
  BucketAlreadyExistsError, BucketNotEmptyError, EntityTooSmallError, InvalidArgumentError, InvalidBucketNameError, InvalidPartError,
  InvalidPartOrderError, KeyTooLongError, NoSuchBucketError, NoSuchKeyError, NoSuchUploadError, NoSuchVersionError, NoSuchWriteError,
  ShardsNotPlacedError,
} from '@tessera/rpc';
import type { ApplyResult } from '../src/catalogue-state-machine';
import { CatalogueStateMachine, multipartEtag } from '../src/catalogue-state-machine';
import type { Command, StampedCommand } from '../src/commands';
import type { ObjectVersionRecord } from '../src/model';
import { systemMetadataBytesMax, validateBucketName } from '../src/validation';
import * as keys from '../src/keys';
import type { TempCatalogue } from './helpers';
import { applyEncoded, applyOk, md5a, md5b, openTempCatalogue, putInline, registerNodes, stripe } from './helpers';

let cat: TempCatalogue;
beforeEach(async () => {
  cat = await openTempCatalogue({ partSizeBytesMin: 10 });
});
afterEach(async () => {
  await cat.close();
});

const apply = (command: StampedCommand): Promise<ApplyResult> => applyEncoded(cat, command);
const ok = (command: StampedCommand): Promise<unknown> => applyOk(cat, command);

async function fails(command: StampedCommand, errorClass: abstract new (...args: never[]) => Error): Promise<void> {
  const result = await apply(command);
  expect(result.ok).toBe(false);
  if (!result.ok) expect(result.error).toBeInstanceOf(errorClass);
}

const createBucket = (bucket: string, owner = 'alice'): Command => ({ type: 'createBucket', bucket, owner, createdAtMs: 1 });

describe('bucket names', () => {
  test.each(['abc', 'my-bucket.logs', '0bucket9', 'a'.repeat(63)])('accepts %s', (name) => {
    expect(() => validateBucketName(name)).not.toThrow();
  });
  test.each(['ab', 'a'.repeat(64), 'MyBucket', 'my_bucket', '-abc', 'abc-', 'a..b', '192.168.1.1', 'xn--abc', 'sthree-x', 'abc-s3alias', 'abc--ol-s3', 'ab c', 'abc.mrap'])(
    'rejects %s',
    (name) => {
      expect(() => validateBucketName(name)).toThrow(InvalidBucketNameError);
    },
  );
});

describe('buckets', () => {
  test('create, head, list, duplicate, delete only when empty', async () => {
    await ok(createBucket('photos'));
    await fails(createBucket('photos'), BucketAlreadyExistsError);
    const other = await apply(createBucket('photos', 'bob'));
    expect(!other.ok && (other.error as BucketAlreadyExistsError).s3Code).toBe('BucketAlreadyExists');
    await ok(createBucket('logs'));
    expect((await cat.machine.listBuckets()).map((b) => b.name)).toEqual(['logs', 'photos']);
    await ok(putInline('photos', 'cat.jpg'));
    await fails({ type: 'deleteBucket', bucket: 'photos' }, BucketNotEmptyError);
    await ok({ type: 'deleteObject', bucket: 'photos', key: 'cat.jpg', deletedAtMs: 3 });
    await ok({ type: 'deleteBucket', bucket: 'photos' });
    await expect(cat.machine.getBucket('photos')).rejects.toBeInstanceOf(NoSuchBucketError);
    await fails({ type: 'deleteBucket', bucket: 'photos' }, NoSuchBucketError);
  });

  test('a bucket with a multipart upload in progress is not empty', async () => {
    await ok(createBucket('b1b'));
    await ok({ type: 'createUpload', bucket: 'b1b', key: 'k', uploadId: 'u1', initiatedAtMs: 1, contentType: '', systemMetadata: {}, userMetadata: {}, storageClass: 'STANDARD', owner: 'alice' });
    await fails({ type: 'deleteBucket', bucket: 'b1b' }, BucketNotEmptyError);
  });
});

describe('objects and writes', () => {
  beforeEach(async () => {
    for (const command of registerNodes()) await ok(command);
    await ok(createBucket('data'));
  });

  test('begin -> commit makes the version visible with its stripe; the write record goes away', async () => {
    await ok({ type: 'beginWrite', bucket: 'data', key: 'a/b.txt', writeId: 'w1', stripe: stripe('w1'), startedAtMs: 5 });
    await expect(cat.machine.getObject('data', 'a/b.txt')).rejects.toBeInstanceOf(NoSuchKeyError);
    await ok({ ...putInline('data', 'a/b.txt'), writeId: 'w1', inlineData: undefined, sizeBytes: 100, stripe: stripe('w1') });
    const object = await cat.machine.getObject('data', 'a/b.txt');
    expect(object.layout).toEqual({ kind: 'stripe', stripe: stripe('w1') });
    await expect(cat.machine.getWrite('w1')).rejects.toBeInstanceOf(NoSuchWriteError);
    expect(await cat.machine.listQueue(10)).toEqual([]);
  });

  test('abort queues the stripe for garbage collection; commit after abort fails', async () => {
    await ok({ type: 'beginWrite', bucket: 'data', key: 'k', writeId: 'w2', stripe: stripe('w2'), startedAtMs: 5 });
    await ok({ type: 'abortWrite', writeId: 'w2', reason: 'client went away', abortedAtMs: 6 });
    const queue = await cat.machine.listQueue(10);
    expect(queue.map((item) => [item.kind, item.stripe.stripeId])).toEqual([['gcStripe', 'w2']]);
    await fails({ ...putInline('data', 'k'), writeId: 'w2' }, NoSuchWriteError);
    await ok({ type: 'ackQueueItem', itemId: queue[0]?.itemId ?? '' });
    expect(await cat.machine.listQueue(10)).toEqual([]);
  });

  test('overwrite and delete queue the old stripe', async () => {
    await ok({ ...putInline('data', 'k'), inlineData: undefined, sizeBytes: 10, stripe: stripe('s-old') });
    await ok(putInline('data', 'k', 'new', 'v2'));
    expect((await cat.machine.getObject('data', 'k')).layout).toEqual({ kind: 'inline', data: Buffer.from('new') });
    expect((await cat.machine.listQueue(10)).map((item) => item.stripe.stripeId)).toEqual(['s-old']);
    await ok({ type: 'deleteObject', bucket: 'data', key: 'k', deletedAtMs: 9 });
    await expect(cat.machine.getObject('data', 'k')).rejects.toBeInstanceOf(NoSuchKeyError);
    expect(await ok({ type: 'deleteObject', bucket: 'data', key: 'k', deletedAtMs: 9 })).toEqual({ deleted: false, deleteMarker: false, versionId: '' });
  });

  test('updateObjectMetadata changes only the current version\'s system metadata, and refuses what does not exist', async () => {
    await ok({ ...putInline('data', 'k'), systemMetadata: { 'cache-control': 'no-cache', 'x-old': '1' } });
    const before = await cat.machine.getObject('data', 'k');
    const update = (fields: Partial<Extract<Command, { type: 'updateObjectMetadata' }>>): Command => ({
      type: 'updateObjectMetadata', bucket: 'data', key: 'k', versionId: undefined, setSystemMetadata: {}, removeSystemMetadata: [], ...fields,
    });
    await ok(update({ setSystemMetadata: { 'x-tags': '[["a","b"]]' }, removeSystemMetadata: ['x-old'] }));
    const after = await cat.machine.getObject('data', 'k');
    expect(after.systemMetadata).toEqual({ 'cache-control': 'no-cache', 'x-tags': '[["a","b"]]' });
    expect({ ...after, systemMetadata: before.systemMetadata }).toEqual(before);
    await ok(update({ versionId: before.versionId, removeSystemMetadata: ['x-tags'] }));
    expect((await cat.machine.getObject('data', 'k')).systemMetadata).toEqual({ 'cache-control': 'no-cache' });
    await fails(update({ versionId: 'other-version' }), InvalidArgumentError); // not an id Tessera makes
    await fails(update({ versionId: '00000000000000ffabc' }), NoSuchVersionError);
    await fails(update({ key: 'missing' }), NoSuchKeyError);
    await fails(update({ bucket: 'nope' }), NoSuchBucketError);
    // The merged map is held to the same limit as a PUT's.
    const half = 'v'.repeat(systemMetadataBytesMax / 2);
    await ok(update({ setSystemMetadata: { 'x-a': half } }));
    await fails(update({ setSystemMetadata: { 'x-b': half } }), InvalidArgumentError);
    expect(Object.keys((await cat.machine.getObject('data', 'k')).systemMetadata).sort()).toEqual(['cache-control', 'x-a']);
  });

  test('setBucketTags replaces the tag set in order, an empty list removes it; the bucket is otherwise unchanged', async () => {
    const before = await cat.machine.getBucket('data');
    expect(before.tags ?? []).toEqual([]);
    const tags = [{ key: 'team', value: 'storage' }, { key: 'cost-centre', value: '' }, { key: 'ключ', value: 'значение' }];
    await ok({ type: 'setBucketTags', bucket: 'data', tags });
    const after = await cat.machine.getBucket('data');
    expect(after.tags).toEqual(tags);
    expect({ ...after, tags: undefined }).toEqual({ ...before, tags: undefined });
    await ok({ type: 'setBucketTags', bucket: 'data', tags: [{ key: 'only', value: 'one' }] });
    expect((await cat.machine.getBucket('data')).tags).toEqual([{ key: 'only', value: 'one' }]);
    await ok({ type: 'setBucketTags', bucket: 'data', tags: [] });
    expect((await cat.machine.getBucket('data')).tags).toEqual([]);
    await fails({ type: 'setBucketTags', bucket: 'nope', tags: [] }, NoSuchBucketError);
    await fails({ type: 'setBucketTags', bucket: 'data', tags: [{ key: 'a', value: '1' }, { key: 'a', value: '2' }] }, InvalidArgumentError);
    await fails({ type: 'setBucketTags', bucket: 'data', tags: [{ key: '', value: '1' }] }, InvalidArgumentError);
    await fails({ type: 'setBucketTags', bucket: 'data', tags: Array.from({ length: 51 }, (_, i) => ({ key: `k${i}`, value: '' })) }, InvalidArgumentError);
    expect((await cat.machine.getBucket('data')).tags).toEqual([]);
  });

  test('setBucketCors replaces the rules in order, an empty list removes them; structural limits refused', async () => {
    const before = await cat.machine.getBucket('data');
    const rules = [
      { id: 'app', allowedOrigins: ['https://a.example'], allowedMethods: ['GET', 'PUT'], allowedHeaders: ['*'], exposeHeaders: ['ETag'], maxAgeSeconds: 0 },
      { allowedOrigins: ['*'], allowedMethods: ['HEAD'], allowedHeaders: [], exposeHeaders: [] },
    ];
    await ok({ type: 'setBucketCors', bucket: 'data', rules });
    expect((await cat.machine.getBucket('data')).corsRules).toEqual(rules);
    await ok({ type: 'setBucketCors', bucket: 'data', rules: [] });
    expect(await cat.machine.getBucket('data')).toEqual(before);
    const rule = rules[1]!;
    await fails({ type: 'setBucketCors', bucket: 'nope', rules }, NoSuchBucketError);
    await fails({ type: 'setBucketCors', bucket: 'data', rules: [{ ...rule, allowedMethods: ['PATCH'] }] }, InvalidArgumentError);
    await fails({ type: 'setBucketCors', bucket: 'data', rules: [{ ...rule, allowedOrigins: [] }] }, InvalidArgumentError);
    await fails({ type: 'setBucketCors', bucket: 'data', rules: [{ ...rule, maxAgeSeconds: -1 }] }, InvalidArgumentError);
    await fails({ type: 'setBucketCors', bucket: 'data', rules: Array.from({ length: 101 }, () => rule) }, InvalidArgumentError);
    await fails({ type: 'setBucketCors', bucket: 'data', rules: [{ ...rule, allowedHeaders: ['h'.repeat(70_000)] }] }, InvalidArgumentError);
    expect(await cat.machine.getBucket('data')).toEqual(before);
  });

  test('setBucketPolicy stores the document verbatim, an empty one removes it; oversized documents refused', async () => {
    const before = await cat.machine.getBucket('data');
    const policy = '{ "Version": "2012-10-17", "Statement": [] }';
    await ok({ type: 'setBucketPolicy', bucket: 'data', policy });
    expect((await cat.machine.getBucket('data')).policy).toBe(policy);
    await ok({ type: 'setBucketPolicy', bucket: 'data', policy: '' });
    expect(await cat.machine.getBucket('data')).toEqual(before);
    await fails({ type: 'setBucketPolicy', bucket: 'nope', policy }, NoSuchBucketError);
    await fails({ type: 'setBucketPolicy', bucket: 'data', policy: 'x'.repeat(20 * 1024 + 1) }, InvalidArgumentError);
    expect(await cat.machine.getBucket('data')).toEqual(before);
  });

  test('setBucketPublicAccessBlock stores the four settings, none removes them; anything but four booleans refused', async () => {
    const before = await cat.machine.getBucket('data');
    const configuration = { blockPublicAcls: true, ignorePublicAcls: false, blockPublicPolicy: true, restrictPublicBuckets: false };
    await ok({ type: 'setBucketPublicAccessBlock', bucket: 'data', configuration });
    expect((await cat.machine.getBucket('data')).publicAccessBlock).toEqual(configuration);
    await ok({ type: 'setBucketPublicAccessBlock', bucket: 'data' });
    expect(await cat.machine.getBucket('data')).toEqual(before);
    await fails({ type: 'setBucketPublicAccessBlock', bucket: 'nope', configuration }, NoSuchBucketError);
    await fails({ type: 'setBucketPublicAccessBlock', bucket: 'data', configuration: { ...configuration, blockPublicAcls: 'yes' as unknown as boolean } }, InvalidArgumentError);
    await fails({ type: 'setBucketPublicAccessBlock', bucket: 'data', configuration: { ...configuration, extra: true } as typeof configuration }, InvalidArgumentError);
    expect(await cat.machine.getBucket('data')).toEqual(before);
  });

  test('setBucketOwnershipControls: BucketOwnerEnforced only without grants, and no grants while it holds', async () => {
    const before = await cat.machine.getBucket('data');
    await ok({ type: 'setBucketOwnershipControls', bucket: 'data', objectOwnership: 'BucketOwnerPreferred' });
    expect((await cat.machine.getBucket('data')).objectOwnership).toBe('BucketOwnerPreferred');
    await ok({ type: 'setBucketOwnershipControls', bucket: 'data', objectOwnership: 'BucketOwnerEnforced' });
    await ok({ type: 'createAccessKey', accessKeyId: 'TKOTHER', secretAccessKey: 's'.repeat(40), name: 'other', createdAtMs: 1, canCreateBuckets: false });
    await fails({ type: 'setBucketGrant', bucket: 'data', accessKeyId: 'TKOTHER', read: true, write: false }, InvalidArgumentError);
    await fails({ type: 'replaceBucketGrants', bucket: 'data', grants: [{ accessKeyId: 'TKOTHER', read: true, write: false }] }, InvalidArgumentError);
    await ok({ type: 'replaceBucketGrants', bucket: 'data', grants: [] });
    await ok({ type: 'setBucketOwnershipControls', bucket: 'data', objectOwnership: '' });
    expect(await cat.machine.getBucket('data')).toEqual(before);
    await ok({ type: 'setBucketGrant', bucket: 'data', accessKeyId: 'TKOTHER', read: true, write: false });
    await fails({ type: 'setBucketOwnershipControls', bucket: 'data', objectOwnership: 'BucketOwnerEnforced' }, InvalidArgumentError);
    await fails({ type: 'setBucketOwnershipControls', bucket: 'data', objectOwnership: 'Writer' as 'BucketOwnerPreferred' }, InvalidArgumentError);
  });

  test('typed refusals: key too long, unknown bucket, shards not placed, unknown node', async () => {
    await fails(putInline('data', 'k'.repeat(1025)), KeyTooLongError);
    await ok(putInline('data', 'é'.repeat(512))); // 1024 bytes exactly
    await fails(putInline('nope', 'k'), NoSuchBucketError);
    await fails({ ...putInline('data', 'k'), inlineData: undefined, sizeBytes: 1, stripe: stripe('s', ['sn-1', 'sn-2']) }, ShardsNotPlacedError);
    await fails({ ...putInline('data', 'k'), inlineData: undefined, sizeBytes: 1, stripe: stripe('s', ['sn-1', 'sn-2', 'sn-9']) }, ShardsNotPlacedError);
    await fails({ ...putInline('data', 'k'), inlineData: undefined, sizeBytes: 1, stripe: stripe('s', ['sn-1', '', 'sn-3']) }, ShardsNotPlacedError);
    await fails({ ...putInline('data', 'k'), inlineData: Buffer.from('x'), stripe: stripe('s') }, InvalidArgumentError);
  });

  test('property: arbitrary (often invalid) commands never change state when refused', async () => {
    await ok(putInline('data', 'keep'));
    // Everything but the applied index (table byte 0x7f), which moves on every entry.
    const snapshot = async (): Promise<string> => JSON.stringify((await cat.db.iterator().all()).filter(([key]) => key[0] !== 0x7f));
    const junk = fc.oneof(
      fc.record({ type: fc.constantFrom('createBucket', 'deleteBucket', 'commitVersion', 'registerPart', 'completeUpload', 'bogus'), bucket: fc.string(), key: fc.string(), owner: fc.string(), createdAtMs: fc.integer() }),
      fc.record({ type: fc.constant('completeUpload'), bucket: fc.constant('data'), key: fc.constant('k'), uploadId: fc.string(), versionId: fc.string(), parts: fc.array(fc.record({ partNumber: fc.integer(), etag: fc.string() })), completedAtMs: fc.nat() }),
    );
    await fc.assert(
      fc.asyncProperty(junk, async (command) => {
        const before = await snapshot();
        const result = await cat.machine.apply(cat.machine.appliedIndex + 1, command as unknown as Command);
        const after = await snapshot();
        if (!result.ok) expect(after).toEqual(before);
      }),
      { numRuns: 150 },
    );
    expect((await cat.machine.getObject('data', 'keep')).layout.kind).toBe('inline');
  });
});

describe('multipart', () => {
  const upload = (uploadId: string): Command => ({
    type: 'createUpload', bucket: 'mpu', key: 'big.bin', uploadId, initiatedAtMs: 1, contentType: 'application/octet-stream',
    systemMetadata: {}, userMetadata: { purpose: 'test' }, storageClass: 'STANDARD', owner: 'alice',
  });
  const part = (uploadId: string, partNumber: number, sizeBytes: number, etag = md5a): Command => ({
    type: 'registerPart', bucket: 'mpu', key: 'big.bin', uploadId, partNumber, sizeBytes, etag, checksums: {},
    stripe: stripe(`${uploadId}-p${partNumber}-${etag.slice(0, 4)}`), inlineData: undefined, createdAtMs: 2,
  });
  const complete = (uploadId: string, parts: { partNumber: number; etag: string }[]): Command => ({
    type: 'completeUpload', bucket: 'mpu', key: 'big.bin', uploadId, versionId: `v-${uploadId}`, parts, completedAtMs: 3,
  });

  beforeEach(async () => {
    for (const command of registerNodes()) await ok(command);
    await ok(createBucket('mpu'));
  });

  test('complete validates order, ETags and sizes, then publishes atomically', async () => {
    await ok(upload('u1'));
    await ok(part('u1', 1, 100));
    await ok(part('u1', 2, 5, md5b));
    await ok(part('u1', 3, 100));
    await fails(complete('u1', [{ partNumber: 2, etag: md5b }, { partNumber: 1, etag: md5a }]), InvalidPartOrderError);
    await fails(complete('u1', [{ partNumber: 1, etag: md5a }, { partNumber: 1, etag: md5a }]), InvalidPartOrderError);
    await fails(complete('u1', [{ partNumber: 1, etag: md5b }]), InvalidPartError);
    await fails(complete('u1', [{ partNumber: 4, etag: md5a }]), InvalidPartError);
    await fails(complete('u1', [{ partNumber: 2, etag: md5b }, { partNumber: 3, etag: md5a }]), EntityTooSmallError);
    expect((await cat.machine.partsOf('u1')).map((p) => p.partNumber)).toEqual([1, 2, 3]);
    const object = (await ok(complete('u1', [{ partNumber: 1, etag: md5a }, { partNumber: 2, etag: md5b }]))) as { sizeBytes: number; etag: string };
    expect(object.sizeBytes).toBe(105);
    expect(object.etag).toBe(multipartEtag([md5a, md5b]));
    expect(object.etag).toMatch(/-2$/);
    const stored = await cat.machine.getObject('mpu', 'big.bin');
    expect(stored.userMetadata).toEqual({ purpose: 'test' });
    expect(stored.layout.kind === 'multipart' && stored.layout.parts.map((p) => p.partNumber)).toEqual([1, 2]);
    // Part 3 was uploaded but not used: its shards are garbage. The upload is gone.
    expect((await cat.machine.listQueue(10)).map((item) => item.stripe.stripeId)).toEqual(['u1-p3-0123']);
    await fails(complete('u1', [{ partNumber: 1, etag: md5a }]), NoSuchUploadError);
    expect(await cat.machine.partsOf('u1')).toEqual([]);
  });

  test('re-uploading a part replaces it; abort drops every part', async () => {
    await ok(upload('u2'));
    await ok(part('u2', 1, 100));
    await ok(part('u2', 1, 100, md5b));
    expect((await cat.machine.partsOf('u2')).map((p) => p.etag)).toEqual([md5b]);
    await ok({ type: 'abortUpload', bucket: 'mpu', key: 'big.bin', uploadId: 'u2', abortedAtMs: 4 });
    expect(await cat.machine.partsOf('u2')).toEqual([]);
    expect((await cat.machine.listQueue(10)).map((item) => item.stripe.stripeId)).toEqual(['u2-p1-0123', 'u2-p1-fedc']);
    await fails(part('u2', 2, 1), NoSuchUploadError);
    await fails({ type: 'abortUpload', bucket: 'mpu', key: 'big.bin', uploadId: 'u2', abortedAtMs: 4 }, NoSuchUploadError);
  });
});

describe('storage nodes', () => {
  test('register, heartbeat, suspect/down, revived by a heartbeat, draining sticks', async () => {
    for (const command of registerNodes(['sn-a'])) await ok(command);
    await ok({ type: 'heartbeat', nodeId: 'sn-a', capacityBytes: 100, freeBytes: 40, heartbeatAtMs: 5000 });
    await ok({ type: 'setNodeState', nodeId: 'sn-a', state: 'suspect', changedAtMs: 20000, reason: 'no heartbeat' });
    expect((await cat.machine.getNode('sn-a')).state).toBe('suspect');
    await ok({ type: 'heartbeat', nodeId: 'sn-a', capacityBytes: 100, freeBytes: 40, heartbeatAtMs: 21000 });
    const revived = await cat.machine.getNode('sn-a');
    expect([revived.state, revived.freeBytes, revived.lastHeartbeatAtMs]).toEqual(['up', 40, 21000]);
    await ok({ type: 'setNodeState', nodeId: 'sn-a', state: 'draining', changedAtMs: 22000, reason: 'operator' });
    await ok({ type: 'heartbeat', nodeId: 'sn-a', capacityBytes: 100, freeBytes: 40, heartbeatAtMs: 23000 });
    expect((await cat.machine.getNode('sn-a')).state).toBe('draining');
  });
});

describe('request-id dedup', () => {
  const stamped = (command: Command, requestId: string): StampedCommand => ({ ...command, request: { requestId, requestedAtMs: 5_000 } });

  test('a retried request returns the first result and applies once; expiry forgets it', async () => {
    const first = await apply(stamped(createBucket('dedup'), 'req-1'));
    const retry = await apply(stamped(createBucket('dedup'), 'req-1'));
    expect(retry).toEqual(first);
    expect(retry.ok).toBe(true);
    for (const command of registerNodes()) await ok(command);
    const put = { ...putInline('dedup', 'k', 'one', 'v-1'), inlineData: undefined, sizeBytes: 3, stripe: stripe('s-1') };
    await ok(stamped(put, 'req-2'));
    await ok(stamped({ ...put, versionId: 'v-2', stripe: stripe('s-2') }, 'req-2')); // same request id: not a new version
    expect((await cat.machine.getObject('dedup', 'k')).layout).toEqual({ kind: 'stripe', stripe: stripe('s-1') });
    expect(await cat.machine.listQueue(10)).toEqual([]); // nothing was overwritten
    expect(await ok({ type: 'expireRequests', beforeMs: 5_001 })).toEqual({ expiredCount: 2 });
    await fails(stamped(createBucket('dedup'), 'req-1'), BucketAlreadyExistsError);
  });

  test('a write answers (and remembers) without the inline bytes; reads return them', async () => {
    await ok(createBucket('answers'));
    const body = 'y'.repeat(60_000);
    const put = stamped(putInline('answers', 'small', body, 'v-1'), 'req-inline');
    const first = await apply(put);
    const retry = await apply(put);
    expect(retry).toEqual(first);
    expect(first).toMatchObject({ ok: true, value: { key: 'small', sizeBytes: 60_000, layout: { kind: 'inline', data: Buffer.alloc(0) } } });
    const remembered = await cat.machine.db.get(keys.requestByIdKey('req-inline'));
    expect(remembered?.length).toBeLessThan(2_000);
    expect((await cat.machine.getObject('answers', 'small')).layout).toEqual({ kind: 'inline', data: Buffer.from(body) });
  });

  test('a multipart upload with an inline part: registerPart and completeUpload answer without its bytes; reads have them', async () => {
    for (const command of registerNodes()) await ok(command);
    await ok(createBucket('answers-mpu'));
    const location = { bucket: 'answers-mpu', key: 'big', uploadId: 'u-inline' };
    await ok({ type: 'createUpload', ...location, initiatedAtMs: 1, contentType: '', systemMetadata: {}, userMetadata: {}, storageClass: 'STANDARD', owner: 'alice' });
    await ok({ type: 'registerPart', ...location, partNumber: 1, sizeBytes: 100, etag: md5a, checksums: {}, stripe: stripe('s-part-1'), inlineData: undefined, createdAtMs: 2 });
    const tail = Buffer.from('tail bytes');
    const registered = await ok(stamped({ type: 'registerPart', ...location, partNumber: 2, sizeBytes: tail.length, etag: md5b, checksums: {}, stripe: undefined, inlineData: tail, createdAtMs: 2 }, 'req-part'));
    expect(registered).toMatchObject({ partNumber: 2, sizeBytes: tail.length, inlineData: Buffer.alloc(0) });
    const completed = await ok(stamped({ type: 'completeUpload', ...location, versionId: 'v-mpu', parts: [{ partNumber: 1, etag: md5a }, { partNumber: 2, etag: md5b }], completedAtMs: 3 }, 'req-complete'));
    const { layout } = completed as ObjectVersionRecord;
    expect(layout.kind === 'multipart' ? layout.parts.map((part) => [part.partNumber, part.inlineData]) : layout.kind).toEqual([[1, undefined], [2, Buffer.alloc(0)]]);
    const stored = await cat.machine.getObject('answers-mpu', 'big');
    expect(stored.layout.kind === 'multipart' ? stored.layout.parts[1]?.inlineData : undefined).toEqual(tail);
  });

  test('a refused request is not remembered (the retry runs again)', async () => {
    await fails(stamped(createBucket('Bad_Name'), 'req-3'), InvalidBucketNameError);
    await fails(stamped({ type: 'deleteBucket', bucket: 'later' }, 'req-4'), NoSuchBucketError);
    await ok(createBucket('later'));
    await ok(stamped({ type: 'deleteBucket', bucket: 'later' }, 'req-4'));
  });
});

test('applied index survives reopen and apply order is asserted', async () => {
  await ok(createBucket('persist'));
  const applied = cat.machine.appliedIndex;
  await expect(cat.machine.apply(applied + 2, createBucket('skip'))).rejects.toThrow(/log order/);
  const reopened = await CatalogueStateMachine.open(cat.db);
  expect(reopened.appliedIndex).toBe(applied);
});

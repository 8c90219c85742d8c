// Goal: S3 versioning semantics in the catalogue: versions kept, delete markers, the null
// version under Suspended, deletes of one version (and what becomes current), listing every
// version with correct IsLatest and paging, garbage and the node index, and the healer finding
// a noncurrent version's stripe.
// Method: a real CatalogueStateMachine over LevelDB in a temp dir; commands applied as the Raft
// host would, some in one applyEntries batch so apply must see its own pending writes.
import { BucketNotEmptyError, InvalidArgumentError, NoSuchKeyError, NoSuchVersionError, PreconditionFailedError, VersionIsDeleteMarkerError } from '@tessera/rpc';
import type { DeleteObjectResult } from '../src/catalogue-state-machine';
import { validateCommand } from '../src/commands';
import type { Command } from '../src/commands';
import type { ListVersionsPage } from '../src/list-versions';
import { listObjectVersions } from '../src/list-versions';
import type { ListedObjectVersion, ObjectVersionRecord } from '../src/model';
import type { TempCatalogue } from './helpers';
import { applyOk, applyRefused, openTempCatalogue, putInline, registerNodes, stripe } from './helpers';

let cat: TempCatalogue;
beforeEach(async () => {
  cat = await openTempCatalogue();
  await applyOk(cat, { type: 'createBucket', bucket: 'data', owner: 'alice', createdAtMs: 1 });
  for (const command of registerNodes()) await applyOk(cat, command);
});
afterEach(async () => {
  await cat.close();
});

const ok = (command: Command): Promise<unknown> => applyOk(cat, command);
const put = async (key: string, body: string): Promise<ObjectVersionRecord> => (await ok(putInline('data', key, body, 'abcdef0123456789'))) as ObjectVersionRecord;
const putStriped = async (key: string, stripeId: string): Promise<ObjectVersionRecord> =>
  (await ok({ ...putInline('data', key, '', 'abcdef0123456789'), inlineData: undefined, sizeBytes: 10, stripe: stripe(stripeId) })) as ObjectVersionRecord;
const del = async (key: string, versionId?: string): Promise<DeleteObjectResult> =>
  (await ok({ type: 'deleteObject', bucket: 'data', key, deletedAtMs: 5, markerVersionId: 'feedfacecafe', ...(versionId === undefined ? {} : { versionId }) })) as DeleteObjectResult;
const versioning = (status: 'Enabled' | 'Suspended'): Promise<unknown> => ok({ type: 'setBucketVersioning', bucket: 'data', status });
const body = (record: ObjectVersionRecord): string => (record.layout.kind === 'inline' ? record.layout.data.toString() : `stripe:${record.layout.kind === 'stripe' ? record.layout.stripe.stripeId : '?'}`);
const list = (fields: Partial<Parameters<typeof listObjectVersions>[1]> = {}): Promise<ListVersionsPage> =>
  cat.machine.getBucket('data').then((bucket) => listObjectVersions(cat.db, { bucket, prefix: '', delimiter: '', keyMarker: '', versionIdMarker: '', maxKeys: 1000, ...fields }));
/** Each listed version with its body, read back by its version id (listings carry no layout). */
const summary = (page: ListVersionsPage): Promise<string[]> =>
  Promise.all(page.versions.map(async ({ version, isLatest }) =>
    `${version.key} ${'deleteMarker' in version ? 'marker' : body(await cat.machine.getObject('data', version.key, version.versionId))}${isLatest ? ' latest' : ''}`));
/** The bucket counters agree with what ListObjectVersions shows (and survive a recount). */
async function expectCountersMatchListing(): Promise<void> {
  const page = await list();
  const objects = page.versions.filter((v) => !('deleteMarker' in v.version)) as { version: ListedObjectVersion; isLatest: boolean }[];
  const current = objects.filter((v) => v.isLatest);
  const noncurrent = objects.filter((v) => !v.isLatest);
  const expected = {
    objectCount: current.length, objectBytes: current.reduce((sum, v) => sum + v.version.sizeBytes, 0),
    noncurrentVersionCount: noncurrent.length, noncurrentVersionBytes: noncurrent.reduce((sum, v) => sum + v.version.sizeBytes, 0),
    deleteMarkerCount: page.versions.length - objects.length,
  };
  const stats = (await cat.machine.catalogueStats()).buckets.find((b) => b.bucket === 'data');
  expect({ ...expected, noncurrentVersionCount: stats?.noncurrentVersionCount ?? 0 }).toEqual({
    objectCount: stats?.objectCount, objectBytes: stats?.objectBytes, noncurrentVersionCount: stats?.noncurrentVersionCount ?? 0,
    noncurrentVersionBytes: stats?.noncurrentVersionBytes ?? 0, deleteMarkerCount: stats?.deleteMarkerCount ?? 0,
  });
}

const gcStripeIds = async (): Promise<string[]> => (await cat.machine.listQueue(100)).filter((item) => item.kind === 'gcStripe').map((item) => item.stripe.stripeId);

test('a bucket never versioned reports no version ids and lists each object once as "null"', async () => {
  const record = await put('k', 'one');
  expect(record.versionId).toBe('');
  expect((await cat.machine.getObject('data', 'k', 'null')).versionId).toBe('');
  const page = await list();
  expect(page.versions.map(({ version, isLatest }) => [version.key, version.versionId, isLatest])).toEqual([['k', 'null', true]]);
});

test('Enabled: every PUT is a version; GET by id; a delete adds a marker; deleting the marker brings the object back', async () => {
  await put('k', 'unversioned');
  await versioning('Enabled');
  const v1 = await put('k', 'one');
  const v2 = await put('k', 'two');
  expect(v1.versionId).toMatch(/^[0-9a-f]{16}[A-Za-z0-9]+$/);
  expect(v2.versionId).not.toBe(v1.versionId);
  expect(body(await cat.machine.getObject('data', 'k'))).toBe('two');
  expect(body(await cat.machine.getObject('data', 'k', v1.versionId))).toBe('one');
  expect(body(await cat.machine.getObject('data', 'k', 'null'))).toBe('unversioned');
  expect((await cat.machine.getObject('data', 'k', 'null')).versionId).toBe('null');
  expect(await summary(await list())).toEqual(['k two latest', 'k one', 'k unversioned']);

  const marker = await del('k');
  expect(marker.deleteMarker).toBe(true);
  const missing = await cat.machine.getObject('data', 'k').catch((error: unknown) => error);
  expect(missing).toBeInstanceOf(NoSuchKeyError);
  expect((missing as NoSuchKeyError).deleteMarkerVersionId).toBe(marker.versionId);
  await expect(cat.machine.getObject('data', 'k', marker.versionId)).rejects.toBeInstanceOf(VersionIsDeleteMarkerError);
  expect(await summary(await list())).toEqual(['k marker latest', 'k two', 'k one', 'k unversioned']);
  expect((await cat.machine.catalogueStats()).objectCount).toBe(0);
  await expectCountersMatchListing();
  await expect(ok({ type: 'deleteBucket', bucket: 'data' })).rejects.toThrow(BucketNotEmptyError);

  expect(await del('k', marker.versionId)).toEqual({ deleted: true, deleteMarker: true, versionId: marker.versionId });
  expect(body(await cat.machine.getObject('data', 'k'))).toBe('two');
  expect(await summary(await list())).toEqual(['k two latest', 'k one', 'k unversioned']);
  expect((await cat.machine.catalogueStats()).objectCount).toBe(1);  await expectCountersMatchListing();
});

test('deleting the current version by id promotes the newest older object; data of deleted versions becomes garbage', async () => {
  await versioning('Enabled');
  const v1 = await putStriped('k', 's-1');
  const v2 = await putStriped('k', 's-2');
  expect(await gcStripeIds()).toEqual([]); // nothing overwritten: the old version is kept
  await del('k', v2.versionId);
  expect(body(await cat.machine.getObject('data', 'k'))).toBe('stripe:s-1');
  expect(await gcStripeIds()).toEqual(['s-2']);
  expect((await cat.machine.listNodeShards('sn-1', '', 0, 10)).map((entry) => entry.stripeId)).toEqual(['s-1']);
  await expectCountersMatchListing();
  await del('k', v1.versionId);
  await expect(cat.machine.getObject('data', 'k')).rejects.toBeInstanceOf(NoSuchKeyError);
  expect(await gcStripeIds()).toEqual(['s-2', 's-1']);
  expect(await cat.machine.listNodeShards('sn-1', '', 0, 10)).toEqual([]);
  expect((await list()).versions).toEqual([]);
  await ok({ type: 'deleteBucket', bucket: 'data' });
});

test('If-Match on a delete (S3 conditional deletes) is checked at apply against the version it removes; a refusal changes nothing', async () => {
  const conditional = (key: string, ifMatchEtag: string, versionId?: string): Command =>
    ({ type: 'deleteObject', bucket: 'data', key, deletedAtMs: 5, markerVersionId: 'feedfacecafe', ifMatchEtag, ...(versionId === undefined ? {} : { versionId }) });
  const putTagged = async (body: string, etag: string): Promise<ObjectVersionRecord> => (await ok({ ...putInline('data', 'k', body, 'abcdef0123456789'), etag })) as ObjectVersionRecord;
  const v1 = await putTagged('one', '11111111111111111111111111111111');
  expect(await applyRefused(cat, conditional('k', '0123456789abcdef0123456789abcdef'))).toBeInstanceOf(PreconditionFailedError);
  expect(await applyRefused(cat, conditional('missing', '*'))).toBeInstanceOf(NoSuchKeyError);
  expect(await summary(await list())).toEqual(['k one latest']);
  await ok(conditional('k', v1.etag));
  expect((await list()).versions).toEqual([]);

  await versioning('Enabled');
  const older = await putTagged('two', '22222222222222222222222222222222');
  const newer = await putTagged('three', '33333333333333333333333333333333');
  expect(await applyRefused(cat, conditional('k', older.etag))).toBeInstanceOf(PreconditionFailedError);
  expect(await applyRefused(cat, conditional('k', newer.etag, older.versionId))).toBeInstanceOf(PreconditionFailedError);
  await ok(conditional('k', '*'));
  // The latest is now a delete marker, which has no ETag: refused, by key or by the marker's id
  // (NoSuchKeyError is for a key without any version).
  expect(await applyRefused(cat, conditional('k', '*'))).toBeInstanceOf(PreconditionFailedError);
  const marker = (await list()).versions.find(({ version }) => 'deleteMarker' in version);
  expect(await applyRefused(cat, conditional('k', '*', marker?.version.versionId))).toBeInstanceOf(PreconditionFailedError);
  expect(await applyRefused(cat, conditional('never-written', '*'))).toBeInstanceOf(NoSuchKeyError);
  // A list of ETags matches any of them.
  expect(await applyRefused(cat, conditional('k', `${newer.etag}, 44444444444444444444444444444444`, older.versionId))).toBeInstanceOf(PreconditionFailedError);
  await ok(conditional('k', `44444444444444444444444444444444,${older.etag}`, older.versionId));
  expect(await summary(await list())).toEqual(['k marker latest', 'k three']);
  expect(() => validateCommand(conditional('k', 'x'.repeat(5000)))).toThrow(InvalidArgumentError);
});

test('a noncurrent version id that does not exist is NoSuchVersion; a malformed one is InvalidArgument; deleting either changes nothing', async () => {
  await versioning('Enabled');
  const v1 = await put('k', 'one');
  const unknown = `${v1.versionId.slice(0, 15)}0`;
  await expect(cat.machine.getObject('data', 'k', unknown)).rejects.toBeInstanceOf(NoSuchVersionError);
  await expect(cat.machine.getObject('data', 'k', 'not-an-id')).rejects.toBeInstanceOf(InvalidArgumentError);
  expect(await del('k', unknown)).toEqual({ deleted: false, deleteMarker: false, versionId: unknown });
  expect(await applyRefused(cat, { type: 'deleteObject', bucket: 'data', key: 'k', deletedAtMs: 5, versionId: 'bogus' })).toBeInstanceOf(InvalidArgumentError);
  expect(await summary(await list())).toEqual(['k one latest']);
});

test('Suspended: new writes and deletes replace the null version and keep versioned ones', async () => {
  await versioning('Enabled');
  await putStriped('k', 's-v1');
  await versioning('Suspended');
  const nullVersion = await putStriped('k', 's-null-1');
  expect(nullVersion.versionId).toBe('null');
  await putStriped('k', 's-null-2'); // overwrites the null version
  expect(await gcStripeIds()).toEqual(['s-null-1']);
  expect(await summary(await list())).toEqual(['k stripe:s-null-2 latest', 'k stripe:s-v1']);
  const marker = await del('k'); // the null version becomes a null delete marker
  expect(marker).toEqual({ deleted: true, deleteMarker: true, versionId: 'null' });
  expect(await gcStripeIds()).toEqual(['s-null-1', 's-null-2']);
  expect(await summary(await list())).toEqual(['k marker latest', 'k stripe:s-v1']);
  await put('k', 'again'); // replaces the null delete marker
  expect(await summary(await list())).toEqual(['k again latest', 'k stripe:s-v1']);
  await versioning('Enabled');
  await put('k', 'enabled');
  expect(await summary(await list())).toEqual(['k enabled latest', 'k again', 'k stripe:s-v1']);
  expect((await list()).versions.map(({ version }) => version.versionId)[1]).toBe('null');  await expectCountersMatchListing();
});

test('commands in one applyEntries batch see each other\'s version-table writes', async () => {
  await versioning('Suspended');
  const base = cat.machine.appliedIndex;
  const commands: Command[] = [
    { ...putInline('data', 'k', '', 'a1'), inlineData: undefined, sizeBytes: 10, stripe: stripe('s-a') },
    { type: 'deleteObject', bucket: 'data', key: 'k', deletedAtMs: 5 },
    { ...putInline('data', 'k', '', 'a2'), inlineData: undefined, sizeBytes: 10, stripe: stripe('s-b') },
    { type: 'deleteObject', bucket: 'data', key: 'k', deletedAtMs: 6 },
  ];
  const results = await cat.machine.applyEntries(commands.map((command, offset) => ({ index: base + 1 + offset, command })));
  expect(results.every((result) => result?.ok === true)).toBe(true);
  // One null delete marker, nothing else: each write replaced the null version before it.
  expect(await summary(await list())).toEqual(['k marker latest']);
  expect(await gcStripeIds()).toEqual(['s-a', 's-b']);  await expectCountersMatchListing();
});

test('listing: prefixes and delimiters, and paging by key and version id markers through every entry once', async () => {
  await versioning('Enabled');
  for (const key of ['a', 'b/1', 'b/2', 'c']) {
    await put(key, `${key}-1`);
    await put(key, `${key}-2`);
  }
  await del('c');
  expect(await summary(await list({ delimiter: '/' }))).toEqual(['a a-2 latest', 'a a-1', 'c marker latest', 'c c-2', 'c c-1']);
  expect((await list({ delimiter: '/' })).commonPrefixes).toEqual(['b/']);
  expect(await summary(await list({ prefix: 'b/' }))).toEqual(['b/1 b/1-2 latest', 'b/1 b/1-1', 'b/2 b/2-2 latest', 'b/2 b/2-1']);
  const all = await summary(await list());
  for (const pageSize of [1, 2, 3]) {
    const seen: string[] = [];
    let keyMarker = '';
    let versionIdMarker = '';
    for (let pages = 0; pages < 20; pages++) {
      const page = await list({ maxKeys: pageSize, keyMarker, versionIdMarker });
      seen.push(...(await summary(page)));
      if (!page.isTruncated) break;
      keyMarker = page.nextKeyMarker ?? '';
      versionIdMarker = page.nextVersionIdMarker ?? '';
    }
    expect(seen).toEqual(all);
  }
  // Paging with a delimiter: the common prefix counts once, and the key marker skips it.
  const first = await list({ delimiter: '/', maxKeys: 3 });
  expect([...(await summary(first)), ...first.commonPrefixes]).toEqual(['a a-2 latest', 'a a-1', 'b/']);
  const second = await list({ delimiter: '/', maxKeys: 3, keyMarker: first.nextKeyMarker ?? '', versionIdMarker: first.nextVersionIdMarker ?? '' });
  expect(await summary(second)).toEqual(['c marker latest', 'c c-2', 'c c-1']);
  await expectCountersMatchListing();
});

test('the healer\'s lookups find the stripe of a noncurrent version and move its shards', async () => {
  await ok({ type: 'registerNode', nodeId: 'sn-4', az: 'az-0', address: '127.0.0.1:7010', capacityBytes: 1e12, freeBytes: 1e12, registeredAtMs: 1000 });
  await versioning('Enabled');
  const old = await putStriped('k', 's-old');
  await putStriped('k', 's-new');
  const located = await cat.machine.locateStripe(stripe('s-old'));
  expect(located?.stripe.stripeId).toBe('s-old');
  const result = (await ok({
    type: 'replaceShards', owner: { kind: 'object', bucket: 'data', key: 'k' }, stripeId: 's-old',
    changes: [{ shardIndex: 0, fromNodeId: 'sn-1', toNodeId: 'sn-4' }], degradedSpread: undefined, replacedAtMs: 7,
  })) as { replaced: boolean };
  expect(result.replaced).toBe(true);
  const moved = await cat.machine.getObject('data', 'k', old.versionId);
  expect(moved.layout.kind === 'stripe' && moved.layout.stripe.shardNodeIds[0]).toBe('sn-4');
  expect(body(await cat.machine.getObject('data', 'k'))).toBe('stripe:s-new'); // the current version is untouched
  expect((await cat.machine.listNodeShards('sn-4', '', 0, 10)).map((entry) => entry.stripeId)).toEqual(['s-old']);
});

test('tagging a noncurrent version changes only that version', async () => {
  await versioning('Enabled');
  const v1 = await put('k', 'one');
  await put('k', 'two');
  await ok({ type: 'updateObjectMetadata', bucket: 'data', key: 'k', versionId: v1.versionId, setSystemMetadata: { 'x-tags': 'a' }, removeSystemMetadata: [] });
  expect((await cat.machine.getObject('data', 'k', v1.versionId)).systemMetadata).toEqual({ 'x-tags': 'a' });
  expect((await cat.machine.getObject('data', 'k')).systemMetadata).toEqual({});
  const marker = await del('k');
  expect(await applyRefused(cat, { type: 'updateObjectMetadata', bucket: 'data', key: 'k', versionId: marker.versionId, setSystemMetadata: {}, removeSystemMetadata: [] }))
    .toBeInstanceOf(VersionIsDeleteMarkerError);
});

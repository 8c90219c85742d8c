// Goal: S3 conditional writes (If-None-Match: * or ETags, If-Match: * or ETags) are decided inside apply, atomically
// with the commit, and a failed condition leaves exactly what an abandoned write leaves: no
// visible change, the write record gone and its stripe queued for GC (single-part), or the
// upload untouched (multipart). Method: a real CatalogueStateMachine over LevelDB in a temp
// dir; commands go through the Raft wire format into apply, in the order Raft would commit
// them (two gateways racing = two commits in log order).
import { NoSuchKeyError, PreconditionFailedError } from '@tessera/rpc';
import type { Command, StampedCommand } from '../src/commands';
import type { ObjectVersionRecord, WriteCondition } from '../src/model';
import type { TempCatalogue } from './helpers';
import { applyOk, applyRefused, md5a, md5b, openTempCatalogue, putInline, registerNodes, stripe } from './helpers';

let cat: TempCatalogue;
beforeEach(async () => {
  cat = await openTempCatalogue({ partSizeBytesMin: 10 });
  for (const command of registerNodes()) await ok(command);
  await ok({ type: 'createBucket', bucket: 'data', owner: 'alice', createdAtMs: 1 });
});
afterEach(async () => {
  await cat.close();
});

const ok = (command: StampedCommand): Promise<unknown> => applyOk(cat, command);
const refusal = (command: StampedCommand): Promise<Error> => applyRefused(cat, command);

const createOnly: WriteCondition = { ifNoneMatchAny: true, ifMatchEtag: undefined };
const ifMatch = (etag: string): WriteCondition => ({ ifNoneMatchAny: false, ifMatchEtag: etag });

const begin = (writeId: string, key = 'k'): Command => ({ type: 'beginWrite', bucket: 'data', key, writeId, stripe: stripe(writeId), startedAtMs: 5 });

/** The commit of a begun striped write, as the gateway sends it. */
function commitStriped(writeId: string, condition: WriteCondition | undefined, key = 'k', etag = md5a): Command {
  return {
    ...putInline('data', key), writeId, versionId: writeId, etag, inlineData: undefined, sizeBytes: 100, stripe: stripe(writeId),
    ...(condition === undefined ? {} : { condition }),
  };
}

/** Every state key but the applied index (0x7f), which moves with every entry. */
async function stateWithoutMeta(): Promise<string> {
  return JSON.stringify((await cat.db.iterator().all()).filter(([key]) => key[0] !== 0x7f));
}

/** Which write a single-part striped version came from (its stripe id is the write id). */
function stripeIdOf(version: ObjectVersionRecord): string | undefined {
  return version.layout.kind === 'stripe' ? version.layout.stripe.stripeId : undefined;
}

async function nodeIndexStripeIds(): Promise<string[]> {
  const ids = new Set<string>();
  for (const nodeId of ['sn-1', 'sn-2', 'sn-3']) for (const entry of await cat.machine.listNodeShards(nodeId, '', 0, 1000)) ids.add(entry.stripeId);
  return [...ids].sort();
}

describe('If-None-Match: * (create only)', () => {
  test('two writes racing for one key: the first commit in log order wins, the second is released', async () => {
    await ok(begin('w1'));
    await ok(begin('w2'));
    await ok(commitStriped('w1', createOnly));
    const lost = await refusal(commitStriped('w2', createOnly, 'k', md5b));
    expect(lost).toBeInstanceOf(PreconditionFailedError);
    expect((lost as PreconditionFailedError).s3Code).toBe('PreconditionFailed');
    const current = await cat.machine.getObject('data', 'k');
    expect([stripeIdOf(current), current.etag]).toEqual(['w1', md5a]);
    // Released exactly like abortWrite: no write record, its stripe queued for GC, not indexed.
    expect(await cat.machine.listWrites(10)).toEqual([]);
    const queue = await cat.machine.listQueue(10);
    expect(queue.map((item) => [item.kind, item.stripe.stripeId, item.reason])).toEqual([['gcStripe', 'w2', 'write aborted: precondition failed']]);
    expect(await nodeIndexStripeIds()).toEqual(['w1']);
    expect((await cat.machine.catalogueStats()).objectCount).toBe(1);
  });

  test('a create-only commit of a new key succeeds; a refused inline commit changes nothing at all', async () => {
    await ok({ ...putInline('data', 'fresh'), condition: createOnly });
    const before = await stateWithoutMeta();
    expect(await refusal({ ...putInline('data', 'fresh', 'other', 'v2'), condition: createOnly })).toBeInstanceOf(PreconditionFailedError);
    expect(await stateWithoutMeta()).toEqual(before);
  });

  test('a retry of a refused conditional commit (same request id) is refused the same way', async () => {
    await ok(putInline('data', 'k'));
    await ok(begin('w3'));
    const request = { requestId: 'req-cond', requestedAtMs: 10 };
    expect(await refusal({ ...commitStriped('w3', createOnly), request })).toBeInstanceOf(PreconditionFailedError);
    // The write record is gone now; the condition is still decided first, so the answer does not turn into NoSuchWrite.
    expect(await refusal({ ...commitStriped('w3', createOnly), request })).toBeInstanceOf(PreconditionFailedError);
    expect((await cat.machine.listQueue(10)).map((item) => item.stripe.stripeId)).toEqual(['w3']);
  });
});

describe('If-Match', () => {
  test('matching ETag overwrites; a stale ETag is refused and releases the write', async () => {
    await ok(begin('w1'));
    await ok(commitStriped('w1', undefined, 'k', md5a));
    await ok(begin('w2'));
    await ok(commitStriped('w2', ifMatch(md5a), 'k', md5b));
    expect((await cat.machine.getObject('data', 'k')).etag).toBe(md5b);
    await ok(begin('w3'));
    const stale = await refusal(commitStriped('w3', ifMatch(md5a)));
    expect(stale).toBeInstanceOf(PreconditionFailedError);
    expect(stripeIdOf(await cat.machine.getObject('data', 'k'))).toBe('w2');
    expect(await cat.machine.listWrites(10)).toEqual([]);
    // w1 was overwritten by w2 (garbage), w3 was released by the failed condition.
    expect((await cat.machine.listQueue(10)).map((item) => item.stripe.stripeId)).toEqual(['w1', 'w3']);
    expect(await nodeIndexStripeIds()).toEqual(['w2']);
  });

  test('If-Match on a missing key is NoSuchKey (as S3 answers), and the write is released too', async () => {
    await ok(begin('w4', 'absent'));
    expect(await refusal(commitStriped('w4', ifMatch(md5a), 'absent'))).toBeInstanceOf(NoSuchKeyError);
    expect(await cat.machine.listWrites(10)).toEqual([]);
    expect((await cat.machine.listQueue(10)).map((item) => item.stripe.stripeId)).toEqual(['w4']);
  });

  test('If-Match: * needs an object; If-Match lists and If-None-Match ETags as RFC 7232 reads them; a delete marker is no object', async () => {
    await ok(putInline('data', 'k', 'one', 'v1'));
    const current = (await cat.machine.getObject('data', 'k')).etag;
    await ok({ ...putInline('data', 'k', 'two', 'v2'), etag: md5b, condition: ifMatch('*') });
    expect(await refusal({ ...putInline('data', 'absent'), condition: ifMatch('*') })).toBeInstanceOf(NoSuchKeyError);
    await ok({ ...putInline('data', 'k', 'three', 'v3'), etag: md5a, condition: ifMatch(`${md5a}, ${md5b}`) });
    const ifNoneMatch = (etags: string): WriteCondition => ({ ifNoneMatchAny: false, ifMatchEtag: undefined, ifNoneMatchEtags: etags });
    expect(current).toBe(md5a);
    expect(await refusal({ ...putInline('data', 'k', 'four', 'v4'), condition: ifNoneMatch(`${md5b},${md5a}`) })).toBeInstanceOf(PreconditionFailedError);
    await ok({ ...putInline('data', 'k', 'four', 'v4'), etag: md5b, condition: ifNoneMatch(md5b) });
    await ok({ ...putInline('data', 'absent', 'new', 'v5'), condition: ifNoneMatch(md5a) });
    await ok({ type: 'setBucketVersioning', bucket: 'data', status: 'Enabled' });
    await ok({ type: 'deleteObject', bucket: 'data', key: 'k', deletedAtMs: 6, markerVersionId: 'feedfacecafe' });
    expect(await refusal({ ...putInline('data', 'k', 'five', 'v6'), condition: ifMatch('*') })).toBeInstanceOf(NoSuchKeyError);
    await ok({ ...putInline('data', 'k', 'five', 'v6'), condition: createOnly });
  });

  test('an ETag in any shape is compared, not rejected as malformed', async () => {
    await ok(putInline('data', 'k'));
    expect(await refusal({ ...putInline('data', 'k', 'y', 'v2'), condition: ifMatch('not-an-md5') })).toBeInstanceOf(PreconditionFailedError);
  });
});

describe('CompleteMultipartUpload with a condition', () => {
  const createUpload = (uploadId: string): Command => ({
    type: 'createUpload', bucket: 'data', key: 'big', uploadId, initiatedAtMs: 1, contentType: '', systemMetadata: {}, userMetadata: {}, storageClass: 'STANDARD', owner: 'alice',
  });
  const part = (uploadId: string, partNumber: number): Command => ({
    type: 'registerPart', bucket: 'data', key: 'big', uploadId, partNumber, sizeBytes: 20, etag: md5a, checksums: {},
    stripe: stripe(`${uploadId}-p${partNumber}`), inlineData: undefined, createdAtMs: 2,
  });
  const complete = (uploadId: string, condition?: WriteCondition): Command => ({
    type: 'completeUpload', bucket: 'data', key: 'big', uploadId, versionId: `v-${uploadId}`,
    parts: [{ partNumber: 1, etag: md5a }, { partNumber: 2, etag: md5a }], completedAtMs: 3, ...(condition === undefined ? {} : { condition }),
  });

  test('a failed condition leaves the upload and its parts in place; the client can then complete or abort', async () => {
    await ok(putInline('data', 'big'));
    await ok(createUpload('u1'));
    await ok(part('u1', 1));
    await ok(part('u1', 2));
    const before = await stateWithoutMeta();
    expect(await refusal(complete('u1', createOnly))).toBeInstanceOf(PreconditionFailedError);
    expect(await refusal(complete('u1', ifMatch(md5b)))).toBeInstanceOf(PreconditionFailedError);
    expect(await stateWithoutMeta()).toEqual(before);
    expect((await cat.machine.partsOf('u1')).map((p) => p.partNumber)).toEqual([1, 2]);
    // The retry with the right ETag succeeds.
    const object = (await ok(complete('u1', ifMatch(md5a)))) as { etag: string; sizeBytes: number };
    expect(object.sizeBytes).toBe(40);
    expect(object.etag).toMatch(/-2$/);
  });

  test('create-only completion of a new key succeeds', async () => {
    await ok(createUpload('u2'));
    await ok(part('u2', 1));
    await ok(part('u2', 2));
    await ok(complete('u2', createOnly));
    expect((await cat.machine.getObject('data', 'big')).layout.kind).toBe('multipart');
  });
});

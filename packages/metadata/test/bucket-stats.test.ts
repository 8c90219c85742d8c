// Goal: the per-bucket counters (objects, logical bytes, multipart uploads in progress) stay
// exact under any sequence of puts, overwrites, deletes, multipart create/complete/abort and
// bucket create/delete, including refused commands; they survive a restart and a snapshot
// transfer, and a catalogue written before the counters existed is counted once at open.
// Method: a real CatalogueStateMachine over LevelDB in a temp dir; fast-check generates command
// sequences, and a naive model (a Map of keys and uploads per bucket, kept by the test) is the
// reference. Snapshot transfer is reproduced as the transport does it: every key/value pair
// copied into a fresh LevelDB, then opened.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { openCatalogueDb } from '../src/catalogue-db';
import { CatalogueStateMachine } from '../src/catalogue-state-machine';
import type { CatalogueStats } from '../src/catalogue-state-machine';
import type { Command } from '../src/commands';
import * as keys from '../src/keys';
import type { TempCatalogue } from './helpers';
import { md5a, openTempCatalogue, putInline, registerNodes, stripe } from './helpers';

const buckets = ['alpha', 'beta'] as const;
const objectKeys = ['a', 'b', 'c/d', 'é'] as const;

/** What a test step does; turned into a command against the current model. */
type Step =
  | { kind: 'put'; bucket: number; key: number; sizeBytes: number; striped: boolean }
  | { kind: 'delete'; bucket: number; key: number }
  | { kind: 'createUpload'; bucket: number; key: number }
  | { kind: 'completeUpload'; upload: number; partSizeBytes: number }
  | { kind: 'abortUpload'; upload: number }
  | { kind: 'deleteBucket'; bucket: number }
  | { kind: 'createBucket'; bucket: number };

const stepArbitrary: fc.Arbitrary<Step> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('put' as const), bucket: fc.nat(1), key: fc.nat(3), sizeBytes: fc.nat(5000), striped: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), bucket: fc.nat(1), key: fc.nat(3) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('createUpload' as const), bucket: fc.nat(1), key: fc.nat(3) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('completeUpload' as const), upload: fc.nat(5), partSizeBytes: fc.integer({ min: 10, max: 1000 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('abortUpload' as const), upload: fc.nat(5) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('deleteBucket' as const), bucket: fc.nat(1) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('createBucket' as const), bucket: fc.nat(1) }) },
);

/** The naive reference: which keys exist with which size, which uploads are open, per bucket. */
class Model {
  readonly objects = new Map<string, Map<string, number>>();
  readonly uploads: { uploadId: string; bucket: string; key: string }[] = [];
  stats(): CatalogueStats {
    const perBucket = [...this.objects.keys()].sort().map((bucket) => ({
      bucket,
      objectCount: this.objects.get(bucket)?.size ?? 0,
      objectBytes: [...(this.objects.get(bucket)?.values() ?? [])].reduce((sum, size) => sum + size, 0),
      multipartUploadCount: this.uploads.filter((u) => u.bucket === bucket).length,
    }));
    return {
      buckets: perBucket, bucketCount: perBucket.length,
      objectCount: perBucket.reduce((sum, b) => sum + b.objectCount, 0),
      objectBytes: perBucket.reduce((sum, b) => sum + b.objectBytes, 0),
      multipartUploadCount: perBucket.reduce((sum, b) => sum + b.multipartUploadCount, 0),
      noncurrentVersionCount: 0, noncurrentVersionBytes: 0, deleteMarkerCount: 0,
    };
  }
}

let cat: TempCatalogue;
let sequence = 0;
beforeEach(async () => {
  cat = await openTempCatalogue({ partSizeBytesMin: 10 });
  for (const command of registerNodes()) await apply(command);
});
afterEach(async () => {
  await cat.close();
});

async function apply(command: Command): Promise<boolean> {
  const result = await cat.machine.apply(cat.machine.appliedIndex + 1, command);
  return result.ok;
}

/** Runs one step on the machine and, when it succeeded, on the model. */
async function run(step: Step, model: Model): Promise<void> {
  const id = `x${++sequence}`;
  switch (step.kind) {
    case 'createBucket': {
      const bucket = buckets[step.bucket] ?? 'alpha';
      if (await apply({ type: 'createBucket', bucket, owner: 'alice', createdAtMs: 1 })) model.objects.set(bucket, new Map());
      return;
    }
    case 'deleteBucket': {
      const bucket = buckets[step.bucket] ?? 'alpha';
      if (await apply({ type: 'deleteBucket', bucket })) model.objects.delete(bucket);
      return;
    }
    case 'put': {
      const bucket = buckets[step.bucket] ?? 'alpha';
      const key = objectKeys[step.key] ?? 'a';
      const body = 'x'.repeat(step.sizeBytes);
      const command: Command = step.striped
        ? { ...putInline(bucket, key, '', id), inlineData: undefined, sizeBytes: step.sizeBytes, stripe: stripe(id) }
        : putInline(bucket, key, body, id);
      if (await apply(command)) model.objects.get(bucket)?.set(key, step.sizeBytes);
      return;
    }
    case 'delete': {
      const bucket = buckets[step.bucket] ?? 'alpha';
      const key = objectKeys[step.key] ?? 'a';
      if (await apply({ type: 'deleteObject', bucket, key, deletedAtMs: 3 })) model.objects.get(bucket)?.delete(key);
      return;
    }
    case 'createUpload': {
      const bucket = buckets[step.bucket] ?? 'alpha';
      const key = objectKeys[step.key] ?? 'a';
      const ok = await apply({
        type: 'createUpload', bucket, key, uploadId: id, initiatedAtMs: 1, contentType: '', systemMetadata: {}, userMetadata: {}, storageClass: 'STANDARD', owner: 'alice',
      });
      if (ok) model.uploads.push({ uploadId: id, bucket, key });
      return;
    }
    case 'completeUpload': {
      const upload = model.uploads[step.upload % Math.max(1, model.uploads.length)];
      if (upload === undefined) return;
      const { bucket, key, uploadId } = upload;
      const registered = await apply({
        type: 'registerPart', bucket, key, uploadId, partNumber: 1, sizeBytes: step.partSizeBytes, etag: md5a, checksums: {},
        stripe: stripe(`${uploadId}-p1`), inlineData: undefined, createdAtMs: 2,
      });
      expect(registered).toBe(true);
      if (await apply({ type: 'completeUpload', bucket, key, uploadId, versionId: `v-${uploadId}`, parts: [{ partNumber: 1, etag: md5a }], completedAtMs: 3 })) {
        model.uploads.splice(model.uploads.indexOf(upload), 1);
        model.objects.get(bucket)?.set(key, step.partSizeBytes);
      }
      return;
    }
    case 'abortUpload': {
      const upload = model.uploads[step.upload % Math.max(1, model.uploads.length)];
      if (upload === undefined) return;
      if (await apply({ type: 'abortUpload', bucket: upload.bucket, key: upload.key, uploadId: upload.uploadId, abortedAtMs: 4 })) {
        model.uploads.splice(model.uploads.indexOf(upload), 1);
      }
      return;
    }
  }
}

/** Copies every key/value pair into a fresh LevelDB (what a snapshot transfer does) and opens it. */
async function copyAndOpen(): Promise<{ machine: CatalogueStateMachine; close: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'tessera-stats-copy-'));
  const db = await openCatalogueDb(join(dir, 'state'));
  await db.batch((await cat.db.iterator().all()).map(([key, value]) => ({ type: 'put' as const, key, value })));
  const machine = await CatalogueStateMachine.open(db);
  return { machine, close: async () => { await db.close(); await rm(dir, { recursive: true, force: true }); } };
}

test('property: counters equal a naive recount after any sequence of commands', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(stepArbitrary, { minLength: 1, maxLength: 40 }), async (steps) => {
      // Start every run from an empty catalogue: drop buckets left by the previous run.
      await cat.close();
      cat = await openTempCatalogue({ partSizeBytesMin: 10 });
      for (const command of registerNodes()) await apply(command);
      const model = new Model();
      for (const bucket of buckets) await run({ kind: 'createBucket', bucket: buckets.indexOf(bucket) }, model);
      for (const step of steps) await run(step, model);
      expect(await cat.machine.catalogueStats()).toEqual(model.stats());
    }),
    { numRuns: 40 },
  );
}, 60_000);

test('counters survive a restart and a snapshot copy; an old catalogue is counted at open', async () => {
  const model = new Model();
  for (const bucket of buckets) await run({ kind: 'createBucket', bucket: buckets.indexOf(bucket) }, model);
  await run({ kind: 'put', bucket: 0, key: 0, sizeBytes: 100, striped: true }, model);
  await run({ kind: 'put', bucket: 0, key: 1, sizeBytes: 7, striped: false }, model);
  await run({ kind: 'put', bucket: 0, key: 0, sizeBytes: 250, striped: false }, model); // overwrite
  await run({ kind: 'put', bucket: 1, key: 2, sizeBytes: 3000, striped: true }, model);
  await run({ kind: 'createUpload', bucket: 1, key: 3 }, model);
  await run({ kind: 'createUpload', bucket: 1, key: 0 }, model);
  await run({ kind: 'completeUpload', upload: 0, partSizeBytes: 500 }, model);
  const expected = model.stats();
  expect(expected).toMatchObject({ objectCount: 4, objectBytes: 250 + 7 + 3000 + 500, multipartUploadCount: 1 });
  expect(await cat.machine.catalogueStats()).toEqual(expected);

  // Restart: the same LevelDB reopened.
  expect(await (await CatalogueStateMachine.open(cat.db)).catalogueStats()).toEqual(expected);

  // Snapshot transfer: the counters travel with the keyspace.
  const copy = await copyAndOpen();
  expect(await copy.machine.catalogueStats()).toEqual(expected);
  await copy.close();

  // A catalogue from before the counters: no counter keys and no version key. Opening it counts once.
  const counterKeys = await cat.db.keys({ gte: keys.tablePrefix(keys.table.bucketStats), lt: keys.tablePrefix(keys.table.bucketStats + 1) }).all();
  expect(counterKeys).toHaveLength(2);
  await cat.db.batch([...counterKeys, keys.bucketStatsVersionKey].map((key) => ({ type: 'del' as const, key })));
  const old = await CatalogueStateMachine.open(cat.db);
  expect(await old.catalogueStats()).toEqual(expected);
  expect(await cat.db.get(keys.bucketStatsVersionKey)).toBeDefined();

  // And the rebuilt counters keep counting.
  cat = { ...cat, machine: old };
  await run({ kind: 'delete', bucket: 1, key: 2 }, model);
  expect(await old.catalogueStats()).toEqual(model.stats());
});

test('a refused command leaves the counters alone; a deleted bucket has no counters', async () => {
  const model = new Model();
  await run({ kind: 'createBucket', bucket: 0 }, model);
  await run({ kind: 'put', bucket: 0, key: 0, sizeBytes: 10, striped: false }, model);
  // Not empty: refused.
  expect(await apply({ type: 'deleteBucket', bucket: 'alpha' })).toBe(false);
  // A put whose stripe names an unknown node: refused after the version would have been replaced.
  expect(await apply({ ...putInline('alpha', 'a', '', 'bad'), inlineData: undefined, sizeBytes: 999, stripe: stripe('bad', ['sn-1', 'sn-2', 'sn-9']) })).toBe(false);
  expect(await cat.machine.catalogueStats()).toEqual(model.stats());
  await run({ kind: 'delete', bucket: 0, key: 0 }, model);
  await run({ kind: 'deleteBucket', bucket: 0 }, model);
  expect(await cat.machine.catalogueStats()).toEqual({ buckets: [], bucketCount: 0, objectCount: 0, objectBytes: 0, multipartUploadCount: 0, noncurrentVersionCount: 0, noncurrentVersionBytes: 0, deleteMarkerCount: 0 });
});

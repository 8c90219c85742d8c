// Goal: the batched apply (applyEntries: a Raft Ready's committed entries in one LevelDB batch;
// applyBatch, used to load big catalogues without Raft) is exactly equivalent to applying
// entries one by one, entries without a command included. Method: fast-check generates command sequences
// over a tiny vocabulary (so they collide: duplicate buckets, deletes of missing keys,
// completes of unknown uploads); both paths run on real LevelDBs and the full keyspaces and
// results are compared.
import fc from 'fast-check';
import type { ApplyResult } from '../src/catalogue-state-machine';
import type { Command } from '../src/commands';
import { md5a, openTempCatalogue, putInline, registerNodes, stripe } from './helpers';

const bucketArb = fc.constantFrom('bkt-a', 'bkt-b');
const keyArb = fc.constantFrom('k1', 'k2', 'dir/k3');
const commandArb: fc.Arbitrary<Command> = fc.oneof(
  bucketArb.map((bucket): Command => ({ type: 'createBucket', bucket, owner: 'o', createdAtMs: 1 })),
  bucketArb.map((bucket): Command => ({ type: 'deleteBucket', bucket })),
  fc.tuple(bucketArb, keyArb).map(([bucket, key]): Command => putInline(bucket, key)),
  fc.tuple(bucketArb, keyArb).map(([bucket, key]): Command => ({ ...putInline(bucket, key), inlineData: undefined, stripe: stripe(`s-${key.replace('/', '')}`) })),
  fc.tuple(bucketArb, keyArb).map(([bucket, key]): Command => ({ type: 'deleteObject', bucket, key, deletedAtMs: 3 })),
  fc.tuple(bucketArb, fc.constantFrom('u1', 'u2')).map(([bucket, uploadId]): Command => ({
    type: 'createUpload', bucket, key: 'mp', uploadId, initiatedAtMs: 1, contentType: '', systemMetadata: {}, userMetadata: {}, storageClass: 'STANDARD', owner: 'o',
  })),
  fc.tuple(bucketArb, fc.constantFrom('u1', 'u2'), fc.integer({ min: 1, max: 3 })).map(([bucket, uploadId, partNumber]): Command => ({
    type: 'registerPart', bucket, key: 'mp', uploadId, partNumber, sizeBytes: 10, etag: md5a, checksums: {}, stripe: stripe(`p-${uploadId}-${partNumber}`), inlineData: undefined, createdAtMs: 2,
  })),
  fc.tuple(bucketArb, fc.constantFrom('u1', 'u2')).map(([bucket, uploadId]): Command => ({
    type: 'completeUpload', bucket, key: 'mp', uploadId, versionId: `v-${uploadId}`, parts: [{ partNumber: 1, etag: md5a }], completedAtMs: 3,
  })),
  fc.tuple(bucketArb, fc.constantFrom('u1', 'u2')).map(([bucket, uploadId]): Command => ({ type: 'abortUpload', bucket, key: 'mp', uploadId, abortedAtMs: 4 })),
  fc.tuple(bucketArb, keyArb, fc.constantFrom('a', 'b')).map(([bucket, key, tag]): Command => ({
    type: 'updateObjectMetadata', bucket, key, versionId: undefined, setSystemMetadata: { 'x-tag': tag }, removeSystemMetadata: tag === 'b' ? ['x-tag'] : [],
  })),
);

test('property: applyEntries with entries without a command (leader no-ops) == apply / applyNoop one by one', async () => {
  const entryArb = fc.oneof({ weight: 4, arbitrary: commandArb }, { weight: 1, arbitrary: fc.constant(undefined) });
  await fc.assert(
    fc.asyncProperty(fc.array(entryArb, { maxLength: 40 }), async (entries) => {
      const one = await openTempCatalogue();
      const batched = await openTempCatalogue();
      try {
        const all = [...registerNodes(), ...entries];
        const expected: (ApplyResult | undefined)[] = [];
        for (const command of all) {
          const index = one.machine.appliedIndex + 1;
          if (command === undefined) await one.machine.applyNoop(index);
          expected.push(command === undefined ? undefined : await one.machine.apply(index, command));
        }
        const actual = await batched.machine.applyEntries(all.map((command, offset) => ({ index: offset + 1, command })));
        const summary = (results: typeof expected): unknown[] => results.map((r) => (r === undefined ? 'none' : r.ok ? ['ok', JSON.stringify(r.value)] : ['error', r.error.name]));
        expect(summary(actual)).toEqual(summary(expected));
        expect(batched.machine.appliedIndex).toBe(all.length);
        expect(await batched.db.iterator().all()).toEqual(await one.db.iterator().all());
      } finally {
        await one.close();
        await batched.close();
      }
    }),
    { numRuns: 40 },
  );
});

test('property: applyBatch == apply one by one (state and results)', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(commandArb, { maxLength: 40 }), fc.integer({ min: 1, max: 8 }), async (commands, batchOpCountMax) => {
      const one = await openTempCatalogue();
      const bulk = await openTempCatalogue();
      try {
        const all = [...registerNodes(), ...commands];
        const expected: ApplyResult[] = [];
        for (const command of all) expected.push(await one.machine.apply(one.machine.appliedIndex + 1, command));
        const actual = await bulk.machine.applyBatch(all, batchOpCountMax);
        const summary = (results: typeof expected): unknown[] => results.map((r) => (r.ok ? ['ok', JSON.stringify(r.value)] : ['error', r.error.name]));
        expect(summary(actual)).toEqual(summary(expected));
        expect(bulk.machine.appliedIndex).toBe(one.machine.appliedIndex);
        expect(await bulk.db.iterator().all()).toEqual(await one.db.iterator().all());
      } finally {
        await one.close();
        await bulk.close();
      }
    }),
    { numRuns: 60 },
  );
});

// Goal: a point read of the catalogue database always returns the newest value of its key.
// Stock LevelDB 1.20 (bundled by classic-level 3.0.0) breaks this: while a snapshot is held,
// compactions keep several versions of an overwritten key, an output file can end in the middle
// of them, and a later compaction can move the file with the newest versions one level down
// alone; reads then stop at the older versions left above. The pause soak saw this as a GET
// answered with an overwritten object (test-cluster/README.md). Method: the catalogue database
// as metadata nodes open it (openCatalogueDb, real LevelDB on disk), a workload shaped like the
// one that failed (bursts of 50 KB overwrites of one key at a time, like inline objects, plus
// small random keys that make the levels grow, and a snapshot held across many writes, like a
// Raft snapshot export), and after every few batches a point read of every key written so far.
// On the stock engine this finds dozens of stale reads within 2,500 batches (checked by
// removing node_modules/classic-level/build/Release); the patched engine finds none.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openCatalogueDb } from '../src/catalogue-db';
import type { CatalogueDb } from '../src/catalogue-db';
import { leveldbCompactionFix, loadedLevelDbEngine } from '../src/leveldb-engine';

const batchCount = 4000;
const burstLengthBatches = 80;
const snapshotEveryBatches = 1500;
const hotValueSizeBytes = 50_000;
const fillerKeysPerBatch = 4;
const fillerValueSizeBytes = 2_000;
const readEveryBatches = 5;

let root: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'tessera-leveldb-engine-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A value whose first 4 bytes are its write sequence number; random otherwise (not compressible). */
function valueWithSequence(sequence: number, sizeBytes: number): Buffer {
  const value = randomBytes(sizeBytes);
  value.writeUInt32BE(sequence, 0);
  return value;
}

interface StaleRead {
  readonly key: string;
  readonly expectedSequence: number;
  readonly readSequence: number | undefined;
  readonly batch: number;
}

function staleReads(db: CatalogueDb, newestSequenceByKey: ReadonlyMap<string, number>, batch: number): StaleRead[] {
  const stale: StaleRead[] = [];
  for (const [key, expectedSequence] of newestSequenceByKey) {
    const value = db.getSync(Buffer.from(key, 'utf8'));
    const readSequence = value?.readUInt32BE(0);
    if (readSequence !== expectedSequence) stale.push({ key, expectedSequence, readSequence, batch });
  }
  return stale;
}

describe('the LevelDB engine under the catalogue', () => {
  it('is the patched build (native/leveldb), as `npm run build` installs it', () => {
    expect(loadedLevelDbEngine().fixes).toContain(leveldbCompactionFix);
    expect(loadedLevelDbEngine().hasCompactionFix).toBe(true);
  });

  it('answers point reads with the newest value of keys overwritten while a snapshot is held, across compactions', async () => {
    const db = await openCatalogueDb(join(root, 'catalogue'));
    let snapshot = db.snapshot();
    try {
      const newestSequenceByKey = new Map<string, number>();
      const stale: StaleRead[] = [];
      let sequence = 0;
      for (let batch = 0; batch < batchCount; batch++) {
        const hotKey = `obj/bucket/key-${String(Math.floor(batch / burstLengthBatches)).padStart(4, '0')}`;
        sequence++;
        const ops: { type: 'put'; key: Buffer; value: Buffer }[] = [{ type: 'put', key: Buffer.from(hotKey, 'utf8'), value: valueWithSequence(sequence, hotValueSizeBytes) }];
        newestSequenceByKey.set(hotKey, sequence);
        for (let i = 0; i < fillerKeysPerBatch; i++) {
          sequence++;
          ops.push({ type: 'put', key: Buffer.from(`zzz/${randomBytes(6).toString('hex')}`, 'utf8'), value: valueWithSequence(sequence, fillerValueSizeBytes) });
        }
        await db.batch(ops);
        if (batch % snapshotEveryBatches === 0) {
          const previous = snapshot;
          snapshot = db.snapshot();
          await previous.close();
        }
        if (batch % readEveryBatches === 0) stale.push(...staleReads(db, newestSequenceByKey, batch));
      }
      stale.push(...staleReads(db, newestSequenceByKey, batchCount));
      expect(stale.slice(0, 5)).toEqual([]);
      // The whole keyspace through an iterator (which merges every level) agrees as well.
      for await (const [key, value] of db.iterator({ lt: Buffer.from('zzz/', 'utf8') })) {
        expect(value.readUInt32BE(0)).toBe(newestSequenceByKey.get(key.toString('utf8')));
      }
    } finally {
      await snapshot.close();
      await db.close();
    }
  }, 60_000);
});

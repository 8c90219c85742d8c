// Goal: LevelRaftStorage keeps exactly what the Ready contract says across restarts, and reads
// like MemoryRaftStorage. Method: drive a real LevelDB in a temp dir through save/compact,
// reopen it, and compare every read with a MemoryRaftStorage given the same operations.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { logIndex, term } from '@tessera/common';
import { LogCompactedError, MemoryRaftStorage } from '@tessera/raft';
import type { LogEntry, Snapshot } from '@tessera/raft';
import { LevelRaftStorage } from '../src/level-raft-storage';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tessera-raft-storage-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const entry = (index: number, entryTerm: number, text = `e${index}`): LogEntry => ({
  index: logIndex(index), term: term(entryTerm), kind: 'normal', data: Buffer.from(text),
});
const snapshotAt = (index: number, snapTerm: number): Snapshot => ({
  metadata: { index: logIndex(index), term: term(snapTerm), membership: { voters: ['a', 'b', 'c'], learners: [] } },
  data: Buffer.from(`snap-${index}`),
});

function sameView(level: LevelRaftStorage, memory: MemoryRaftStorage): void {
  expect(level.hardState()).toEqual(memory.hardState());
  expect(level.snapshot().metadata).toEqual(memory.snapshot().metadata);
  expect(Buffer.from(level.snapshot().data)).toEqual(Buffer.from(memory.snapshot().data));
  expect([level.firstIndex(), level.lastIndex()]).toEqual([memory.firstIndex(), memory.lastIndex()]);
  expect(level.entriesSizeBytes()).toBe(memory.entriesSizeBytes());
  if (level.lastIndex() >= level.firstIndex()) {
    const read = (s: LevelRaftStorage | MemoryRaftStorage): unknown[] =>
      s.entries(s.firstIndex(), logIndex(s.lastIndex() + 1), Infinity).map((e) => [e.index, e.term, e.kind, Buffer.from(e.data).toString()]);
    expect(read(level)).toEqual(read(memory));
  }
}

test('save, conflict truncation, compaction and snapshot install survive reopen', async () => {
  const path = join(dir, 'raft');
  let level = await LevelRaftStorage.open(path);
  expect(level.lastIndex()).toBe(0);
  await level.save({ hardState: { term: term(1), vote: 'a', commit: logIndex(0) }, entries: [entry(1, 1), entry(2, 1), entry(3, 1)], snapshot: undefined });
  // A new leader overwrites index 2 onwards.
  await level.save({ hardState: { term: term(2), vote: 'b', commit: logIndex(2) }, entries: [entry(2, 2, 'x'), entry(3, 2, 'y'), entry(4, 2)], snapshot: undefined });
  await level.close();
  level = await LevelRaftStorage.open(path);
  expect(level.hardState()).toEqual({ term: 2, vote: 'b', commit: 2 });
  expect(level.entries(logIndex(1), logIndex(5), Infinity).map((e) => [e.term, Buffer.from(e.data).toString()])).toEqual([[1, 'e1'], [2, 'x'], [2, 'y'], [2, 'e4']]);
  await level.compact(snapshotAt(2, 2));
  expect(() => level.term(logIndex(1))).toThrow(LogCompactedError);
  expect(level.term(logIndex(2))).toBe(2);
  await level.close();
  level = await LevelRaftStorage.open(path);
  expect([level.firstIndex(), level.lastIndex()]).toEqual([3, 4]);
  await level.save({ hardState: undefined, entries: [], snapshot: snapshotAt(10, 3) });
  await level.close();
  level = await LevelRaftStorage.open(path);
  expect([level.firstIndex(), level.lastIndex(), level.term(logIndex(10))]).toEqual([11, 10, 3]);
  expect(Buffer.from(level.snapshot().data).toString()).toBe('snap-10');
  await level.close();
});

test('property: any sequence of saves and compactions reads like MemoryRaftStorage, before and after reopen', async () => {
  const op = fc.oneof(
    fc.record({ kind: fc.constant('append' as const), back: fc.nat(3), count: fc.integer({ min: 1, max: 4 }), bump: fc.boolean() }),
    fc.record({ kind: fc.constant('compact' as const), back: fc.nat(3) }),
    fc.record({ kind: fc.constant('snapshot' as const), ahead: fc.integer({ min: 1, max: 5 }) }),
  );
  let run = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(op, { maxLength: 12 }), async (ops) => {
      const path = join(dir, `p${run++}`);
      const level = await LevelRaftStorage.open(path);
      const memory = new MemoryRaftStorage();
      let currentTerm = 1;
      for (const o of ops) {
        if (o.kind === 'append') {
          if (o.bump) currentTerm++;
          const start = Math.max(memory.firstIndex(), memory.lastIndex() + 1 - o.back);
          const entries = Array.from({ length: o.count }, (_, i) => entry(start + i, currentTerm, `t${currentTerm}-${start + i}`));
          const hardState = { term: term(currentTerm), vote: 'a', commit: logIndex(memory.snapshot().metadata.index) };
          await level.save({ hardState, entries, snapshot: undefined });
          memory.append(entries);
          memory.setHardState(hardState);
        } else if (o.kind === 'compact') {
          const at = memory.lastIndex() - o.back;
          if (at <= memory.snapshot().metadata.index) continue;
          const snap = snapshotAt(at, memory.term(logIndex(at)));
          await level.compact(snap);
          memory.createSnapshot(snap);
        } else {
          currentTerm++;
          const snap = snapshotAt(memory.lastIndex() + o.ahead, currentTerm);
          await level.save({ hardState: undefined, entries: [], snapshot: snap });
          memory.applySnapshot(snap);
        }
        sameView(level, memory);
      }
      await level.close();
      const reopened = await LevelRaftStorage.open(path);
      sameView(reopened, memory);
      await reopened.close();
    }),
    { numRuns: 40 },
  );
});

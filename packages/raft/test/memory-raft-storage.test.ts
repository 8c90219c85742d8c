// Goal: MemoryRaftStorage behaves as the RaftLogView contract says (the LevelDB storage of the
// metadata service must behave the same): appends truncate conflicting suffixes, snapshots
// compact the prefix, reads below the snapshot throw LogCompactedError, entries() honours its
// byte limit but always returns one entry. Method: direct calls on small logs.
import { logIndex, term } from '@tessera/common';
import type { LogEntry } from '@tessera/raft';
import { LogCompactedError, MemoryRaftStorage } from '@tessera/raft';

function entry(index: number, entryTerm: number, sizeBytes = 1): LogEntry {
  return { index: logIndex(index), term: term(entryTerm), kind: 'normal', data: new Uint8Array(sizeBytes) };
}

describe('MemoryRaftStorage', () => {
  test('a new storage is empty at index 0, term 0', () => {
    const storage = new MemoryRaftStorage();
    expect(storage.firstIndex()).toBe(1);
    expect(storage.lastIndex()).toBe(0);
    expect(storage.term(logIndex(0))).toBe(0);
    expect(storage.hardState()).toEqual({ term: 0, vote: undefined, commit: 0 });
  });

  test('append replaces the suffix from the first appended index', () => {
    const storage = new MemoryRaftStorage();
    storage.append([entry(1, 1), entry(2, 1), entry(3, 1)]);
    storage.append([entry(2, 2)]);
    expect(storage.lastIndex()).toBe(2);
    expect(storage.term(logIndex(2))).toBe(2);
    expect(() => storage.append([entry(5, 2)])).toThrow(/gap/);
  });

  test('entriesSizeBytes counts the data of the entries held since the snapshot', () => {
    const storage = new MemoryRaftStorage();
    expect(storage.entriesSizeBytes()).toBe(0);
    storage.append([entry(1, 1, 100), entry(2, 1, 200), entry(3, 1, 300)]);
    expect(storage.entriesSizeBytes()).toBe(600);
    // A conflicting suffix replaced: 200 + 300 out, 50 in.
    storage.append([entry(2, 2, 50)]);
    expect(storage.entriesSizeBytes()).toBe(150);
    storage.append([entry(3, 2, 1000), entry(4, 2, 7)]);
    expect(storage.entriesSizeBytes()).toBe(1157);
    const copy = storage.clone();
    storage.createSnapshot({ metadata: { index: logIndex(3), term: term(2), membership: { voters: ['a'], learners: [] } }, data: new Uint8Array(0) });
    expect(storage.entriesSizeBytes()).toBe(7);
    expect(copy.entriesSizeBytes()).toBe(1157);
    storage.applySnapshot({ metadata: { index: logIndex(9), term: term(3), membership: { voters: ['a'], learners: [] } }, data: new Uint8Array(0) });
    expect(storage.entriesSizeBytes()).toBe(0);
  });

  test('entries() stops at the byte limit but returns at least one entry', () => {
    const storage = new MemoryRaftStorage();
    storage.append([entry(1, 1, 100), entry(2, 1, 100), entry(3, 1, 100)]);
    expect(storage.entries(logIndex(1), logIndex(4), 250).map((e) => e.index)).toEqual([1, 2]);
    expect(storage.entries(logIndex(1), logIndex(4), 10).map((e) => e.index)).toEqual([1]);
    expect(storage.entries(logIndex(2), logIndex(4), Infinity).map((e) => e.index)).toEqual([2, 3]);
  });

  test('createSnapshot compacts the prefix; reads below it are LogCompactedError', () => {
    const storage = new MemoryRaftStorage();
    storage.append([entry(1, 1), entry(2, 1), entry(3, 2), entry(4, 2)]);
    const membership = { voters: ['a'], learners: [] };
    storage.createSnapshot({ metadata: { index: logIndex(3), term: term(2), membership }, data: new Uint8Array([7]) });
    expect(storage.firstIndex()).toBe(4);
    expect(storage.lastIndex()).toBe(4);
    expect(storage.term(logIndex(3))).toBe(2);
    expect(() => storage.term(logIndex(2))).toThrow(LogCompactedError);
    expect(() => storage.entries(logIndex(3), logIndex(5), Infinity)).toThrow(LogCompactedError);
    expect(storage.entries(logIndex(4), logIndex(5), Infinity).map((e) => e.index)).toEqual([4]);
    // A snapshot whose term disagrees with the log is a host bug.
    expect(() => storage.createSnapshot({ metadata: { index: logIndex(4), term: term(9), membership }, data: new Uint8Array() })).toThrow(/term matches/);
  });

  test('applySnapshot replaces the whole log', () => {
    const storage = new MemoryRaftStorage();
    storage.append([entry(1, 1), entry(2, 1)]);
    storage.applySnapshot({ metadata: { index: logIndex(10), term: term(3), membership: { voters: ['a'], learners: [] } }, data: new Uint8Array() });
    expect(storage.firstIndex()).toBe(11);
    expect(storage.lastIndex()).toBe(10);
    expect(storage.term(logIndex(10))).toBe(3);
  });

  test('clone is independent of the original', () => {
    const storage = new MemoryRaftStorage();
    storage.append([entry(1, 1)]);
    const copy = storage.clone();
    storage.append([entry(2, 1)]);
    expect(copy.lastIndex()).toBe(1);
  });
});

import type { LogIndex, Term } from '@tessera/common';
import { assert, logIndex, term } from '@tessera/common';
import { LogCompactedError } from './errors';
import type { HardState, LogEntry, Snapshot } from './types';

/**
 * The durable Raft state as the core reads it: synchronously, like etcd's `Storage`. The host
 * writes it (after each Ready) and the core only reads. A LevelDB implementation keeps the
 * uncompacted log tail in memory and writes through, so these reads never wait on disk.
 *
 * Indexes: the snapshot covers [1, snapshot.index]; entries cover [firstIndex(), lastIndex()]
 * with firstIndex() = snapshot.index + 1. term(snapshot.index) is the snapshot's term.
 */
export interface RaftLogView {
  /** The persisted term, vote and commit (zeros and undefined for a new node). */
  hardState(): HardState;
  /** The latest snapshot (index 0, term 0, empty membership and data for a new node). */
  snapshot(): Snapshot;
  /** snapshot().metadata.index + 1. */
  firstIndex(): LogIndex;
  /** The index of the last stored entry, or the snapshot index if there are none. */
  lastIndex(): LogIndex;
  /** The term at `index`, for index in [firstIndex() - 1, lastIndex()]; LogCompactedError below. */
  term(index: LogIndex): Term;
  /**
   * Entries [lowIndex, highIndexExclusive), lowIndex >= firstIndex(), stopping once their data
   * exceeds `sizeBytesMax` (but always at least one entry).
   */
  entries(lowIndex: LogIndex, highIndexExclusive: LogIndex, sizeBytesMax: number): LogEntry[];
}

export const emptySnapshot: Snapshot = {
  metadata: { index: logIndex(0), term: term(0), membership: { voters: [], learners: [] } },
  data: new Uint8Array(0),
};

export const emptyHardState: HardState = { term: term(0), vote: undefined, commit: logIndex(0) };

/**
 * An in-memory RaftLogView with the write side a host needs. Used by tests and the simulator,
 * where "persisted" means "written here"; a simulated crash keeps this object and drops the
 * RaftNode.
 */
export class MemoryRaftStorage implements RaftLogView {
  private hardStateValue: HardState = emptyHardState;
  private snapshotValue: Snapshot = emptySnapshot;
  /** entriesValue[i] has index snapshot.index + 1 + i. */
  private entriesValue: LogEntry[] = [];
  /** Sum of the entries' data lengths. */
  private entriesSizeBytesValue = 0;

  hardState(): HardState {
    return this.hardStateValue;
  }
  snapshot(): Snapshot {
    return this.snapshotValue;
  }
  firstIndex(): LogIndex {
    return logIndex(this.snapshotValue.metadata.index + 1);
  }
  lastIndex(): LogIndex {
    return logIndex(this.snapshotValue.metadata.index + this.entriesValue.length);
  }
  term(index: LogIndex): Term {
    const snapshotIndex = this.snapshotValue.metadata.index;
    if (index < snapshotIndex) throw new LogCompactedError(index);
    if (index === snapshotIndex) return this.snapshotValue.metadata.term;
    const entry = this.entriesValue[index - snapshotIndex - 1];
    assert(entry !== undefined, `term(${index}) beyond last index ${this.lastIndex()}`);
    return entry.term;
  }
  /** Bytes of entry data held since the snapshot (what log compaction would free). */
  entriesSizeBytes(): number {
    return this.entriesSizeBytesValue;
  }
  entries(lowIndex: LogIndex, highIndexExclusive: LogIndex, sizeBytesMax: number): LogEntry[] {
    if (lowIndex < this.firstIndex()) throw new LogCompactedError(lowIndex);
    assert(highIndexExclusive <= this.lastIndex() + 1, `entries() beyond last index ${this.lastIndex()}`);
    const result: LogEntry[] = [];
    let sizeBytes = 0;
    for (let index = lowIndex; index < highIndexExclusive; index++) {
      const entry = this.entriesValue[index - this.firstIndex()];
      assert(entry !== undefined, 'entry present');
      sizeBytes += entry.data.length;
      if (result.length > 0 && sizeBytes > sizeBytesMax) break;
      result.push(entry);
    }
    return result;
  }

  setHardState(hardState: HardState): void {
    this.hardStateValue = hardState;
  }

  /** Appends entries, first dropping any stored entries at their indexes or later. */
  append(entries: readonly LogEntry[]): void {
    const first = entries[0];
    if (first === undefined) return;
    assert(first.index >= this.firstIndex(), `append at ${first.index} below first index ${this.firstIndex()}`);
    assert(first.index <= this.lastIndex() + 1, `append at ${first.index} leaves a gap after ${this.lastIndex()}`);
    const keptCount = first.index - this.firstIndex();
    for (const dropped of this.entriesValue.slice(keptCount)) this.entriesSizeBytesValue -= dropped.data.length;
    this.entriesValue.length = keptCount;
    for (const entry of entries) {
      assert(entry.index === this.lastIndex() + 1, 'appended entries are contiguous');
      this.entriesValue.push(entry);
      this.entriesSizeBytesValue += entry.data.length;
    }
  }

  /** Replaces the whole log by a snapshot received from the leader (Ready.snapshot). */
  applySnapshot(snapshot: Snapshot): void {
    assert(snapshot.metadata.index >= this.snapshotValue.metadata.index, 'snapshots only move forward');
    this.snapshotValue = snapshot;
    this.entriesValue = [];
    this.entriesSizeBytesValue = 0;
  }

  /**
   * Records a snapshot the host took of its own state machine and drops the log up to its
   * index (log compaction, paper §7). `snapshot.metadata` comes from `RaftNode.snapshotMetadata`.
   */
  createSnapshot(snapshot: Snapshot): void {
    const index = snapshot.metadata.index;
    if (index <= this.snapshotValue.metadata.index) return;
    assert(index <= this.lastIndex(), `snapshot at ${index} beyond last index ${this.lastIndex()}`);
    assert(this.term(index) === snapshot.metadata.term, 'snapshot term matches the log');
    const droppedCount = index - this.snapshotValue.metadata.index;
    for (const dropped of this.entriesValue.slice(0, droppedCount)) this.entriesSizeBytesValue -= dropped.data.length;
    this.entriesValue = this.entriesValue.slice(droppedCount);
    this.snapshotValue = snapshot;
  }

  /** A deep-enough copy (entries are immutable) for simulations. */
  clone(): MemoryRaftStorage {
    const copy = new MemoryRaftStorage();
    copy.hardStateValue = this.hardStateValue;
    copy.snapshotValue = this.snapshotValue;
    copy.entriesValue = [...this.entriesValue];
    copy.entriesSizeBytesValue = this.entriesSizeBytesValue;
    return copy;
  }
}

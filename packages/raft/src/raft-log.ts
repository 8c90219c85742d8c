import type { LogIndex, Term } from '@tessera/common';
import { assert, logIndex } from '@tessera/common';
import { LogCompactedError } from './errors';
import type { RaftLogView } from './storage';
import type { LogEntry, Snapshot } from './types';

/**
 * The log as the core sees it: the durable part read through RaftLogView, plus an unstable
 * tail (and possibly an unstable snapshot) that the host has not persisted yet. Mirrors etcd's
 * raftLog/unstable split: the core never writes storage, the host does after each Ready.
 */
export class RaftLog {
  /** A snapshot received from the leader, not yet persisted by the host. */
  unstableSnapshot: Snapshot | undefined = undefined;
  /** Index of unstableEntries[0]. */
  unstableOffset: LogIndex;
  unstableEntries: LogEntry[] = [];
  committed: LogIndex;
  applied: LogIndex;

  constructor(private readonly storage: RaftLogView, appliedIndex: LogIndex | undefined) {
    this.unstableOffset = logIndex(storage.lastIndex() + 1);
    const snapshotIndex = storage.snapshot().metadata.index;
    this.committed = logIndex(Math.max(storage.hardState().commit, snapshotIndex));
    this.applied = appliedIndex ?? snapshotIndex;
    assert(this.applied >= snapshotIndex, 'applied index is at least the snapshot index');
    assert(this.applied <= this.committed, 'applied index is at most the commit index');
  }

  firstIndex(): LogIndex {
    if (this.unstableSnapshot !== undefined) return logIndex(this.unstableSnapshot.metadata.index + 1);
    return this.storage.firstIndex();
  }

  lastIndex(): LogIndex {
    const last = this.unstableEntries[this.unstableEntries.length - 1];
    if (last !== undefined) return last.index;
    if (this.unstableSnapshot !== undefined) return this.unstableSnapshot.metadata.index;
    return this.storage.lastIndex();
  }

  /** The last index the host has persisted (what the leader may count for itself). */
  stableLastIndex(): LogIndex {
    if (this.unstableSnapshot !== undefined) return this.storage.lastIndex();
    return logIndex(Math.min(this.lastIndex(), this.unstableOffset - 1));
  }

  lastTerm(): Term {
    const lastTerm = this.term(this.lastIndex());
    assert(lastTerm !== undefined, 'the last index always has a term');
    return lastTerm;
  }

  /** The term at `index`, or undefined when compacted away or beyond the last index. */
  term(index: LogIndex): Term | undefined {
    if (index < this.firstIndex() - 1 || index > this.lastIndex()) return undefined;
    if (this.unstableSnapshot !== undefined && index === this.unstableSnapshot.metadata.index) {
      return this.unstableSnapshot.metadata.term;
    }
    if (index >= this.unstableOffset) {
      const entry = this.unstableEntries[index - this.unstableOffset];
      assert(entry !== undefined, 'unstable entry present');
      return entry.term;
    }
    try {
      return this.storage.term(index);
    } catch (err) {
      if (err instanceof LogCompactedError) return undefined;
      throw err;
    }
  }

  matchTerm(index: LogIndex, term: Term): boolean {
    return this.term(index) === term;
  }

  /** Paper §5.4.1: the candidate's log is at least as up-to-date as ours. */
  isUpToDate(lastIndex: LogIndex, lastTerm: Term): boolean {
    const ourLastTerm = this.lastTerm();
    return lastTerm > ourLastTerm || (lastTerm === ourLastTerm && lastIndex >= this.lastIndex());
  }

  /** Appends to the unstable tail, truncating whatever follows entries[0].index - 1. */
  append(entries: readonly LogEntry[]): void {
    const first = entries[0];
    if (first === undefined) return;
    assert(first.index > this.committed, `never truncate committed entries (${first.index} <= ${this.committed})`);
    assert(first.index <= this.lastIndex() + 1, 'appended entries follow the log without a gap');
    const endIndex = this.unstableOffset + this.unstableEntries.length;
    if (first.index === endIndex) {
      // A loop, not push(...entries): a follower catching up may take more entries at once
      // than a call has room for arguments.
      for (const entry of entries) this.unstableEntries.push(entry);
    } else if (first.index <= this.unstableOffset) {
      // Replaces part of the durable log too; the host's append overwrites it on disk.
      this.unstableOffset = first.index;
      this.unstableEntries = [...entries];
    } else {
      this.unstableEntries = [...this.unstableEntries.slice(0, first.index - this.unstableOffset), ...entries];
    }
  }

  /**
   * Paper §5.3 AppendEntries receiver rules 2-5. Returns the last new index when the log
   * matched at prevLogIndex, undefined otherwise.
   */
  maybeAppend(
    prevLogIndex: LogIndex,
    prevLogTerm: Term,
    commit: LogIndex,
    entries: readonly LogEntry[],
  ): { lastNewIndex: LogIndex; appended: readonly LogEntry[] } | undefined {
    if (!this.matchTerm(prevLogIndex, prevLogTerm)) return undefined;
    const lastNewIndex = logIndex(prevLogIndex + entries.length);
    const conflictPosition = this.findConflictPosition(entries);
    const appended = conflictPosition === undefined ? [] : entries.slice(conflictPosition);
    this.append(appended);
    this.commitTo(logIndex(Math.min(commit, lastNewIndex)));
    return { lastNewIndex, appended };
  }

  /** The position in `entries` of the first entry we lack or hold with another term. */
  private findConflictPosition(entries: readonly LogEntry[]): number | undefined {
    for (let position = 0; position < entries.length; position++) {
      const entry = entries[position];
      assert(entry !== undefined, 'entry present');
      if (!this.matchTerm(entry.index, entry.term)) return position;
    }
    return undefined;
  }

  /**
   * The largest index <= `index` whose term is <= `term` (or the first compacted position):
   * the leader and follower agree on nothing between it and `index` (etcd findConflictByTerm).
   */
  findConflictByTerm(index: LogIndex, term: Term): LogIndex {
    let candidate = logIndex(Math.min(index, this.lastIndex()));
    for (;;) {
      const candidateTerm = this.term(candidate);
      if (candidateTerm === undefined || candidateTerm <= term) return candidate;
      candidate = logIndex(candidate - 1);
    }
  }

  commitTo(index: LogIndex): void {
    if (index <= this.committed) return;
    assert(index <= this.lastIndex(), `commit ${index} beyond last index ${this.lastIndex()}`);
    this.committed = index;
  }

  /**
   * Entries [lowIndex, highIndexExclusive) up to `sizeBytesMax` (at least one), or undefined if
   * lowIndex is compacted (the caller then sends a snapshot).
   */
  slice(lowIndex: LogIndex, highIndexExclusive: LogIndex, sizeBytesMax: number): LogEntry[] | undefined {
    if (lowIndex >= highIndexExclusive) return [];
    if (lowIndex < this.firstIndex()) return undefined;
    assert(highIndexExclusive <= this.lastIndex() + 1, 'slice within the log');
    let result: LogEntry[] = [];
    if (lowIndex < this.unstableOffset) {
      const storageHigh = logIndex(Math.min(highIndexExclusive, this.unstableOffset));
      try {
        result = this.storage.entries(lowIndex, storageHigh, sizeBytesMax);
      } catch (err) {
        if (err instanceof LogCompactedError) return undefined;
        throw err;
      }
      if (result.length < storageHigh - lowIndex) return result;
    }
    let sizeBytes = result.reduce((sum, entry) => sum + entry.data.length, 0);
    const unstableLow = Math.max(lowIndex, this.unstableOffset);
    for (let index = unstableLow; index < highIndexExclusive; index++) {
      const entry = this.unstableEntries[index - this.unstableOffset];
      assert(entry !== undefined, 'unstable entry present');
      sizeBytes += entry.data.length;
      if (result.length > 0 && sizeBytes > sizeBytesMax) break;
      result.push(entry);
    }
    return result;
  }

  /** The latest snapshot: the unstable one if any, else the durable one. */
  snapshot(): Snapshot {
    return this.unstableSnapshot ?? this.storage.snapshot();
  }

  /** Committed entries not yet applied, up to `sizeBytesMax`. */
  nextCommittedEntries(sizeBytesMax: number): LogEntry[] {
    const lowIndex = logIndex(Math.max(this.applied + 1, this.firstIndex()));
    if (lowIndex > this.committed) return [];
    const entries = this.slice(lowIndex, logIndex(this.committed + 1), sizeBytesMax);
    assert(entries !== undefined, 'unapplied committed entries are never compacted');
    return entries;
  }

  hasNextCommittedEntries(): boolean {
    return Math.max(this.applied + 1, this.firstIndex()) <= this.committed;
  }

  /** Installs a leader's snapshot: the whole log is replaced (paper §7, receiver rule 7). */
  restore(snapshot: Snapshot): void {
    this.unstableSnapshot = snapshot;
    this.unstableOffset = logIndex(snapshot.metadata.index + 1);
    this.unstableEntries = [];
    this.committed = snapshot.metadata.index;
  }

  /** The host persisted entries up to (index, term): drop them from the unstable tail. */
  stableTo(index: LogIndex, term: Term): void {
    if (index < this.unstableOffset) return;
    const entry = this.unstableEntries[index - this.unstableOffset];
    // The entry may have been replaced by a newer leader's since the Ready was taken.
    if (entry === undefined || entry.term !== term) return;
    this.unstableEntries = this.unstableEntries.slice(index + 1 - this.unstableOffset);
    this.unstableOffset = logIndex(index + 1);
  }

  stableSnapshotTo(index: LogIndex): void {
    if (this.unstableSnapshot !== undefined && this.unstableSnapshot.metadata.index === index) {
      this.unstableSnapshot = undefined;
    }
  }

  appliedTo(index: LogIndex): void {
    if (index <= this.applied) return;
    assert(index <= this.committed, `applied ${index} beyond commit ${this.committed}`);
    this.applied = index;
  }
}


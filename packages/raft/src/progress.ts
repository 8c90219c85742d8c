import type { LogIndex } from '@tessera/common';
import { assert, logIndex } from '@tessera/common';

/**
 * Flow-control states of one follower as seen by the leader (etcd tracker):
 * - `probe`: we do not know where the logs match; send one Append per heartbeat round trip.
 * - `replicate`: logs match up to `matchIndex`; stream Appends optimistically, at most
 *   maxInflightAppendCount unacknowledged at a time.
 * - `snapshot`: a snapshot is on its way; send nothing until it is acknowledged.
 */
export type ProgressState = 'probe' | 'replicate' | 'snapshot';

/** Bounded FIFO of the last index of each unacknowledged Append. */
class Inflights {
  private lastIndexes: LogIndex[] = [];
  constructor(private readonly capacity: number) {}
  full(): boolean {
    return this.lastIndexes.length >= this.capacity;
  }
  count(): number {
    return this.lastIndexes.length;
  }
  add(lastIndex: LogIndex): void {
    assert(!this.full(), 'inflights not full when sending');
    this.lastIndexes.push(lastIndex);
  }
  /** Acknowledged up to `index`: everything at or below it has arrived. */
  freeTo(index: LogIndex): void {
    let position = 0;
    while (position < this.lastIndexes.length && (this.lastIndexes[position] as number) <= index) position++;
    this.lastIndexes.splice(0, position);
  }
  freeFirst(): void {
    this.lastIndexes.shift();
  }
  reset(): void {
    this.lastIndexes = [];
  }
}

export class Progress {
  matchIndex: LogIndex = logIndex(0);
  nextIndex: LogIndex;
  state: ProgressState = 'probe';
  /** In probe state: an Append was sent and we wait for its answer (or a heartbeat answer). */
  probeSent = false;
  /** In snapshot state: the snapshot index sent. */
  pendingSnapshotIndex: LogIndex = logIndex(0);
  /** Ticks spent in the current state; a snapshot lost on the wire is resent after a timeout. */
  stateElapsedTicks = 0;
  /** Heard from since the last check-quorum round. */
  recentActive = false;
  readonly inflights: Inflights;

  constructor(nextIndex: LogIndex, maxInflightAppendCount: number, readonly isLearner: boolean) {
    this.nextIndex = nextIndex;
    this.inflights = new Inflights(maxInflightAppendCount);
  }

  isPaused(): boolean {
    switch (this.state) {
      case 'probe':
        return this.probeSent;
      case 'replicate':
        return this.inflights.full();
      case 'snapshot':
        return true;
    }
  }

  becomeProbe(): void {
    if (this.state === 'snapshot') {
      this.nextIndex = logIndex(Math.max(this.matchIndex + 1, this.pendingSnapshotIndex + 1));
    } else {
      this.nextIndex = logIndex(this.matchIndex + 1);
    }
    this.enter('probe');
  }

  becomeReplicate(): void {
    this.nextIndex = logIndex(this.matchIndex + 1);
    this.enter('replicate');
  }

  becomeSnapshot(snapshotIndex: LogIndex): void {
    this.pendingSnapshotIndex = snapshotIndex;
    this.enter('snapshot');
  }

  private enter(state: ProgressState): void {
    this.state = state;
    this.probeSent = false;
    this.stateElapsedTicks = 0;
    this.inflights.reset();
  }

  /** An Append ending at `lastIndex` was sent. */
  sentEntries(lastIndex: LogIndex | undefined): void {
    if (this.state === 'replicate') {
      if (lastIndex === undefined) return;
      this.nextIndex = logIndex(lastIndex + 1);
      this.inflights.add(lastIndex);
    } else {
      this.probeSent = true;
    }
  }

  /** A successful AppendResponse for `index`. Returns false if it told us nothing new. */
  maybeUpdate(index: LogIndex): boolean {
    const updated = this.matchIndex < index;
    if (updated) {
      this.matchIndex = index;
      this.probeSent = false;
    }
    this.nextIndex = logIndex(Math.max(this.nextIndex, index + 1));
    return updated;
  }

  /**
   * A rejected Append at `rejectedIndex`; the follower agrees with us at most up to
   * `matchHintIndex`. Returns false for a stale rejection.
   */
  maybeDecreaseTo(rejectedIndex: LogIndex, matchHintIndex: LogIndex): boolean {
    if (this.state === 'replicate') {
      if (rejectedIndex <= this.matchIndex) return false;
      this.nextIndex = logIndex(this.matchIndex + 1);
      return true;
    }
    if (this.nextIndex - 1 !== rejectedIndex) return false;
    this.nextIndex = logIndex(Math.max(Math.min(rejectedIndex, matchHintIndex + 1), this.matchIndex + 1));
    this.probeSent = false;
    return true;
  }
}

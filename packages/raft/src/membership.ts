import type { LogIndex } from '@tessera/common';
import { assert } from '@tessera/common';
import type { Membership, MembershipChange, NodeId } from './types';

/** Majority of `voterCount` (thesis §4.1: any two majorities of one configuration overlap). */
export function quorumSize(voterCount: number): number {
  return Math.floor(voterCount / 2) + 1;
}

export function isVoter(membership: Membership, nodeId: NodeId): boolean {
  return membership.voters.includes(nodeId);
}

export function isMember(membership: Membership, nodeId: NodeId): boolean {
  return membership.voters.includes(nodeId) || membership.learners.includes(nodeId);
}

/**
 * The membership after one single-server change, or a reason it is not allowed. Changing one
 * voter at a time keeps every majority of the old configuration overlapping every majority of
 * the new one (thesis §4.1), so no joint consensus is needed.
 */
export function applyMembershipChange(membership: Membership, change: MembershipChange): Membership | string {
  const { nodeId } = change;
  switch (change.kind) {
    case 'addLearner':
      if (isMember(membership, nodeId)) return `${nodeId} is already a member`;
      return { voters: membership.voters, learners: sorted([...membership.learners, nodeId]) };
    case 'add':
      if (isVoter(membership, nodeId)) return `${nodeId} is already a voter`;
      return { voters: sorted([...membership.voters, nodeId]), learners: membership.learners.filter((id) => id !== nodeId) };
    case 'remove':
      if (!isMember(membership, nodeId)) return `${nodeId} is not a member`;
      if (isVoter(membership, nodeId) && membership.voters.length === 1) return 'cannot remove the last voter';
      return { voters: membership.voters.filter((id) => id !== nodeId), learners: membership.learners.filter((id) => id !== nodeId) };
  }
}

function sorted(ids: NodeId[]): NodeId[] {
  return ids.sort();
}

/**
 * Memberships by the index of the entry that introduced them. A configuration takes effect as
 * soon as its entry is appended (thesis §4.1), and is undone if that entry is truncated, so
 * the current membership is always the last record at or below the last log index.
 */
export class MembershipHistory {
  private records: { index: LogIndex; membership: Membership }[];

  constructor(baseIndex: LogIndex, base: Membership) {
    this.records = [{ index: baseIndex, membership: base }];
  }

  current(): Membership {
    const last = this.records[this.records.length - 1];
    assert(last !== undefined, 'membership history is never empty');
    return last.membership;
  }

  /** Index of the entry that introduced the current membership. */
  currentIndex(): LogIndex {
    const last = this.records[this.records.length - 1];
    assert(last !== undefined, 'membership history is never empty');
    return last.index;
  }

  at(index: LogIndex): Membership {
    let result: Membership | undefined;
    for (const record of this.records) {
      if (record.index <= index) result = record.membership;
    }
    assert(result !== undefined, `membership known at ${index}`);
    return result;
  }

  record(index: LogIndex, membership: Membership): void {
    assert(index > this.currentIndex(), 'membership records are appended in index order');
    this.records.push({ index, membership });
  }

  /** The log was truncated from `index` on: forget the configurations it introduced. */
  truncateFrom(index: LogIndex): void {
    while (this.records.length > 1 && (this.records[this.records.length - 1]?.index ?? 0) >= index) this.records.pop();
  }

  /** Drops records wholly superseded at or below `index` (after compaction). */
  pruneTo(index: LogIndex): void {
    while (this.records.length > 1 && (this.records[1]?.index ?? Infinity) <= index) this.records.shift();
  }

  reset(index: LogIndex, membership: Membership): void {
    this.records = [{ index, membership }];
  }
}

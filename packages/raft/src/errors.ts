import type { NodeId } from './types';

/**
 * Operating errors of the Raft core: expected during leader changes, handled by callers
 * (retry elsewhere, or tell the client). Invariant violations are `AssertionError`s instead.
 */
export class NotLeaderError extends Error {
  static readonly errorName = 'NotLeaderError';
  constructor(readonly leaderHint: NodeId | undefined) {
    super(leaderHint === undefined ? 'not the leader; leader unknown' : `not the leader; try ${leaderHint}`);
    this.name = NotLeaderError.errorName;
  }
}

/**
 * The leader refused a request: a proposal during a leadership transfer, a membership change
 * while another is pending or that does not fit the membership, a transfer to a non-voter.
 */
export class ProposalDroppedError extends Error {
  static readonly errorName = 'ProposalDroppedError';
  constructor(readonly reason: 'leadershipTransfer' | 'membershipChangePending' | 'invalidMembershipChange' | 'invalidTransferTarget', detail?: string) {
    super(`proposal dropped: ${reason}${detail === undefined ? '' : `: ${detail}`}`);
    this.name = ProposalDroppedError.errorName;
  }
}

/** Thrown by a RaftLogView for an index that compaction has removed. */
export class LogCompactedError extends Error {
  static readonly errorName = 'LogCompactedError';
  constructor(readonly index: number) {
    super(`log index ${index} is compacted`);
    this.name = LogCompactedError.errorName;
  }
}

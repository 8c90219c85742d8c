import type { LogIndex, Term } from '@tessera/common';
import type { ProgressState } from './progress';
import type { Membership, NodeId, RaftRole } from './types';

/** The leader's view of one member's replication. */
export interface FollowerProgress {
  readonly matchIndex: LogIndex;
  readonly nextIndex: LogIndex;
  readonly state: ProgressState;
  readonly recentActive: boolean;
  readonly isLearner: boolean;
  /** Unacknowledged Append messages in flight. */
  readonly inflightAppendCount: number;
}

/** A read-only picture of a node, for metrics, logs and admin tools. */
export interface RaftStatus {
  readonly id: NodeId;
  readonly role: RaftRole;
  readonly term: Term;
  readonly vote: NodeId | undefined;
  readonly leaderId: NodeId | undefined;
  readonly commitIndex: LogIndex;
  readonly appliedIndex: LogIndex;
  readonly lastIndex: LogIndex;
  readonly firstIndex: LogIndex;
  readonly membership: Membership;
  /** Index of the entry that introduced `membership` (0 if from bootstrap). */
  readonly membershipIndex: LogIndex;
  /** Set while a leadership transfer is under way. */
  readonly leadTransferee: NodeId | undefined;
  /** Started after a loss of its durable state and not caught up yet: it neither votes nor campaigns. */
  readonly recoveringFromDataLoss: boolean;
  /** Per member, on the leader only (empty otherwise). */
  readonly progress: Readonly<Record<NodeId, FollowerProgress>>;
}

import type { LogIndex, Term } from '@tessera/common';

/** A Raft member's identity. Stable across restarts; never reused for a different member. */
export type NodeId = string;

/** The roles of thesis §3.3 plus pre-candidate (thesis §9.6, pre-vote). */
export type RaftRole = 'follower' | 'preCandidate' | 'candidate' | 'leader';

/**
 * The state that must be durable before any message that depends on it is sent
 * (Raft paper figure 2, "persistent state on all servers"). `commit` is persisted too so a
 * restarted node does not re-apply less than it knows is committed; it is only a hint.
 */
export interface HardState {
  readonly term: Term;
  /** The candidate this node voted for in `term`, or undefined if none. */
  readonly vote: NodeId | undefined;
  readonly commit: LogIndex;
}

/**
 * Who takes part. Voters count in every quorum; learners receive the log but neither vote nor
 * count (thesis §4.2.1: a new server catches up as a non-voting member first).
 */
export interface Membership {
  readonly voters: readonly NodeId[];
  readonly learners: readonly NodeId[];
}

/** One single-server change (thesis §4.1). */
export type MembershipChangeKind = 'addLearner' | 'add' | 'remove';

export interface MembershipChange {
  /**
   * `addLearner`: join as a non-voting learner (catch-up phase).
   * `add`: become a voter (promotes a learner, or adds directly).
   * `remove`: leave, whether voter or learner.
   */
  readonly kind: MembershipChangeKind;
  readonly nodeId: NodeId;
}

/**
 * What an entry carries. `normal` entries hold opaque state-machine commands; `membership`
 * entries hold an encoded {@link MembershipChangeRecord} (use `decodeMembershipChangeRecord`);
 * `empty` is the no-op a new leader appends to commit entries from earlier terms (paper §5.4.2,
 * thesis §6.4). Hosts apply `normal` entries and skip the other two kinds.
 */
export type LogEntryKind = 'normal' | 'membership' | 'empty';

export interface LogEntry {
  readonly index: LogIndex;
  readonly term: Term;
  readonly kind: LogEntryKind;
  readonly data: Uint8Array;
}

/** The payload of a `membership` entry: the change and the whole resulting membership. */
export interface MembershipChangeRecord {
  readonly change: MembershipChange;
  readonly membership: Membership;
}

/** Describes the state-machine snapshot: everything up to and including `index` is in it. */
export interface SnapshotMetadata {
  readonly index: LogIndex;
  readonly term: Term;
  /** Membership as of `index` (the last membership entry at or before it). */
  readonly membership: Membership;
}

export interface Snapshot {
  readonly metadata: SnapshotMetadata;
  /** The host's serialized state machine; opaque to Raft. */
  readonly data: Uint8Array;
}

/** Volatile state reported in Ready when it changes; never persisted. */
export interface SoftState {
  readonly role: RaftRole;
  readonly leaderId: NodeId | undefined;
}

/**
 * A confirmed linearizable read (thesis §6.4): once the host's applied index reaches `index`,
 * it may answer the read identified by `requestId` from its state machine.
 */
export interface ReadState {
  readonly requestId: string;
  readonly index: LogIndex;
}

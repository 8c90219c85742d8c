import type { LogIndex, Term } from '@tessera/common';
import type { LogEntry, NodeId, Snapshot } from './types';

/**
 * Every message carries the sender's view of the term; receivers compare it with their own
 * first (paper §5.1: "if one server's current term is smaller than the other's, then it updates
 * its current term"). `to` lets the host route a batch of messages.
 */
interface MessageBase {
  readonly from: NodeId;
  readonly to: NodeId;
  readonly term: Term;
}

/**
 * Pre-vote request (thesis §9.6). `term` is the term the sender WOULD campaign in; the sender
 * has not incremented its own term, so a partitioned node cannot inflate terms.
 */
export interface PreVoteMessage extends MessageBase {
  readonly kind: 'preVote';
  readonly lastLogIndex: LogIndex;
  readonly lastLogTerm: Term;
}

/** Reply to a pre-vote: when granted, `term` echoes the proposed term. */
export interface PreVoteResponseMessage extends MessageBase {
  readonly kind: 'preVoteResponse';
  readonly reject: boolean;
}

/** RequestVote (paper §5.2). `leadershipTransfer` lets it bypass leader stickiness (§3.10). */
export interface VoteMessage extends MessageBase {
  readonly kind: 'vote';
  readonly lastLogIndex: LogIndex;
  readonly lastLogTerm: Term;
  readonly leadershipTransfer: boolean;
}

export interface VoteResponseMessage extends MessageBase {
  readonly kind: 'voteResponse';
  readonly reject: boolean;
}

/** AppendEntries (paper §5.3). `commit` is the leader's commit index. */
export interface AppendMessage extends MessageBase {
  readonly kind: 'append';
  readonly prevLogIndex: LogIndex;
  readonly prevLogTerm: Term;
  readonly entries: readonly LogEntry[];
  readonly commit: LogIndex;
}

/**
 * AppendEntries reply. On success `index` is the follower's last index matching the leader.
 * On reject `index` is the rejected `prevLogIndex`, and (`rejectHint`, `rejectHintTerm`) is the
 * follower's best guess of where the logs agree, so the leader skips a whole conflicting term
 * per round trip instead of one entry (paper §5.3, "the protocol can be optimized").
 */
export interface AppendResponseMessage extends MessageBase {
  readonly kind: 'appendResponse';
  readonly reject: boolean;
  readonly index: LogIndex;
  readonly rejectHint: LogIndex;
  readonly rejectHintTerm: Term;
}

/**
 * Leader liveness (paper §5.2) carrying `commit` (capped at what the follower is known to have)
 * and `readSequence`, the leader's latest ReadIndex round (thesis §6.4), echoed in the reply.
 */
export interface HeartbeatMessage extends MessageBase {
  readonly kind: 'heartbeat';
  readonly commit: LogIndex;
  readonly readSequence: number;
}

export interface HeartbeatResponseMessage extends MessageBase {
  readonly kind: 'heartbeatResponse';
  readonly readSequence: number;
}

/**
 * InstallSnapshot (paper §7). The core produces and consumes the whole snapshot; a transport
 * may split `snapshot.data` into chunks on the wire and must reassemble the complete message
 * before calling `step()` (a partial snapshot is never stepped). Acknowledged by an
 * `appendResponse` carrying the follower's new last index.
 */
export interface SnapshotMessage extends MessageBase {
  readonly kind: 'snapshot';
  readonly snapshot: Snapshot;
}

/** Leadership transfer (thesis §3.10): "start an election now", skipping pre-vote. */
export interface TimeoutNowMessage extends MessageBase {
  readonly kind: 'timeoutNow';
}

/** A follower forwards a linearizable read to its leader (thesis §6.4). */
export interface ReadIndexMessage extends MessageBase {
  readonly kind: 'readIndex';
  readonly requestId: string;
}

/**
 * The leader's answer to a forwarded read. `reject` means the leader could not serve it (it
 * lost leadership); the host should retry.
 */
export interface ReadIndexResponseMessage extends MessageBase {
  readonly kind: 'readIndexResponse';
  readonly requestId: string;
  readonly index: LogIndex;
  readonly reject: boolean;
}

/** The closed vocabulary of messages between Raft nodes. */
export type RaftMessage =
  | PreVoteMessage
  | PreVoteResponseMessage
  | VoteMessage
  | VoteResponseMessage
  | AppendMessage
  | AppendResponseMessage
  | HeartbeatMessage
  | HeartbeatResponseMessage
  | SnapshotMessage
  | TimeoutNowMessage
  | ReadIndexMessage
  | ReadIndexResponseMessage;

export type RaftMessageKind = RaftMessage['kind'];

/** Every kind, in wire-code order (the codec uses the position as the kind byte). */
export const raftMessageKinds: readonly RaftMessageKind[] = [
  'preVote',
  'preVoteResponse',
  'vote',
  'voteResponse',
  'append',
  'appendResponse',
  'heartbeat',
  'heartbeatResponse',
  'snapshot',
  'timeoutNow',
  'readIndex',
  'readIndexResponse',
];

/**
 * @packageDocumentation
 * A pure, deterministic Raft core modelled on etcd's RawNode: no timers, sockets, disk, clocks
 * or randomness of its own. The host drives it with `tick()`/`step()` and performs the I/O that
 * `ready()` asks for, in the order documented on {@link Ready}.
 *
 * ```ts
 * import { MemoryRaftStorage, RaftNode } from '@tessera/raft';
 * import { SeededRandom } from '@tessera/common';
 *
 * const storage = new MemoryRaftStorage();
 * const node = new RaftNode({
 *   id: 'a', bootstrapVoters: ['a', 'b', 'c'], storage, random: new SeededRandom(1),
 *   electionTimeoutTicks: 10, heartbeatIntervalTicks: 1, preVote: true, checkQuorum: true,
 *   maxInflightAppendCount: 64, maxAppendSizeBytes: 1 << 20,
 * });
 * // every tickIntervalMs: node.tick(); on every message: node.step(message); then:
 * while (node.hasReady()) {
 *   const ready = node.ready();
 *   if (ready.snapshot) storage.applySnapshot(ready.snapshot);
 *   storage.append(ready.entries);
 *   if (ready.hardState) storage.setHardState(ready.hardState); // durable before sending
 *   send(ready.messages);
 *   apply(ready.committedEntries);
 *   node.advance(ready);
 * }
 * ```
 */
export type { LogIndex, Term } from '@tessera/common';
export type {
  HardState,
  LogEntry,
  LogEntryKind,
  Membership,
  MembershipChange,
  MembershipChangeKind,
  MembershipChangeRecord,
  NodeId,
  RaftRole,
  ReadState,
  Snapshot,
  SnapshotMetadata,
  SoftState,
} from './types';
export type {
  AppendMessage,
  AppendResponseMessage,
  HeartbeatMessage,
  HeartbeatResponseMessage,
  PreVoteMessage,
  PreVoteResponseMessage,
  RaftMessage,
  RaftMessageKind,
  ReadIndexMessage,
  ReadIndexResponseMessage,
  SnapshotMessage,
  TimeoutNowMessage,
  VoteMessage,
  VoteResponseMessage,
} from './messages';
export { raftMessageKinds } from './messages';
export type { Ready } from './ready';
export type { RaftConfig } from './config';
export { validateRaftConfig } from './config';
export type { RaftLogView } from './storage';
export { MemoryRaftStorage, emptyHardState, emptySnapshot } from './storage';
export { LogCompactedError, NotLeaderError, ProposalDroppedError } from './errors';
export type { FollowerProgress, RaftStatus } from './status';
export type { ProgressState } from './progress';
export type { ProposalPosition } from './raft-node';
export { RaftNode } from './raft-node';
export { applyMembershipChange, isMember, isVoter, quorumSize } from './membership';
export {
  RaftCodecError,
  decodeHardState,
  decodeLogEntry,
  decodeMembershipChangeRecord,
  decodeRaftMessage,
  decodeSnapshotMetadata,
  encodeHardState,
  encodeLogEntry,
  encodeMembershipChangeRecord,
  encodeRaftMessage,
  encodeSnapshotMetadata,
} from './codec';
export { describeLogEntry, describeRaftMessage } from './describe';

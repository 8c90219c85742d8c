import type { LogIndex, Term } from '@tessera/common';
import { assert, assertNever, logIndex, term as toTerm } from '@tessera/common';
import { decodeMembershipChangeRecord, encodeMembershipChangeRecord } from './codec';
import type { RaftConfig } from './config';
import { validateRaftConfig } from './config';
import { NotLeaderError, ProposalDroppedError } from './errors';
import { applyMembershipChange, isVoter, MembershipHistory, quorumSize } from './membership';
import type {
  AppendMessage,
  AppendResponseMessage,
  HeartbeatMessage,
  HeartbeatResponseMessage,
  PreVoteMessage,
  RaftMessage,
  ReadIndexResponseMessage,
  SnapshotMessage,
  VoteMessage,
} from './messages';
import { Progress } from './progress';
import { RaftLog } from './raft-log';
import type { Ready } from './ready';
import type { FollowerProgress, RaftStatus } from './status';
import type {
  HardState,
  LogEntry,
  LogEntryKind,
  Membership,
  MembershipChange,
  NodeId,
  RaftRole,
  ReadState,
  Snapshot,
  SnapshotMetadata,
  SoftState,
} from './types';

/** Where a proposal landed; the host matches it against `committedEntries` to answer clients. */
export interface ProposalPosition {
  readonly index: LogIndex;
  readonly term: Term;
}

/**
 * Committed entries handed to the host per Ready are capped so a restart with a long log
 * does not build one huge batch; the rest follow in the next Ready.
 */
const committedEntriesSizeBytesMax = 16 * 1024 * 1024;

interface PendingRead {
  readonly requestId: string;
  readonly from: NodeId;
  readonly index: LogIndex;
  readonly sequence: number;
}

type VoteKind = 'preVote' | 'vote';

type Distribute<T> = T extends RaftMessage ? Omit<T, 'from' | 'term'> : never;
type OutgoingMessage = Distribute<RaftMessage>;

/**
 * One Raft member as a pure state machine (modelled on etcd's RawNode). Inputs: `tick()`,
 * `step(message)`, `propose()`, `readIndex()`, `transferLeadership()`,
 * `proposeMembershipChange()`. Outputs: `ready()`, which the host persists, sends and applies
 * in the documented order before calling `advance()`. No I/O, timers, clocks or randomness of
 * its own: the same inputs always give the same outputs.
 *
 * Not re-entrant and not thread-safe: exactly one host loop owns a RaftNode.
 */
export class RaftNode {
  readonly id: NodeId;
  private readonly config: RaftConfig;
  private readonly log: RaftLog;
  private readonly memberships: MembershipHistory;

  private currentTerm: Term;
  private vote: NodeId | undefined;
  private role: RaftRole = 'follower';
  private leaderId: NodeId | undefined = undefined;

  private electionElapsedTicks = 0;
  private heartbeatElapsedTicks = 0;
  private randomizedElectionTimeoutTicks = 0;

  /** Granted (true) or rejected (false) votes of the current (pre-)campaign. */
  private votes = new Map<NodeId, boolean>();
  /** Leader only: one entry per member, self included. */
  private progress = new Map<NodeId, Progress>();
  private leadTransferee: NodeId | undefined = undefined;
  /** See RaftConfig.recoveringFromDataLoss: set while recovering. */
  private recoveryGroupTerm: Term | undefined;
  /** The commit index of the first leader message received while recovering. */
  private recoveryTargetIndex: LogIndex | undefined = undefined;

  private outbox: RaftMessage[] = [];
  private confirmedReads: ReadState[] = [];
  /** Leader only: reads waiting for an entry of this term to commit (thesis §6.4 step 1). */
  private readsAwaitingCommit: { requestId: string; from: NodeId }[] = [];
  /** Leader only: reads waiting for a heartbeat round to confirm leadership. */
  private pendingReads: PendingRead[] = [];
  private readSequence = 0;
  /** Leader only: the highest read sequence each member has echoed this term. */
  private readAcks = new Map<NodeId, number>();
  /**
   * Leader only: the read sequence carried by the last heartbeat round sent. Reads that arrive
   * while that round is unconfirmed wait for the next one instead of each sending its own, so
   * under load one round (2 messages per follower) confirms a whole batch of reads.
   */
  private readRoundSequence = 0;

  /**
   * Leader only: entries were appended since the last Ready. Appends are sent when the host
   * takes the next Ready, so every proposal made between two Readies travels in one Append
   * per follower (batching) instead of one message per proposal.
   */
  private appendsPending = false;

  private previousSoftState: SoftState;
  private previousHardState: HardState;
  private readyOutstanding = false;

  constructor(config: RaftConfig) {
    validateRaftConfig(config);
    this.id = config.id;
    this.config = config;
    const storage = config.storage;
    const hardState = storage.hardState();
    this.log = new RaftLog(storage, config.appliedIndex);
    this.currentTerm = hardState.term;
    this.vote = hardState.vote;
    this.memberships = restoreMemberships(config);
    this.recoveryGroupTerm = config.recoveringFromDataLoss?.groupTerm;
    if (this.recoveryGroupTerm !== undefined && this.recoveryGroupTerm > this.currentTerm) {
      // Adopt the group's term, as any message carrying it would make us do: a stale leader of
      // an older term then gets a rejection, not the acknowledgements that would let it commit.
      this.currentTerm = this.recoveryGroupTerm;
      this.vote = undefined;
    }
    this.previousHardState = hardState;
    this.previousSoftState = { role: this.role, leaderId: this.leaderId };
    this.resetElectionTimer();
  }

  // ---------------------------------------------------------------- inputs

  /** Advances logical time by one tick. The host calls it every tickIntervalMs. */
  tick(): void {
    if (this.role === 'leader') {
      this.tickLeader();
    } else {
      this.electionElapsedTicks += 1;
      if (this.promotable() && this.electionElapsedTicks >= this.randomizedElectionTimeoutTicks) {
        this.electionElapsedTicks = 0;
        this.startCampaign(this.config.preVote ? 'preVote' : 'vote', false);
      }
    }
  }

  /** Starts an election now (tests and tools; normally elections start from `tick`). */
  campaign(): void {
    if (!this.promotable() || this.role === 'leader') return;
    this.startCampaign(this.config.preVote ? 'preVote' : 'vote', false);
  }

  /**
   * Proposes a state-machine command. Throws NotLeaderError (with a hint) on a non-leader and
   * ProposalDroppedError during a leadership transfer. The command is committed only once it
   * appears in `committedEntries` at the returned position; a different entry there (after a
   * leader change) means it was lost and the client must be told to retry.
   */
  propose(data: Uint8Array): ProposalPosition {
    this.assertCanPropose();
    return this.appendOwnEntry('normal', data);
  }

  /**
   * Proposes one single-server membership change (thesis §4.1). Refused with
   * ProposalDroppedError while another change is uncommitted, or before this leader has
   * committed an entry of its own term (the fix to single-server changes in Ongaro's
   * raft-dev post of 2015), or if the change is not valid for the current membership.
   * The new membership takes effect as soon as the entry is appended.
   */
  proposeMembershipChange(change: MembershipChange): ProposalPosition {
    this.assertCanPropose();
    if (this.memberships.currentIndex() > this.log.committed || !this.committedInCurrentTerm()) {
      throw new ProposalDroppedError('membershipChangePending');
    }
    const membership = applyMembershipChange(this.memberships.current(), change);
    if (typeof membership === 'string') throw new ProposalDroppedError('invalidMembershipChange', membership);
    return this.appendOwnEntry('membership', encodeMembershipChangeRecord({ change, membership }));
  }

  /**
   * Asks for a linearizable read (thesis §6.4). When confirmed, `{requestId, index}` appears
   * in `Ready.readStates` (on this node, also when forwarded by a follower); the host answers
   * once its applied index reaches `index`. A request lost to a leader change is never
   * confirmed: the host retries after its own deadline. Throws NotLeaderError when this node
   * knows no leader.
   */
  readIndex(requestId: string): void {
    if (this.role === 'leader') {
      this.handleReadRequest(requestId, this.id);
      return;
    }
    if (this.leaderId === undefined) throw new NotLeaderError(undefined);
    this.send({ kind: 'readIndex', to: this.leaderId, requestId });
  }

  /**
   * Hands leadership to `targetId` (thesis §3.10): stop taking proposals, bring the target up
   * to date, then send it TimeoutNow so it campaigns at once. Abandoned after an election
   * timeout if the target does not take over.
   */
  transferLeadership(targetId: NodeId): void {
    if (this.role !== 'leader') throw new NotLeaderError(this.leaderId);
    if (targetId === this.id || targetId === this.leadTransferee) return;
    if (!isVoter(this.memberships.current(), targetId)) {
      throw new ProposalDroppedError('invalidTransferTarget', `${targetId} is not a voter`);
    }
    this.leadTransferee = targetId;
    this.electionElapsedTicks = 0;
    const targetProgress = this.progress.get(targetId);
    assert(targetProgress !== undefined, 'every voter has progress on the leader');
    if (targetProgress.matchIndex === this.log.lastIndex()) {
      this.send({ kind: 'timeoutNow', to: targetId });
    } else {
      this.sendAppend(targetId);
    }
  }

  /** Feeds one message received from a peer. Messages for another node are a host bug. */
  step(message: RaftMessage): void {
    assert(message.to === this.id, `message for ${message.to} stepped into ${this.id}`);
    if (message.term > this.currentTerm) {
      if (!this.acceptHigherTerm(message)) return;
    } else if (message.term < this.currentTerm) {
      this.answerLowerTerm(message);
      return;
    }
    switch (message.kind) {
      case 'preVote':
      case 'vote':
        this.handleVoteRequest(message);
        return;
      default:
        break;
    }
    switch (this.role) {
      case 'leader':
        this.stepLeader(message);
        return;
      case 'candidate':
      case 'preCandidate':
        this.stepCandidate(message);
        return;
      case 'follower':
        this.stepFollower(message);
        return;
      default:
        assertNever(this.role, 'role');
    }
  }

  // ---------------------------------------------------------------- outputs

  /** True when `ready()` has work for the host. */
  hasReady(): boolean {
    if (this.readyOutstanding) return false;
    const soft = this.softState();
    if (soft.role !== this.previousSoftState.role || soft.leaderId !== this.previousSoftState.leaderId) return true;
    if (!sameHardState(this.hardState(), this.previousHardState)) return true;
    return (
      this.appendsPending ||
      this.log.unstableEntries.length > 0 ||
      this.log.unstableSnapshot !== undefined ||
      this.outbox.length > 0 ||
      this.confirmedReads.length > 0 ||
      this.log.hasNextCommittedEntries()
    );
  }

  /**
   * Takes the pending work. The host must finish it (see Ready for the order) and call
   * `advance(ready)` before the next `ready()`. Steps and ticks may still happen in between.
   */
  ready(): Ready {
    assert(!this.readyOutstanding, 'advance() the previous Ready before taking another');
    if (this.appendsPending) {
      this.appendsPending = false;
      if (this.role === 'leader') this.broadcastAppend(false);
    }
    this.readyOutstanding = true;
    const soft = this.softState();
    const hard = this.hardState();
    const softChanged = soft.role !== this.previousSoftState.role || soft.leaderId !== this.previousSoftState.leaderId;
    const hardChanged = !sameHardState(hard, this.previousHardState);
    this.previousSoftState = soft;
    this.previousHardState = hard;
    const ready: Ready = {
      softState: softChanged ? soft : undefined,
      hardState: hardChanged ? hard : undefined,
      entries: [...this.log.unstableEntries],
      snapshot: this.log.unstableSnapshot,
      committedEntries: this.log.nextCommittedEntries(committedEntriesSizeBytesMax),
      readStates: this.confirmedReads,
      messages: this.outbox,
    };
    this.outbox = [];
    this.confirmedReads = [];
    return ready;
  }

  /** The host finished `ready`: its entries and snapshot are durable and its entries applied. */
  advance(ready: Ready): void {
    assert(this.readyOutstanding, 'advance() follows ready()');
    this.readyOutstanding = false;
    if (ready.snapshot !== undefined) {
      this.log.stableSnapshotTo(ready.snapshot.metadata.index);
      this.log.appliedTo(ready.snapshot.metadata.index);
    }
    const lastEntry = ready.entries[ready.entries.length - 1];
    if (lastEntry !== undefined) this.log.stableTo(lastEntry.index, lastEntry.term);
    const lastCommitted = ready.committedEntries[ready.committedEntries.length - 1];
    if (lastCommitted !== undefined) this.log.appliedTo(lastCommitted.index);
    // Configurations wholly behind the host's compaction point are no longer needed.
    this.memberships.pruneTo(logIndex(this.log.firstIndex() - 1));
    if (this.role === 'leader') {
      // The leader counts its own entries toward a majority only once they are durable
      // (thesis §10.2.1 lets the leader write in parallel with replication for this reason).
      const own = this.progress.get(this.id);
      if (own !== undefined && own.maybeUpdate(this.log.stableLastIndex()) && this.maybeCommit()) {
        this.broadcastAppend();
      }
    }
  }

  /**
   * Metadata for a snapshot of the state machine at `index` (at most the applied index).
   * The host serializes its state machine as of `index`, stores `{metadata, data}` and may
   * then drop log entries up to `index` (log compaction, paper §7). Not while a Ready that
   * carries a received snapshot is between `ready()` and `advance()`.
   */
  snapshotMetadata(index: LogIndex): SnapshotMetadata {
    assert(this.log.unstableSnapshot === undefined, 'no compaction while a received snapshot is being installed');
    assert(index <= this.log.applied, `snapshot at ${index} beyond applied index ${this.log.applied}`);
    const snapshotTerm = this.log.term(index);
    assert(snapshotTerm !== undefined, `term known at snapshot index ${index}`);
    return { index, term: snapshotTerm, membership: this.memberships.at(index) };
  }

  status(): RaftStatus {
    const progress: Record<NodeId, FollowerProgress> = {};
    if (this.role === 'leader') {
      for (const [id, pr] of this.progress) {
        progress[id] = {
          matchIndex: pr.matchIndex,
          nextIndex: pr.nextIndex,
          state: pr.state,
          recentActive: pr.recentActive,
          isLearner: pr.isLearner,
          inflightAppendCount: pr.inflights.count(),
        };
      }
    }
    return {
      id: this.id,
      role: this.role,
      term: this.currentTerm,
      vote: this.vote,
      leaderId: this.leaderId,
      commitIndex: this.log.committed,
      appliedIndex: this.log.applied,
      lastIndex: this.log.lastIndex(),
      firstIndex: this.log.firstIndex(),
      membership: this.memberships.current(),
      membershipIndex: this.memberships.currentIndex(),
      leadTransferee: this.leadTransferee,
      recoveringFromDataLoss: this.recoveryGroupTerm !== undefined,
      progress,
    };
  }

  /** The term at `index` in this node's log, if present (tests and invariant checks). */
  termAt(index: LogIndex): Term | undefined {
    return this.log.term(index);
  }

  // ---------------------------------------------------------------- term handling

  /** Returns false if the message must be ignored. */
  private acceptHigherTerm(message: RaftMessage): boolean {
    if (message.kind === 'preVote' || message.kind === 'vote') {
      const transfer = message.kind === 'vote' && message.leadershipTransfer;
      // Leader stickiness (thesis §4.2.3, §9.6): while we hear from a leader, a (pre-)vote
      // from a server that cannot is from a partitioned or removed server; ignore it.
      const inLease = this.config.checkQuorum && this.leaderId !== undefined && this.electionElapsedTicks < this.config.electionTimeoutTicks;
      if (inLease && !transfer) return false;
    }
    if (message.kind === 'preVote') return true;
    if (message.kind === 'preVoteResponse' && !message.reject) return true;
    const fromLeader = message.kind === 'append' || message.kind === 'heartbeat' || message.kind === 'snapshot';
    this.becomeFollower(message.term, fromLeader ? message.from : undefined);
    return true;
  }

  private answerLowerTerm(message: RaftMessage): void {
    if ((this.config.checkQuorum || this.config.preVote) && (message.kind === 'append' || message.kind === 'heartbeat')) {
      // A stale leader cut off by a partition would otherwise never learn the new term: with
      // pre-vote, nobody else's term reaches it through votes (etcd raft.go, same reasoning).
      this.send({ kind: 'appendResponse', to: message.from, reject: true, index: logIndex(0), rejectHint: logIndex(0), rejectHintTerm: toTerm(0) });
    } else if (message.kind === 'preVote') {
      this.send({ kind: 'preVoteResponse', to: message.from, reject: true });
    }
  }

  private handleVoteRequest(message: PreVoteMessage | VoteMessage): void {
    const responseKind = message.kind === 'preVote' ? 'preVoteResponse' : 'voteResponse';
    if (this.recoveryGroupTerm !== undefined) {
      // Our log may lack entries we acknowledged before the loss: judging logs by it could
      // elect a candidate that lacks them too.
      this.send({ kind: responseKind, to: message.from, reject: true });
      return;
    }
    const canVote =
      this.vote === message.from ||
      (this.vote === undefined && this.leaderId === undefined) ||
      (message.kind === 'preVote' && message.term > this.currentTerm);
    if (canVote && this.log.isUpToDate(message.lastLogIndex, message.lastLogTerm)) {
      // A granted pre-vote answers in the proposed term, so the pre-candidate counts it.
      this.outbox.push({ kind: responseKind, from: this.id, to: message.from, term: message.term, reject: false });
      if (message.kind === 'vote') {
        this.electionElapsedTicks = 0;
        this.vote = message.from;
      }
    } else {
      this.send({ kind: responseKind, to: message.from, reject: true });
    }
  }

  // ---------------------------------------------------------------- role changes

  private becomeFollower(newTerm: Term, leaderId: NodeId | undefined): void {
    this.reset(newTerm);
    this.role = 'follower';
    this.leaderId = leaderId;
  }

  private becomePreCandidate(): void {
    assert(this.role !== 'leader', 'a leader does not pre-campaign');
    // Pre-vote changes neither term nor vote (thesis §9.6), only the role.
    this.votes = new Map();
    this.role = 'preCandidate';
    this.leaderId = undefined;
    this.electionElapsedTicks = 0;
    this.resetElectionTimer();
  }

  private becomeCandidate(): void {
    assert(this.role !== 'leader', 'a leader does not campaign');
    this.reset(toTerm(this.currentTerm + 1));
    this.vote = this.id;
    this.role = 'candidate';
  }

  private becomeLeader(): void {
    assert(this.role === 'candidate', 'only a candidate becomes leader');
    this.reset(this.currentTerm);
    this.role = 'leader';
    this.leaderId = this.id;
    this.readAcks = new Map();
    this.readRoundSequence = 0;
    this.rebuildProgress();
    const own = this.progress.get(this.id);
    if (own !== undefined) {
      own.maybeUpdate(this.log.stableLastIndex());
      own.becomeReplicate();
      own.recentActive = true;
    }
    // The empty entry lets this leader commit entries of earlier terms (paper §5.4.2) and
    // tells it its commit index is current, which ReadIndex needs (thesis §6.4).
    this.appendOwnEntry('empty', new Uint8Array(0));
  }

  private reset(newTerm: Term): void {
    if (newTerm !== this.currentTerm) {
      this.currentTerm = newTerm;
      this.vote = undefined;
    }
    this.leaderId = undefined;
    this.electionElapsedTicks = 0;
    this.heartbeatElapsedTicks = 0;
    this.resetElectionTimer();
    this.votes = new Map();
    this.leadTransferee = undefined;
    this.progress = new Map();
    this.readsAwaitingCommit = [];
    this.pendingReads = [];
  }

  private resetElectionTimer(): void {
    const base = this.config.electionTimeoutTicks;
    this.randomizedElectionTimeoutTicks = base + this.config.random.nextInt(base);
  }

  /** Only voters campaign; a pending snapshot must be installed first; not while recovering from data loss. */
  private promotable(): boolean {
    return isVoter(this.memberships.current(), this.id) && this.log.unstableSnapshot === undefined && this.recoveryGroupTerm === undefined;
  }

  private startCampaign(kind: VoteKind, leadershipTransfer: boolean): void {
    let campaignTerm: Term;
    if (kind === 'preVote') {
      this.becomePreCandidate();
      campaignTerm = toTerm(this.currentTerm + 1);
    } else {
      this.becomeCandidate();
      campaignTerm = this.currentTerm;
    }
    if (this.poll(this.id, true) === 'won') {
      this.campaignWon(kind);
      return;
    }
    const lastLogIndex = this.log.lastIndex();
    const lastLogTerm = this.log.lastTerm();
    for (const voter of this.memberships.current().voters) {
      if (voter === this.id) continue;
      const base = { from: this.id, to: voter, term: campaignTerm, lastLogIndex, lastLogTerm };
      this.outbox.push(kind === 'preVote' ? { kind: 'preVote', ...base } : { kind: 'vote', ...base, leadershipTransfer });
    }
  }

  private campaignWon(kind: VoteKind): void {
    if (kind === 'preVote') {
      this.startCampaign('vote', false);
    } else {
      this.becomeLeader();
      this.broadcastAppend();
    }
  }

  private poll(from: NodeId, granted: boolean): 'won' | 'lost' | 'pending' {
    if (!this.votes.has(from)) this.votes.set(from, granted);
    const voters = this.memberships.current().voters;
    let grantedCount = 0;
    let rejectedCount = 0;
    for (const voter of voters) {
      const vote = this.votes.get(voter);
      if (vote === true) grantedCount += 1;
      if (vote === false) rejectedCount += 1;
    }
    const quorum = quorumSize(voters.length);
    if (grantedCount >= quorum) return 'won';
    if (rejectedCount >= quorum) return 'lost';
    return 'pending';
  }

  // ---------------------------------------------------------------- per-role steps

  private stepLeader(message: RaftMessage): void {
    switch (message.kind) {
      case 'appendResponse':
        this.handleAppendResponse(message);
        return;
      case 'heartbeatResponse':
        this.handleHeartbeatResponse(message);
        return;
      case 'readIndex':
        this.handleReadRequest(message.requestId, message.from);
        return;
      default:
        // Same-term append/heartbeat/snapshot to a leader cannot happen (one leader per term);
        // votes and responses of finished campaigns are simply stale.
        return;
    }
  }

  private stepCandidate(message: RaftMessage): void {
    switch (message.kind) {
      case 'append':
      case 'heartbeat':
      case 'snapshot':
        // Someone won this term (paper §5.2: "if the AppendEntries RPC is from a leader whose
        // term is at least as large as the candidate's current term ... returns to follower").
        this.becomeFollower(message.term, message.from);
        this.stepFollower(message);
        return;
      case 'preVoteResponse':
      case 'voteResponse': {
        const expected = this.role === 'preCandidate' ? 'preVoteResponse' : 'voteResponse';
        if (message.kind !== expected) return;
        const result = this.poll(message.from, !message.reject);
        if (result === 'won') this.campaignWon(message.kind === 'preVoteResponse' ? 'preVote' : 'vote');
        if (result === 'lost') this.becomeFollower(this.currentTerm, undefined);
        return;
      }
      case 'readIndex':
        this.rejectRead(message.requestId, message.from);
        return;
      default:
        return;
    }
  }

  private stepFollower(message: RaftMessage): void {
    switch (message.kind) {
      case 'append':
        this.heardFromLeader(message.from);
        this.handleAppend(message);
        this.trackRecovery(message.commit);
        return;
      case 'heartbeat':
        this.heardFromLeader(message.from);
        this.handleHeartbeat(message);
        this.trackRecovery(message.commit);
        return;
      case 'snapshot':
        this.heardFromLeader(message.from);
        this.handleSnapshot(message);
        this.trackRecovery(message.snapshot.metadata.index);
        return;
      case 'timeoutNow':
        // Thesis §3.10: the target starts an election at once, skipping pre-vote, and its
        // votes are marked so that leader stickiness does not block them.
        if (this.promotable()) this.startCampaign('vote', true);
        return;
      case 'readIndex':
        this.rejectRead(message.requestId, message.from);
        return;
      case 'readIndexResponse':
        this.handleReadIndexResponse(message);
        return;
      default:
        return;
    }
  }

  /**
   * Ends a recovery from data loss once this node holds what the leader had committed when it
   * first heard from it, which covers every entry it acknowledged to that leader (a leader of
   * the group's term or later: we took that term at start); and once an entry of the leader's
   * own term is committed here, which covers every entry committed in earlier terms (the
   * leader holds them all, and our log matches its log up to our commit index).
   */
  private trackRecovery(leaderCommit: LogIndex): void {
    if (this.recoveryGroupTerm === undefined) return;
    this.recoveryTargetIndex ??= leaderCommit;
    const committed = this.log.committed;
    if (committed >= this.recoveryTargetIndex && this.log.term(committed) === this.currentTerm) {
      this.recoveryGroupTerm = undefined;
      this.recoveryTargetIndex = undefined;
    }
  }

  private heardFromLeader(leaderId: NodeId): void {
    this.electionElapsedTicks = 0;
    this.leaderId = leaderId;
  }

  // ---------------------------------------------------------------- follower handlers

  private handleAppend(message: AppendMessage): void {
    if (message.prevLogIndex < this.log.committed) {
      this.sendAppendResponse(message.from, false, this.log.committed);
      return;
    }
    const result = this.log.maybeAppend(message.prevLogIndex, message.prevLogTerm, message.commit, message.entries);
    if (result !== undefined) {
      this.trackAppendedMemberships(result.appended);
      this.sendAppendResponse(message.from, false, result.lastNewIndex);
      return;
    }
    const hintIndex = this.log.findConflictByTerm(logIndex(Math.min(message.prevLogIndex, this.log.lastIndex())), message.prevLogTerm);
    this.send({
      kind: 'appendResponse',
      to: message.from,
      reject: true,
      index: message.prevLogIndex,
      rejectHint: hintIndex,
      rejectHintTerm: this.log.term(hintIndex) ?? toTerm(0),
    });
  }

  /** Keeps the membership history in step with the log after a follower append. */
  private trackAppendedMemberships(appended: readonly LogEntry[]): void {
    const first = appended[0];
    if (first === undefined) return;
    // The appended entries replaced everything from first.index on, configurations included.
    this.memberships.truncateFrom(first.index);
    for (const entry of appended) {
      if (entry.kind === 'membership') this.memberships.record(entry.index, decodeMembershipChangeRecord(entry.data).membership);
    }
    this.onMembershipChanged();
  }

  private handleHeartbeat(message: HeartbeatMessage): void {
    if (message.commit > this.log.lastIndex()) {
      // The leader believes we hold entries we do not: our log was lost (a wiped data
      // directory). Never commit blindly; tell the leader where our log really ends.
      const lastIndex = this.log.lastIndex();
      this.send({ kind: 'appendResponse', to: message.from, reject: true, index: message.commit, rejectHint: lastIndex, rejectHintTerm: this.log.lastTerm() });
    } else {
      this.log.commitTo(message.commit);
    }
    this.send({ kind: 'heartbeatResponse', to: message.from, readSequence: message.readSequence });
  }

  private handleSnapshot(message: SnapshotMessage): void {
    const { metadata } = message.snapshot;
    if (metadata.index <= this.log.committed) {
      this.sendAppendResponse(message.from, false, this.log.committed);
      return;
    }
    if (this.log.matchTerm(metadata.index, metadata.term)) {
      // We already hold the snapshot's last entry: keep the log, just learn the commit.
      this.log.commitTo(metadata.index);
      this.sendAppendResponse(message.from, false, this.log.committed);
      return;
    }
    this.log.restore(message.snapshot);
    this.memberships.reset(metadata.index, metadata.membership);
    this.onMembershipChanged();
    this.sendAppendResponse(message.from, false, this.log.lastIndex());
  }

  private handleReadIndexResponse(message: ReadIndexResponseMessage): void {
    if (message.reject) return;
    this.confirmedReads.push({ requestId: message.requestId, index: message.index });
  }

  private sendAppendResponse(to: NodeId, reject: boolean, index: LogIndex): void {
    this.send({ kind: 'appendResponse', to, reject, index, rejectHint: logIndex(0), rejectHintTerm: toTerm(0) });
  }

  // ---------------------------------------------------------------- leader handlers

  private tickLeader(): void {
    this.heartbeatElapsedTicks += 1;
    this.electionElapsedTicks += 1;
    for (const pr of this.progress.values()) pr.stateElapsedTicks += 1;
    if (this.electionElapsedTicks >= this.config.electionTimeoutTicks) {
      this.electionElapsedTicks = 0;
      if (this.config.checkQuorum && !this.quorumActive()) {
        // Thesis §6.2: a leader that cannot reach a majority steps down, so clients go
        // elsewhere instead of waiting on a leader that can commit nothing.
        this.becomeFollower(this.currentTerm, undefined);
        return;
      }
      this.leadTransferee = undefined;
      this.retrySnapshots();
    }
    if (this.heartbeatElapsedTicks >= this.config.heartbeatIntervalTicks) {
      this.heartbeatElapsedTicks = 0;
      this.broadcastHeartbeat();
    }
  }

  /** A snapshot lost on the wire leaves its follower paused; retry after a timeout. */
  private retrySnapshots(): void {
    for (const pr of this.progress.values()) {
      if (pr.state === 'snapshot' && pr.stateElapsedTicks >= this.config.electionTimeoutTicks) pr.becomeProbe();
    }
  }

  /** Check-quorum: did a majority of voters answer since the last check? Resets the flags. */
  private quorumActive(): boolean {
    const voters = this.memberships.current().voters;
    let activeCount = 0;
    for (const voter of voters) {
      const pr = this.progress.get(voter);
      if (voter === this.id || pr?.recentActive === true) activeCount += 1;
    }
    for (const [id, pr] of this.progress) pr.recentActive = id === this.id;
    return activeCount >= quorumSize(voters.length);
  }

  private handleAppendResponse(message: AppendResponseMessage): void {
    const pr = this.progress.get(message.from);
    if (pr === undefined) return;
    pr.recentActive = true;
    if (message.reject && message.rejectHint < pr.matchIndex) {
      // The follower no longer holds what it acknowledged: its log was lost (wiped disk).
      // Lowering the match index is always safe (commitment only counts more conservatively);
      // a stale rejection that lands here costs a re-probe, nothing more.
      pr.matchIndex = message.rejectHint;
      pr.becomeProbe();
      this.sendAppend(message.from);
      return;
    }
    if (message.reject) {
      let matchHint = message.rejectHint;
      if (message.rejectHintTerm > 0) matchHint = this.log.findConflictByTerm(message.rejectHint, message.rejectHintTerm);
      if (pr.maybeDecreaseTo(message.index, matchHint)) {
        if (pr.state === 'replicate') pr.becomeProbe();
        this.sendAppend(message.from);
      }
      return;
    }
    const wasPaused = pr.isPaused();
    if (!pr.maybeUpdate(message.index)) return;
    if (pr.state === 'probe') {
      pr.becomeReplicate();
    } else if (pr.state === 'snapshot' && pr.matchIndex >= pr.pendingSnapshotIndex) {
      pr.becomeProbe();
      pr.becomeReplicate();
    } else if (pr.state === 'replicate') {
      pr.inflights.freeTo(message.index);
    }
    if (this.maybeCommit()) {
      this.broadcastAppend();
    } else if (wasPaused) {
      this.sendAppend(message.from);
    }
    // Stream whatever else is ready, up to the in-flight limit (flow control).
    while (this.maybeSendAppend(message.from, false)) {
      // keep sending
    }
    if (message.from === this.leadTransferee && pr.matchIndex === this.log.lastIndex()) {
      this.send({ kind: 'timeoutNow', to: message.from });
    }
  }

  private handleHeartbeatResponse(message: HeartbeatResponseMessage): void {
    const pr = this.progress.get(message.from);
    if (pr === undefined) return;
    pr.recentActive = true;
    pr.probeSent = false;
    // A lost Append would otherwise hold a full window forever; free one slot to retry.
    if (pr.state === 'replicate' && pr.inflights.full()) pr.inflights.freeFirst();
    if (pr.matchIndex < this.log.lastIndex()) this.sendAppend(message.from);
    const previousAck = this.readAcks.get(message.from) ?? 0;
    if (message.readSequence > previousAck) {
      this.readAcks.set(message.from, message.readSequence);
      this.releaseConfirmedReads();
    }
  }

  /**
   * Thesis §6.4 ReadIndex, leader side: (1) wait until an entry of this term is committed,
   * (2) record the commit index as the read index, (3) confirm leadership with a heartbeat
   * round, (4) the host serves the read once applied >= read index.
   */
  private handleReadRequest(requestId: string, from: NodeId): void {
    if (!this.committedInCurrentTerm()) {
      this.readsAwaitingCommit.push({ requestId, from });
      return;
    }
    this.readSequence += 1;
    this.pendingReads.push({ requestId, from, index: this.log.committed, sequence: this.readSequence });
    if (this.memberships.current().voters.length === 1 && isVoter(this.memberships.current(), this.id)) {
      this.releaseConfirmedReads();
      return;
    }
    // A round already on its way was sent before this read arrived, so it cannot confirm it;
    // the read joins the round sent when that one is confirmed (or the next periodic one).
    if (this.confirmedReadSequence() < this.readRoundSequence) return;
    this.broadcastHeartbeat();
  }

  /** The highest read sequence a majority of voters has echoed (this node counts as current). */
  private confirmedReadSequence(): number {
    const voters = this.memberships.current().voters;
    const acks = voters.map((voter) => (voter === this.id ? this.readSequence : this.readAcks.get(voter) ?? 0));
    acks.sort((a, b) => b - a);
    return acks[quorumSize(voters.length) - 1] ?? 0;
  }

  /**
   * Releases every pending read whose heartbeat round a majority of voters answered; reads that
   * arrived while that round was out get a round of their own now.
   */
  private releaseConfirmedReads(): void {
    if (this.pendingReads.length === 0) return;
    const confirmedSequence = this.confirmedReadSequence();
    while (this.pendingReads.length > 0 && (this.pendingReads[0]?.sequence ?? Infinity) <= confirmedSequence) {
      const read = this.pendingReads.shift();
      assert(read !== undefined, 'pending read present');
      if (read.from === this.id) {
        this.confirmedReads.push({ requestId: read.requestId, index: read.index });
      } else {
        this.send({ kind: 'readIndexResponse', to: read.from, requestId: read.requestId, index: read.index, reject: false });
      }
    }
    if (this.pendingReads.length > 0 && confirmedSequence >= this.readRoundSequence) this.broadcastHeartbeat();
  }

  private rejectRead(requestId: string, from: NodeId): void {
    if (from === this.id) return;
    this.send({ kind: 'readIndexResponse', to: from, requestId, index: logIndex(0), reject: true });
  }

  private committedInCurrentTerm(): boolean {
    return this.log.term(this.log.committed) === this.currentTerm;
  }

  /** Paper §5.4.2: only an entry of the current term commits by counting replicas. */
  private maybeCommit(): boolean {
    const voters = this.memberships.current().voters;
    if (voters.length === 0) return false;
    const matches = voters.map((voter) => this.progress.get(voter)?.matchIndex ?? 0);
    matches.sort((a, b) => b - a);
    const quorumIndex = logIndex(matches[quorumSize(voters.length) - 1] ?? 0);
    if (quorumIndex <= this.log.committed || this.log.term(quorumIndex) !== this.currentTerm) return false;
    this.log.commitTo(quorumIndex);
    this.onLeaderCommit();
    return true;
  }

  private onLeaderCommit(): void {
    if (this.readsAwaitingCommit.length > 0 && this.committedInCurrentTerm()) {
      const waiting = this.readsAwaitingCommit;
      this.readsAwaitingCommit = [];
      for (const read of waiting) this.handleReadRequest(read.requestId, read.from);
    }
    // Thesis §4.2.2: a leader removed from the configuration steps down once the removal
    // commits; until then it keeps replicating without counting itself.
    if (!isVoter(this.memberships.current(), this.id) && this.memberships.currentIndex() <= this.log.committed) {
      // Tell the others the removal committed before going quiet.
      this.broadcastAppend();
      this.becomeFollower(this.currentTerm, undefined);
    }
  }

  private broadcastAppend(sendIfEmpty = true): void {
    for (const id of this.progress.keys()) {
      if (id !== this.id) this.maybeSendAppend(id, sendIfEmpty);
    }
  }

  private broadcastHeartbeat(): void {
    // Every heartbeat carries the current read sequence, so any round can confirm the reads.
    this.readRoundSequence = this.readSequence;
    for (const [id, pr] of this.progress) {
      if (id === this.id) continue;
      // Never tell a follower to commit past what it is known to hold.
      const commit = logIndex(Math.min(pr.matchIndex, this.log.committed));
      this.send({ kind: 'heartbeat', to: id, commit, readSequence: this.readSequence });
    }
  }

  private sendAppend(to: NodeId): void {
    this.maybeSendAppend(to, true);
  }

  /**
   * Sends the next Append (or a snapshot if the entries are compacted) unless the follower's
   * flow control is paused. Returns whether something was sent.
   */
  private maybeSendAppend(to: NodeId, sendIfEmpty: boolean): boolean {
    const pr = this.progress.get(to);
    if (pr === undefined || pr.isPaused()) return false;
    const prevLogIndex = logIndex(pr.nextIndex - 1);
    const prevLogTerm = this.log.term(prevLogIndex);
    const entries = this.log.slice(pr.nextIndex, logIndex(this.log.lastIndex() + 1), this.config.maxAppendSizeBytes);
    if (entries !== undefined && entries.length === 0 && !sendIfEmpty) return false;
    if (prevLogTerm === undefined || entries === undefined) return this.maybeSendSnapshot(to, pr);
    this.send({ kind: 'append', to, prevLogIndex, prevLogTerm, entries, commit: this.log.committed });
    pr.sentEntries(entries[entries.length - 1]?.index);
    return true;
  }

  private maybeSendSnapshot(to: NodeId, pr: Progress): boolean {
    // Only to a follower we heard from recently: a snapshot can be large.
    if (!pr.recentActive) return false;
    const snapshot: Snapshot = this.log.snapshot();
    assert(snapshot.metadata.index > 0, 'entries are compacted only behind a snapshot');
    pr.becomeSnapshot(snapshot.metadata.index);
    this.send({ kind: 'snapshot', to, snapshot });
    return true;
  }

  // ---------------------------------------------------------------- helpers

  private assertCanPropose(): void {
    if (this.role !== 'leader') throw new NotLeaderError(this.leaderId);
    if (this.leadTransferee !== undefined) throw new ProposalDroppedError('leadershipTransfer');
  }

  private appendOwnEntry(kind: LogEntryKind, data: Uint8Array): ProposalPosition {
    assert(this.role === 'leader', 'only the leader appends its own entries');
    const entry: LogEntry = { index: logIndex(this.log.lastIndex() + 1), term: this.currentTerm, kind, data };
    this.log.append([entry]);
    if (kind === 'membership') {
      this.memberships.record(entry.index, decodeMembershipChangeRecord(data).membership);
      this.onMembershipChanged();
    }
    this.appendsPending = true;
    return { index: entry.index, term: entry.term };
  }

  private onMembershipChanged(): void {
    if (this.role === 'leader') {
      const added = this.rebuildProgress();
      // Probe new members at once rather than at the next heartbeat.
      for (const id of added) this.sendAppend(id);
      // Losing a voter may complete a majority (e.g. removing a dead member).
      if (this.maybeCommit()) this.broadcastAppend();
    }
  }

  /**
   * Keeps one Progress per member: new members start probing from the end of our log.
   * Returns the members that had no progress before.
   */
  private rebuildProgress(): NodeId[] {
    const added: NodeId[] = [];
    const membership: Membership = this.memberships.current();
    const next = new Map<NodeId, Progress>();
    const members = [...membership.voters, ...membership.learners];
    if (!members.includes(this.id)) members.push(this.id);
    for (const id of members) {
      const existing = this.progress.get(id);
      const isLearner = membership.learners.includes(id);
      if (existing !== undefined && existing.isLearner === isLearner) {
        next.set(id, existing);
        continue;
      }
      const pr = new Progress(logIndex(this.log.lastIndex() + 1), this.config.maxInflightAppendCount, isLearner);
      if (existing === undefined && id !== this.id) added.push(id);
      if (existing !== undefined) {
        pr.matchIndex = existing.matchIndex;
        pr.recentActive = existing.recentActive;
      }
      next.set(id, pr);
    }
    this.progress = next;
    return added;
  }

  private send(message: OutgoingMessage): void {
    this.outbox.push({ ...message, from: this.id, term: this.currentTerm } as RaftMessage);
  }

  private softState(): SoftState {
    return { role: this.role, leaderId: this.leaderId };
  }

  private hardState(): HardState {
    return { term: this.currentTerm, vote: this.vote, commit: this.log.committed };
  }
}

function sameHardState(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}

/**
 * Membership on start: the snapshot's, or the bootstrap voters for a new cluster, then every
 * membership entry in the stored log (a configuration applies from the moment it is in the
 * log, committed or not: thesis §4.1).
 */
function restoreMemberships(config: RaftConfig): MembershipHistory {
  const storage = config.storage;
  const snapshot = storage.snapshot();
  let base = snapshot.metadata.membership;
  if (snapshot.metadata.index === 0 && base.voters.length === 0 && config.bootstrapVoters !== undefined) {
    base = { voters: [...config.bootstrapVoters].sort(), learners: [] };
  }
  const history = new MembershipHistory(snapshot.metadata.index, base);
  const firstIndex = storage.firstIndex();
  const lastIndex = storage.lastIndex();
  if (lastIndex >= firstIndex) {
    for (const entry of storage.entries(firstIndex, logIndex(lastIndex + 1), Infinity)) {
      if (entry.kind === 'membership') history.record(entry.index, decodeMembershipChangeRecord(entry.data).membership);
    }
  }
  return history;
}


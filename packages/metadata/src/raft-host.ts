import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { assert, logIndex, term as toTerm } from '@tessera/common';
import type { Clock, Logger, Random } from '@tessera/common';
import { NotLeaderError as RaftNotLeaderError, ProposalDroppedError, RaftNode } from '@tessera/raft';
import type { LogEntry, MembershipChange, RaftMessage, RaftStatus, Ready, Snapshot, SnapshotMessage } from '@tessera/raft';
import { InvalidArgumentError, MetadataError, MetadataOverloadedError, NotLeaderError, ProposalTimeoutError } from '@tessera/rpc';
import type { CatalogueDb } from './catalogue-db';
import { CatalogueStateMachine } from './catalogue-state-machine';
import type { ApplyResult, CatalogueOptions, CommittedCommand } from './catalogue-state-machine';
import type { Command, RequestStamp } from './commands';
import { decodeCommand, encodeCommand } from './commands';
import { LevelRaftStorage } from './level-raft-storage';
import type { MetadataMetrics } from './metrics';
import { StateStore, encodeSnapshotMeta, fsyncPath, readSnapshotMetadata, snapshotMetadataKey } from './state-store';

export interface RaftHostOptions {
  readonly nodeId: string;
  /** Every founding member: node id -> gRPC address (host:port). */
  readonly peers: ReadonlyMap<string, string>;
  readonly dataDir: string;
  /** Wall time of one Raft tick; the only place ticks become milliseconds. */
  readonly tickIntervalMs: number;
  readonly electionTimeoutTicks: number;
  readonly heartbeatIntervalTicks: number;
  /** Take a snapshot and compact the log every this many applied entries. */
  readonly snapshotEveryEntryCount: number;
  /**
   * ... or sooner, once the entries since the last snapshot hold this many data bytes: the log
   * tail is mirrored in memory, so this bounds a node's memory when entries are large.
   */
  readonly snapshotEveryLogBytes: number;
  /** A proposal or read not answered within this is failed with ProposalTimeoutError. */
  readonly requestTimeoutMs: number;
  /** Bound on queued proposals + reads; beyond it requests fail fast (MetadataOverloadedError). */
  readonly pendingRequestCountMax: number;
  readonly catalogue: CatalogueOptions;
  /**
   * True for a node joining an existing group (added with a membership change): it starts
   * with no membership and waits for the leader. False for the founding members.
   */
  readonly join: boolean;
}

/** How the host reaches its peers; see raft-transport.ts. */
export interface RaftTransport {
  send(messages: readonly RaftMessage[]): void;
  /** Learns (or updates) a peer's address, for members added at run time. */
  setPeer(nodeId: string, address: string): void;
  close(): Promise<void>;
}

export interface RaftHostComponents {
  readonly clock: Clock;
  readonly random: Random;
  readonly logger: Logger;
  readonly metrics: MetadataMetrics | undefined;
  /** Built once the host can serve snapshot exports. */
  readonly createTransport: (host: RaftHost) => RaftTransport;
  /**
   * Called once if the loop fails (a failed log or state write, an assertion): the host then
   * refuses everything, and only a restart, which replays the log from disk, brings it back.
   */
  readonly onLoopFailure?: (err: Error) => void;
  /**
   * Whether the group already runs: another member's answer (of those in `peers`) with a term
   * above 0, or undefined when none says so (none answers: a first start). Asked only when this
   * node starts with no Raft state, to tell a first start from a wiped data directory (see
   * RaftConfig.recoveringFromDataLoss). Absent: never asked.
   */
  readonly probeExistingGroup?: () => Promise<{ readonly nodeId: string; readonly term: number } | undefined>;
}

/**
 * Kept in the data directory from the moment a lost Raft state is detected until the node has
 * caught up, so a restart in between still withholds its vote (its state is no longer empty).
 */
export const dataLossMarkerFileName = 'recovering-from-data-loss.json';

type Event =
  | { readonly kind: 'message'; readonly message: RaftMessage }
  | { readonly kind: 'propose'; readonly request: PendingProposal }
  | { readonly kind: 'read'; readonly request: PendingRead }
  | { readonly kind: 'snapshot'; readonly message: SnapshotMessage; readonly stagedDirName: string; readonly done: () => void }
  | { readonly kind: 'transfer'; readonly done: (err?: Error) => void }
  | { readonly kind: 'membership'; readonly change: MembershipChange; readonly request: PendingProposal };

interface PendingProposal {
  readonly data: Uint8Array;
  readonly resolve: (value: unknown) => void;
  readonly reject: (err: Error) => void;
  readonly deadlineMs: number;
  position?: { index: number; term: number };
}

interface PendingRead {
  readonly requestId: string;
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
  readonly deadlineMs: number;
  readIndex?: number;
}

/** The state of the most recent snapshot as it can be streamed to a follower. */
interface SnapshotExport {
  readonly index: number;
  readonly db: CatalogueDb;
  readonly levelSnapshot: ReturnType<CatalogueDb['snapshot']>;
}

/** Max key/value bytes per snapshot chunk on the wire. */
const snapshotChunkBytesMax = 1 << 20;

/**
 * The one owner of the RaftNode. Everything that touches it (ticks, received messages,
 * proposals, reads, snapshots) is an event in one queue, drained by a single loop that then
 * handles every Ready in the order the Raft thesis requires: persist (one fsync'd LevelDB
 * batch) -> send -> install snapshot / apply committed entries -> answer reads -> advance.
 * gRPC handlers only enqueue and await; they never call the node.
 */
export class RaftHost {
  private node!: RaftNode;
  private raftStorage!: LevelRaftStorage;
  private stateStore!: StateStore;
  private machineValue!: CatalogueStateMachine;
  private transport!: RaftTransport;
  private events: Event[] = [];
  private loopScheduled = false;
  private loopRunning = false;
  private tickTimer: NodeJS.Timeout | undefined;
  /** No more work is taken (stop() called, or the loop failed). */
  private stopped = false;
  private closing = false;
  private readonly proposals = new Map<number, PendingProposal>();
  private readonly reads = new Map<string, PendingRead>();
  private readonly readsAwaitingApply: PendingRead[] = [];
  private pendingCount = 0;
  private stagedSnapshot: { index: number; dirName: string } | undefined;
  private exportValue: SnapshotExport | undefined;
  private leaderIdValue: string | undefined;
  private leaderSinceMonotonicMs = 0;
  private loopFailure: Error | undefined;
  /** The data-loss marker is on disk: removed once the core reports the node caught up. */
  private dataLossMarkerPresent = false;
  /** Every member's address: founding peers plus members added at run time (catalogue table 0x08). */
  private readonly addressBook = new Map<string, string>();

  constructor(readonly options: RaftHostOptions, private readonly components: RaftHostComponents) {
    assert(options.peers.has(options.nodeId), 'this node is one of the peers');
    assert(options.snapshotEveryEntryCount >= 1, 'snapshotEveryEntryCount >= 1');
    assert(options.snapshotEveryLogBytes >= 1, 'snapshotEveryLogBytes >= 1');
  }

  get machine(): CatalogueStateMachine {
    return this.machineValue;
  }
  get nodeId(): string {
    return this.options.nodeId;
  }

  async start(): Promise<void> {
    const opened = await StateStore.open(this.options.dataDir);
    this.stateStore = opened.store;
    this.machineValue = await CatalogueStateMachine.open(opened.db, this.options.catalogue);
    this.raftStorage = await LevelRaftStorage.open(join(this.options.dataDir, 'raft'));
    await this.reconcileStateWithLog();
    for (const [nodeId, address] of this.options.peers) this.addressBook.set(nodeId, address);
    for (const member of await this.machineValue.listMetadataMembers()) this.addressBook.set(member.nodeId, member.address);
    const recoveryGroupTerm = await this.detectDataLoss();
    this.node = new RaftNode({
      id: this.options.nodeId,
      ...(this.options.join ? {} : { bootstrapVoters: [...this.options.peers.keys()].sort() }),
      storage: this.raftStorage,
      random: this.components.random,
      electionTimeoutTicks: this.options.electionTimeoutTicks,
      heartbeatIntervalTicks: this.options.heartbeatIntervalTicks,
      preVote: true,
      checkQuorum: true,
      maxInflightAppendCount: 64,
      maxAppendSizeBytes: 1 << 20,
      appliedIndex: logIndex(this.machineValue.appliedIndex),
      ...(recoveryGroupTerm === undefined ? {} : { recoveringFromDataLoss: { groupTerm: toTerm(recoveryGroupTerm) } }),
    });
    await this.refreshExport();
    this.transport = this.components.createTransport(this);
    for (const [nodeId, address] of this.addressBook) this.transport.setPeer(nodeId, address);
    this.tickTimer = setInterval(() => this.onTick(), this.options.tickIntervalMs);
    this.components.logger.info('raft host started', { appliedIndex: this.machineValue.appliedIndex, lastIndex: this.raftStorage.lastIndex() });
  }

  async stop(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this.stopped = true;
    if (this.tickTimer !== undefined) clearInterval(this.tickTimer);
    while (this.loopRunning) await new Promise((resolve) => setTimeout(resolve, 5));
    this.failPending(new ProposalTimeoutError('metadata node stopping'));
    await this.transport?.close();
    this.releaseExport(this.exportValue);
    await this.machineValue?.db.close();
    await this.raftStorage?.close();
  }

  /** Answers every queued or in-flight request with `err` (stop, or a failed loop). */
  private failPending(err: Error): void {
    for (const event of this.events) {
      if (event.kind === 'propose' || event.kind === 'read' || event.kind === 'membership') event.request.reject(err);
      else if (event.kind === 'snapshot' || event.kind === 'transfer') event.done();
    }
    this.events = [];
    for (const proposal of this.proposals.values()) proposal.reject(err);
    for (const read of [...this.reads.values(), ...this.readsAwaitingApply]) read.reject(err);
    this.proposals.clear();
    this.reads.clear();
    this.readsAwaitingApply.length = 0;
  }

  // ------------------------------------------------------------ inputs (any caller)

  /** Proposes a command and resolves with its apply result, or rejects with a typed error. */
  propose(command: Command, stamp?: RequestStamp): Promise<unknown> {
    return new Promise((resolve, reject) => {
      if (!this.admit(reject)) return;
      const request: PendingProposal = { data: encodeCommand(command, stamp), resolve, reject, deadlineMs: this.deadline() };
      this.enqueue({ kind: 'propose', request });
    });
  }

  /** Resolves once this node's state machine reflects every write committed before the call (ReadIndex). */
  linearizableRead(): Promise<void> {
    return new Promise((resolve, reject) => {
      if (!this.admit(reject)) return;
      const request: PendingRead = { requestId: randomBytes(8).toString('hex'), resolve, reject, deadlineMs: this.deadline() };
      this.enqueue({ kind: 'read', request });
    });
  }

  /**
   * One single-server membership change (thesis §4.1): `addLearner` (catch up without voting),
   * `add` (become or promote to voter), `remove`. Resolves when the change is committed.
   */
  changeMembership(change: MembershipChange): Promise<void> {
    return new Promise((resolve, reject) => {
      if (!this.admit(reject)) return;
      const request: PendingProposal = { data: new Uint8Array(0), resolve: () => resolve(), reject, deadlineMs: this.deadline() };
      this.enqueue({ kind: 'membership', change, request });
    });
  }

  /** Address of a member, founding or added at run time. */
  memberAddress(nodeId: string): string | undefined {
    return this.addressBook.get(nodeId);
  }

  receive(message: RaftMessage): void {
    if (this.stopped) return;
    this.enqueue({ kind: 'message', message });
  }

  /** A snapshot fully received into a staging directory; steps it into Raft. */
  receiveSnapshot(message: SnapshotMessage, stagedDirName: string): Promise<void> {
    return new Promise((resolve) => this.enqueue({ kind: 'snapshot', message, stagedDirName, done: resolve }));
  }

  /** Hands leadership to the most up-to-date voter (graceful shutdown); resolves when done or hopeless. */
  transferLeadership(): Promise<void> {
    return new Promise((resolve, reject) => this.enqueue({ kind: 'transfer', done: (err) => (err === undefined ? resolve() : reject(err)) }));
  }

  status(): RaftStatus {
    return this.node.status();
  }
  leaderId(): string | undefined {
    return this.leaderIdValue;
  }
  isLeader(): boolean {
    return this.leaderIdValue === this.options.nodeId;
  }
  /** Monotonic ms since this node became leader (0 when not leader). */
  leaderForMs(): number {
    return this.isLeader() ? this.components.clock.monotonicMs() - this.leaderSinceMonotonicMs : 0;
  }
  leaderAddress(): string | undefined {
    return this.leaderIdValue === undefined ? undefined : this.addressBook.get(this.leaderIdValue);
  }
  notLeaderError(): NotLeaderError {
    return new NotLeaderError(this.leaderAddress());
  }
  get stateStoreForTransfers(): StateStore {
    return this.stateStore;
  }

  /**
   * The snapshot at `index` as chunks of key/value pairs from one LevelDB snapshot, or
   * undefined when this node no longer holds that snapshot (Raft will send a newer one).
   */
  async *exportSnapshot(index: number): AsyncGenerator<{ keys: Buffer[]; values: Buffer[] }> {
    const source = this.exportValue;
    if (source === undefined || source.index !== index) return;
    const iterator = source.db.iterator({ snapshot: source.levelSnapshot });
    try {
      let keys: Buffer[] = [];
      let values: Buffer[] = [];
      let bytes = 0;
      for await (const [key, value] of iterator) {
        keys.push(key);
        values.push(value);
        bytes += key.length + value.length;
        if (bytes >= snapshotChunkBytesMax) {
          yield { keys, values };
          keys = [];
          values = [];
          bytes = 0;
        }
      }
      yield { keys, values };
    } finally {
      await iterator.close();
    }
  }

  /** Approximate on-disk size of the Raft log database, for metrics. */
  raftLogSizeBytes(): Promise<number> {
    return this.raftStorage.approximateSizeBytes();
  }

  hasExport(index: number): boolean {
    return this.exportValue?.index === index;
  }

  // ------------------------------------------------------------ the loop

  /** Why the loop stopped, if it failed (see RaftHostComponents.onLoopFailure). */
  get failure(): Error | undefined {
    return this.loopFailure;
  }

  private admit(reject: (err: Error) => void): boolean {
    if (this.stopped) {
      reject(new ProposalTimeoutError('metadata node stopping'));
      return false;
    }
    if (this.loopFailure !== undefined) {
      reject(this.loopFailure);
      return false;
    }
    if (this.pendingCount >= this.options.pendingRequestCountMax) {
      reject(new MetadataOverloadedError());
      return false;
    }
    return true;
  }

  private deadline(): number {
    return this.components.clock.monotonicMs() + this.options.requestTimeoutMs;
  }

  private enqueue(event: Event): void {
    if (event.kind === 'propose' || event.kind === 'read' || event.kind === 'membership') this.pendingCount++;
    this.events.push(event);
    this.schedule();
  }

  private schedule(): void {
    if (this.loopScheduled || this.loopRunning || this.stopped) return;
    this.loopScheduled = true;
    setImmediate(() => {
      this.loopScheduled = false;
      void this.runLoop();
    });
  }

  private onTick(): void {
    if (this.loopRunning) {
      // Ticks are not queued behind slow I/O: a missed tick only slows timeouts down.
      this.pendingTick = true;
      return;
    }
    this.node.tick();
    this.expireRequests();
    this.schedule();
  }
  private pendingTick = false;

  private async runLoop(): Promise<void> {
    if (this.loopRunning || this.stopped) return;
    this.loopRunning = true;
    try {
      for (;;) {
        if (this.pendingTick) {
          this.pendingTick = false;
          this.node.tick();
          this.expireRequests();
        }
        this.drainEvents();
        if (!this.node.hasReady()) break;
        await this.handleReady(this.node.ready());
        if (this.stopped) break;
      }
    } catch (err) {
      // A failed fsync or an assertion: this node can no longer be trusted to continue.
      this.loopFailure = err instanceof Error ? err : new Error(String(err));
      this.components.logger.error('raft host loop failed; stopping', { err: this.loopFailure });
      this.stopped = true;
      if (this.tickTimer !== undefined) clearInterval(this.tickTimer);
      this.failPending(this.loopFailure);
      this.components.onLoopFailure?.(this.loopFailure);
    } finally {
      this.loopRunning = false;
    }
    if (this.events.length > 0) this.schedule();
  }

  private drainEvents(): void {
    const events = this.events;
    this.events = [];
    for (const event of events) {
      switch (event.kind) {
        case 'message':
          this.node.step(event.message);
          break;
        case 'propose':
          this.placeProposal(event.request);
          break;
        case 'read':
          this.startRead(event.request);
          break;
        case 'snapshot':
          this.stageSnapshot(event.message, event.stagedDirName);
          event.done();
          break;
        case 'transfer':
          this.startTransfer(event.done);
          break;
        case 'membership':
          this.placeMembershipChange(event.change, event.request);
          break;
      }
    }
  }

  private placeProposal(request: PendingProposal): void {
    try {
      const position = this.node.propose(request.data);
      request.position = { index: position.index, term: position.term };
      this.proposals.set(position.index, request);
      this.components.metrics?.proposals.inc({ result: 'proposed' });
    } catch (err) {
      this.pendingCount--;
      this.components.metrics?.proposals.inc({ result: 'rejected' });
      if (err instanceof RaftNotLeaderError || err instanceof ProposalDroppedError) request.reject(this.notLeaderError());
      else throw err;
    }
  }

  private placeMembershipChange(change: MembershipChange, request: PendingProposal): void {
    try {
      const position = this.node.proposeMembershipChange(change);
      request.position = { index: position.index, term: position.term };
      this.proposals.set(position.index, request);
    } catch (err) {
      this.pendingCount--;
      if (err instanceof RaftNotLeaderError) request.reject(this.notLeaderError());
      else if (err instanceof ProposalDroppedError) request.reject(new InvalidArgumentError(err.message));
      else throw err;
    }
  }

  private startRead(request: PendingRead): void {
    try {
      this.node.readIndex(request.requestId);
      this.reads.set(request.requestId, request);
    } catch (err) {
      this.pendingCount--;
      if (err instanceof RaftNotLeaderError) request.reject(this.notLeaderError());
      else throw err;
    }
  }

  private stageSnapshot(message: SnapshotMessage, dirName: string): void {
    if (this.stagedSnapshot !== undefined && this.stagedSnapshot.dirName !== dirName) void this.stateStore.discardStaging(this.stagedSnapshot.dirName);
    this.stagedSnapshot = { index: message.snapshot.metadata.index, dirName };
    this.node.step(message);
  }

  private startTransfer(done: (err?: Error) => void): void {
    if (!this.isLeader()) {
      done();
      return;
    }
    const status = this.node.status();
    const candidates = Object.entries(status.progress).filter(([id, p]) => id !== this.options.nodeId && !p.isLearner);
    candidates.sort((a, b) => b[1].matchIndex - a[1].matchIndex);
    const target = candidates[0]?.[0];
    if (target === undefined) {
      done();
      return;
    }
    this.node.transferLeadership(target);
    const started = this.components.clock.monotonicMs();
    const timeoutMs = this.options.tickIntervalMs * this.options.electionTimeoutTicks * 2;
    const poll = setInterval(() => {
      if (!this.isLeader() || this.components.clock.monotonicMs() - started > timeoutMs || this.stopped) {
        clearInterval(poll);
        done();
      }
    }, this.options.tickIntervalMs);
  }

  private async handleReady(ready: Ready): Promise<void> {
    if (ready.softState !== undefined) this.onSoftState(ready.softState.leaderId);
    if (ready.snapshot !== undefined) await this.installSnapshot(ready.snapshot);
    await this.raftStorage.save({ hardState: ready.hardState, entries: ready.entries, snapshot: ready.snapshot });
    this.transport.send(ready.messages);
    await this.applyCommitted(ready.committedEntries);
    for (const readState of ready.readStates) this.onReadConfirmed(readState.requestId, readState.index);
    this.releaseReads();
    this.node.advance(ready);
    if (this.dataLossMarkerPresent && !this.node.status().recoveringFromDataLoss) await this.clearDataLossMarker();
    this.updateMetrics(ready);
    await this.maybeCompact();
  }

  private onSoftState(leaderId: string | undefined): void {
    const wasLeader = this.isLeader();
    const metrics = this.components.metrics;
    if (metrics !== undefined) {
      metrics.leaderInfo.reset();
      if (leaderId !== undefined) metrics.leaderInfo.set({ leader_id: leaderId }, 1);
    }
    this.leaderIdValue = leaderId;
    if (this.isLeader() && !wasLeader) {
      this.leaderSinceMonotonicMs = this.components.clock.monotonicMs();
      this.components.metrics?.elections.inc();
    }
    this.components.logger.info('raft leader changed', { leaderId, term: this.node.status().term });
  }

  /**
   * Applies a Ready's committed entries in one LevelDB batch (CatalogueStateMachine.applyEntries),
   * then answers their proposals: one write per Ready instead of one per entry. Entries an
   * installed snapshot already covers are skipped; an undecodable command is a refusal.
   */
  private async applyCommitted(entries: readonly LogEntry[]): Promise<void> {
    const pending = entries.filter((entry) => entry.index > this.machineValue.appliedIndex);
    if (pending.length === 0) return;
    const decodeRefusals = new Map<number, ApplyResult>();
    const commands = pending.map((entry): CommittedCommand => {
      if (entry.kind !== 'normal') return { index: entry.index, command: undefined };
      try {
        return { index: entry.index, command: decodeCommand(entry.data) };
      } catch (err) {
        decodeRefusals.set(entry.index, { ok: false, error: err instanceof MetadataError ? err : new InvalidArgumentError(`undecodable command: ${String(err)}`) });
        return { index: entry.index, command: undefined };
      }
    });
    const results = await this.machineValue.applyEntries(commands);
    for (const [position, entry] of pending.entries()) {
      const command = commands[position]?.command;
      const result = results[position] ?? decodeRefusals.get(entry.index);
      if (result?.ok === true && command?.type === 'setMetadataMember') {
        this.addressBook.set(command.nodeId, command.address);
        this.transport.setPeer(command.nodeId, command.address);
      }
      this.answerProposal(entry, result);
    }
  }

  private answerProposal(entry: LogEntry, result: ApplyResult | undefined): void {
    const pending = this.proposals.get(entry.index);
    if (pending === undefined) return;
    this.proposals.delete(entry.index);
    this.pendingCount--;
    if (pending.position?.term !== entry.term) {
      // Another leader's entry took this index: ours was lost. The client may retry.
      this.components.metrics?.proposals.inc({ result: 'lost' });
      pending.reject(new NotLeaderError(this.leaderAddress(), 'proposal lost to a leader change; retry'));
      return;
    }
    this.components.metrics?.proposals.inc({ result: result === undefined || result.ok ? 'committed' : 'refused' });
    if (result === undefined) pending.resolve({});
    else if (result.ok) pending.resolve(result.value);
    else pending.reject(result.error);
  }

  private onReadConfirmed(requestId: string, index: number): void {
    const read = this.reads.get(requestId);
    if (read === undefined) return;
    this.reads.delete(requestId);
    read.readIndex = index;
    this.readsAwaitingApply.push(read);
  }

  private releaseReads(): void {
    const applied = this.machineValue.appliedIndex;
    for (let i = this.readsAwaitingApply.length - 1; i >= 0; i--) {
      const read = this.readsAwaitingApply[i];
      if (read !== undefined && (read.readIndex ?? Infinity) <= applied) {
        this.readsAwaitingApply.splice(i, 1);
        this.pendingCount--;
        read.resolve();
      }
    }
  }

  /** Fails requests past their deadline (a lost proposal, a read during an election). */
  private expireRequests(): void {
    const now = this.components.clock.monotonicMs();
    for (const [index, proposal] of this.proposals) {
      if (proposal.deadlineMs <= now) {
        this.proposals.delete(index);
        this.pendingCount--;
        this.components.metrics?.proposals.inc({ result: 'timeout' });
        proposal.reject(new ProposalTimeoutError());
      }
    }
    for (const [requestId, read] of this.reads) {
      if (read.deadlineMs <= now) {
        this.reads.delete(requestId);
        this.pendingCount--;
        read.reject(this.leaderIdValue === undefined ? this.notLeaderError() : new ProposalTimeoutError('read not confirmed in time'));
      }
    }
  }

  // ------------------------------------------------------------ snapshots

  /**
   * Replaces the state machine with the staged keyspace received for this snapshot. Done
   * BEFORE the Raft storage records the snapshot: after a crash in between, the state is ahead
   * of the log and `reconcileStateWithLog` adopts its snapshot point; the reverse order could
   * leave a log that starts after a state machine that is behind it.
   */
  private async installSnapshot(snapshot: Snapshot): Promise<void> {
    const staged = this.stagedSnapshot;
    assert(staged !== undefined && staged.index === snapshot.metadata.index, 'a snapshot is installed only after its keyspace was staged');
    this.stagedSnapshot = undefined;
    const previousDb = this.machineValue.db;
    this.releaseExport(this.exportValue);
    this.exportValue = undefined;
    const switched = await this.stateStore.switchTo(staged.dirName);
    this.machineValue = await CatalogueStateMachine.open(switched.db, this.options.catalogue);
    assert(this.machineValue.appliedIndex === snapshot.metadata.index, 'staged keyspace is at the snapshot index');
    // Reads in flight on the old keyspace finish first; then it is removed.
    setTimeout(() => {
      void previousDb.close().then(() => this.stateStore.removeDir(switched.previousDirName));
    }, 2000).unref();
    this.components.metrics?.snapshotsInstalled.inc();
    this.exportValue = { index: snapshot.metadata.index, db: switched.db, levelSnapshot: switched.db.snapshot() };
    this.components.logger.info('installed snapshot', { index: snapshot.metadata.index });
  }

  /**
   * Closing a LevelDB snapshot waits until iterators over it finish (a transfer to a slow
   * follower may take minutes), so it is never awaited inside the loop.
   */
  private releaseExport(previous: SnapshotExport | undefined): void {
    if (previous === undefined) return;
    previous.levelSnapshot.close().catch((err: unknown) => this.components.logger.debug('closing a snapshot export failed', { err }));
  }

  /**
   * Compacts after `snapshotEveryEntryCount` applied entries or `snapshotEveryLogBytes` of
   * applied log, whichever comes first. Only applied entries can be compacted, so the bytes of
   * the entries still waiting to apply (usually a few) do not count: were they many and large, a
   * count including them would compact after every Ready.
   */
  private async maybeCompact(): Promise<void> {
    const applied = this.machineValue.appliedIndex;
    const snapshotIndex = this.raftStorage.snapshot().metadata.index;
    if (applied <= snapshotIndex) return;
    if (applied - snapshotIndex < this.options.snapshotEveryEntryCount && this.appliedLogSizeBytes(applied) < this.options.snapshotEveryLogBytes) return;
    await this.compactAt(applied);
  }

  /** Data bytes of the log entries up to `applied` since the last snapshot. */
  private appliedLogSizeBytes(applied: number): number {
    const lastIndex = this.raftStorage.lastIndex();
    const waiting = lastIndex > applied ? this.raftStorage.entries(logIndex(applied + 1), logIndex(lastIndex + 1), Infinity) : [];
    return this.raftStorage.entriesSizeBytes() - waiting.reduce((sum, entry) => sum + entry.data.length, 0);
  }

  private async compactAt(applied: number): Promise<void> {
    const metadata = this.node.snapshotMetadata(logIndex(applied));
    const previous = this.exportValue;
    const db = this.machineValue.db;
    this.exportValue = { index: applied, db, levelSnapshot: db.snapshot() };
    this.releaseExport(previous);
    await db.put(snapshotMetadataKey, encodeSnapshotMeta(metadata));
    await this.raftStorage.compact({ metadata, data: snapshotDescriptor(applied) });
    this.components.metrics?.snapshotsTaken.inc();
  }

  /** On start: make the log and the state machine agree (see installSnapshot), and prepare an export. */
  private async reconcileStateWithLog(): Promise<void> {
    const applied = this.machineValue.appliedIndex;
    if (applied > this.raftStorage.lastIndex()) {
      const metadata = await readSnapshotMetadata(this.machineValue.db);
      assert(metadata !== undefined && metadata.index === applied, 'a state machine ahead of the log came from a snapshot');
      await this.raftStorage.adoptSnapshot({ metadata, data: snapshotDescriptor(applied) });
    }
    assert(this.machineValue.appliedIndex >= this.raftStorage.snapshot().metadata.index, 'state machine is not behind the log snapshot');
  }

  private async refreshExport(): Promise<void> {
    const applied = this.machineValue.appliedIndex;
    if (applied === 0) return;
    if (applied === this.raftStorage.snapshot().metadata.index) {
      const db = this.machineValue.db;
      this.exportValue = { index: applied, db, levelSnapshot: db.snapshot() };
    } else {
      await this.compactAt(applied);
    }
  }

  /**
   * The group's term when this node must withhold its vote until caught up: the marker of an
   * earlier start is there, or the Raft state is empty although the group already runs (the
   * data directory was wiped, or a disk replaced, under a member's id). The marker is written
   * before Raft starts. Undefined otherwise.
   */
  private async detectDataLoss(): Promise<number | undefined> {
    const markerPath = join(this.options.dataDir, dataLossMarkerFileName);
    if (existsSync(markerPath)) {
      this.dataLossMarkerPresent = true;
      this.components.logger.warn('still recovering from a loss of this node\'s Raft state: it neither votes nor campaigns until it has caught up with a leader');
      return readGroupTerm(await readFile(markerPath, 'utf8'));
    }
    const storage = this.raftStorage;
    const empty = storage.hardState().term === 0 && storage.lastIndex() === 0 && storage.snapshot().metadata.index === 0;
    // A joining node is probed too: one restarted with `--join` after losing its disk is as
    // dangerous as a founding one, and a new one loses nothing by not voting until caught up.
    if (!empty || this.components.probeExistingGroup === undefined) return undefined;
    const group = await this.components.probeExistingGroup();
    if (group === undefined) return undefined;
    const file = await open(markerPath, 'w');
    try {
      await file.writeFile(`${JSON.stringify({ detectedAtMs: this.components.clock.nowMs(), groupMember: group.nodeId, groupTerm: group.term })}\n`);
      await file.sync();
    } finally {
      await file.close();
    }
    await fsyncPath(this.options.dataDir);
    this.dataLossMarkerPresent = true;
    if (this.options.join) {
      this.components.logger.info(`joining a running group (${group.nodeId} is at term ${group.term}): this node votes only once it has caught up with a leader`);
      return group.term;
    }
    this.components.logger.warn(
      `this node has no Raft state, but its group runs (${group.nodeId} is at term ${group.term}): its data directory was wiped or replaced. ` +
        'It may have voted, and acknowledged entries, that it no longer remembers, so it neither votes nor campaigns until it has caught up with a leader. ' +
        'The safe way to replace a member is a membership change under a new id (tessera member remove / add).',
      { groupMember: group.nodeId, groupTerm: group.term },
    );
    return group.term;
  }

  private async clearDataLossMarker(): Promise<void> {
    this.dataLossMarkerPresent = false;
    await rm(join(this.options.dataDir, dataLossMarkerFileName), { force: true });
    await fsyncPath(this.options.dataDir);
    const status = this.node.status();
    this.components.logger.info('caught up after the loss of this node\'s Raft state: it votes again', { term: status.term, commitIndex: status.commitIndex });
  }

  private updateMetrics(ready: Ready): void {
    const metrics = this.components.metrics;
    if (metrics === undefined) return;
    const status = this.node.status();
    metrics.term.set(status.term);
    metrics.commitIndex.set(status.commitIndex);
    metrics.appliedIndex.set(this.machineValue.appliedIndex);
    metrics.applyLag.set(status.commitIndex - this.machineValue.appliedIndex);
    metrics.logEntries.set(this.raftStorage.lastIndex() - this.raftStorage.snapshot().metadata.index);
    metrics.logEntryBytes.set(this.raftStorage.entriesSizeBytes());
    metrics.isLeader.set(this.isLeader() ? 1 : 0);
    if (ready.entries.length > 0) metrics.entriesPersisted.inc(ready.entries.length);
  }
}

/** Raft carries only this descriptor; the keyspace itself is streamed by the transport. */
export function snapshotDescriptor(index: number): Uint8Array {
  return Buffer.from(JSON.stringify({ format: 'tessera-catalogue-leveldb-v1', index }), 'utf8');
}

/** The group's term in a data-loss marker; 0 (the node's own stored term then applies) if unreadable. */
function readGroupTerm(markerText: string): number {
  try {
    const term = (JSON.parse(markerText) as { groupTerm?: unknown }).groupTerm;
    return typeof term === 'number' && Number.isSafeInteger(term) && term >= 0 ? term : 0;
  } catch {
    return 0;
  }
}

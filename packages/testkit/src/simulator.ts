import type { LogIndex, Term } from '@tessera/common';
import { assert, logIndex, SeededRandom, term as toTerm } from '@tessera/common';
import type { NodeId, RaftConfig, Ready } from '@tessera/raft';
import { MemoryRaftStorage, NotLeaderError, ProposalDroppedError, RaftNode, describeLogEntry } from '@tessera/raft';
import type { LinearizabilityResult } from './linearizability';
import { checkLinearizability } from './linearizability';
import type { KvInput, KvOperation, KvOutput } from './kv-model';
import { kvRegisterModel } from './kv-model';
import { decodeKvCommand, encodeKvCommand, KvStateMachine } from './kv-state-machine';
import { InvariantChecker } from './invariant-checker';
import type { SimNetworkOptions, SimNetworkStats } from './sim-network';
import { SimNetwork } from './sim-network';

export interface SimulationOptions {
  readonly seed: number;
  /** Founding voters (3 or 5); membership changes move between this and one more. */
  readonly nodeCount: number;
  /** Simulated ticks; each tick every node ticks once and due messages are delivered. */
  readonly stepCount: number;
  readonly clientCount?: number;
  readonly keyCount?: number;
  /** Work bound for the linearizability checker (per key). */
  readonly checkerStepCountMax?: number;
}

/** Everything a seed decides about a run, printed with a failure so it can be read back. */
export interface SimulationFaults {
  readonly network: SimNetworkOptions;
  readonly crashProbabilityPerStep: number;
  /** Share of crashes that lose the Ready taken but not yet persisted. */
  readonly crashLosingUnsyncedShare: number;
  /**
   * Share of crashes that lose the whole disk: the host comes back under its id with empty
   * storage, once some member it can reach runs, and starts recovering from data loss in the
   * highest term it sees there (as the metadata host's probe does). One such loss at a time.
   */
  readonly diskLossShare: number;
  readonly partitionProbabilityPerStep: number;
  readonly membershipChangeProbabilityPerStep: number;
  /** Probability that a Ready's fsync completes a tick later (a window for unsynced loss). */
  readonly slowPersistProbability: number;
  readonly compactionLagEntryCount: number;
  readonly preVote: boolean;
  readonly checkQuorum: boolean;
  readonly maxInflightAppendCount: number;
  readonly maxAppendSizeBytes: number;
}

export interface SimulationReport {
  readonly seed: number;
  readonly nodeCount: number;
  readonly stepCount: number;
  readonly faults: SimulationFaults;
  readonly operationCount: number;
  readonly completedOperationCount: number;
  readonly leaderTermCount: number;
  readonly committedEntryCount: number;
  readonly crashCount: number;
  readonly unsyncedLossCount: number;
  readonly diskLossCount: number;
  readonly partitionCount: number;
  readonly membershipChangeCount: number;
  readonly snapshotInstallCount: number;
  readonly compactionCount: number;
  readonly network: SimNetworkStats;
  readonly linearizability: LinearizabilityResult['kind'];
  readonly checkerStepCount: number;
}

/** A failed run. The message starts with `SEED=<n>`; running that seed again replays it. */
export class SimulationFailure extends Error {
  static readonly errorName = 'SimulationFailure';
  constructor(
    readonly seed: number,
    detail: string,
  ) {
    super(`SEED=${seed} ${detail}`);
    this.name = SimulationFailure.errorName;
  }
}

const electionTimeoutTicks = 20;
const heartbeatIntervalTicks = 3;
/** A client gives up on an attempt after this long and retries elsewhere. */
const clientAttemptTimeoutTicks = 60;
const traceLineCountMax = 60;

interface PendingRead {
  readonly clientId: number;
  readonly key: string;
  index: LogIndex | undefined;
}

interface SimHost {
  readonly id: NodeId;
  storage: MemoryRaftStorage;
  node: RaftNode | undefined;
  machine: KvStateMachine;
  /** A Ready taken from the node whose persistence has not completed yet. */
  heldReady: Ready | undefined;
  /** Writes proposed through this host, awaiting apply: "clientId:sequence". */
  pendingWrites: Set<string>;
  pendingReads: Map<string, PendingRead>;
  downUntilTick: number | undefined;
  removed: boolean;
  readonly founding: boolean;
  /** Its disk was lost: it restarts empty and recovering (see SimulationFaults.diskLossShare). */
  diskLost: boolean;
  /**
   * The metadata host's data-loss marker: the group term it recovers in, kept on "disk" until
   * the node reports it caught up, so a crash in between restarts it recovering again.
   */
  recoveryMarkerTerm: Term | undefined;
}

interface ClientAttempt {
  readonly operationIndex: number;
  readonly sequence: number;
  attempt: number;
  requestId: string | undefined;
  retryAtTick: number;
  deadlineTick: number;
}

interface SimClient {
  readonly id: number;
  sequence: number;
  target: NodeId;
  current: ClientAttempt | undefined;
  idleUntilTick: number;
  lastSeen: Map<string, string | null>;
}

function drawFaults(random: SeededRandom): SimulationFaults {
  const stormy = random.nextInt(3) === 0;
  return {
    network: {
      dropProbability: random.nextFloat() * 0.1,
      duplicateProbability: random.nextFloat() * 0.05,
      delayTicksMin: 0,
      delayTicksMax: 1 + random.nextInt(5),
    },
    // A third of the seeds are stormy: frequent crashes and partitions mean many short terms
    // with partly replicated entries, where the subtle commit-rule bugs live (paper figure 8).
    crashProbabilityPerStep: random.nextFloat() * (stormy ? 0.03 : 0.006),
    crashLosingUnsyncedShare: 0.5,
    partitionProbabilityPerStep: random.nextFloat() * (stormy ? 0.03 : 0.006),
    membershipChangeProbabilityPerStep: random.nextFloat() * 0.01,
    slowPersistProbability: random.nextFloat() * 0.4,
    compactionLagEntryCount: 10 + random.nextInt(40),
    preVote: random.nextFloat() < 0.75,
    checkQuorum: random.nextFloat() < 0.75,
    maxInflightAppendCount: 1 + random.nextInt(8),
    // One entry per Append in a third of the seeds: followers then ack old-term entries
    // separately from the new leader's own, the situation of paper figure 8.
    maxAppendSizeBytes: random.nextInt(3) === 0 ? 1 : 64 + random.nextInt(1024),
    diskLossShare: random.nextInt(2) === 0 ? 0 : random.nextFloat() * 0.3,
  };
}

/**
 * A deterministic simulation of a Raft cluster serving a key-value register workload (in the
 * spirit of TigerBeetle's VOPR): one seed decides every fault, delay and choice. Safety
 * properties are checked after every step, and the client history is checked for
 * linearizability at the end. Throws SimulationFailure (message starts with SEED=...).
 */
export class Simulation {
  private readonly random: SeededRandom;
  readonly faults: SimulationFaults;
  private readonly network: SimNetwork;
  private readonly checker = new InvariantChecker();
  private readonly hosts = new Map<NodeId, SimHost>();
  private readonly clients: SimClient[] = [];
  private readonly history: { clientId: number; input: KvInput; output: KvOutput | undefined; callTime: number; returnTime: number }[] = [];
  private readonly foundingIds: NodeId[] = [];
  private readonly trace: string[] = [];
  private tick = 0;
  private eventTime = 0;
  private nextNodeNumber = 1;
  private healAtTick: number | undefined = undefined;
  private counters = {
    crashCount: 0,
    unsyncedLossCount: 0,
    diskLossCount: 0,
    partitionCount: 0,
    membershipChangeCount: 0,
    snapshotInstallCount: 0,
    compactionCount: 0,
  };

  constructor(private readonly options: SimulationOptions) {
    assert(options.nodeCount >= 1, 'at least one node');
    this.random = new SeededRandom(options.seed);
    this.faults = drawFaults(this.random);
    this.network = new SimNetwork(this.random, this.faults.network);
    for (let i = 0; i < options.nodeCount; i++) this.foundingIds.push(`n${this.nextNodeNumber++}`);
    for (const id of this.foundingIds) this.createHost(id, true);
    const clientCount = options.clientCount ?? 3;
    for (let id = 0; id < clientCount; id++) {
      this.clients.push({ id, sequence: 0, target: this.randomRunningHost() ?? 'n1', current: undefined, idleUntilTick: 0, lastSeen: new Map() });
    }
  }

  run(): SimulationReport {
    try {
      for (this.tick = 1; this.tick <= this.options.stepCount; this.tick++) this.step();
      const result = this.checkHistory();
      return this.report(result);
    } catch (err) {
      if (err instanceof SimulationFailure) throw err;
      const error = err as Error;
      throw new SimulationFailure(this.options.seed, `${error.name}: ${error.message}\n${this.describe()}\n${error.stack ?? ''}`);
    }
  }

  private step(): void {
    this.injectFaults();
    for (const host of this.hosts.values()) host.node?.tick();
    for (const message of this.network.takeDue(this.tick)) {
      const host = this.hosts.get(message.to);
      host?.node?.step(message);
    }
    for (const client of this.clients) this.driveClient(client);
    for (const host of this.hosts.values()) this.processHost(host);
    this.checkLeaders();
    this.retireRemovedHosts();
  }

  // ---------------------------------------------------------------- hosts

  private createHost(id: NodeId, founding: boolean): SimHost {
    const host: SimHost = {
      id,
      storage: new MemoryRaftStorage(),
      node: undefined,
      machine: new KvStateMachine(),
      heldReady: undefined,
      pendingWrites: new Set(),
      pendingReads: new Map(),
      downUntilTick: undefined,
      removed: false,
      founding,
      diskLost: false,
      recoveryMarkerTerm: undefined,
    };
    this.hosts.set(id, host);
    this.startHost(host);
    return host;
  }

  /** Starts (or restarts) a host from what it persisted, as a real process would. */
  private startHost(host: SimHost, recoveringFromDataLoss?: { groupTerm: Term }): void {
    const config: RaftConfig = {
      id: host.id,
      storage: host.storage,
      random: new SeededRandom(this.random.nextUint32()),
      bootstrapVoters: host.founding ? this.foundingIds : undefined,
      electionTimeoutTicks,
      heartbeatIntervalTicks,
      preVote: this.faults.preVote,
      checkQuorum: this.faults.checkQuorum,
      maxInflightAppendCount: this.faults.maxInflightAppendCount,
      maxAppendSizeBytes: this.faults.maxAppendSizeBytes,
      ...(recoveringFromDataLoss === undefined ? {} : { recoveringFromDataLoss }),
    };
    host.machine = KvStateMachine.deserialize(host.storage.snapshot().data);
    host.node = new RaftNode(config);
    host.heldReady = undefined;
    host.pendingWrites = new Set();
    host.pendingReads = new Map();
    host.downUntilTick = undefined;
  }

  private processHost(host: SimHost): void {
    const node = host.node;
    if (node === undefined) return;
    if (host.heldReady !== undefined) {
      const held = host.heldReady;
      host.heldReady = undefined;
      this.completeReady(host, node, held);
    }
    while (node.hasReady()) {
      const ready = node.ready();
      if (this.random.nextFloat() < this.faults.slowPersistProbability) {
        host.heldReady = ready;
        break;
      }
      this.completeReady(host, node, ready);
    }
    this.answerReads(host, node);
    this.maybeCompact(host, node);
  }

  /** The host loop body: persist, then send, then apply, then advance (Ready's contract). */
  private completeReady(host: SimHost, node: RaftNode, ready: Ready): void {
    if (ready.softState !== undefined) {
      this.log(`${host.id} ${ready.softState.role} term=${node.status().term} leader=${ready.softState.leaderId ?? '-'}`);
    }
    if (ready.snapshot !== undefined) {
      host.storage.applySnapshot(ready.snapshot);
      host.machine = KvStateMachine.deserialize(ready.snapshot.data);
      this.counters.snapshotInstallCount += 1;
      this.log(`${host.id} installed snapshot ${ready.snapshot.metadata.index}@${ready.snapshot.metadata.term}`);
    }
    host.storage.append(ready.entries);
    for (const entry of ready.entries) this.checker.observeAppended(host.id, entry, host.storage.term(logIndex(entry.index - 1)));
    if (ready.hardState !== undefined) host.storage.setHardState(ready.hardState);
    for (const message of ready.messages) this.network.send(message, this.tick);
    const leaders = this.currentLeaders();
    for (const entry of ready.committedEntries) {
      this.checker.observeApplied(host.id, entry, node.status().term, leaders);
      if (entry.kind === 'membership') this.log(`${host.id} applied ${describeLogEntry(entry)}`);
      if (entry.kind !== 'normal') continue;
      const command = decodeKvCommand(entry.data);
      const output = host.machine.apply(command);
      const sessionKey = `${command.clientId}:${command.sequence}`;
      if (host.pendingWrites.delete(sessionKey)) this.completeWrite(command.clientId, command.sequence, output);
    }
    for (const readState of ready.readStates) {
      const read = host.pendingReads.get(readState.requestId);
      if (read !== undefined) read.index = readState.index;
    }
    node.advance(ready);
    // As the metadata host does after advance: the marker goes once the node has caught up.
    if (host.recoveryMarkerTerm !== undefined && !node.status().recoveringFromDataLoss) {
      host.recoveryMarkerTerm = undefined;
      this.log(`${host.id} caught up after its disk loss`);
    }
  }

  private answerReads(host: SimHost, node: RaftNode): void {
    const appliedIndex = node.status().appliedIndex;
    for (const [requestId, read] of host.pendingReads) {
      if (read.index === undefined || read.index > appliedIndex) continue;
      host.pendingReads.delete(requestId);
      const client = this.clients[read.clientId];
      if (client?.current?.requestId !== requestId) continue;
      this.completeOperation(client, { kind: 'read', value: host.machine.read(read.key) });
    }
  }

  private maybeCompact(host: SimHost, node: RaftNode): void {
    if (host.heldReady !== undefined) return;
    const appliedIndex = node.status().appliedIndex;
    if (appliedIndex - host.storage.firstIndex() < this.faults.compactionLagEntryCount) return;
    if (appliedIndex > host.storage.lastIndex()) return;
    const metadata = node.snapshotMetadata(appliedIndex);
    host.storage.createSnapshot({ metadata, data: host.machine.serialize() });
    this.counters.compactionCount += 1;
  }

  // ---------------------------------------------------------------- faults

  private injectFaults(): void {
    for (const host of this.hosts.values()) {
      if (host.node === undefined && !host.removed && host.downUntilTick !== undefined && host.downUntilTick <= this.tick) {
        if (host.diskLost) this.restartAfterDiskLoss(host);
        else {
          const marker = host.recoveryMarkerTerm;
          this.startHost(host, marker === undefined ? undefined : { groupTerm: marker });
          this.log(`${host.id} restarted${marker === undefined ? '' : ' (still recovering from data loss)'}`);
        }
      }
    }
    if (this.random.nextFloat() < this.faults.crashProbabilityPerStep) this.crashSomeHost();
    if (this.healAtTick !== undefined && this.healAtTick <= this.tick) {
      this.network.heal();
      this.healAtTick = undefined;
      this.log('network healed');
    } else if (this.healAtTick === undefined && this.random.nextFloat() < this.faults.partitionProbabilityPerStep) {
      this.partitionSomehow();
    }
    if (this.random.nextFloat() < this.faults.membershipChangeProbabilityPerStep) this.changeMembership();
  }

  private crashSomeHost(): void {
    const running = [...this.hosts.values()].filter((host) => host.node !== undefined);
    const downCount = [...this.hosts.values()].filter((host) => host.node === undefined && !host.removed).length;
    // Keep a majority up most of the time, so the run also makes progress.
    if (downCount >= Math.floor((this.options.nodeCount - 1) / 2) || running.length === 0) return;
    const losesUnsynced = this.random.nextFloat() < this.faults.crashLosingUnsyncedShare;
    // One disk loss at a time: none while another host has lost its disk and not caught up.
    const recovering = [...this.hosts.values()].some((other) => other.diskLost || other.recoveryMarkerTerm !== undefined);
    const losesDisk = !recovering && this.random.nextFloat() < this.faults.diskLossShare;
    // Losing unsynced state matters only when there is some: prefer a host mid-fsync.
    const midFsync = running.filter((candidate) => candidate.heldReady !== undefined);
    const pool = losesUnsynced && midFsync.length > 0 ? midFsync : running;
    const host = pool[this.random.nextInt(pool.length)];
    assert(host !== undefined, 'host chosen');
    if (!losesUnsynced) {
      // A clean stop: the last Ready's fsync completes before the process dies.
      const node = host.node;
      if (node !== undefined && host.heldReady !== undefined) {
        this.completeReady(host, node, host.heldReady);
        host.heldReady = undefined;
      }
    } else if (host.heldReady !== undefined) {
      this.counters.unsyncedLossCount += 1;
    }
    // Whatever the host had not persisted (unstable entries, a held Ready, volatile state)
    // dies with the RaftNode; the storage object is what reached the disk.
    host.node = undefined;
    host.heldReady = undefined;
    host.downUntilTick = this.tick + 5 + this.random.nextInt(100);
    this.network.dropNode(host.id);
    this.counters.crashCount += 1;
    if (losesDisk) {
      host.storage = new MemoryRaftStorage();
      host.diskLost = true;
      this.counters.diskLossCount += 1;
    }
    this.log(`${host.id} crashed${losesUnsynced ? ' losing unsynced state' : ''}${losesDisk ? ' and its disk' : ''}`);
  }

  /**
   * Brings back a host whose disk was lost once a member it can reach runs (an operator restarts
   * it while the group runs), recovering in the highest term it sees: the metadata host's probe.
   */
  private restartAfterDiskLoss(host: SimHost): void {
    const reachable = [...this.hosts.values()].filter((other) => other !== host && other.node !== undefined && !other.removed
      && !this.network.isCut(host.id, other.id) && !this.network.isCut(other.id, host.id));
    const groupTerm = Math.max(0, ...reachable.map((other) => other.node?.status().term ?? 0));
    if (groupTerm === 0) {
      host.downUntilTick = this.tick + 10;
      return;
    }
    host.diskLost = false;
    host.recoveryMarkerTerm = toTerm(groupTerm);
    this.startHost(host, { groupTerm: host.recoveryMarkerTerm });
    this.log(`${host.id} restarted with an empty disk, recovering in term ${groupTerm}`);
  }

  private partitionSomehow(): void {
    const ids = [...this.hosts.values()].filter((host) => !host.removed).map((host) => host.id);
    const shape = this.random.nextInt(3);
    if (shape === 0) {
      const shuffled = this.shuffle(ids);
      const cut = 1 + this.random.nextInt(Math.max(1, shuffled.length - 1));
      this.network.partition([shuffled.slice(0, cut), shuffled.slice(cut)]);
      this.log(`partition [${shuffled.slice(0, cut).join(',')}] | [${shuffled.slice(cut).join(',')}]`);
    } else if (shape === 1) {
      const isolated = ids[this.random.nextInt(ids.length)] ?? 'n1';
      this.network.partition([[isolated], ids.filter((id) => id !== isolated)]);
      this.log(`isolate ${isolated}`);
    } else {
      const from = ids[this.random.nextInt(ids.length)] ?? 'n1';
      for (const to of ids) if (to !== from) this.network.cutOneWay(from, to);
      this.log(`one-way: ${from} cannot send`);
    }
    this.counters.partitionCount += 1;
    this.healAtTick = this.tick + 5 + this.random.nextInt(this.random.nextFloat() < 0.5 ? 30 : 150);
  }

  /**
   * Single-server changes driven like an operator would: add a fresh node as a learner, promote
   * it once it has caught up, remove a voter to return to the founding size; repeat.
   */
  private changeMembership(): void {
    const leader = this.currentLeaders().sort((a, b) => b.term - a.term)[0];
    if (leader === undefined) return;
    const status = leader.node.status();
    if (status.membershipIndex > status.commitIndex) return;
    const { voters, learners } = status.membership;
    try {
      const learner = learners[0];
      if (learner !== undefined) {
        const progress = status.progress[learner];
        if (progress === undefined || progress.matchIndex < status.commitIndex) return;
        leader.node.proposeMembershipChange({ kind: 'add', nodeId: learner });
        this.log(`${leader.id} proposes add ${learner}`);
      } else if (voters.length > this.options.nodeCount) {
        const victim = voters[this.random.nextInt(voters.length)];
        assert(victim !== undefined, 'victim chosen');
        leader.node.proposeMembershipChange({ kind: 'remove', nodeId: victim });
        this.log(`${leader.id} proposes remove ${victim}`);
      } else {
        // Fresh ids only: reusing an id with wiped storage could let it vote twice in a term.
        const id = `n${this.nextNodeNumber}`;
        leader.node.proposeMembershipChange({ kind: 'addLearner', nodeId: id });
        this.nextNodeNumber += 1;
        this.createHost(id, false);
        this.log(`${leader.id} proposes addLearner ${id}`);
      }
      this.counters.membershipChangeCount += 1;
    } catch (err) {
      if (!(err instanceof ProposalDroppedError) && !(err instanceof NotLeaderError)) throw err;
    }
  }

  /** Stops hosts whose removal the current leader has committed. */
  private retireRemovedHosts(): void {
    const leader = this.currentLeaders().sort((a, b) => b.term - a.term)[0];
    if (leader === undefined) return;
    const status = leader.node.status();
    if (status.membershipIndex > status.commitIndex) return;
    const members = new Set([...status.membership.voters, ...status.membership.learners]);
    for (const host of this.hosts.values()) {
      if (host.removed || members.has(host.id)) continue;
      host.removed = true;
      host.node = undefined;
      host.heldReady = undefined;
      this.network.dropNode(host.id);
      this.log(`${host.id} retired`);
    }
  }

  // ---------------------------------------------------------------- clients

  private driveClient(client: SimClient): void {
    if (client.current === undefined) {
      if (this.tick < client.idleUntilTick || this.random.nextFloat() > 0.3) return;
      this.startOperation(client);
    }
    const current = client.current;
    assert(current !== undefined, 'operation in progress');
    if (this.tick >= current.deadlineTick) {
      client.target = this.randomRunningHost() ?? client.target;
      current.retryAtTick = this.tick;
    }
    if (current.retryAtTick <= this.tick) this.attempt(client, current);
  }

  private startOperation(client: SimClient): void {
    const keyCount = this.options.keyCount ?? 3;
    const key = `k${this.random.nextInt(keyCount)}`;
    const roll = this.random.nextFloat();
    client.sequence += 1;
    const value = `c${client.id}.${client.sequence}`;
    let input: KvInput;
    if (roll < 0.4) input = { kind: 'read', key };
    else if (roll < 0.75) input = { kind: 'write', key, value };
    else input = { kind: 'cas', key, expected: client.lastSeen.get(key) ?? null, value };
    this.history.push({ clientId: client.id, input, output: undefined, callTime: ++this.eventTime, returnTime: Infinity });
    client.current = {
      operationIndex: this.history.length - 1,
      sequence: client.sequence,
      attempt: 0,
      requestId: undefined,
      retryAtTick: this.tick,
      deadlineTick: Infinity,
    };
  }

  private attempt(client: SimClient, current: ClientAttempt): void {
    const operation = this.history[current.operationIndex];
    assert(operation !== undefined, 'operation recorded');
    current.attempt += 1;
    current.retryAtTick = Infinity;
    current.deadlineTick = this.tick + clientAttemptTimeoutTicks;
    const host = this.hosts.get(client.target);
    const node = host?.node;
    if (host === undefined || node === undefined) {
      client.target = this.randomRunningHost() ?? client.target;
      current.retryAtTick = this.tick + 1;
      return;
    }
    try {
      if (operation.input.kind === 'read') {
        const requestId = `c${client.id}.${current.sequence}.${current.attempt}`;
        current.requestId = requestId;
        host.pendingReads.set(requestId, { clientId: client.id, key: operation.input.key, index: undefined });
        node.readIndex(requestId);
      } else {
        node.propose(encodeKvCommand({ clientId: client.id, sequence: current.sequence, input: operation.input }));
        host.pendingWrites.add(`${client.id}:${current.sequence}`);
      }
    } catch (err) {
      if (err instanceof NotLeaderError) {
        client.target = err.leaderHint ?? this.randomRunningHost() ?? client.target;
        current.retryAtTick = this.tick + 1;
      } else if (err instanceof ProposalDroppedError) {
        current.retryAtTick = this.tick + 5;
      } else {
        throw err;
      }
    }
  }

  private completeWrite(clientId: number, sequence: number, output: KvOutput): void {
    const client = this.clients[clientId];
    if (client?.current === undefined || client.current.sequence !== sequence) return;
    this.completeOperation(client, output);
  }

  private completeOperation(client: SimClient, output: KvOutput): void {
    const current = client.current;
    assert(current !== undefined, 'operation in progress');
    const operation = this.history[current.operationIndex];
    assert(operation !== undefined, 'operation recorded');
    operation.output = output;
    operation.returnTime = ++this.eventTime;
    if (output.kind === 'read') client.lastSeen.set(operation.input.key, output.value);
    if (operation.input.kind === 'write') client.lastSeen.set(operation.input.key, operation.input.value);
    client.current = undefined;
    client.idleUntilTick = this.tick + this.random.nextInt(5);
  }

  // ---------------------------------------------------------------- checks

  private currentLeaders(): { id: NodeId; node: RaftNode; term: Term }[] {
    const leaders = [];
    for (const host of this.hosts.values()) {
      const node = host.node;
      if (node === undefined) continue;
      const status = node.status();
      if (status.role === 'leader') leaders.push({ id: host.id, node, term: status.term });
    }
    return leaders;
  }

  private checkLeaders(): void {
    for (const leader of this.currentLeaders()) this.checker.observeLeader(leader.id, leader.node, leader.term);
  }

  private checkHistory(): LinearizabilityResult {
    // A read that never returned had no effect and constrains nothing; drop it.
    const operations: KvOperation[] = this.history.filter((operation) => operation.input.kind !== 'read' || operation.output !== undefined);
    const result = checkLinearizability(kvRegisterModel, operations, { stepCountMax: this.options.checkerStepCountMax ?? 2_000_000 });
    if (result.kind === 'notLinearizable') {
      throw new SimulationFailure(this.options.seed, `history is not linearizable (key partition ${result.partitionIndex}):\n${result.explanation}\n${this.describe()}`);
    }
    return result;
  }

  private report(result: LinearizabilityResult): SimulationReport {
    return {
      seed: this.options.seed,
      nodeCount: this.options.nodeCount,
      stepCount: this.options.stepCount,
      faults: this.faults,
      operationCount: this.history.length,
      completedOperationCount: this.history.filter((operation) => operation.output !== undefined).length,
      leaderTermCount: this.checker.leaderTermCount(),
      committedEntryCount: this.checker.committedCount(),
      ...this.counters,
      network: this.network.stats,
      linearizability: result.kind,
      checkerStepCount: result.stepCount,
    };
  }

  private describe(): string {
    return `at tick ${this.tick}; faults ${JSON.stringify(this.faults)}\nrecent events:\n  ${this.trace.join('\n  ')}`;
  }

  private log(line: string): void {
    this.trace.push(`[${this.tick}] ${line}`);
    if (this.trace.length > traceLineCountMax) this.trace.shift();
  }

  private randomRunningHost(): NodeId | undefined {
    const running = [...this.hosts.values()].filter((host) => host.node !== undefined && !host.removed);
    return running[this.random.nextInt(Math.max(1, running.length))]?.id;
  }

  private shuffle<T>(items: readonly T[]): T[] {
    const copy = [...items];
    for (let i = copy.length - 1; i > 0; i--) {
      const j = this.random.nextInt(i + 1);
      [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
    }
    return copy;
  }
}

/** Runs one seed; throws SimulationFailure on any violation. */
export function runSimulation(options: SimulationOptions): SimulationReport {
  return new Simulation(options).run();
}

// A small driver for scripted scenarios (etcd's interaction env, in TypeScript): a handful of
// RaftNodes with MemoryRaftStorage, a message queue delivered on demand, partitions, crashes
// and restarts. Every step is written to a readable transcript that the tests assert with
// toMatchSnapshot(), so a behaviour change shows up as a reviewable diff.
import type { LogIndex, Term } from '@tessera/common';
import { assert, SeededRandom } from '@tessera/common';
import type { LogEntry, MembershipChange, NodeId, RaftMessage, RaftStatus } from '@tessera/raft';
import { describeLogEntry, describeRaftMessage, MemoryRaftStorage, RaftNode } from '@tessera/raft';

export interface ScenarioOptions {
  readonly ids: readonly NodeId[];
  readonly preVote?: boolean;
  readonly checkQuorum?: boolean;
  readonly electionTimeoutTicks?: number;
  readonly heartbeatIntervalTicks?: number;
  readonly maxInflightAppendCount?: number;
  readonly maxAppendSizeBytes?: number;
}

interface ScenarioNode {
  node: RaftNode | undefined;
  storage: MemoryRaftStorage;
  applied: LogEntry[];
  /** The host's state machine is the list of applied normal commands. */
  stateMachine: string[];
  readonly reads: { requestId: string; index: LogIndex }[];
}

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder();

export class ScenarioEnv {
  readonly lines: string[] = [];
  private readonly nodes = new Map<NodeId, ScenarioNode>();
  private queue: RaftMessage[] = [];
  /** Directed links that drop messages: "from->to". */
  private readonly cut = new Set<string>();
  private seed = 1;

  constructor(private readonly options: ScenarioOptions) {
    for (const id of options.ids) this.addNode(id, true);
  }

  /** Creates a node (bootstrapped with the founding voters, or empty to join later). */
  addNode(id: NodeId, founding: boolean): void {
    const storage = new MemoryRaftStorage();
    this.nodes.set(id, { node: undefined, storage, applied: [], stateMachine: [], reads: [] });
    this.start(id, founding);
  }

  private start(id: NodeId, founding: boolean, recoveringFromDataLoss?: { groupTerm: Term }): void {
    const state = this.get(id);
    const options = this.options;
    state.node = new RaftNode({
      id,
      storage: state.storage,
      random: new SeededRandom(this.seed++),
      bootstrapVoters: founding ? options.ids : undefined,
      electionTimeoutTicks: options.electionTimeoutTicks ?? 10,
      heartbeatIntervalTicks: options.heartbeatIntervalTicks ?? 1,
      preVote: options.preVote ?? true,
      checkQuorum: options.checkQuorum ?? true,
      maxInflightAppendCount: options.maxInflightAppendCount ?? 8,
      maxAppendSizeBytes: options.maxAppendSizeBytes ?? 1024,
      ...(recoveringFromDataLoss === undefined ? {} : { recoveringFromDataLoss }),
    });
    // The host rebuilds its state machine from the snapshot; here the snapshot data is the
    // list of commands joined by newlines.
    const snapshot = state.storage.snapshot();
    state.stateMachine = snapshot.data.length === 0 ? [] : textDecoder.decode(snapshot.data).split('\n');
  }

  note(text: string): void {
    this.lines.push(`# ${text}`);
  }

  get transcript(): string {
    return `${this.lines.join('\n')}\n`;
  }

  node(id: NodeId): RaftNode {
    const node = this.get(id).node;
    assert(node !== undefined, `${id} is running`);
    return node;
  }

  status(id: NodeId): RaftStatus {
    return this.node(id).status();
  }

  stateMachine(id: NodeId): readonly string[] {
    return this.get(id).stateMachine;
  }

  reads(id: NodeId): readonly { requestId: string; index: LogIndex }[] {
    return this.get(id).reads;
  }

  campaign(id: NodeId): void {
    this.lines.push(`> campaign ${id}`);
    this.node(id).campaign();
    this.processReadies();
  }

  tick(id: NodeId, count = 1): void {
    this.lines.push(`> tick ${id} x${count}`);
    for (let i = 0; i < count; i++) {
      this.node(id).tick();
      this.processReadies();
    }
  }

  /** Ticks every running node `count` times, delivering messages after each round. */
  tickAll(count: number): void {
    this.lines.push(`> tick all x${count}`);
    for (let i = 0; i < count; i++) {
      for (const state of this.nodes.values()) state.node?.tick();
      this.deliverAll();
    }
  }

  propose(id: NodeId, command: string): void {
    this.lines.push(`> propose ${id} "${command}"`);
    try {
      const position = this.node(id).propose(textEncoder.encode(command));
      this.lines.push(`  -> index ${position.index} term ${position.term}`);
    } catch (err) {
      this.lines.push(`  -> ${(err as Error).name}: ${(err as Error).message}`);
    }
    this.processReadies();
  }

  changeMembership(id: NodeId, change: MembershipChange): void {
    this.lines.push(`> membership ${id} ${change.kind} ${change.nodeId}`);
    try {
      const position = this.node(id).proposeMembershipChange(change);
      this.lines.push(`  -> index ${position.index} term ${position.term}`);
    } catch (err) {
      this.lines.push(`  -> ${(err as Error).name}: ${(err as Error).message}`);
    }
    this.processReadies();
  }

  readIndex(id: NodeId, requestId: string): void {
    this.lines.push(`> read ${id} ${requestId}`);
    try {
      this.node(id).readIndex(requestId);
    } catch (err) {
      this.lines.push(`  -> ${(err as Error).name}: ${(err as Error).message}`);
    }
    this.processReadies();
  }

  transferLeadership(id: NodeId, targetId: NodeId): void {
    this.lines.push(`> transfer ${id} -> ${targetId}`);
    this.node(id).transferLeadership(targetId);
    this.processReadies();
  }

  /** Takes a snapshot of `id`'s state machine at its applied index and compacts the log. */
  compact(id: NodeId): void {
    const state = this.get(id);
    const node = this.node(id);
    const appliedIndex = node.status().appliedIndex;
    const metadata = node.snapshotMetadata(appliedIndex);
    state.storage.createSnapshot({ metadata, data: textEncoder.encode(state.stateMachine.join('\n')) });
    this.lines.push(`> compact ${id} at ${metadata.index}@${metadata.term}: first index now ${state.storage.firstIndex()}`);
  }

  /** Cuts both directions between every node of `left` and every node of `right`. */
  partition(left: readonly NodeId[], right: readonly NodeId[]): void {
    this.lines.push(`> partition [${left.join(',')}] | [${right.join(',')}]`);
    for (const a of left) {
      for (const b of right) {
        this.cut.add(`${a}->${b}`);
        this.cut.add(`${b}->${a}`);
      }
    }
  }

  /** Cuts one direction only: `from` can no longer reach `to`. */
  cutOneWay(from: NodeId, to: NodeId): void {
    this.lines.push(`> cut ${from} -> ${to}`);
    this.cut.add(`${from}->${to}`);
  }

  heal(): void {
    this.lines.push('> heal');
    this.cut.clear();
  }

  /** Stops `id`; its storage (everything persisted) survives. */
  crash(id: NodeId): void {
    this.lines.push(`> crash ${id}`);
    this.get(id).node = undefined;
    this.queue = this.queue.filter((message) => message.to !== id && message.from !== id);
  }

  /**
   * Restarts `id` with an empty disk, as after a wiped data directory; `recoveringFromDataLoss`
   * as a host sets it when it knows the group lived on (RaftConfig).
   */
  wipeAndRestart(id: NodeId, founding = true, recoveringFromDataLoss?: { groupTerm: Term }): void {
    this.lines.push(`> wipe and restart ${id}${recoveringFromDataLoss === undefined ? '' : ` (recovering from data loss, group at term ${recoveringFromDataLoss.groupTerm})`}`);
    const state = this.get(id);
    state.node = undefined;
    state.storage = new MemoryRaftStorage();
    state.applied = [];
    this.queue = this.queue.filter((message) => message.to !== id && message.from !== id);
    this.start(id, founding, recoveringFromDataLoss);
  }

  restart(id: NodeId, founding = true): void {
    this.lines.push(`> restart ${id}`);
    this.get(id).applied = [];
    this.start(id, founding);
  }

  /** Delivers messages (and processes Readies) until nothing moves. */
  deliverAll(): void {
    this.processReadies();
    for (let round = 0; round < 1000; round++) {
      if (this.queue.length === 0) return;
      const batch = this.queue;
      this.queue = [];
      for (const message of batch) this.deliver(message);
      this.processReadies();
    }
    assert(false, 'scenario did not quiesce in 1000 rounds');
  }

  /** Delivers only the queued messages that match (one pass); the rest stay queued. */
  deliverMatching(description: string, matches: (message: RaftMessage) => boolean): void {
    this.lines.push(`> deliver ${description}`);
    this.processReadies();
    const batch = this.queue.filter(matches);
    this.queue = this.queue.filter((message) => !matches(message));
    for (const message of batch) this.deliver(message);
    this.processReadies();
  }

  /** Drops every queued message without delivering it. */
  dropQueued(): void {
    this.lines.push(`> drop ${this.queue.length} queued messages`);
    this.queue = [];
  }

  private deliver(message: RaftMessage): void {
    const target = this.nodes.get(message.to)?.node;
    if (this.cut.has(`${message.from}->${message.to}`) || target === undefined) {
      this.lines.push(`  dropped ${describeRaftMessage(message)}`);
      return;
    }
    this.lines.push(`  ${describeRaftMessage(message)}`);
    target.step(message);
  }

  private processReadies(): void {
    for (const [id, state] of this.nodes) {
      const node = state.node;
      if (node === undefined) continue;
      while (node.hasReady()) {
        const ready = node.ready();
        if (ready.softState !== undefined) {
          this.lines.push(`  ${id} is ${ready.softState.role} at term ${node.status().term}, leader ${ready.softState.leaderId ?? 'unknown'}`);
        }
        if (ready.snapshot !== undefined) {
          state.storage.applySnapshot(ready.snapshot);
          state.stateMachine = ready.snapshot.data.length === 0 ? [] : textDecoder.decode(ready.snapshot.data).split('\n');
          this.lines.push(`  ${id} installed snapshot ${ready.snapshot.metadata.index}@${ready.snapshot.metadata.term}`);
        }
        state.storage.append(ready.entries);
        if (ready.hardState !== undefined) state.storage.setHardState(ready.hardState);
        this.queue.push(...ready.messages);
        for (const entry of ready.committedEntries) {
          state.applied.push(entry);
          if (entry.kind === 'normal') state.stateMachine.push(textDecoder.decode(entry.data));
          this.lines.push(`  ${id} applied ${describeLogEntry(entry)}`);
        }
        for (const read of ready.readStates) {
          state.reads.push(read);
          this.lines.push(`  ${id} read ${read.requestId} confirmed at index ${read.index}`);
        }
        node.advance(ready);
      }
    }
  }

  private get(id: NodeId): ScenarioNode {
    const state = this.nodes.get(id);
    assert(state !== undefined, `unknown node ${id}`);
    return state;
  }
}


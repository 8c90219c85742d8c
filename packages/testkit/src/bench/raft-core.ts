// Benchmark of the pure Raft core (no disk, no network): committed proposals per second
// through an in-memory 3-node cluster at several batch sizes, the message codec's throughput,
// and the simulator's speed. Run with `npm run bench -- testkit`; prints markdown tables.
import { logIndex, SeededRandom, term } from '@tessera/common';
import type { RaftMessage } from '@tessera/raft';
import { decodeRaftMessage, encodeRaftMessage, MemoryRaftStorage, RaftNode } from '@tessera/raft';
import { runSimulation } from '../simulator';

interface BenchNode {
  readonly node: RaftNode;
  readonly storage: MemoryRaftStorage;
  appliedCount: number;
}

function makeCluster(): Map<string, BenchNode> {
  const ids = ['a', 'b', 'c'];
  const cluster = new Map<string, BenchNode>();
  for (const id of ids) {
    const storage = new MemoryRaftStorage();
    const node = new RaftNode({
      id,
      storage,
      random: new SeededRandom(ids.indexOf(id) + 1),
      bootstrapVoters: ids,
      electionTimeoutTicks: 10,
      heartbeatIntervalTicks: 1,
      preVote: true,
      checkQuorum: true,
      maxInflightAppendCount: 256,
      maxAppendSizeBytes: 1 << 20,
    });
    cluster.set(id, { node, storage, appliedCount: 0 });
  }
  return cluster;
}

/** Runs every node's Ready loop and delivers messages until the cluster is quiet. */
function settle(cluster: Map<string, BenchNode>): void {
  let queue: RaftMessage[] = [];
  for (;;) {
    for (const member of cluster.values()) {
      while (member.node.hasReady()) {
        const ready = member.node.ready();
        if (ready.snapshot !== undefined) member.storage.applySnapshot(ready.snapshot);
        member.storage.append(ready.entries);
        if (ready.hardState !== undefined) member.storage.setHardState(ready.hardState);
        queue.push(...ready.messages);
        member.appliedCount += ready.committedEntries.length;
        member.node.advance(ready);
      }
    }
    if (queue.length === 0) return;
    const batch = queue;
    queue = [];
    for (const message of batch) cluster.get(message.to)?.node.step(message);
  }
}

function proposalsPerSecond(batchCount: number, proposalCount: number): { perSecond: number; commitRounds: number } {
  const cluster = makeCluster();
  cluster.get('a')?.node.campaign();
  settle(cluster);
  const leader = cluster.get('a');
  if (leader === undefined || leader.node.status().role !== 'leader') throw new Error('no leader');
  const command = new Uint8Array(64);
  const startMs = performance.now();
  let rounds = 0;
  for (let proposed = 0; proposed < proposalCount; proposed += batchCount) {
    for (let i = 0; i < batchCount; i++) leader.node.propose(command);
    settle(cluster);
    rounds += 1;
  }
  const elapsedS = (performance.now() - startMs) / 1000;
  return { perSecond: proposalCount / elapsedS, commitRounds: rounds };
}

function codecThroughput(): { encodeMBps: number; decodeMBps: number; messageBytes: number } {
  const entries = Array.from({ length: 64 }, (_, i) => ({ index: logIndex(1000 + i), term: term(7), kind: 'normal' as const, data: new Uint8Array(128).fill(i) }));
  const message: RaftMessage = { kind: 'append', from: 'meta-1', to: 'meta-2', term: term(7), prevLogIndex: logIndex(999), prevLogTerm: term(7), entries, commit: logIndex(990) };
  const encoded = encodeRaftMessage(message);
  const iterations = 5000;
  let startMs = performance.now();
  for (let i = 0; i < iterations; i++) encodeRaftMessage(message);
  const encodeS = (performance.now() - startMs) / 1000;
  startMs = performance.now();
  for (let i = 0; i < iterations; i++) decodeRaftMessage(encoded);
  const decodeS = (performance.now() - startMs) / 1000;
  const totalMB = (encoded.length * iterations) / 1e6;
  return { encodeMBps: totalMB / encodeS, decodeMBps: totalMB / decodeS, messageBytes: encoded.length };
}

function simulationSpeed(nodeCount: number, seedCount: number, stepCount: number): number {
  const startMs = performance.now();
  for (let seed = 1; seed <= seedCount; seed++) runSimulation({ seed, nodeCount, stepCount });
  return seedCount / ((performance.now() - startMs) / 1000);
}

function main(): void {
  console.log('### Raft core, in-memory 3-node cluster (64-byte commands, no fsync, no network)\n');
  console.log('| proposals per round | committed proposals/s |\n|---|---|');
  for (const batchCount of [1, 10, 100, 1000]) {
    const { perSecond } = proposalsPerSecond(batchCount, 20_000);
    console.log(`| ${batchCount} | ${Math.round(perSecond).toLocaleString('en-US')} |`);
  }
  const codec = codecThroughput();
  console.log(`\n### Message codec (append of 64 x 128-byte entries, ${codec.messageBytes} bytes)\n`);
  console.log('| direction | MB/s |\n|---|---|');
  console.log(`| encode | ${codec.encodeMBps.toFixed(0)} |`);
  console.log(`| decode | ${codec.decodeMBps.toFixed(0)} |`);
  console.log('\n### Simulator (2,000 steps per seed, all invariants checked every step)\n');
  console.log('| nodes | seeds/s |\n|---|---|');
  console.log(`| 3 | ${simulationSpeed(3, 20, 2000).toFixed(1)} |`);
  console.log(`| 5 | ${simulationSpeed(5, 10, 2000).toFixed(1)} |`);
}

main();

// Goal: RaftNode's contract with its host, outside any scenario: Ready ordering (what must be
// persisted travels with the messages that depend on it), advance() discipline, restart from
// persisted state, config validation, and determinism (same inputs, same outputs). Method:
// drive single nodes and small clusters by hand with MemoryRaftStorage.
import { AssertionError, logIndex, SeededRandom, term } from '@tessera/common';
import type { RaftConfig } from '@tessera/raft';
import { MemoryRaftStorage, RaftNode } from '@tessera/raft';
import { ScenarioEnv } from './scenario-env';

function config(id: string, storage: MemoryRaftStorage, overrides: Partial<RaftConfig> = {}): RaftConfig {
  return {
    id,
    storage,
    random: new SeededRandom(7),
    bootstrapVoters: ['a', 'b', 'c'],
    electionTimeoutTicks: 10,
    heartbeatIntervalTicks: 1,
    preVote: false,
    checkQuorum: false,
    maxInflightAppendCount: 4,
    maxAppendSizeBytes: 1024,
    ...overrides,
  };
}

describe('RaftNode host contract', () => {
  test('a vote request is answered in the same Ready that carries the hard state to persist', () => {
    const storage = new MemoryRaftStorage();
    const node = new RaftNode(config('b', storage));
    node.step({ kind: 'vote', from: 'a', to: 'b', term: term(1), lastLogIndex: logIndex(0), lastLogTerm: term(0), leadershipTransfer: false });
    const ready = node.ready();
    expect(ready.hardState).toEqual({ term: 1, vote: 'a', commit: 0 });
    expect(ready.messages).toEqual([{ kind: 'voteResponse', from: 'b', to: 'a', term: 1, reject: false }]);
    node.advance(ready);
    expect(node.hasReady()).toBe(false);
  });

  test('a restarted node keeps its term and vote, so it cannot vote twice in a term', () => {
    const storage = new MemoryRaftStorage();
    const first = new RaftNode(config('b', storage));
    first.step({ kind: 'vote', from: 'a', to: 'b', term: term(1), lastLogIndex: logIndex(0), lastLogTerm: term(0), leadershipTransfer: false });
    const ready = first.ready();
    if (ready.hardState !== undefined) storage.setHardState(ready.hardState);
    first.advance(ready);
    const restarted = new RaftNode(config('b', storage));
    restarted.step({ kind: 'vote', from: 'c', to: 'b', term: term(1), lastLogIndex: logIndex(0), lastLogTerm: term(0), leadershipTransfer: false });
    expect(restarted.ready().messages).toEqual([{ kind: 'voteResponse', from: 'b', to: 'c', term: 1, reject: true }]);
  });

  test('ready() twice without advance() is a host bug', () => {
    const node = new RaftNode(config('a', new MemoryRaftStorage()));
    node.campaign();
    node.ready();
    expect(() => node.ready()).toThrow(AssertionError);
  });

  test('config relationships are validated', () => {
    expect(() => new RaftNode(config('a', new MemoryRaftStorage(), { electionTimeoutTicks: 1, heartbeatIntervalTicks: 1 }))).toThrow(/exceed/);
    expect(() => new RaftNode(config('a', new MemoryRaftStorage(), { maxInflightAppendCount: 0 }))).toThrow(AssertionError);
  });

  test('a node that is not a voter never campaigns', () => {
    const node = new RaftNode(config('z', new MemoryRaftStorage(), { bootstrapVoters: undefined }));
    for (let i = 0; i < 100; i++) node.tick();
    expect(node.status().role).toBe('follower');
    expect(node.hasReady()).toBe(false);
  });

  test('the same inputs give the same outputs (determinism)', () => {
    const run = (): string => {
      const env = new ScenarioEnv({ ids: ['a', 'b', 'c'] });
      env.tickAll(40);
      env.propose(['a', 'b', 'c'].find((id) => env.status(id).role === 'leader') ?? 'a', 'x');
      env.deliverAll();
      return env.transcript;
    };
    expect(run()).toBe(run());
  });
});

describe('flow control', () => {
  test('at most maxInflightAppendCount appends are in flight to one follower', () => {
    const env = new ScenarioEnv({ ids: ['a', 'b', 'c'], maxInflightAppendCount: 2, maxAppendSizeBytes: 1 });
    env.campaign('a');
    env.deliverAll();
    env.partition(['a'], ['b', 'c']);
    env.dropQueued();
    for (let i = 0; i < 10; i++) env.propose('a', `v${i}`);
    const progress = env.status('a').progress['b'];
    expect(progress?.state).toBe('replicate');
    expect(progress?.inflightAppendCount).toBe(2);
    env.heal();
    env.tick('a', 1);
    env.deliverAll();
    expect(env.stateMachine('b')).toHaveLength(10);
  });

  test('an append carries at most maxAppendSizeBytes of entry data (but at least one entry)', () => {
    const env = new ScenarioEnv({ ids: ['a', 'b'], maxAppendSizeBytes: 10, maxInflightAppendCount: 100 });
    env.campaign('a');
    env.deliverAll();
    env.crash('b');
    for (let i = 0; i < 6; i++) env.propose('a', `cmd-${i}`); // 5 bytes each
    env.restart('b');
    env.tick('a', 1);
    env.deliverAll();
    const appends = env.lines.filter((line) => line.includes('a->b append') && line.includes('"cmd-'));
    for (const line of appends) expect((line.match(/"cmd-/g) ?? []).length).toBeLessThanOrEqual(2);
    expect(env.stateMachine('b')).toHaveLength(6);
  });
});

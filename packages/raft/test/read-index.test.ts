// Goal: linearizable reads with ReadIndex (Raft thesis §6.4): the leader waits for an entry
// of its own term to commit, records its commit index, and confirms it is still leader with a
// heartbeat round before the read is served; followers forward reads to the leader; a leader
// cut off from the majority never confirms a read. Method: ScenarioEnv scripts.
import { ScenarioEnv } from './scenario-env';

describe('ReadIndex (thesis §6.4)', () => {
  test('a read on the leader is confirmed after a heartbeat round', () => {
    const env = new ScenarioEnv({ ids: ['a', 'b', 'c'] });
    env.campaign('a');
    env.deliverAll();
    env.propose('a', 'x=1');
    env.deliverAll();
    env.readIndex('a', 'r1');
    expect(env.reads('a')).toEqual([]);
    env.deliverAll();
    expect(env.reads('a')).toEqual([{ requestId: 'r1', index: 2 }]);
    expect(env.transcript).toMatchSnapshot();
  });

  test('reads that arrive while a round is out share the next round, never the earlier one', () => {
    const env = new ScenarioEnv({ ids: ['a', 'b', 'c'] });
    env.campaign('a');
    env.deliverAll();
    env.propose('a', 'x=1');
    env.deliverAll();
    const heartbeatsSent = (): number => env.transcript.split('\n').filter((line) => /^ {2}a->[bc] heartbeat /.test(line)).length;
    const before = heartbeatsSent();
    env.readIndex('a', 'r1');
    env.deliverMatching('the heartbeats of r1\'s round', (m) => m.kind === 'heartbeat');
    env.note('r2 and r3 arrive after that round was sent: its answers must not confirm them');
    env.readIndex('a', 'r2');
    env.readIndex('a', 'r3');
    env.deliverMatching('the answers to r1\'s round', (m) => m.kind === 'heartbeatResponse');
    expect(env.reads('a')).toEqual([{ requestId: 'r1', index: 2 }]);
    env.deliverAll();
    expect(env.reads('a')).toEqual([
      { requestId: 'r1', index: 2 },
      { requestId: 'r2', index: 2 },
      { requestId: 'r3', index: 2 },
    ]);
    // One round for r1, one shared by r2 and r3: 2 heartbeats to each of the 2 followers.
    expect(heartbeatsSent() - before).toBe(4);
  });

  test('a new leader delays reads until an entry of its term commits', () => {
    const env = new ScenarioEnv({ ids: ['a', 'b', 'c'] });
    env.campaign('a');
    while (env.status('a').role !== 'leader') env.deliverMatching('one round', () => true);
    env.readIndex('a', 'early');
    env.note('no heartbeat round yet: the read waits for the empty entry to commit');
    env.deliverAll();
    expect(env.reads('a')).toEqual([{ requestId: 'early', index: 1 }]);
    expect(env.transcript).toMatchSnapshot();
  });

  test('a follower forwards the read and serves it once it has applied the read index', () => {
    const env = new ScenarioEnv({ ids: ['a', 'b', 'c'] });
    env.campaign('a');
    env.deliverAll();
    env.propose('a', 'x=1');
    env.deliverAll();
    env.readIndex('b', 'via-b');
    env.deliverAll();
    expect(env.reads('b')).toEqual([{ requestId: 'via-b', index: 2 }]);
    expect(env.status('b').appliedIndex).toBeGreaterThanOrEqual(2);
    expect(env.transcript).toMatchSnapshot();
  });

  test('a leader cut off from the majority never confirms a read (no stale reads)', () => {
    const env = new ScenarioEnv({ ids: ['a', 'b', 'c'], checkQuorum: false });
    env.campaign('a');
    env.deliverAll();
    env.partition(['a'], ['b', 'c']);
    env.campaign('b');
    env.deliverAll();
    env.propose('b', 'x=2');
    env.deliverAll();
    env.note('a still believes it leads term 1, but its heartbeat round cannot reach a majority');
    env.readIndex('a', 'stale?');
    env.deliverAll();
    env.tick('a', 3);
    expect(env.reads('a')).toEqual([]);
    expect(env.status('a').role).toBe('leader');
    env.heal();
    env.tick('a', 1);
    env.deliverAll();
    expect(env.reads('a')).toEqual([]);
    expect(env.status('a').role).toBe('follower');
    expect(env.transcript).toMatchSnapshot();
  });

  test('a node that knows no leader refuses the read', () => {
    const env = new ScenarioEnv({ ids: ['a', 'b', 'c'] });
    env.readIndex('a', 'r');
    expect(env.transcript).toContain('NotLeaderError: not the leader; leader unknown');
  });

  test('a single-node cluster confirms reads at once', () => {
    const env = new ScenarioEnv({ ids: ['solo'] });
    env.campaign('solo');
    env.deliverAll();
    env.readIndex('solo', 'r');
    expect(env.reads('solo')).toEqual([{ requestId: 'r', index: 1 }]);
  });
});

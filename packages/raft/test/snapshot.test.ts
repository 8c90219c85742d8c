// Goal: log compaction and InstallSnapshot (Raft paper §7): a leader whose log no longer holds
// what a lagging follower needs sends its snapshot, the follower installs it and continues from
// there, and a restarted node recovers from its own snapshot. Method: ScenarioEnv scripts with
// transcript snapshots and explicit assertions.
import { ScenarioEnv } from './scenario-env';

describe('snapshots and log compaction (paper §7)', () => {
  test('a follower behind the leader\'s compacted log is sent the snapshot and catches up', () => {
    const env = new ScenarioEnv({ ids: ['a', 'b', 'c'] });
    env.campaign('a');
    env.deliverAll();
    env.crash('c');
    for (let i = 1; i <= 5; i++) env.propose('a', `v${i}`);
    env.deliverAll();
    env.compact('a');
    expect(env.status('a').firstIndex).toBe(7);
    env.restart('c');
    env.tick('a', 1);
    env.deliverAll();
    expect(env.transcript).toContain('c installed snapshot 6@1');
    expect(env.stateMachine('c')).toEqual(['v1', 'v2', 'v3', 'v4', 'v5']);
    expect(env.status('a').progress['c']?.state).toBe('replicate');
    env.propose('a', 'after');
    env.deliverAll();
    expect(env.stateMachine('c')).toEqual(['v1', 'v2', 'v3', 'v4', 'v5', 'after']);
    expect(env.transcript).toMatchSnapshot();
  });

  test('a node restarts from its own snapshot plus the log after it', () => {
    const env = new ScenarioEnv({ ids: ['a', 'b', 'c'] });
    env.campaign('a');
    env.deliverAll();
    env.propose('a', 'v1');
    env.propose('a', 'v2');
    env.deliverAll();
    env.compact('b');
    env.propose('a', 'v3');
    env.deliverAll();
    env.crash('b');
    env.restart('b');
    expect(env.status('b').firstIndex).toBe(4);
    env.tick('a', 1);
    env.deliverAll();
    expect(env.stateMachine('b')).toEqual(['v1', 'v2', 'v3']);
    expect(env.transcript).toMatchSnapshot();
  });

  test('a lost snapshot is sent again within two election timeouts', () => {
    const env = new ScenarioEnv({ ids: ['a', 'b', 'c'], electionTimeoutTicks: 10 });
    env.campaign('a');
    env.deliverAll();
    env.crash('c');
    env.propose('a', 'v1');
    env.deliverAll();
    env.compact('a');
    env.restart('c');
    env.tick('a', 1);
    while (env.status('a').progress['c']?.state !== 'snapshot') {
      env.deliverMatching('all but the snapshot', (message) => message.kind !== 'snapshot');
    }
    env.dropQueued();
    expect(env.status('a').progress['c']?.state).toBe('snapshot');
    // Retried at the first check-quorum round after a full election timeout in that state.
    env.tickAll(21);
    expect(env.stateMachine('c')).toEqual(['v1']);
    expect(env.status('a').role).toBe('leader');
  });

  test('a follower whose data directory was wiped is detected and caught up by snapshot', () => {
    const env = new ScenarioEnv({ ids: ['a', 'b', 'c'] });
    env.campaign('a');
    env.deliverAll();
    for (let i = 1; i <= 3; i++) env.propose('a', `v${i}`);
    env.deliverAll();
    env.compact('a');
    env.wipeAndRestart('c');
    env.note('the leader still believes c holds index 4; c must not commit blindly, it says where its log ends');
    env.tick('a', 1);
    env.deliverAll();
    expect(env.transcript).toContain('c installed snapshot 4@1');
    expect(env.stateMachine('c')).toEqual(['v1', 'v2', 'v3']);
    expect(env.status('a').progress['c']?.matchIndex).toBe(4);
    expect(env.transcript).toMatchSnapshot();
  });
});

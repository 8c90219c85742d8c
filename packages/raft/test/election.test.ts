// Goal: leader election as the Raft paper (§5.2) and thesis (§9.6 pre-vote, §6.2 check-quorum)
// describe it. Method: scripted scenarios through ScenarioEnv; each transcript is a snapshot
// (review the diff, `jest -u` rewrites) and the key facts are asserted explicitly.
import { ScenarioEnv } from './scenario-env';

describe('leader election (paper §5.2)', () => {
  test('a candidate with a majority of votes becomes leader and commits an empty entry', () => {
    const env = new ScenarioEnv({ ids: ['a', 'b', 'c'] });
    env.campaign('a');
    env.deliverAll();
    expect(env.status('a').role).toBe('leader');
    expect(env.status('a').term).toBe(1);
    for (const id of ['a', 'b', 'c']) {
      expect(env.status(id).leaderId).toBe('a');
      expect(env.status(id).commitIndex).toBe(1);
    }
    expect(env.transcript).toMatchSnapshot();
  });

  test('a follower that hears nothing campaigns after its randomized election timeout', () => {
    const env = new ScenarioEnv({ ids: ['a', 'b', 'c'], electionTimeoutTicks: 10 });
    // The timeout is drawn from [10, 20): after 19 ticks some node must have campaigned.
    env.tickAll(20);
    const leaders = ['a', 'b', 'c'].filter((id) => env.status(id).role === 'leader');
    expect(leaders).toHaveLength(1);
    expect(env.transcript).toMatchSnapshot();
  });

  test('a candidate whose log is behind cannot win (election restriction, §5.4.1)', () => {
    const env = new ScenarioEnv({ ids: ['a', 'b', 'c'] });
    env.campaign('a');
    env.deliverAll();
    env.partition(['c'], ['a', 'b']);
    env.propose('a', 'x=1');
    env.deliverAll();
    env.heal();
    env.crash('a');
    // c missed x=1; b has it. c asks for votes: b refuses, so c cannot gather a majority.
    env.tick('c', 20);
    env.deliverAll();
    env.campaign('c');
    env.deliverAll();
    expect(env.status('c').role).not.toBe('leader');
    env.campaign('b');
    env.deliverAll();
    expect(env.status('b').role).toBe('leader');
    expect(env.stateMachine('c')).toEqual(['x=1']);
    expect(env.transcript).toMatchSnapshot();
  });
});

describe('pre-vote (thesis §9.6)', () => {
  test('a partitioned node does not inflate its term or disrupt the leader when it returns', () => {
    const env = new ScenarioEnv({ ids: ['a', 'b', 'c'], preVote: true, checkQuorum: true });
    env.campaign('a');
    env.deliverAll();
    env.partition(['c'], ['a', 'b']);
    env.note('c is cut off: its pre-votes fail, so its term stays at 1');
    env.tick('c', 40);
    env.deliverAll();
    expect(env.status('c').term).toBe(1);
    expect(env.status('c').role).toBe('preCandidate');
    env.heal();
    env.tickAll(3);
    expect(env.status('a').role).toBe('leader');
    expect(env.status('a').term).toBe(1);
    expect(env.status('c').leaderId).toBe('a');
    expect(env.transcript).toMatchSnapshot();
  });

  test('without pre-vote the same partition forces a new election (for contrast)', () => {
    const env = new ScenarioEnv({ ids: ['a', 'b', 'c'], preVote: false, checkQuorum: false });
    env.campaign('a');
    env.deliverAll();
    env.partition(['c'], ['a', 'b']);
    env.tick('c', 40);
    env.deliverAll();
    expect(env.status('c').term).toBeGreaterThan(2);
    env.heal();
    // c ignores a's lower-term heartbeats and campaigns again at its next timeout; a learns of
    // the higher term and steps down, and the cluster elects again at a higher term.
    env.tickAll(25);
    expect(env.status('a').term).toBeGreaterThan(1);
    expect(env.transcript).toMatchSnapshot();
  });

  test('followers with a live leader ignore a disruptive vote (leader stickiness)', () => {
    const env = new ScenarioEnv({ ids: ['a', 'b', 'c'], preVote: false, checkQuorum: true });
    env.campaign('a');
    env.deliverAll();
    env.campaign('c');
    env.deliverAll();
    expect(env.status('a').role).toBe('leader');
    expect(env.status('b').term).toBe(1);
    expect(env.transcript).toMatchSnapshot();
  });
});

describe('check-quorum (thesis §6.2)', () => {
  test('a leader cut off from the majority steps down within an election timeout', () => {
    const env = new ScenarioEnv({ ids: ['a', 'b', 'c'], checkQuorum: true, electionTimeoutTicks: 10 });
    env.campaign('a');
    env.deliverAll();
    env.partition(['a'], ['b', 'c']);
    env.tick('a', 20);
    expect(env.status('a').role).toBe('follower');
    env.tickAll(30);
    const newLeader = ['b', 'c'].find((id) => env.status(id).role === 'leader');
    expect(newLeader).toBeDefined();
    env.heal();
    env.tickAll(3);
    expect(env.status('a').leaderId).toBe(newLeader);
    expect(env.transcript).toMatchSnapshot();
  });
});

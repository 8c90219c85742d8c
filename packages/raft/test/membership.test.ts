// Goal: single-server membership changes (Raft thesis §4.1-§4.2): a new server joins as a
// learner and catches up before it votes, one change at a time, a configuration applies as
// soon as it is appended, a removed leader steps down once its removal commits, and replacing a
// member is remove + add. Method: ScenarioEnv scripts with transcripts and explicit checks.
import { ScenarioEnv } from './scenario-env';

describe('membership changes (thesis §4.1)', () => {
  test('add a server: learner first, promoted once caught up; the quorum grows to 3 of 4', () => {
    const env = new ScenarioEnv({ ids: ['a', 'b', 'c'] });
    env.campaign('a');
    env.deliverAll();
    env.propose('a', 'before-d');
    env.deliverAll();
    env.addNode('d', false);
    env.changeMembership('a', { kind: 'addLearner', nodeId: 'd' });
    env.note('the learner is in the configuration as soon as the entry is appended');
    expect(env.status('a').membership).toEqual({ voters: ['a', 'b', 'c'], learners: ['d'] });
    env.deliverAll();
    expect(env.stateMachine('d')).toEqual(['before-d']);
    expect(env.status('a').progress['d']?.matchIndex).toBe(env.status('a').lastIndex);
    env.changeMembership('a', { kind: 'add', nodeId: 'd' });
    env.deliverAll();
    expect(env.status('d').membership.voters).toEqual(['a', 'b', 'c', 'd']);
    env.note('with 4 voters, a and b alone (2 of 4) can no longer commit');
    env.partition(['a', 'b'], ['c', 'd']);
    env.propose('a', 'needs-3');
    env.deliverAll();
    expect(env.status('a').commitIndex).toBeLessThan(env.status('a').lastIndex);
    env.heal();
    env.tick('a', 1);
    env.deliverAll();
    expect(env.stateMachine('d')).toEqual(['before-d', 'needs-3']);
    expect(env.transcript).toMatchSnapshot();
  });

  test('only one change at a time, and not before the leader commits an entry of its term', () => {
    const env = new ScenarioEnv({ ids: ['a', 'b', 'c'] });
    env.addNode('d', false);
    env.campaign('a');
    while (env.status('a').role !== 'leader') env.deliverMatching('one round', () => true);
    env.note('the leader\'s empty entry is not committed yet: changes are refused');
    env.changeMembership('a', { kind: 'addLearner', nodeId: 'd' });
    env.deliverAll();
    env.changeMembership('a', { kind: 'addLearner', nodeId: 'd' });
    env.note('the first change is not committed yet: a second is refused');
    env.changeMembership('a', { kind: 'remove', nodeId: 'c' });
    env.deliverAll();
    env.note('changes that make no sense for the current membership are refused');
    env.changeMembership('a', { kind: 'remove', nodeId: 'zz' });
    env.changeMembership('a', { kind: 'addLearner', nodeId: 'd' });
    expect(env.lines.filter((line) => line.includes('membershipChangePending'))).toHaveLength(2);
    expect(env.transcript).toContain('invalidMembershipChange: zz is not a member');
    expect(env.transcript).toContain('invalidMembershipChange: d is already a member');
    expect(env.transcript).toMatchSnapshot();
  });

  test('removing the leader: it steps down once the removal commits (thesis §4.2.2)', () => {
    const env = new ScenarioEnv({ ids: ['a', 'b', 'c'], electionTimeoutTicks: 10 });
    env.campaign('a');
    env.deliverAll();
    env.changeMembership('a', { kind: 'remove', nodeId: 'a' });
    env.deliverAll();
    expect(env.status('a').role).toBe('follower');
    expect(env.status('b').membership.voters).toEqual(['b', 'c']);
    env.tickAll(25);
    const newLeader = ['b', 'c'].find((id) => env.status(id).role === 'leader');
    expect(newLeader).toBeDefined();
    env.propose(newLeader ?? 'b', 'without a');
    env.deliverAll();
    expect(env.stateMachine('b')).toEqual(['without a']);
    expect(env.status('a').role).toBe('follower');
    expect(env.transcript).toMatchSnapshot();
  });

  test('replacing a failed member: remove it, then add the replacement', () => {
    const env = new ScenarioEnv({ ids: ['a', 'b', 'c'] });
    env.campaign('a');
    env.deliverAll();
    env.crash('c');
    env.changeMembership('a', { kind: 'remove', nodeId: 'c' });
    env.deliverAll();
    env.addNode('d', false);
    env.changeMembership('a', { kind: 'addLearner', nodeId: 'd' });
    env.deliverAll();
    env.changeMembership('a', { kind: 'add', nodeId: 'd' });
    env.deliverAll();
    expect(env.status('a').membership).toEqual({ voters: ['a', 'b', 'd'], learners: [] });
    env.propose('a', 'x');
    env.deliverAll();
    expect(env.stateMachine('d')).toEqual(['x']);
  });

  test('a restarted node recovers its membership from the log', () => {
    const env = new ScenarioEnv({ ids: ['a', 'b', 'c'] });
    env.campaign('a');
    env.deliverAll();
    env.addNode('d', false);
    env.changeMembership('a', { kind: 'addLearner', nodeId: 'd' });
    env.deliverAll();
    env.crash('b');
    env.restart('b');
    expect(env.status('b').membership).toEqual({ voters: ['a', 'b', 'c'], learners: ['d'] });
  });
});

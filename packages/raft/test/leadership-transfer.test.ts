// Goal: leadership transfer (Raft thesis §3.10) for graceful shutdown and rolling restarts:
// the leader stops taking proposals, brings the target up to date, sends TimeoutNow, and the
// target wins at once even though followers still see a live leader. Method: ScenarioEnv.
import { ScenarioEnv } from './scenario-env';

describe('leadership transfer (thesis §3.10)', () => {
  test('the target is caught up, told to time out, and wins the next term', () => {
    const env = new ScenarioEnv({ ids: ['a', 'b', 'c'] });
    env.campaign('a');
    env.deliverAll();
    env.crash('c');
    env.propose('a', 'x');
    env.deliverAll();
    env.restart('c');
    env.transferLeadership('a', 'c');
    env.note('proposals are refused while the transfer is under way');
    env.propose('a', 'refused');
    env.deliverAll();
    expect(env.status('c').role).toBe('leader');
    expect(env.status('c').term).toBe(2);
    expect(env.status('a').leaderId).toBe('c');
    expect(env.transcript).toContain('ProposalDroppedError');
    expect(env.transcript).toContain('c->a vote term=2 last=2@1 transfer');
    expect(env.stateMachine('c')).toEqual(['x']);
    expect(env.transcript).toMatchSnapshot();
  });

  test('a transfer to an unreachable target is abandoned after an election timeout', () => {
    const env = new ScenarioEnv({ ids: ['a', 'b', 'c'], electionTimeoutTicks: 10 });
    env.campaign('a');
    env.deliverAll();
    env.partition(['c'], ['a', 'b']);
    env.transferLeadership('a', 'c');
    expect(env.status('a').leadTransferee).toBe('c');
    env.tick('a', 5);
    env.tick('b', 5);
    env.deliverAll();
    env.heal();
    env.tickAll(6);
    expect(env.status('a').role).toBe('leader');
    expect(env.status('a').leadTransferee).toBeUndefined();
    env.propose('a', 'accepted again');
    env.deliverAll();
    expect(env.stateMachine('a')).toEqual(['accepted again']);
  });

  test('only a leader transfers, and only to a voter', () => {
    const env = new ScenarioEnv({ ids: ['a', 'b', 'c'] });
    env.campaign('a');
    env.deliverAll();
    expect(() => env.node('b').transferLeadership('c')).toThrow(expect.objectContaining({ name: 'NotLeaderError', leaderHint: 'a' }));
    expect(() => env.node('a').transferLeadership('zz')).toThrow(expect.objectContaining({ name: 'ProposalDroppedError', reason: 'invalidTransferTarget' }));
    expect(env.status('a').leadTransferee).toBeUndefined();
  });
});

// Goal: log replication as in the Raft paper §5.3 (AppendEntries consistency check, repair of
// divergent logs) and §5.4.2 (a leader commits an earlier term's entry only through an entry
// of its own term). Method: scripted scenarios with ScenarioEnv; transcripts are snapshots
// and the decisive facts are asserted explicitly.
import { logIndex } from '@tessera/common';
import { ScenarioEnv } from './scenario-env';

describe('log replication (paper §5.3)', () => {
  test('a proposal is replicated, committed by a majority and applied everywhere in order', () => {
    const env = new ScenarioEnv({ ids: ['a', 'b', 'c'] });
    env.campaign('a');
    env.deliverAll();
    env.propose('a', 'x=1');
    env.propose('a', 'y=2');
    env.deliverAll();
    for (const id of ['a', 'b', 'c']) expect(env.stateMachine(id)).toEqual(['x=1', 'y=2']);
    expect(env.status('a').commitIndex).toBe(3);
    expect(env.transcript).toMatchSnapshot();
  });

  test('a follower refuses proposals and names the leader', () => {
    const env = new ScenarioEnv({ ids: ['a', 'b', 'c'] });
    env.campaign('a');
    env.deliverAll();
    env.propose('b', 'x=1');
    expect(env.transcript).toContain('NotLeaderError: not the leader; try a');
    expect(() => env.node('b').propose(new Uint8Array([1]))).toThrow(expect.objectContaining({ name: 'NotLeaderError', leaderHint: 'a' }));
  });

  test('a deposed leader\'s uncommitted entries are overwritten by the new leader\'s log', () => {
    // checkQuorum off: leader stickiness would otherwise make b and c wait out a's lease.
    const env = new ScenarioEnv({ ids: ['a', 'b', 'c'], checkQuorum: false });
    env.campaign('a');
    env.deliverAll();
    env.propose('a', 'base');
    env.deliverAll();
    env.partition(['a'], ['b', 'c']);
    env.note('a is cut off: these proposals reach only its own log and can never commit');
    env.propose('a', 'lost-1');
    env.propose('a', 'lost-2');
    env.deliverAll();
    env.campaign('b');
    env.deliverAll();
    expect(env.status('b').role).toBe('leader');
    env.propose('b', 'kept');
    env.deliverAll();
    env.heal();
    env.note('b\'s heartbeat makes a a follower; the consistency check finds where the logs diverge');
    env.tick('b', 1);
    env.deliverAll();
    for (const id of ['a', 'b', 'c']) expect(env.stateMachine(id)).toEqual(['base', 'kept']);
    expect(env.status('a').lastIndex).toBe(env.status('b').lastIndex);
    expect(env.transcript).toMatchSnapshot();
  });

  test('a follower missing many entries is repaired in few round trips (conflict hints)', () => {
    const env = new ScenarioEnv({ ids: ['a', 'b', 'c'], maxAppendSizeBytes: 1 << 20 });
    env.campaign('a');
    env.deliverAll();
    env.crash('c');
    for (let i = 0; i < 20; i++) env.propose('a', `v${i}`);
    env.deliverAll();
    env.restart('c');
    env.tick('a', 1);
    env.deliverAll();
    expect(env.stateMachine('c')).toHaveLength(20);
    // One probe rejected with a hint, then one append with all 20 entries.
    const rejections = env.lines.filter((line) => line.includes('c->a appendResponse') && line.includes('reject'));
    expect(rejections.length).toBeLessThanOrEqual(1);
    expect(env.transcript).toMatchSnapshot();
  });
});

describe('commitment rules (paper §5.4.2, figure 8)', () => {
  test('an entry from an earlier term is not committed by counting replicas', () => {
    const env = new ScenarioEnv({ ids: ['a', 'b', 'c'], maxAppendSizeBytes: 1, checkQuorum: false });
    env.campaign('a');
    env.deliverAll();
    env.note('a leads term 1 and appends entry 2 while cut off, then crashes');
    env.partition(['a'], ['b', 'c']);
    env.propose('a', 'from-term-1');
    env.deliverAll();
    env.crash('a');
    env.heal();
    env.note('b wins term 2 with c\'s vote, but its entry 2 never leaves b; b crashes');
    env.campaign('b');
    for (let round = 0; round < 4; round++) env.deliverMatching('elections only', (message) => message.kind !== 'append');
    expect(env.status('b').role).toBe('leader');
    env.crash('b');
    env.restart('a');
    env.note('a restarts; its first pre-vote teaches it term 2, the second campaign wins term 3');
    env.campaign('a');
    env.deliverAll();
    env.campaign('a');
    while (env.status('a').role !== 'leader') env.deliverMatching('one round', () => true);
    expect(env.status('a').term).toBe(3);
    env.note('one round at a time, until c holds entry 2 (term 1)');
    while ((env.status('a').progress['c']?.matchIndex ?? 0) < 2) {
      env.deliverMatching('one round', () => true);
      expect(env.status('a').commitIndex).toBe(1);
    }
    // Entry 2 (term 1) is now on a and c, a majority, yet it is NOT committed: a leader only
    // commits by counting replicas for an entry of its own term (here 3).
    expect(env.node('a').termAt(logIndex(2))).toBe(1);
    expect(env.status('a').commitIndex).toBe(1);
    env.note('once a\'s own empty entry of term 3 reaches c, entry 2 commits with it');
    env.deliverAll();
    expect(env.status('a').commitIndex).toBe(3);
    expect(env.stateMachine('c')).toEqual(['from-term-1']);
    expect(env.transcript).toMatchSnapshot();
  });
});

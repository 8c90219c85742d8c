// Goal: a member that lost its durable state while the group lived on (a wiped data directory,
// restarted under the same id) cannot help elect a leader that lacks entries it acknowledged
// before the loss, and votes again once it has caught up. Method: ScenarioEnv scripts: entries
// committed by a and c while b is cut off; c loses its disk and a crashes; b and c alone must
// not elect anyone when c knows it is recovering (and do, losing the entries, when it does not,
// which is why the flag exists); then a returns, leads, catches c up, and c votes again. Also:
// both conditions that end the recovery, and a stale leader of an older term that reaches only
// the recovering member (it must neither commit with its acknowledgements nor win its vote).
import { ScenarioEnv } from './scenario-env';

function committedWithoutB(): ScenarioEnv {
  const env = new ScenarioEnv({ ids: ['a', 'b', 'c'] });
  env.campaign('a');
  env.deliverAll();
  env.partition(['b'], ['a', 'c']);
  env.propose('a', 'acked-by-a-and-c');
  env.deliverAll();
  expect(env.stateMachine('a')).toEqual(['acked-by-a-and-c']);
  expect(env.stateMachine('b')).toEqual([]);
  env.crash('a');
  env.heal();
  return env;
}

describe('a member recovering from data loss (wiped data directory, same id)', () => {
  test('without the flag, its empty log elects a leader that lacks a committed entry', () => {
    const env = committedWithoutB();
    env.wipeAndRestart('c');
    env.tickAll(60);
    expect(env.status('b').role).toBe('leader');
    expect(env.stateMachine('b')).toEqual([]);
  });

  test('recovering, it neither votes nor campaigns; once the leader holding the entry caught it up, it votes again', () => {
    const env = committedWithoutB();
    env.wipeAndRestart('c', true, { groupTerm: env.status('b').term });
    env.tickAll(60);
    expect([env.status('b').role, env.status('c').role]).not.toContain('leader');
    expect(env.status('c').recoveringFromDataLoss).toBe(true);
    expect(env.transcript).toContain('c->b preVoteResponse');

    env.restart('a');
    env.tickAll(60);
    expect(env.status('a').role).toBe('leader');
    expect(env.status('c').recoveringFromDataLoss).toBe(false);
    for (const id of ['a', 'b', 'c']) expect(env.stateMachine(id)).toEqual(['acked-by-a-and-c']);

    // Caught up, c votes again: with a gone, b and c elect a leader that holds the entry.
    env.crash('a');
    env.tickAll(60);
    const leader = ['b', 'c'].find((id) => env.status(id).role === 'leader');
    expect(leader).toBeDefined();
    env.propose(leader ?? 'b', 'after');
    env.tickAll(5);
    expect(env.stateMachine('b')).toEqual(['acked-by-a-and-c', 'after']);
    expect(env.stateMachine('c')).toEqual(['acked-by-a-and-c', 'after']);
  });

  test('the target is what the leader had committed at first contact, not just any entry of its term', () => {
    // One entry per append, so c can be given the leader's first entry alone.
    const env = new ScenarioEnv({ ids: ['a', 'b', 'c'], maxAppendSizeBytes: 1 });
    env.campaign('a');
    env.deliverAll();
    for (let i = 1; i <= 3; i++) env.propose('a', `v${i}`);
    env.deliverAll();
    env.wipeAndRestart('c', true, { groupTerm: env.status('a').term });
    env.tick('a', 1);
    const upToFirstEntry = (m: Parameters<Parameters<ScenarioEnv['deliverMatching']>[1]>[0]): boolean =>
      !(m.kind === 'append' && m.to === 'c' && m.entries.some((entry) => entry.index > 1));
    for (let round = 0; round < 5; round++) env.deliverMatching('all but appends to c past index 1', upToFirstEntry);
    env.dropQueued();
    env.note("c committed index 1, an entry of the leader's term, but the leader had committed 4 when it first told c");
    expect([env.status('c').commitIndex, env.status('c').term]).toEqual([1, 1]);
    expect(env.status('c').recoveringFromDataLoss).toBe(true);
    env.tickAll(5);
    expect(env.status('c').recoveringFromDataLoss).toBe(false);
    expect(env.stateMachine('c')).toEqual(['v1', 'v2', 'v3']);
  });

  test('a new leader that never heard from it tells it commit 0: it still waits for an entry of that leader\'s term', () => {
    const env = new ScenarioEnv({ ids: ['a', 'b', 'c'] });
    env.campaign('a');
    env.deliverAll();
    for (let i = 1; i <= 3; i++) env.propose('a', `v${i}`);
    env.deliverAll();
    env.partition(['c'], ['a', 'b']);
    env.wipeAndRestart('c', true, { groupTerm: env.status('a').term });
    env.transferLeadership('a', 'b');
    env.deliverAll();
    expect(env.status('b').role).toBe('leader');
    env.heal();
    env.tick('b', 1);
    env.deliverMatching('only the heartbeat to c', (m) => m.kind === 'heartbeat' && m.to === 'c');
    env.note("b knows nothing of c's log: its heartbeat says commit 0, which c's empty log trivially reaches");
    expect(env.transcript).toMatch(/b->c heartbeat[^\n]*commit=0/);
    expect(env.status('c').recoveringFromDataLoss).toBe(true);
    env.tickAll(5);
    expect(env.status('c').recoveringFromDataLoss).toBe(false);
    expect(env.stateMachine('c')).toEqual(['v1', 'v2', 'v3']);
  });

  test('it starts in the group\'s term: a stale leader of an older term gets rejections, neither acknowledgements nor a vote', () => {
    const env = new ScenarioEnv({ ids: ['a', 'b', 'c'] });
    env.campaign('a');
    env.deliverAll();
    env.partition(['a'], ['b', 'c']);
    env.note('a is cut off but not ticked: it still believes it leads term 1');
    for (let i = 0; i < 40 && !['b', 'c'].some((id) => env.status(id).role === 'leader'); i++) {
      env.tick('b', 1);
      env.tick('c', 1);
      env.deliverAll();
    }
    const leader = ['b', 'c'].find((id) => env.status(id).role === 'leader') ?? 'b';
    const follower = leader === 'b' ? 'c' : 'b';
    env.propose(leader, 'committed-in-term-2');
    env.deliverAll();
    expect(env.stateMachine(leader)).toEqual(['committed-in-term-2']);
    expect(env.status('a').role).toBe('leader');
    const groupTerm = env.status(leader).term;
    env.note(`${follower} loses its disk while the group is at term ${groupTerm}; only the stale leader a reaches it`);
    env.wipeAndRestart(follower, true, { groupTerm });
    env.heal();
    env.partition([leader], ['a', follower]);
    env.tick('a', 1);
    env.deliverAll();
    expect(env.transcript).toMatch(new RegExp(`${follower}->a appendResponse term=${groupTerm} reject`));
    expect(env.status(follower).recoveringFromDataLoss).toBe(true);
    env.note(`${leader} dies: a, which lacks the entry, must not win with ${follower}'s vote`);
    env.crash(leader);
    env.tickAll(80);
    expect(env.status('a').role).not.toBe('leader');
    expect(env.status(follower).role).not.toBe('leader');
    expect(env.stateMachine('a')).toEqual([]);
  });
});

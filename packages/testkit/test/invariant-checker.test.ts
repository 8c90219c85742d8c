// Goal: the simulator's safety checks really fire: each property of the Raft paper's
// figure 3 is violated on purpose and must be reported, and consistent observations must pass.
// Method: feed InvariantChecker hand-made observations; RaftNodes over MemoryRaftStorage
// stand in for leaders whose logs the checker inspects.
import { logIndex, SeededRandom, term } from '@tessera/common';
import type { LogEntry } from '@tessera/raft';
import { MemoryRaftStorage, RaftNode } from '@tessera/raft';
import { InvariantChecker, InvariantViolation } from '@tessera/testkit';

function entry(index: number, entryTerm: number, text: string): LogEntry {
  return { index: logIndex(index), term: term(entryTerm), kind: 'normal', data: new TextEncoder().encode(text) };
}

function nodeWithLog(id: string, entries: LogEntry[]): RaftNode {
  const storage = new MemoryRaftStorage();
  storage.append(entries);
  return new RaftNode({
    id,
    storage,
    random: new SeededRandom(1),
    bootstrapVoters: ['a', 'b', 'c'],
    electionTimeoutTicks: 10,
    heartbeatIntervalTicks: 1,
    preVote: true,
    checkQuorum: true,
    maxInflightAppendCount: 4,
    maxAppendSizeBytes: 1024,
  });
}

describe('InvariantChecker', () => {
  test('election safety: two leaders in one term are reported', () => {
    const checker = new InvariantChecker();
    checker.observeLeader('a', nodeWithLog('a', []), term(3));
    checker.observeLeader('a', nodeWithLog('a', []), term(3));
    expect(() => checker.observeLeader('b', nodeWithLog('b', []), term(3))).toThrow(InvariantViolation);
    expect(() => checker.observeLeader('b', nodeWithLog('b', []), term(4))).not.toThrow();
  });

  test('log matching: same index and term with different content or history is reported', () => {
    const checker = new InvariantChecker();
    checker.observeAppended('a', entry(5, 2, 'x'), term(2));
    checker.observeAppended('b', entry(5, 2, 'x'), term(2));
    expect(() => checker.observeAppended('c', entry(5, 2, 'y'), term(2))).toThrow(/different content/);
    expect(() => checker.observeAppended('c', entry(5, 2, 'x'), term(1))).toThrow(/term 1 before 5@2/);
  });

  test('state machine safety: different entries applied at one index are reported', () => {
    const checker = new InvariantChecker();
    checker.observeApplied('a', entry(1, 1, 'x'), term(1), []);
    checker.observeApplied('b', entry(1, 1, 'x'), term(1), []);
    expect(() => checker.observeApplied('c', entry(1, 1, 'z'), term(1), [])).toThrow(/state machine safety/);
  });

  test('leader completeness: a later leader missing a committed entry is reported', () => {
    const checker = new InvariantChecker();
    checker.observeApplied('a', entry(1, 1, 'x'), term(1), []);
    const complete = nodeWithLog('b', [entry(1, 1, 'x')]);
    checker.observeLeader('b', complete, term(2));
    const missing = nodeWithLog('c', [entry(1, 2, 'other')]);
    expect(() => checker.observeLeader('c', missing, term(3))).toThrow(/leader completeness/);
    // Also when the entry commits while the later leader already leads.
    const checker2 = new InvariantChecker();
    const leader = { id: 'c', node: nodeWithLog('c', []), term: term(5) };
    expect(() => checker2.observeApplied('a', entry(1, 4, 'x'), term(4), [leader])).toThrow(/leader completeness/);
  });

  test('an earlier-term entry committed in a later term is not held against an older leader (figure 8)', () => {
    // Entry 1@1 commits in term 3 (applied by a node in term 3). A stale leader of term 2
    // that holds 1@2 instead is not a leader of a term after the commit: no violation.
    const checker = new InvariantChecker();
    const staleLeader = { id: 'a', node: nodeWithLog('a', [entry(1, 2, 'stale')]), term: term(2) };
    expect(() => checker.observeApplied('c', entry(1, 1, 'x'), term(3), [staleLeader])).not.toThrow();
    expect(() => checker.observeLeader('a', staleLeader.node, term(2))).not.toThrow();
    // A leader of term 4 must hold it.
    expect(() => checker.observeLeader('b', nodeWithLog('b', [entry(1, 2, 'stale')]), term(4))).toThrow(/leader completeness/);
  });
});

import type { LogIndex, Term } from '@tessera/common';
import type { LogEntry, NodeId, RaftNode } from '@tessera/raft';

/** A safety property was violated: always a bug in the Raft core (or in the simulator). */
export class InvariantViolation extends Error {
  static readonly errorName = 'InvariantViolation';
  constructor(message: string) {
    super(message);
    this.name = InvariantViolation.errorName;
  }
}

export function entryContentKey(entry: LogEntry): string {
  return `${entry.kind}:${String.fromCharCode(...entry.data)}`;
}

/**
 * The safety properties of the Raft paper (figure 3), checked incrementally so they can run
 * after every simulation step:
 * - Election Safety: at most one leader per term.
 * - Log Matching: checked inductively. If every (index, term) pair always comes with the same
 *   content and the same previous term, then two logs that agree at (index, term) agree on
 *   everything before it.
 * - Leader Completeness: "if a log entry is committed in a given term, then that entry will be
 *   present in the logs of the leaders for all higher-numbered terms" (paper §5.4). The term
 *   an entry was committed in is not observable directly, but it is at most the current term
 *   of any node that applies it (that node learned the commit from a leader of that term or
 *   later), so a leader whose term exceeds that bound must hold the entry. (An earlier-term
 *   entry can legitimately commit in a later term, paper figure 8, so comparing with the
 *   entry's own term would be wrong.)
 * - State Machine Safety: no two nodes apply different entries at one index.
 */
export class InvariantChecker {
  private readonly leaderByTerm = new Map<Term, NodeId>();
  private readonly entriesByPosition = new Map<string, { content: string; prevTerm: Term }>();
  /** Committed (applied somewhere) entries: index -> term, content, bound on the commit term. */
  private readonly committed = new Map<LogIndex, { term: Term; content: string; commitTermMax: Term }>();
  private readonly checkedLeaders = new Set<string>();

  /** Election Safety; and Leader Completeness for a leader seen for the first time. */
  observeLeader(id: NodeId, node: RaftNode, leaderTerm: Term): void {
    const existing = this.leaderByTerm.get(leaderTerm);
    if (existing !== undefined && existing !== id) {
      throw new InvariantViolation(`election safety: ${existing} and ${id} are both leaders of term ${leaderTerm}`);
    }
    this.leaderByTerm.set(leaderTerm, id);
    const key = `${id}@${leaderTerm}`;
    if (this.checkedLeaders.has(key)) return;
    this.checkedLeaders.add(key);
    for (const [index, entry] of this.committed) {
      if (entry.commitTermMax < leaderTerm) this.checkLeaderHolds(id, node, leaderTerm, index, entry.term);
    }
  }

  private checkLeaderHolds(id: NodeId, node: RaftNode, leaderTerm: Term, index: LogIndex, entryTerm: Term): void {
    if (index < node.status().firstIndex) return; // inside its snapshot: committed state
    const held = node.termAt(index);
    if (held !== entryTerm) {
      throw new InvariantViolation(
        `leader completeness: leader ${id} of term ${leaderTerm} has term ${held} at ${index}, committed entry has term ${entryTerm}`,
      );
    }
  }

  /** Log Matching, inductively, for an entry written to `id`'s durable log. */
  observeAppended(id: NodeId, entry: LogEntry, prevTerm: Term): void {
    const key = `${entry.index}@${entry.term}`;
    const content = entryContentKey(entry);
    const known = this.entriesByPosition.get(key);
    if (known === undefined) {
      this.entriesByPosition.set(key, { content, prevTerm });
      return;
    }
    if (known.content !== content) throw new InvariantViolation(`log matching: ${id} holds different content at ${key}`);
    if (known.prevTerm !== prevTerm) {
      throw new InvariantViolation(`log matching: ${id} has term ${prevTerm} before ${key}, another log has ${known.prevTerm}`);
    }
  }

  /**
   * State Machine Safety for an entry `id` applies while in term `applierTerm`; a newly
   * committed entry is also checked against every current leader of a later term than
   * `applierTerm` (Leader Completeness).
   */
  observeApplied(id: NodeId, entry: LogEntry, applierTerm: Term, leaders: readonly { id: NodeId; node: RaftNode; term: Term }[]): void {
    const content = entryContentKey(entry);
    const known = this.committed.get(entry.index);
    if (known !== undefined) {
      if (known.term !== entry.term || known.content !== content) {
        throw new InvariantViolation(`state machine safety: ${id} applies ${entry.index}@${entry.term}, another node applied ${entry.index}@${known.term}`);
      }
      if (applierTerm < known.commitTermMax) this.committed.set(entry.index, { ...known, commitTermMax: applierTerm });
      return;
    }
    this.committed.set(entry.index, { term: entry.term, content, commitTermMax: applierTerm });
    for (const leader of leaders) {
      if (leader.term > applierTerm) this.checkLeaderHolds(leader.id, leader.node, leader.term, entry.index, entry.term);
    }
  }

  committedCount(): number {
    return this.committed.size;
  }

  leaderTermCount(): number {
    return this.leaderByTerm.size;
  }
}

import type { LogIndex, Random, Term } from '@tessera/common';
import { assert } from '@tessera/common';
import type { RaftLogView } from './storage';
import type { NodeId } from './types';

export interface RaftConfig {
  readonly id: NodeId;
  /**
   * Ticks without hearing from a leader before a follower campaigns. The actual timeout is
   * drawn from [electionTimeoutTicks, 2 * electionTimeoutTicks) at every reset (paper §5.2,
   * randomized timeouts). About 10 × heartbeatIntervalTicks keeps elections rare.
   */
  readonly electionTimeoutTicks: number;
  /** Ticks between leader heartbeats. Must be < electionTimeoutTicks. */
  readonly heartbeatIntervalTicks: number;
  /** Run a pre-vote round before incrementing the term (thesis §9.6). */
  readonly preVote: boolean;
  /**
   * A leader steps down when it has not heard from a majority within an election timeout, and
   * followers that heard from a leader within an election timeout refuse (pre-)votes (leader
   * stickiness, thesis §6.2 and §4.2.3).
   */
  readonly checkQuorum: boolean;
  /** Max Append messages in flight to one follower in the replicate state. */
  readonly maxInflightAppendCount: number;
  /** Max total entry data bytes per Append (at least one entry is always sent). */
  readonly maxAppendSizeBytes: number;
  /** Randomness for the election timeout; a SeededRandom in tests. */
  readonly random: Random;
  /** The durable state, read synchronously (snapshot, log entries, hard state). */
  readonly storage: RaftLogView;
  /**
   * Membership for a brand-new cluster: used only while storage holds no snapshot and no
   * membership entry (it acts as the membership at index 0). Every founding member must be
   * given the same list; a node that joins later is given none and waits for the leader.
   */
  readonly bootstrapVoters?: readonly NodeId[];
  /**
   * The last index already applied to the host's state machine, as restored on start (the
   * snapshot index when the state machine is rebuilt from the snapshot). Defaults to the
   * storage snapshot index.
   */
  readonly appliedIndex?: LogIndex;
  /**
   * This node's durable state was lost (a wiped data directory) while its group lived on: it
   * may have voted, and acknowledged entries, that it no longer remembers. Until it has caught
   * up it grants no votes or pre-votes and does not campaign, so its empty log cannot help
   * elect a candidate that lacks entries it once acknowledged. It starts in `groupTerm` (the
   * highest term the host saw another member at), so a stale leader of an older term, cut off
   * from what the group committed since, gets rejections rather than acknowledgements that
   * would let it commit. Caught up means: its commit index has reached the commit index of the
   * first leader message it received, and the entry there is of that leader's term (so it also
   * holds everything committed in earlier terms). `status().recoveringFromDataLoss` says when;
   * the host keeps this durable until then.
   */
  readonly recoveringFromDataLoss?: { readonly groupTerm: Term };
}

/** Checks the relationships between settings once, at construction. */
export function validateRaftConfig(config: RaftConfig): void {
  assert(config.id.length > 0, 'node id must be non-empty');
  assert(Number.isSafeInteger(config.heartbeatIntervalTicks) && config.heartbeatIntervalTicks > 0, 'heartbeatIntervalTicks must be a positive integer');
  assert(Number.isSafeInteger(config.electionTimeoutTicks), 'electionTimeoutTicks must be an integer');
  // A follower must get several heartbeats per election timeout or it will campaign against a
  // healthy leader.
  assert(config.electionTimeoutTicks > config.heartbeatIntervalTicks, 'electionTimeoutTicks must exceed heartbeatIntervalTicks');
  assert(Number.isSafeInteger(config.maxInflightAppendCount) && config.maxInflightAppendCount > 0, 'maxInflightAppendCount must be a positive integer');
  assert(Number.isSafeInteger(config.maxAppendSizeBytes) && config.maxAppendSizeBytes > 0, 'maxAppendSizeBytes must be a positive integer');
}

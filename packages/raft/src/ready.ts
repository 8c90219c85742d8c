import type { RaftMessage } from './messages';
import type { HardState, LogEntry, ReadState, Snapshot, SoftState } from './types';

/**
 * Everything the host must do, in this order, before calling `advance(ready)`:
 *
 * 1. Persist `snapshot` (if any), then `entries` (replacing any stored entries at the same or
 *    higher indexes) and `hardState` (if any): ONE durable, fsync'd write. Raft's safety needs
 *    a vote and an appended entry to survive a crash before anyone is told about them
 *    (thesis §3.8: "servers must persist ... before responding").
 * 2. Send `messages`. Only after step 1 has completed.
 * 3. Install `snapshot` into the state machine (if any), then apply `committedEntries` in
 *    order, then answer `readStates` whose index is now applied.
 * 4. Call `advance(ready)`.
 *
 * `softState` is informational (role and leader changes) and never persisted.
 */
export interface Ready {
  /** Changed term/vote/commit to persist before sending `messages`; undefined if unchanged. */
  readonly hardState: HardState | undefined;
  /** Log entries to append durably before sending `messages`. */
  readonly entries: readonly LogEntry[];
  /** A snapshot received from the leader, to persist and install before applying entries. */
  readonly snapshot: Snapshot | undefined;
  /** Committed entries to apply, in index order, after `entries` are persisted. */
  readonly committedEntries: readonly LogEntry[];
  /** Confirmed linearizable reads; answer each once applied index >= its index. */
  readonly readStates: readonly ReadState[];
  /** Messages to send, only after `hardState`, `entries` and `snapshot` are durable. */
  readonly messages: readonly RaftMessage[];
  /** New role/leader, if changed since the last Ready. */
  readonly softState: SoftState | undefined;
}


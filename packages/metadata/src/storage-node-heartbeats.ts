import type { StorageNodeRecord } from './model';

export interface HeartbeatCommitOptions {
  /** The catalogue's `lastHeartbeatAtMs` of a live node is refreshed at least this often. */
  readonly refreshIntervalMs: number;
  /** A change of free space of at least this share of the capacity is committed at once. */
  readonly freeBytesChangeFraction: number;
}

export const defaultHeartbeatCommitOptions: HeartbeatCommitOptions = { refreshIntervalMs: 10_000, freeBytesChangeFraction: 0.01 };

export interface HeartbeatSeen {
  readonly atMs: number;
  readonly capacityBytes: number;
  readonly freeBytes: number;
  readonly storedBytes: number;
}

/**
 * The leader's memory of storage-node heartbeats. A heartbeat every 2 s from every node made a
 * Raft commit each (an fsync on every member and most of an idle cluster's CPU), although
 * almost all of them only moved `lastHeartbeatAtMs`. The leader now keeps that in memory and
 * commits a heartbeat only when the catalogue would otherwise be wrong or stale:
 *
 * - the node is `suspect` or `down` (the commit brings it back `up`);
 * - its capacity changed, or its free space moved by `freeBytesChangeFraction` of the capacity
 *   (placement weighs nodes by free space);
 * - the catalogue's heartbeat time is `refreshIntervalMs` old (so a new leader, followers'
 *   answers and `tessera status` are never far behind).
 *
 * Liveness on the leader uses the later of the catalogue's time and this memory. A new leader
 * starts with an empty memory and waits `suspectAfterMs` before judging anyone (see
 * StorageNodeLiveness), by which time every live node has heartbeated to it. Memory of a past
 * leadership, or of a node since removed and registered again, is only ever older than the
 * truth (the later time wins), so it is never wrong to keep it.
 * Pure: times are passed in.
 */
export class StorageNodeHeartbeats {
  private readonly seenByNodeId = new Map<string, HeartbeatSeen>();

  constructor(private readonly options: HeartbeatCommitOptions = defaultHeartbeatCommitOptions) {}

  /** Remembers a heartbeat this leader received; true when it must also be committed. */
  observe(nodeId: string, seen: HeartbeatSeen, persisted: StorageNodeRecord): boolean {
    const previous = this.seenByNodeId.get(nodeId);
    if (previous === undefined || previous.atMs <= seen.atMs) this.seenByNodeId.set(nodeId, seen);
    if (persisted.state === 'suspect' || persisted.state === 'down') return true;
    if (seen.capacityBytes !== persisted.capacityBytes) return true;
    if (Math.abs(seen.freeBytes - persisted.freeBytes) >= Math.max(1, seen.capacityBytes * this.options.freeBytesChangeFraction)) return true;
    return seen.atMs - persisted.lastHeartbeatAtMs >= this.options.refreshIntervalMs;
  }

  /** The record with the latest heartbeat this leader saw (time, capacity, free space, stored bytes). */
  overlay(record: StorageNodeRecord): StorageNodeRecord {
    const seen = this.seenByNodeId.get(record.nodeId);
    if (seen === undefined || seen.atMs <= record.lastHeartbeatAtMs) return record;
    return { ...record, lastHeartbeatAtMs: seen.atMs, capacityBytes: seen.capacityBytes, freeBytes: seen.freeBytes, storedBytes: seen.storedBytes };
  }
}

import type { Clock, Logger } from '@tessera/common';
import type { RaftHost } from './raft-host';
import type { StorageNodeHeartbeats } from './storage-node-heartbeats';

export interface LivenessOptions {
  /** No heartbeat for this long: the leader proposes `suspect` (no new shards go there). */
  readonly suspectAfterMs: number;
  /** No heartbeat for this long: the leader proposes `down` (its shards need repair). */
  readonly downAfterMs: number;
  readonly checkIntervalMs: number;
  /**
   * An in-progress write neither committed nor aborted for this long is aborted by the leader,
   * which queues its stripe for garbage collection (a gateway that crashed mid-PUT).
   */
  readonly staleWriteAfterMs: number;
  /** How long the group remembers a request id's first result (client retries must fit in it). */
  readonly requestDedupRetentionMs: number;
}

/** Dedup records are expired at most this often (each expiry is one Raft write). */
const requestExpiryIntervalMs = 60_000;

/**
 * Leader housekeeping. Storage-node liveness, run on every metadata node but acting only on the leader. A heartbeat
 * carries the leader's wall-clock time when it arrived (in the catalogue, or only in the
 * leader's StorageNodeHeartbeats when it was not committed); the leader compares the later of
 * the two with its own clock. A freshly elected leader first waits `suspectAfterMs` (its predecessor's clock
 * may differ, and nodes may not have found the new leader yet), so a leader change never
 * marks healthy nodes suspect. State changes are proposed as commands, never applied locally.
 */
export class StorageNodeLiveness {
  private timer: NodeJS.Timeout | undefined;
  private checking = false;
  private lastExpiryMonotonicMs = -Infinity;

  constructor(
    private readonly options: LivenessOptions,
    private readonly host: RaftHost,
    private readonly heartbeats: StorageNodeHeartbeats,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.check(), this.options.checkIntervalMs);
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
  }

  async check(): Promise<void> {
    if (this.checking || !this.host.isLeader() || this.host.leaderForMs() < this.options.suspectAfterMs) return;
    this.checking = true;
    try {
      const nowMs = this.clock.nowMs();
      const removed = new Set((await this.host.machine.listRemovedNodes()).map((r) => r.nodeId));
      for (const node of await this.host.machine.listNodes()) {
        if (removed.has(node.nodeId)) continue;
        const silentMs = nowMs - this.heartbeats.overlay(node).lastHeartbeatAtMs;
        let next: 'suspect' | 'down' | undefined;
        if ((node.state === 'up' || node.state === 'suspect') && silentMs >= this.options.downAfterMs) next = 'down';
        else if (node.state === 'up' && silentMs >= this.options.suspectAfterMs) next = 'suspect';
        if (next === undefined) continue;
        this.logger.warn('storage node missed heartbeats', { nodeId: node.nodeId, silentMs, state: next });
        await this.host.propose({ type: 'setNodeState', nodeId: node.nodeId, state: next, changedAtMs: nowMs, reason: `no heartbeat for ${silentMs} ms` });
      }
      await this.forgetRebuiltRemovedNodes(nowMs);
      if (this.clock.monotonicMs() - this.lastExpiryMonotonicMs >= requestExpiryIntervalMs) {
        this.lastExpiryMonotonicMs = this.clock.monotonicMs();
        await this.host.propose({ type: 'expireRequests', beforeMs: nowMs - this.options.requestDedupRetentionMs });
      }
      for (const write of await this.host.machine.listWrites(1000)) {
        if (nowMs - write.startedAtMs < this.options.staleWriteAfterMs) continue;
        this.logger.warn('aborting stale in-progress write', { writeId: write.writeId, bucket: write.bucket, key: write.key });
        await this.host.propose({ type: 'abortWrite', writeId: write.writeId, reason: 'stale: never committed', abortedAtMs: nowMs });
      }
    } catch (err) {
      this.logger.debug('liveness check skipped', { err });
    } finally {
      this.checking = false;
    }
  }

  /**
   * A node removed with force keeps its record (state down) while the healer moves its shards
   * away; once nothing is placed there, the record is forgotten (a plain removeNode, which
   * the state machine refuses if a shard appeared meanwhile).
   */
  private async forgetRebuiltRemovedNodes(nowMs: number): Promise<void> {
    const removed = await this.host.machine.listRemovedNodes();
    if (removed.length === 0) return;
    const nodeIds = new Set((await this.host.machine.listNodes()).map((n) => n.nodeId));
    for (const removal of removed) {
      if (!nodeIds.has(removal.nodeId)) continue;
      if ((await this.host.machine.listNodeShards(removal.nodeId, '', 0, 1)).length > 0) continue;
      this.logger.info('forgetting removed storage node: no shard is placed on it any more', { nodeId: removal.nodeId });
      await this.host.propose({ type: 'removeNode', nodeId: removal.nodeId, force: false, reason: removal.reason, removedAtMs: nowMs });
    }
  }
}

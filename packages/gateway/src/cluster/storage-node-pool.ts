/**
 * Storage nodes as the gateway sees them: the metadata service's node list (id, AZ, address,
 * state) cached for a short time, and one long-lived StorageNodeClient (one HTTP/2 channel)
 * per node address, shared by every request.
 */
import type { Clock } from '@tessera/common';
import type { MetadataClient } from '@tessera/rpc';
import { RpcStatusError, StorageNodeClient, storageChannelOptions } from '@tessera/rpc';

/** gRPC status DEADLINE_EXCEEDED. */
const grpcDeadlineExceeded = 4;

export interface KnownStorageNode {
  readonly nodeId: string;
  readonly az: string;
  readonly address: string;
  /** "up" | "suspect" | "down" | "draining", as judged by the metadata leader. */
  readonly state: string;
  /** Free space from the node's last heartbeat; placement weighs nodes by it. */
  readonly freeBytes: number;
}

export interface StorageNodePoolOptions {
  /** How long a node list is trusted before it is fetched again. */
  readonly nodeListTtlMs: number;
  /** Deadline of a whole shard read or write stream. */
  readonly streamTimeoutMs: number;
  /** Blocks are batched into gRPC messages of about this size. */
  readonly messageSizeBytesTarget: number;
  /** After a transport failure, a node counts as unreachable for this long (unless it answers). */
  readonly unreachableForMs: number;
  /** A node that answered this recently is not probed before a GET. */
  readonly reachableTrustMs: number;
  /**
   * After a shard write to a node failed in transport or was dropped as too slow, new stripes
   * avoid the node for this long (unless it answers meanwhile), where placement has room.
   */
  readonly writeAvoidanceMs: number;
  /**
   * After a shard read from a node was still unanswered when its window hedged around it, reads
   * take other shards (parity) instead of this node's for this long, so the later windows of a
   * GET, and other GETs, do not each wait the hedge delay for a node that is frozen or stalled.
   */
  readonly slowReadAvoidanceMs: number;
}

export class UnknownStorageNodeError extends Error {
  static readonly errorName = 'UnknownStorageNodeError';
  constructor(readonly nodeId: string) {
    super(`storage node ${nodeId} is not registered with the metadata service`);
    this.name = UnknownStorageNodeError.errorName;
  }
}

export class StorageNodePool {
  private nodesById = new Map<string, KnownStorageNode>();
  private fetchedAtMs = Number.NEGATIVE_INFINITY;
  private refresh: Promise<void> | undefined;
  private readonly clients = new Map<string, StorageNodeClient>();
  /** nodeId -> monotonic time until which the node is believed unreachable. */
  private readonly unreachableUntilMs = new Map<string, number>();
  /** nodeId -> monotonic time of its last successful call. */
  private readonly reachableAtMs = new Map<string, number>();
  /** nodeId -> monotonic time until which new stripes avoid the node. */
  private readonly avoidForWritesUntilMs = new Map<string, number>();
  /** nodeId -> monotonic time until which reads prefer other shards to the node's. */
  private readonly slowForReadsUntilMs = new Map<string, number>();

  constructor(
    private readonly metadata: MetadataClient,
    private readonly clock: Clock,
    private readonly options: StorageNodePoolOptions,
  ) {}

  /** The current node list (fetched if the cached one is older than the TTL, or if `fresh`). */
  async nodes(options: { fresh?: boolean } = {}): Promise<readonly KnownStorageNode[]> {
    if (options.fresh === true || this.clock.monotonicMs() - this.fetchedAtMs > this.options.nodeListTtlMs) await this.fetch();
    return [...this.nodesById.values()];
  }

  /** The client of a node by id; refetches the list once if the id is unknown (a new node). */
  async clientFor(nodeId: string): Promise<StorageNodeClient> {
    let node = (await this.nodes(), this.nodesById.get(nodeId));
    if (node === undefined) {
      await this.fetch();
      node = this.nodesById.get(nodeId);
    }
    if (node === undefined) throw new UnknownStorageNodeError(nodeId);
    let client = this.clients.get(node.address);
    if (client === undefined) {
      client = new StorageNodeClient({
        address: node.address,
        streamTimeoutMs: this.options.streamTimeoutMs,
        messageSizeBytesTarget: this.options.messageSizeBytesTarget,
        // grpc-js backs off reconnects up to 120 s by default: a node that restarts after a
        // crash would stay unused (and count as a lost shard) for minutes. Keepalive pings
        // notice a frozen node within seconds.
        channelOptions: storageChannelOptions,
      });
      this.clients.set(node.address, client);
    }
    return client;
  }

  /**
   * Remembers that a node could not be reached (connection refused, reset, deadline), so reads
   * go to parity at once instead of waiting for it, and GETs that cannot succeed fail before
   * any byte is sent.
   */
  markUnreachable(nodeId: string): void {
    this.unreachableUntilMs.set(nodeId, this.clock.monotonicMs() + this.options.unreachableForMs);
  }

  markReachable(nodeId: string): void {
    this.unreachableUntilMs.delete(nodeId);
    this.avoidForWritesUntilMs.delete(nodeId);
    this.slowForReadsUntilMs.delete(nodeId);
    this.reachableAtMs.set(nodeId, this.clock.monotonicMs());
  }

  /**
   * Remembers that a shard write to a node failed in transport (refused, reset, no answer to
   * keepalive pings) or was dropped because the node fell behind the others. Until the metadata
   * leader marks such a node suspect (15 s without a heartbeat by default) every PUT placed on
   * it would pay the failure again: seconds each when the node is frozen rather than dead.
   * Ends after `writeAvoidanceMs`, at the node's next successful call, or when the node list
   * shows it `up` again after the leader had it suspect or down.
   */
  avoidForWrites(nodeId: string): void {
    this.avoidForWritesUntilMs.set(nodeId, this.clock.monotonicMs() + this.options.writeAvoidanceMs);
  }

  /** Nodes new stripes should avoid: recent write failures, and nodes known unreachable. */
  nodesToAvoidForWrites(): ReadonlySet<string> {
    const nowMs = this.clock.monotonicMs();
    const avoided = new Set<string>();
    for (const [nodeId, untilMs] of this.avoidForWritesUntilMs) {
      if (untilMs > nowMs) avoided.add(nodeId);
      else this.avoidForWritesUntilMs.delete(nodeId);
    }
    for (const nodeId of this.nodesById.keys()) if (this.isUnreachable(nodeId)) avoided.add(nodeId);
    return avoided;
  }

  /**
   * Makes sure the reachability of `nodeIds` is known: nodes that answered within the last
   * `reachableTrustMs`, or are already known unreachable or slow, are skipped (a probe of a
   * slow node could only run out of time, which proves nothing); the others get a short
   * GetNodeInfo probe. Used before a GET commits to a status, so that a node that died since the
   * last request is noticed before the response starts, not halfway through its body.
   */
  async probe(nodeIds: Iterable<string>, timeoutMs: number): Promise<void> {
    const nowMs = this.clock.monotonicMs();
    const unknown = [...new Set(nodeIds)].filter(
      (nodeId) => !this.isUnreachable(nodeId) && !this.isSlowForReads(nodeId) && nowMs - (this.reachableAtMs.get(nodeId) ?? Number.NEGATIVE_INFINITY) > this.options.reachableTrustMs,
    );
    await Promise.all(
      unknown.map(async (nodeId) => {
        try {
          await (await this.clientFor(nodeId)).getNodeInfo({ timeoutMs });
          this.markReachable(nodeId);
        } catch (error) {
          // A probe that only ran out of time says the node is slow (or this machine is busy),
          // not that it is gone: marking it unreachable would fail GETs with 503 under load.
          // The read itself copes with a slow node (parity instead); only a refused or broken
          // connection counts as unreachable here.
          if (error instanceof RpcStatusError && error.code === grpcDeadlineExceeded) this.markSlowForReads(nodeId);
          else this.markUnreachable(nodeId);
        }
      }),
    );
  }

  /**
   * Remembers that a read from a node was hedged around: it had not answered after the hedge
   * delay. Ends after `slowReadAvoidanceMs` (renewed by the next hedge around it), or at the
   * node's next successful call: reads hedged around are cancelled when their window is done,
   * so a success is a read that came in time, a probe answered, or a frozen node resumed.
   */
  markSlowForReads(nodeId: string): void {
    this.slowForReadsUntilMs.set(nodeId, this.clock.monotonicMs() + this.options.slowReadAvoidanceMs);
  }

  /** Hedged around within the last `slowReadAvoidanceMs`: reads take other shards first. */
  isSlowForReads(nodeId: string): boolean {
    const untilMs = this.slowForReadsUntilMs.get(nodeId);
    if (untilMs === undefined) return false;
    if (untilMs > this.clock.monotonicMs()) return true;
    this.slowForReadsUntilMs.delete(nodeId);
    return false;
  }

  /** The node's availability zone, from the last node list (undefined for an unknown node). */
  zoneOf(nodeId: string): string | undefined {
    return this.nodesById.get(nodeId)?.az;
  }

  /** Known unreachable: a recent transport failure, or marked down by the metadata leader. */
  isUnreachable(nodeId: string): boolean {
    if (this.nodesById.get(nodeId)?.state === 'down') return true;
    const untilMs = this.unreachableUntilMs.get(nodeId);
    return untilMs !== undefined && untilMs > this.clock.monotonicMs();
  }

  close(): void {
    for (const client of this.clients.values()) client.close();
    this.clients.clear();
  }

  private fetch(): Promise<void> {
    // Concurrent requests share one ListNodes call.
    this.refresh ??= (async () => {
      try {
        const nodes = await this.metadata.listNodes();
        const previous = this.nodesById;
        this.nodesById = new Map(nodes.map((n) => [n.nodeId, { nodeId: n.nodeId, az: n.az, address: n.address, state: n.state, freeBytes: Number(n.freeBytes) }]));
        // Back `up` after the leader had it suspect or down: its heartbeats resumed, so the
        // avoidance that bridged until the leader noticed the failure has done its job.
        for (const [nodeId, node] of this.nodesById) {
          const before = previous.get(nodeId)?.state;
          if (node.state === 'up' && before !== undefined && before !== 'up') this.avoidForWritesUntilMs.delete(nodeId);
        }
        this.fetchedAtMs = this.clock.monotonicMs();
      } finally {
        this.refresh = undefined;
      }
    })();
    return this.refresh;
  }
}

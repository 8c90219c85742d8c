/** What placement needs to know about a storage node; the metadata catalogue holds the rest. */
export type NodeState = 'up' | 'suspect' | 'down' | 'draining';

export interface PlacementNode {
  readonly nodeId: string;
  /** Availability zone (failure domain) the node lives in. */
  readonly az: string;
  readonly state: NodeState;
  /** Free space reported by the node's last heartbeat; the rendezvous weight. */
  readonly freeBytes: number;
}

export interface PlaceStripeInput {
  /** Stable identity of the stripe, e.g. `bucket/key/versionId` or `upload/part`. */
  readonly stripeKey: string;
  readonly dataShardCount: number;
  readonly parityShardCount: number;
  /** Every registered node, whatever its state; down nodes still define the AZ set. */
  readonly nodes: readonly PlacementNode[];
}

export interface StripePlacement {
  /** `nodeIds[shardIndex]` is the node that holds that shard. */
  readonly nodeIds: readonly string[];
  /**
   * True when the stripe could not be spread evenly over every AZ, one shard per node (an AZ is
   * down, or there are too few live nodes). Healing should respread it when nodes return.
   */
  readonly degradedSpread: boolean;
}

export interface RepairMove {
  readonly shardIndex: number;
  /** The node that held (or still holds) the shard, if any. */
  readonly fromNodeId: string | undefined;
  readonly toNodeId: string;
  readonly reason: 'missing' | 'respread';
}

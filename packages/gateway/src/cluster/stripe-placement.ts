/**
 * Placement of a new stripe, done in the gateway: the pure policy of @tessera/placement applied
 * to the node list the gateway already caches for its storage connections (id, AZ, state and
 * free space as the metadata leader last reported them). Nothing is recorded until the commit:
 * the version (or part) record that makes the object visible also names its stripe, and the
 * metadata service checks there that every node is registered. Shards of a write that never
 * commits are deleted by the gateway, or, if it died, found by the healer's orphan scan.
 *
 * Compared with asking the metadata service to place (and record) the stripe first, a PUT costs
 * one Raft commit instead of two and one metadata round trip less.
 */
import { randomBytes } from 'node:crypto';
import { InsufficientNodesError, placeStripe } from '@tessera/placement';
import type { NodeState, PlacementNode } from '@tessera/placement';
import type { PlacedStripe } from './body-storage';
import type { KnownStorageNode } from './storage-node-pool';
import { QuorumUnavailableError } from './stripe';

export interface StripeShape {
  readonly dataShardCount: number;
  readonly parityShardCount: number;
  readonly blockSizeBytes: number;
}

const nodeStates: readonly NodeState[] = ['up', 'suspect', 'down', 'draining'];

/** 96 random bits in hex, as the metadata service makes ids: unguessable, never reused. */
function newStripeId(): string {
  return randomBytes(12).toString('hex');
}

/**
 * Places `shape` over `nodes`. `stripeKeyPrefix` (e.g. `bucket/key`) plus the new stripe id is
 * the rendezvous key, so successive writes of one key land on different nodes when there is a
 * choice. Nodes in `avoidNodeIds` (this gateway saw writes to them fail moments ago) are treated
 * as suspect, so the stripe goes to the others, doubled up and flagged `degradedSpread` for the
 * healer to respread if need be, which beats a shard missing from the start; when the others
 * cannot hold a stripe that survives one node's loss, the avoided nodes are used after all.
 * Too few live nodes: QuorumUnavailableError (S3 503), as a failed write would be.
 */
export function placeNewStripe(nodes: readonly KnownStorageNode[], stripeKeyPrefix: string, shape: StripeShape, avoidNodeIds: ReadonlySet<string> = new Set()): PlacedStripe {
  const stripeId = newStripeId();
  const placementNodes: PlacementNode[] = nodes.map((node) => ({
    nodeId: node.nodeId,
    az: node.az,
    // An unknown state (a newer metadata service) is not trusted with shards.
    state: nodeStates.find((state) => state === node.state) ?? 'down',
    freeBytes: node.freeBytes,
  }));
  const place = (candidates: readonly PlacementNode[]): PlacedStripe => {
    const placement = placeStripe({ stripeKey: `${stripeKeyPrefix}/${stripeId}`, dataShardCount: shape.dataShardCount, parityShardCount: shape.parityShardCount, nodes: candidates });
    return { stripe: { stripeId, ...shape, shardNodeIds: placement.nodeIds }, degradedSpread: placement.degradedSpread };
  };
  try {
    if (placementNodes.some((node) => node.state === 'up' && avoidNodeIds.has(node.nodeId))) {
      try {
        return place(placementNodes.map((node) => (avoidNodeIds.has(node.nodeId) && node.state === 'up' ? { ...node, state: 'suspect' } : node)));
      } catch (error) {
        if (!(error instanceof InsufficientNodesError)) throw error;
      }
    }
    return place(placementNodes);
  } catch (error) {
    if (error instanceof InsufficientNodesError) throw new QuorumUnavailableError('write', `cannot place a stripe: ${error.message}`, { cause: error });
    throw error;
  }
}

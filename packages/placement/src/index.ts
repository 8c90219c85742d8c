/**
 * @packageDocumentation
 * Pure placement: which storage node holds each shard of a stripe. Shards spread evenly over
 * the availability zones, one per node, nodes chosen by rendezvous hashing weighted by free
 * space; when an AZ is down the stripe still gets all its shards (flagged `degradedSpread`),
 * and `proposeRepairMoves` says where lost or doubled-up shards should go.
 *
 * ```ts
 * import { placeStripe } from '@tessera/placement';
 * const { nodeIds, degradedSpread } = placeStripe({
 *   stripeKey: 'photos/cat.jpg/v1', dataShardCount: 6, parityShardCount: 3,
 *   nodes: [{ nodeId: 'sn-1', az: 'az-a', state: 'up', freeBytes: 1e12 }, ...],
 * });
 * // nodeIds[shardIndex] is the node that stores that shard.
 * ```
 */
export type { NodeState, PlaceStripeInput, PlacementNode, RepairMove, StripePlacement } from './types';
export { InsufficientNodesError } from './errors';
export { hashToUnitInterval, rendezvousScore } from './hash';
export { idealQuotas, placeStripe, rankAzs, rankNodes } from './place-stripe';
export type { ProposeRepairInput } from './propose-repair';
export { proposeRepairMoves } from './propose-repair';

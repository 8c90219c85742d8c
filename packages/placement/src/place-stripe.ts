import { assert } from '@tessera/common';
import { InsufficientNodesError } from './errors';
import { rendezvousScore } from './hash';
import type { PlaceStripeInput, PlacementNode, StripePlacement } from './types';

/**
 * The placement policy (see README): every registered AZ gets an equal share of the stripe
 * (the remainder goes to the AZs that rank highest for this stripe), one shard per node, nodes
 * chosen inside an AZ by rendezvous hashing weighted by free space. Only `up` nodes receive
 * shards. When an AZ cannot take its share, the surplus goes to the AZs with the fewest shards,
 * still one per node, and only when every live node already holds one do nodes get a second
 * (the least-loaded first), so no node holds more than ceil(shardCount / liveNodeCount).
 */
export function placeStripe(input: PlaceStripeInput): StripePlacement {
  const shardCount = input.dataShardCount + input.parityShardCount;
  assertShardCounts(input.dataShardCount, input.parityShardCount);
  const live = input.nodes.filter((node) => node.state === 'up');
  assertMaxShardsPerNodeTolerable(shardCount, input.parityShardCount, live.length);

  const azs = rankAzs(input.stripeKey, input.nodes);
  const quotaByAz = idealQuotas(shardCount, azs);
  const rankedByAz = new Map<string, PlacementNode[]>();
  for (const az of azs) rankedByAz.set(az, rankNodes(input.stripeKey, live.filter((node) => node.az === az)));

  const countByNode = new Map<string, number>();
  const countByAz = new Map<string, number>(azs.map((az) => [az, 0]));
  const slots: { nodeId: string; az: string }[] = [];
  const take = (node: PlacementNode): void => {
    countByNode.set(node.nodeId, (countByNode.get(node.nodeId) ?? 0) + 1);
    countByAz.set(node.az, (countByAz.get(node.az) ?? 0) + 1);
    slots.push({ nodeId: node.nodeId, az: node.az });
  };
  // Round 1: each AZ takes up to its quota, one shard per node.
  for (const az of azs) {
    const ranked = rankedByAz.get(az) ?? [];
    const quota = quotaByAz.get(az) ?? 0;
    for (const node of ranked.slice(0, quota)) take(node);
  }
  // Round 2: surplus from AZs that were short, to unused nodes in the least-filled AZs.
  while (slots.length < shardCount) {
    const next = leastFilledUnusedNode(azs, rankedByAz, countByAz, countByNode);
    if (next === undefined) break;
    take(next);
  }
  // Round 3: every live node holds one; hand out second (third…) shards evenly.
  while (slots.length < shardCount) take(leastLoadedNode(azs, rankedByAz, countByAz, countByNode));

  const nodeIds = interleaveByAz(azs, slots);
  assert(nodeIds.length === shardCount, 'every shard index is placed');
  const doubled = [...countByNode.values()].some((count) => count > 1);
  const uneven = azs.some((az) => (countByAz.get(az) ?? 0) !== (quotaByAz.get(az) ?? 0));
  return { nodeIds, degradedSpread: doubled || uneven };
}

export function assertShardCounts(dataShardCount: number, parityShardCount: number): void {
  assert(Number.isSafeInteger(dataShardCount) && dataShardCount >= 1, 'dataShardCount >= 1');
  assert(Number.isSafeInteger(parityShardCount) && parityShardCount >= 0, 'parityShardCount >= 0');
  assert(dataShardCount + parityShardCount <= 256, 'GF(2^8) Reed-Solomon allows at most 256 shards');
}

/**
 * Doubling up is allowed only while one node's loss still leaves `dataShardCount` shards: a
 * node holding more than `parityShardCount` shards would make the stripe die with that node,
 * which is not "full redundancy", so such a write is refused instead.
 */
function assertMaxShardsPerNodeTolerable(shardCount: number, parityShardCount: number, liveNodeCount: number): void {
  if (liveNodeCount === 0) throw new InsufficientNodesError(shardCount, liveNodeCount);
  const maxShardsPerNode = Math.ceil(shardCount / liveNodeCount);
  const tolerable = maxShardsPerNode === 1 || maxShardsPerNode <= parityShardCount;
  if (!tolerable) throw new InsufficientNodesError(shardCount, liveNodeCount);
}

/** Every registered AZ, ranked for this stripe so the remainder shards rotate between AZs. */
export function rankAzs(stripeKey: string, nodes: readonly PlacementNode[]): string[] {
  const azs = [...new Set(nodes.map((node) => node.az))].sort();
  const score = new Map(azs.map((az) => [az, rendezvousScore(stripeKey, `az:${az}`, 1)]));
  return azs.sort((a, b) => (score.get(b) ?? 0) - (score.get(a) ?? 0) || (a < b ? -1 : 1));
}

/** Equal shares; the first `shardCount % azCount` ranked AZs take one extra. */
export function idealQuotas(shardCount: number, rankedAzs: readonly string[]): Map<string, number> {
  const base = Math.floor(shardCount / rankedAzs.length);
  const remainder = shardCount % rankedAzs.length;
  return new Map(rankedAzs.map((az, rank) => [az, base + (rank < remainder ? 1 : 0)]));
}

/** Nodes ranked by weighted rendezvous; weight is free space (a full node still ranks, last). */
export function rankNodes(itemKey: string, nodes: readonly PlacementNode[]): PlacementNode[] {
  const scored = nodes.map((node) => ({ node, score: rendezvousScore(itemKey, node.nodeId, Math.max(node.freeBytes, 1)) }));
  scored.sort((a, b) => b.score - a.score || (a.node.nodeId < b.node.nodeId ? -1 : 1));
  return scored.map((entry) => entry.node);
}

function leastFilledUnusedNode(
  azs: readonly string[],
  rankedByAz: ReadonlyMap<string, readonly PlacementNode[]>,
  countByAz: ReadonlyMap<string, number>,
  countByNode: ReadonlyMap<string, number>,
): PlacementNode | undefined {
  let best: PlacementNode | undefined;
  let bestAzCount = Infinity;
  for (const az of azs) {
    const unused = (rankedByAz.get(az) ?? []).find((node) => !countByNode.has(node.nodeId));
    const azCount = countByAz.get(az) ?? 0;
    if (unused !== undefined && azCount < bestAzCount) {
      best = unused;
      bestAzCount = azCount;
    }
  }
  return best;
}

function leastLoadedNode(
  azs: readonly string[],
  rankedByAz: ReadonlyMap<string, readonly PlacementNode[]>,
  countByAz: ReadonlyMap<string, number>,
  countByNode: ReadonlyMap<string, number>,
): PlacementNode {
  let best: PlacementNode | undefined;
  let bestKey = [Infinity, Infinity];
  for (const az of azs) {
    for (const node of rankedByAz.get(az) ?? []) {
      const key = [countByNode.get(node.nodeId) ?? 0, countByAz.get(az) ?? 0];
      const better = (key[0] ?? 0) < (bestKey[0] ?? 0) || (key[0] === bestKey[0] && (key[1] ?? 0) < (bestKey[1] ?? 0));
      if (better) {
        best = node;
        bestKey = key;
      }
    }
  }
  assert(best !== undefined, 'at least one live node exists');
  return best;
}

/**
 * Shard indices go round-robin over AZs, so the data shards (read on the fast path) are spread
 * as evenly as the parity shards: for 6+3 over three AZs, each AZ holds two data and one parity.
 */
function interleaveByAz(azs: readonly string[], slots: readonly { nodeId: string; az: string }[]): string[] {
  const queues = azs.map((az) => slots.filter((slot) => slot.az === az).map((slot) => slot.nodeId));
  const order: string[] = [];
  for (let round = 0; order.length < slots.length; round++) {
    for (const queue of queues) {
      const nodeId = queue[round];
      if (nodeId !== undefined) order.push(nodeId);
    }
  }
  return order;
}

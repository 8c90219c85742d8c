import { assert } from '@tessera/common';
import { assertShardCounts, idealQuotas, rankAzs, rankNodes } from './place-stripe';
import type { PlacementNode, RepairMove } from './types';

export interface ProposeRepairInput {
  readonly stripeKey: string;
  readonly dataShardCount: number;
  readonly parityShardCount: number;
  /** Current placement: `currentNodeIds[shardIndex]`. */
  readonly currentNodeIds: readonly string[];
  /** Every registered node, whatever its state. */
  readonly nodes: readonly PlacementNode[];
  /** Shards known lost even though their node is up (e.g. a scrub found a bad checksum). */
  readonly lostShardIndices?: readonly number[];
}

/**
 * Proposes moves that restore a stripe: first every shard whose node is down, draining, gone
 * or reported lost goes to a live node that holds nothing of this stripe (same AZ first, then
 * the AZ with the fewest shards); then, for stripes with a degraded spread, shards move off
 * doubled-up nodes and over-full AZs onto free nodes in under-full AZs. Suspect nodes keep
 * their shards: suspicion is cheap to recover from, a rebuild is not. Pure; the caller
 * rebuilds the shards and commits the new placement through the catalogue.
 */
export function proposeRepairMoves(input: ProposeRepairInput): RepairMove[] {
  const shardCount = input.dataShardCount + input.parityShardCount;
  assertShardCounts(input.dataShardCount, input.parityShardCount);
  assert(input.currentNodeIds.length === shardCount, 'placement has one node per shard index');
  const byId = new Map(input.nodes.map((node) => [node.nodeId, node]));
  const live = input.nodes.filter((node) => node.state === 'up');
  const lost = new Set(input.lostShardIndices ?? []);
  const placement = [...input.currentNodeIds];
  const moves: RepairMove[] = [];
  const isHealthy = (nodeId: string): boolean => {
    const state = byId.get(nodeId)?.state;
    return state === 'up' || state === 'suspect';
  };

  for (let index = 0; index < shardCount; index++) {
    const from = placement[index];
    assert(from !== undefined, 'placement entry exists');
    if (isHealthy(from) && !lost.has(index)) continue;
    const preferredAz = byId.get(from)?.az;
    const target = chooseTarget(input.stripeKey, index, placement, live, byId, preferredAz, from);
    if (target === undefined) continue; // nothing can take it now; a later pass retries
    placement[index] = target.nodeId;
    moves.push({ shardIndex: index, fromNodeId: from, toNodeId: target.nodeId, reason: 'missing' });
  }
  moves.push(...respreadMoves(input.stripeKey, placement, live, byId, input.nodes));
  return moves;
}

function shardCountsByNode(placement: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const nodeId of placement) counts.set(nodeId, (counts.get(nodeId) ?? 0) + 1);
  return counts;
}

function shardCountsByAz(placement: readonly string[], byId: ReadonlyMap<string, PlacementNode>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const nodeId of placement) {
    const az = byId.get(nodeId)?.az;
    if (az !== undefined) counts.set(az, (counts.get(az) ?? 0) + 1);
  }
  return counts;
}

function chooseTarget(
  stripeKey: string,
  shardIndex: number,
  placement: readonly string[],
  live: readonly PlacementNode[],
  byId: ReadonlyMap<string, PlacementNode>,
  preferredAz: string | undefined,
  excludeNodeId: string,
): PlacementNode | undefined {
  const perNode = shardCountsByNode(placement);
  const perAz = shardCountsByAz(placement, byId);
  const itemKey = `${stripeKey}#${shardIndex}`;
  const free = live.filter((node) => !perNode.has(node.nodeId) && node.nodeId !== excludeNodeId);
  const sameAz = rankNodes(itemKey, free.filter((node) => node.az === preferredAz));
  if (sameAz[0] !== undefined) return sameAz[0];
  const byAzLoad = (candidates: readonly PlacementNode[]): PlacementNode | undefined => {
    const ranked = rankNodes(itemKey, candidates);
    let best: PlacementNode | undefined;
    for (const node of ranked) {
      if (best === undefined || (perAz.get(node.az) ?? 0) < (perAz.get(best.az) ?? 0)) best = node;
    }
    return best;
  };
  const freeTarget = byAzLoad(free);
  if (freeTarget !== undefined) return freeTarget;
  // No free node: double up on the least-loaded live node (the stripe stays degraded).
  const candidates = live.filter((node) => node.nodeId !== excludeNodeId);
  const minCount = Math.min(...candidates.map((node) => perNode.get(node.nodeId) ?? 0));
  return byAzLoad(candidates.filter((node) => (perNode.get(node.nodeId) ?? 0) === minCount));
}

function respreadMoves(
  stripeKey: string,
  placement: string[],
  live: readonly PlacementNode[],
  byId: ReadonlyMap<string, PlacementNode>,
  nodes: readonly PlacementNode[],
): RepairMove[] {
  const moves: RepairMove[] = [];
  const quotas = idealQuotas(placement.length, rankAzs(stripeKey, nodes));
  // Each move strictly lowers (doubled shards + AZ overflow), so this terminates; the bound is a guard.
  for (let guard = 0; guard < placement.length * 2; guard++) {
    const perNode = shardCountsByNode(placement);
    const perAz = shardCountsByAz(placement, byId);
    const free = live.filter((node) => !perNode.has(node.nodeId));
    const under = free.filter((node) => (perAz.get(node.az) ?? 0) < (quotas.get(node.az) ?? 0));
    const source = pickSourceShard(placement, perNode, perAz, quotas, byId, under.length > 0);
    if (source === undefined) break;
    const pool = under.length > 0 ? under : free;
    const target = rankNodes(`${stripeKey}#${source}`, pool)[0];
    if (target === undefined) break;
    moves.push({ shardIndex: source, fromNodeId: placement[source], toNodeId: target.nodeId, reason: 'respread' });
    placement[source] = target.nodeId;
  }
  return moves;
}

/** The highest shard index on a doubled node, else on an AZ above its quota (if one is below). */
function pickSourceShard(
  placement: readonly string[],
  perNode: ReadonlyMap<string, number>,
  perAz: ReadonlyMap<string, number>,
  quotas: ReadonlyMap<string, number>,
  byId: ReadonlyMap<string, PlacementNode>,
  someAzUnderQuota: boolean,
): number | undefined {
  const overAz = (nodeId: string): boolean => {
    const az = byId.get(nodeId)?.az;
    return az !== undefined && (perAz.get(az) ?? 0) > (quotas.get(az) ?? 0);
  };
  for (let index = placement.length - 1; index >= 0; index--) {
    const nodeId = placement[index] ?? '';
    if ((perNode.get(nodeId) ?? 0) > 1) return index;
  }
  if (!someAzUnderQuota) return undefined;
  for (let index = placement.length - 1; index >= 0; index--) {
    if (overAz(placement[index] ?? '')) return index;
  }
  return undefined;
}

/**
 * Redundancy as the metadata service records it, checked against the disks: every stripe that
 * the metadata maps to some node (ListNodeShards, paged, per storage node) is at full redundancy
 * when each of its k+m shard indexes is placed and its file is on that node's disk; it is evenly
 * spread when its shards sit on k+m distinct nodes with at most ceil((k+m) / zones) per AZ and it
 * is not flagged degraded_spread (writes during an AZ outage put two shards on some nodes; the
 * healer respreads them when the AZ returns). Garbage on disk (orphans,
 * stray shards of aborted writes) is ignored, since no record maps it.
 */
import type { MetadataClient } from '@tessera/rpc';
import type { StorageNodeInfo } from './cluster-handle';
import type { ShardFile } from './shard-files';

export interface PlacementReport {
  readonly stripeCount: number;
  /** Stripes with a shard index unplaced, or placed on a node whose disk lacks the file. */
  readonly belowFullStripeIds: readonly string[];
  /** Stripes with two shards on one node, more shards in one AZ than an even spread allows, or flagged degraded_spread. */
  readonly unevenSpreadStripeIds: readonly string[];
  /** Why the first few stripes are below full redundancy (for failure messages). */
  readonly belowFullExamples: readonly string[];
  /** How the first few unevenly spread stripes are spread (for failure messages). */
  readonly spreadExamples: readonly string[];
}

interface MappedStripe {
  readonly shardNodeIds: readonly string[];
  readonly shardCount: number;
  readonly degradedSpread: boolean;
}

const pageLimit = 1_000;
const pageCountMax = 1_000;

/** The one call of the metadata API this check needs (a MetadataClient, or the container observer). */
export type NodeShardLister = Pick<MetadataClient, 'listNodeShards'>;

export async function placementReport(client: NodeShardLister, storageNodes: readonly StorageNodeInfo[], diskFiles: readonly ShardFile[]): Promise<PlacementReport> {
  const stripes = new Map<string, MappedStripe>();
  for (const node of storageNodes) {
    let afterStripeId = '';
    let afterShardIndex = 0;
    for (let page = 0; page < pageCountMax; page++) {
      const response = await client.listNodeShards({ nodeId: node.name, afterStripeId, afterShardIndex, limit: pageLimit });
      for (const entry of response.shards) {
        const stripe = entry.location?.stripe;
        if (stripe === undefined || stripe === null || entry.location?.found !== true) continue;
        stripes.set(entry.stripeId, { shardNodeIds: stripe.shardNodeIds, shardCount: stripe.dataShardCount + stripe.parityShardCount, degradedSpread: stripe.degradedSpread });
      }
      const last = response.shards[response.shards.length - 1];
      if (!response.isTruncated || last === undefined) break;
      afterStripeId = last.stripeId;
      afterShardIndex = last.shardIndex;
    }
  }
  const onDisk = new Set(diskFiles.map((f) => `${f.nodeName}/${f.stripeId}.${f.shardIndex}`));
  const zoneOf = new Map(storageNodes.map((n) => [n.name, n.zone ?? '']));
  const zoneCount = new Set(zoneOf.values()).size;
  const belowFullStripeIds: string[] = [];
  const unevenSpreadStripeIds: string[] = [];
  const belowFullExamples: string[] = [];
  const spreadExamples: string[] = [];
  for (const [stripeId, stripe] of stripes) {
    const missing: string[] = [];
    for (let shardIndex = 0; shardIndex < stripe.shardCount; shardIndex++) {
      const nodeId = stripe.shardNodeIds[shardIndex] ?? '';
      if (nodeId === '') missing.push(`${shardIndex}:unplaced`);
      else if (!onDisk.has(`${nodeId}/${stripeId}.${shardIndex}`)) missing.push(`${shardIndex}:no file on ${nodeId}`);
    }
    if (missing.length > 0) {
      belowFullStripeIds.push(stripeId);
      if (belowFullExamples.length < 3) belowFullExamples.push(`${stripeId} missing ${missing.join(', ')}`);
    }
    const distinctNodes = new Set(stripe.shardNodeIds.filter((id) => id !== '')).size;
    const perZone = new Map<string, number>();
    for (const nodeId of stripe.shardNodeIds) perZone.set(zoneOf.get(nodeId) ?? '?', (perZone.get(zoneOf.get(nodeId) ?? '?') ?? 0) + 1);
    const perZoneMax = Math.ceil(stripe.shardCount / zoneCount);
    if (stripe.degradedSpread || distinctNodes < stripe.shardCount || [...perZone.values()].some((n) => n > perZoneMax)) {
      unevenSpreadStripeIds.push(stripeId);
      if (spreadExamples.length < 3) spreadExamples.push(`${stripeId} spread ${JSON.stringify(Object.fromEntries(perZone))} on ${distinctNodes} nodes${stripe.degradedSpread ? ', flagged degraded_spread' : ''}`);
    }
  }
  return { stripeCount: stripes.size, belowFullStripeIds, unevenSpreadStripeIds, belowFullExamples, spreadExamples };
}

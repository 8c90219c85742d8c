import { assert } from '@tessera/common';
import type { Logger } from '@tessera/common';
import { ReedSolomon } from '@tessera/erasure';
import { proposeRepairMoves } from '@tessera/placement';
import type { PlacementNode, RepairMove } from '@tessera/placement';
import type { StorageNode__Output } from '@tessera/proto/generated/tessera/metadata/v1/StorageNode';
import type { Stripe__Output } from '@tessera/proto/generated/tessera/metadata/v1/Stripe';
import type { StripeOwner__Output } from '@tessera/proto/generated/tessera/metadata/v1/StripeOwner';
import { ShardChecksumMismatchError, ShardNotFoundError } from '@tessera/rpc';
import type { MetadataClient } from '@tessera/rpc';
import { ChunkQueue } from './chunk-queue';
import type { RateLimiter } from './rate-limiter';
import type { StorageNodePool } from './storage-node-pool';

/** One stripe to check and, if needed, rebuild. */
export interface StripeTask {
  readonly owner: StripeOwner__Output;
  readonly stripe: Stripe__Output;
  readonly dataSizeBytes: number;
  /** Shards known missing or corrupt (scrubber, repair queue probe). */
  readonly lostShardIndexes: ReadonlySet<number>;
  readonly reason: string;
}

export type RebuildOutcome =
  | { readonly kind: 'healthy' }
  /** Another rebuild of the same stripe is running in this healer: nothing done, retried later. */
  | { readonly kind: 'busy' }
  | { readonly kind: 'rebuilt'; readonly shardCount: number; readonly bytesWritten: number; readonly movedShardCount: number }
  | { readonly kind: 'stale'; readonly reason: string }
  | { readonly kind: 'unrecoverable'; readonly reason: string };

export interface StripeRebuilderComponents {
  readonly metadata: MetadataClient;
  readonly pool: StorageNodePool;
  readonly limiter: RateLimiter;
  readonly logger: Logger;
  /** Shards being written right now, so the orphan collector leaves them alone. */
  readonly inFlight: Set<string>;
}

/** Shard file bytes of a stripe holding `dataSizeBytes` (gateway README-data-path "Layout"). */
export function shardSizeBytesOf(dataSizeBytes: number, dataShardCount: number, blockSizeBytes: number): number {
  const fullBlockCount = Math.floor(dataSizeBytes / blockSizeBytes);
  const tailBytes = dataSizeBytes - fullBlockCount * blockSizeBytes;
  return fullBlockCount * Math.ceil(blockSizeBytes / dataShardCount) + Math.ceil(tailBytes / dataShardCount);
}

export function inFlightKey(nodeId: string, stripeId: string, shardIndex: number): string {
  return `${nodeId}/${stripeId}.${shardIndex}`;
}

interface Target {
  readonly shardIndex: number;
  readonly node: StorageNode__Output;
  /** The node the catalogue maps the shard to now; equal to node.nodeId for an in-place rewrite. */
  readonly fromNodeId: string;
}

/**
 * Rebuilds the lost shards of one stripe: reads the same shard byte range from k healthy
 * shards window by window, one window ahead (memory: 2 × (k + targets) × window),
 * reconstructs the missing shards with Reed-Solomon, streams them to their targets (the node fsyncs and renames; the client
 * recomputes each block's xxh3-64), then commits moves with the compare-and-set
 * `replaceShards`, and only after that commit deletes the old copies. In-place rewrites
 * (corrupt or missing shard on a live node) need no metadata change: the node replaces the
 * file atomically.
 */
export class StripeRebuilder {
  private readonly codecs = new Map<string, ReedSolomon>();

  constructor(private readonly windowBytes: number, private readonly components: StripeRebuilderComponents) {}

  async rebuild(task: StripeTask, nodes: readonly StorageNode__Output[], graceNodeIds: ReadonlySet<string>): Promise<RebuildOutcome> {
    const { stripe } = task;
    const k = stripe.dataShardCount;
    const m = stripe.parityShardCount;
    assert(stripe.shardNodeIds.length === k + m, 'stripe places every shard');
    const byId = new Map(nodes.map((node) => [node.nodeId, node]));
    const moves = planMoves(stripe, nodes, graceNodeIds);
    const movedIndexes = new Set(moves.map((move) => move.shardIndex));
    const targets: Target[] = [];
    for (const move of moves) {
      const node = byId.get(move.toNodeId);
      assert(node !== undefined, 'placement targets a known node');
      targets.push({ shardIndex: move.shardIndex, node, fromNodeId: move.fromNodeId ?? stripe.shardNodeIds[move.shardIndex] ?? '' });
    }
    for (const shardIndex of task.lostShardIndexes) {
      if (movedIndexes.has(shardIndex)) continue;
      const nodeId = stripe.shardNodeIds[shardIndex] ?? '';
      const node = byId.get(nodeId);
      if (node?.state === 'up') targets.push({ shardIndex, node, fromNodeId: nodeId });
    }
    if (targets.length === 0) return { kind: 'healthy' };
    const targetIndexes = new Set(targets.map((t) => t.shardIndex));
    const sources = stripe.shardNodeIds
      .map((nodeId, shardIndex) => ({ shardIndex, node: byId.get(nodeId) }))
      .filter((s): s is { shardIndex: number; node: StorageNode__Output } => s.node?.state === 'up' && !task.lostShardIndexes.has(s.shardIndex))
      // A shard moved only to respread is healthy where it is: it may serve as a source.
      .filter((s) => !targetIndexes.has(s.shardIndex) || moves.some((mv) => mv.shardIndex === s.shardIndex && mv.reason === 'respread'));
    if (sources.length < k) return { kind: 'unrecoverable', reason: `only ${sources.length} of ${k} needed shards readable` };

    const shardSizeBytes = shardSizeBytesOf(task.dataSizeBytes, k, stripe.blockSizeBytes);
    const storageBlockSizeBytes = Math.ceil(stripe.blockSizeBytes / k);
    const written = await this.reconstructAndWrite(task, sources, targets, shardSizeBytes, storageBlockSizeBytes);
    if (written.kind !== 'ok') {
      await this.deleteCopies(stripe.stripeId, targets.filter((t) => t.fromNodeId !== t.node.nodeId));
      return { kind: 'unrecoverable', reason: written.reason };
    }
    const moved = targets.filter((t) => t.fromNodeId !== t.node.nodeId);
    if (moved.length > 0) {
      const committed = await this.commitMoves(task, moved, nodes);
      if (committed !== undefined) {
        await this.deleteCopies(stripe.stripeId, moved);
        return { kind: 'stale', reason: committed };
      }
      // Only now, with the new placement committed, are the old copies garbage.
      await this.deleteOldCopies(stripe.stripeId, moved, byId);
    } else {
      // In-place rewrites commit nothing; if the stripe was deleted meanwhile (its shards
      // garbage-collected), the rewritten copies would be orphans: remove them now.
      const location = await this.components.metadata.locateStripe(stripe);
      if (!location.found || location.stripe?.stripeId !== stripe.stripeId) {
        await this.deleteCopies(stripe.stripeId, targets);
        return { kind: 'stale', reason: 'stripe no longer referenced' };
      }
    }
    await this.verifyTargets(stripe.stripeId, targets);
    return { kind: 'rebuilt', shardCount: targets.length, bytesWritten: shardSizeBytes * targets.length, movedShardCount: moved.length };
  }

  private codecFor(k: number, m: number): ReedSolomon {
    const key = `${k}+${m}`;
    let codec = this.codecs.get(key);
    if (codec === undefined) {
      codec = new ReedSolomon(k, m);
      this.codecs.set(key, codec);
    }
    return codec;
  }

  private async reconstructAndWrite(
    task: StripeTask, sourcesInput: readonly { shardIndex: number; node: StorageNode__Output }[], targets: readonly Target[],
    shardSizeBytes: number, storageBlockSizeBytes: number,
  ): Promise<{ kind: 'ok' } | { kind: 'failed'; reason: string }> {
    const { stripe } = task;
    const k = stripe.dataShardCount;
    const codec = this.codecFor(k, stripe.parityShardCount);
    const windowBytes = Math.max(1, Math.floor(this.windowBytes / storageBlockSizeBytes)) * storageBlockSizeBytes;
    const queues = targets.map(() => new ChunkQueue(2));
    for (const t of targets) this.components.inFlight.add(inFlightKey(t.node.nodeId, stripe.stripeId, t.shardIndex));
    const writers = targets.map((target, i) =>
      this.components.pool.clientFor(target.node).writeShard({
        shardId: { objectVersionId: stripe.stripeId, shardIndex: target.shardIndex },
        blockSizeBytes: storageBlockSizeBytes, expectedShardSizeBytes: shardSizeBytes,
        source: { kind: 'bytes', chunks: queues[i] ?? new ChunkQueue(1) },
      }));
    // Writers fail independently of the reads: remember the first failure and stop feeding.
    let writeFailure: Error | undefined;
    const settled = Promise.allSettled(writers).then((results) => {
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed !== undefined) {
        writeFailure = failed.reason as Error;
        for (const q of queues) q.fail(writeFailure);
      }
    });
    const sources = [...sourcesInput];
    const readAt = (offsetBytes: number): Promise<(Uint8Array | undefined)[] | undefined> | undefined =>
      offsetBytes < shardSizeBytes ? this.readWindow(stripe, sources, k, offsetBytes, Math.min(windowBytes, shardSizeBytes - offsetBytes)) : undefined;
    // Read-ahead of one window: the sources read window i + 1 while window i is reconstructed
    // and queued for the targets, so source reads and target writes overlap instead of
    // alternating (memory: two windows of k + targets buffers per stripe). readWindow drops
    // failed sources from `sources`; at most one read is in flight, so it never races itself.
    let nextRead = readAt(0);
    try {
      for (let offsetBytes = 0; offsetBytes < shardSizeBytes; offsetBytes += windowBytes) {
        const lengthBytes = Math.min(windowBytes, shardSizeBytes - offsetBytes);
        const slots = await nextRead;
        nextRead = slots === undefined ? undefined : readAt(offsetBytes + windowBytes);
        if (slots === undefined) throw new Error(`fewer than ${k} readable shards at offset ${offsetBytes}`);
        codec.reconstruct(slots);
        await this.components.limiter.take(lengthBytes * targets.length);
        for (const [i, target] of targets.entries()) {
          const bytes = slots[target.shardIndex];
          assert(bytes !== undefined && bytes !== null && bytes.length === lengthBytes, 'reconstructed window has the window length');
          await queues[i]?.push(bytes);
        }
      }
      for (const q of queues) q.close();
      await settled;
      if (writeFailure !== undefined) return { kind: 'failed', reason: `write failed: ${writeFailure.message}` };
      return { kind: 'ok' };
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      for (const q of queues) q.fail(error);
      // A read-ahead still in flight is abandoned: wait for it so no source call outlives the rebuild.
      await nextRead?.catch(() => undefined);
      await settled;
      return { kind: 'failed', reason: writeFailure?.message ?? error.message };
    } finally {
      for (const t of targets) this.components.inFlight.delete(inFlightKey(t.node.nodeId, stripe.stripeId, t.shardIndex));
    }
  }

  /**
   * Reads one window from k sources; a source that fails (missing, corrupt, unreachable) is
   * dropped for good and the next one tried. Returns k + m slots with k filled, or undefined.
   */
  private async readWindow(
    stripe: Stripe__Output, sources: { shardIndex: number; node: StorageNode__Output }[], k: number, offsetBytes: number, lengthBytes: number,
  ): Promise<(Uint8Array | undefined)[] | undefined> {
    const slots: (Uint8Array | undefined)[] = new Array<Uint8Array | undefined>(stripe.shardNodeIds.length).fill(undefined);
    let chosen = sources.slice(0, k);
    for (;;) {
      const results = await Promise.allSettled(chosen.map((s) =>
        this.components.pool.clientFor(s.node).readShardToBuffer({ objectVersionId: stripe.stripeId, shardIndex: s.shardIndex }, { offsetBytes, lengthBytes })));
      const failed = new Set<number>();
      results.forEach((r, i) => {
        const source = chosen[i];
        if (source === undefined) return;
        if (r.status === 'fulfilled' && r.value.length === lengthBytes) slots[source.shardIndex] = r.value;
        else {
          failed.add(source.shardIndex);
          const reason = r.status === 'rejected' ? (r.reason as Error) : new Error('short read');
          const kind = reason instanceof ShardNotFoundError ? 'missing' : reason instanceof ShardChecksumMismatchError ? 'corrupt' : 'unreadable';
          this.components.logger.warn('rebuild source failed', { stripeId: stripe.stripeId, shardIndex: source.shardIndex, kind, err: reason.message });
        }
      });
      if (failed.size === 0) return slots;
      for (let i = sources.length - 1; i >= 0; i--) if (failed.has(sources[i]?.shardIndex ?? -1)) sources.splice(i, 1);
      if (sources.length < k) return undefined;
      chosen = sources.filter((s) => slots[s.shardIndex] === undefined).slice(0, k - slots.filter((s) => s !== undefined).length);
    }
  }

  /** Returns undefined when committed, else why the compare-and-set missed. */
  private async commitMoves(task: StripeTask, moved: readonly Target[], nodes: readonly StorageNode__Output[]): Promise<string | undefined> {
    const newNodeIds = [...task.stripe.shardNodeIds];
    for (const t of moved) newNodeIds[t.shardIndex] = t.node.nodeId;
    // Still badly spread after these moves (e.g. rebuilt into the other AZs while one AZ is
    // down): flag it, so the scrubber respreads it once that AZ is back.
    const remaining = planMoves({ ...task.stripe, shardNodeIds: newNodeIds, degradedSpread: true }, nodes, new Set());
    const degraded = remaining.length > 0 || isSpreadDegraded(newNodeIds, nodes);
    const response = await this.components.metadata.replaceShards({
      owner: task.owner, stripeId: task.stripe.stripeId,
      changes: moved.map((t) => ({ shardIndex: t.shardIndex, fromNodeId: t.fromNodeId, toNodeId: t.node.nodeId })),
      degradedSpread: degraded ? 'true' : 'false',
    });
    return response.replaced ? undefined : response.reason;
  }

  /** Removes copies this rebuild wrote but did not commit (a failed write, a missed compare-and-set). */
  private async deleteCopies(stripeId: string, targets: readonly Target[]): Promise<void> {
    await this.deleteUnmapped(stripeId, targets.map((t) => ({ node: t.node, shardIndex: t.shardIndex })));
  }

  /** Best effort: an unreachable old node's copy is found later by the orphan collector. */
  private async deleteOldCopies(stripeId: string, moved: readonly Target[], byId: ReadonlyMap<string, StorageNode__Output>): Promise<void> {
    const copies = moved.flatMap((t) => {
      const old = byId.get(t.fromNodeId);
      return old === undefined || old.state === 'down' ? [] : [{ node: old, shardIndex: t.shardIndex }];
    });
    await this.deleteUnmapped(stripeId, copies);
  }

  /**
   * Deletes shard copies, except any the catalogue maps to that node at this moment. A shard
   * file is named only by stripe and index, so a copy "of ours" may be the very file another
   * rebuild (another healer, or a race this healer's per-stripe exclusion did not cover)
   * has just committed: deleting it would lose a shard. When the lookup itself fails, nothing
   * is deleted (the orphan collector removes true leftovers later).
   */
  private async deleteUnmapped(stripeId: string, copies: readonly { node: StorageNode__Output; shardIndex: number }[]): Promise<void> {
    const byNode = new Map<string, { node: StorageNode__Output; shardIndexes: number[] }>();
    for (const copy of copies) {
      const entry = byNode.get(copy.node.nodeId) ?? { node: copy.node, shardIndexes: [] };
      entry.shardIndexes.push(copy.shardIndex);
      byNode.set(copy.node.nodeId, entry);
    }
    await Promise.allSettled([...byNode.values()].map(async ({ node, shardIndexes }) => {
      const { results } = await this.components.metadata.lookupShards({ nodeId: node.nodeId, shards: shardIndexes.map((shardIndex) => ({ stripeId, shardIndex })) });
      await Promise.allSettled(shardIndexes.map(async (shardIndex, i) => {
        if (results[i]?.mapped !== false) {
          this.components.logger.info('kept a shard copy the catalogue maps to its node', { stripeId, shardIndex, nodeId: node.nodeId });
          return;
        }
        await this.components.pool.clientFor(node).deleteShard({ objectVersionId: stripeId, shardIndex }, { timeoutMs: 5_000 });
      }));
    }));
  }

  private async verifyTargets(stripeId: string, targets: readonly Target[]): Promise<void> {
    for (const t of targets) {
      const result = await this.components.pool.clientFor(t.node).verifyShard({ objectVersionId: stripeId, shardIndex: t.shardIndex });
      // The node checked every block's checksum of the file it just fsync'd: a failure here is a disk problem.
      if (!result.ok) throw new Error(`rebuilt shard ${stripeId}.${t.shardIndex} on ${t.node.nodeId} failed verification`);
    }
  }
}

/**
 * Whether a placement leaves some AZ holding more than its share of the stripe's shards,
 * ceil(shards / zones), where the zones are every AZ with a registered node, up or not. Such a
 * stripe would not survive the loss of that AZ as designed (RS(6,3) over 3 AZs: at most 3
 * shards per AZ); it is respread as soon as nodes in the under-filled AZ are up.
 */
export function isSpreadDegraded(shardNodeIds: readonly string[], nodes: readonly StorageNode__Output[]): boolean {
  const azOf = new Map(nodes.map((node) => [node.nodeId, node.az]));
  const zoneCount = new Set(nodes.map((node) => node.az)).size;
  if (zoneCount === 0) return false;
  const sharePerZone = Math.ceil(shardNodeIds.length / zoneCount);
  const countByZone = new Map<string, number>();
  for (const nodeId of shardNodeIds) {
    const az = azOf.get(nodeId);
    if (az !== undefined) countByZone.set(az, (countByZone.get(az) ?? 0) + 1);
  }
  return [...countByZone.values()].some((count) => count > sharePerZone);
}

/**
 * Moves placement proposes for this stripe. Nodes `down` for less than the grace period
 * count as `suspect`: they keep their shards (a restart is far cheaper than a rebuild).
 */
export function planMoves(stripe: Stripe__Output, nodes: readonly StorageNode__Output[], graceNodeIds: ReadonlySet<string>): RepairMove[] {
  const placementNodes: PlacementNode[] = nodes.map((node) => ({
    nodeId: node.nodeId, az: node.az, freeBytes: node.freeBytes,
    state: graceNodeIds.has(node.nodeId) ? 'suspect' : (node.state as PlacementNode['state']),
  }));
  const moves = proposeRepairMoves({
    stripeKey: stripe.stripeId, dataShardCount: stripe.dataShardCount, parityShardCount: stripe.parityShardCount,
    currentNodeIds: stripe.shardNodeIds, nodes: placementNodes,
  });
  // Only stripes flagged degraded are respread: a healthy stripe's shards stay where they are
  // (placement may see a suspect node as a reason to rebalance; a restart is cheaper).
  return stripe.degradedSpread ? moves : moves.filter((move) => move.reason === 'missing');
}

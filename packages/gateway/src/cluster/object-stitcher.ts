/**
 * Serves a byte range of a committed version, whatever its layout: inline bytes, one stripe,
 * or a multipart object whose parts (each inline or its own stripe) are stitched in part order,
 * reading only the parts, and within them only the blocks, that the range touches.
 */
import { assert } from '@tessera/common';
import type { Logger } from '@tessera/common';
import type { ObjectVersion__Output } from '@tessera/proto/generated/tessera/metadata/v1/ObjectVersion';
import type { Stripe__Output } from '@tessera/proto/generated/tessera/metadata/v1/Stripe';
import type { GatewayMetrics } from '../metrics';
import { toBackendError } from './metadata-error-mapping';
import { stripeFromRecord } from './metadata-records';
import { QuorumUnavailableError } from './stripe';
import type { Stripe } from './stripe';
import type { RepairReporter } from './repair-reporter';
import type { StorageNodePool } from './storage-node-pool';
import type { ReadObserver, StripeReader } from './stripe-reader';

/** A reachability probe (GetNodeInfo) longer than this counts the node as unreachable. */
const probeTimeoutMs = 500;

/** One contiguous piece of an object: inline bytes or a stripe. */
interface Segment {
  readonly objectStartByte: number;
  readonly sizeBytes: number;
  readonly inlineData: Buffer | undefined;
  readonly stripe: Stripe__Output | undefined;
}

export class ObjectStitcher {
  constructor(
    private readonly reader: StripeReader,
    private readonly pool: StorageNodePool,
    private readonly repairs: RepairReporter,
    private readonly metrics: GatewayMetrics,
    private readonly logger: Logger,
  ) {}

  /**
   * Fails fast (before any response byte) when a stripe of the version cannot be read now:
   * shard nodes not heard from recently are probed first, so a node that died since the last
   * request is noticed here rather than halfway through the body.
   */
  async checkReadable(version: ObjectVersion__Output): Promise<void> {
    const stripes = segmentsOf(version).flatMap((segment) => (segment.stripe === undefined ? [] : [stripeFromRecord(segment.stripe)]));
    if (stripes.length === 0) return;
    await this.pool.probe(stripes.flatMap((stripe) => stripe.shardNodeIds), probeTimeoutMs);
    try {
      for (const stripe of stripes) this.reader.checkReadable(stripe);
    } catch (error) {
      if (error instanceof QuorumUnavailableError) this.metrics.quorumFailuresTotal.labels('read').inc();
      throw error;
    }
  }

  async *read(version: ObjectVersion__Output, startByte: number, endByteInclusive: number): AsyncGenerator<Uint8Array> {
    assert(startByte >= 0 && endByteInclusive < version.sizeBytes && startByte <= endByteInclusive, 'range inside the object');
    const observer = this.observerFor(version);
    try {
      for (const segment of segmentsOf(version)) {
        const segmentEndByte = segment.objectStartByte + segment.sizeBytes - 1;
        if (segment.sizeBytes === 0 || segmentEndByte < startByte || segment.objectStartByte > endByteInclusive) continue;
        const from = Math.max(startByte, segment.objectStartByte) - segment.objectStartByte;
        const to = Math.min(endByteInclusive, segmentEndByte) - segment.objectStartByte;
        if (segment.inlineData !== undefined) {
          yield segment.inlineData.subarray(from, to + 1);
        } else {
          assert(segment.stripe !== undefined, 'a segment is inline or striped');
          yield* this.reader.read(stripeFromRecord(segment.stripe), segment.sizeBytes, from, to, observer);
        }
      }
    } catch (error) {
      if (error instanceof QuorumUnavailableError) this.metrics.quorumFailuresTotal.labels('read').inc();
      throw toBackendError(error);
    }
  }

  /**
   * Counts a GET as degraded once, however many windows needed parity, and reports each stripe
   * with a failed shard read once to the metadata repair queue (best effort: the read never
   * waits for it). Shards that were only slow are not reported: a node busy for a moment is
   * healthy, and under load reports of every hedged read would have the healer verify
   * healthy stripes by the thousand.
   */
  private observerFor(version: ObjectVersion__Output): ReadObserver {
    let counted = false;
    const reported = new Set<string>();
    const records = new Map(segmentsOf(version).flatMap((segment) => (segment.stripe === undefined ? [] : [[segment.stripe.stripeId, segment.stripe] as const])));
    return {
      degraded: (stripe: Stripe, shards: { readonly failed: readonly number[]; readonly slow: readonly number[] }, reconstructedBlockCount: number): void => {
        if (!counted) this.metrics.degradedReadsTotal.inc();
        counted = true;
        this.metrics.reconstructionsTotal.inc(reconstructedBlockCount);
        if (shards.failed.length === 0) return;
        this.logger.warn('shards need repair', { bucket: version.bucket, key: version.key, stripeId: stripe.stripeId, badShardIndexes: [...shards.failed] });
        const record = records.get(stripe.stripeId);
        if (record === undefined || reported.has(stripe.stripeId)) return;
        reported.add(stripe.stripeId);
        this.repairs.report(record, `degraded read of ${version.bucket}/${version.key}: shards ${shards.failed.join(',')} missing, corrupt or unreachable`);
      },
      hedged: (): void => this.metrics.readHedgesTotal.inc(),
    };
  }
}

function segmentsOf(version: ObjectVersion__Output): Segment[] {
  switch (version.layout) {
    case 'inlineData':
      return [{ objectStartByte: 0, sizeBytes: version.sizeBytes, inlineData: version.inlineData ?? Buffer.alloc(0), stripe: undefined }];
    case 'stripe':
      assert(version.stripe !== null && version.stripe !== undefined, 'striped version has a stripe');
      return [{ objectStartByte: 0, sizeBytes: version.sizeBytes, inlineData: undefined, stripe: version.stripe }];
    case 'multipart': {
      let objectStartByte = 0;
      return (version.multipart?.parts ?? []).map((part) => {
        const segment: Segment = {
          objectStartByte,
          sizeBytes: part.sizeBytes,
          inlineData: part.data === 'inlineData' ? (part.inlineData ?? Buffer.alloc(0)) : undefined,
          stripe: part.data === 'stripe' ? (part.stripe ?? undefined) : undefined,
        };
        objectStartByte += part.sizeBytes;
        return segment;
      });
    }
    case undefined:
      // A zero-byte object may arrive with no layout set (empty inline bytes are proto defaults).
      return [];
  }
}

/**
 * `tessera status`: the cluster as the metadata service sees it. Storage nodes by zone (state,
 * capacity, free space, bytes of shards stored), each metadata node's Raft view (leader, term,
 * commit index), the repair queue, and the catalogue's object, byte and multipart-upload
 * counters per bucket (kept by the metadata service in the same batch as each write; n/a, null
 * in --json, if they cannot be read).
 */
import { MetadataClient } from '@tessera/rpc';
import { listNodesFromLeader } from '../cluster-access';
import { CliError } from '../errors';
import { formatBytes, formatDurationMs, renderTable } from '../table';

export interface MetadataNodeView {
  readonly address: string;
  readonly reachable: boolean;
  readonly nodeId: string | null;
  readonly role: string | null;
  readonly term: number | null;
  readonly commitIndex: number | null;
  readonly appliedIndex: number | null;
  readonly error: string | null;
}

export interface StorageNodeView {
  readonly nodeId: string;
  readonly zone: string;
  readonly address: string;
  readonly state: string;
  readonly capacityBytes: number;
  /** What the node can still take: its capacity limit or its disk's free space, whichever is less. */
  readonly freeBytes: number;
  /** Capacity minus free: the node's shards and anything else on a shared disk. */
  readonly usedBytes: number;
  /** Bytes of the node's own shard files (parity included). */
  readonly storedBytes: number;
  readonly lastHeartbeatAgeMs: number;
}

export interface BucketStatsView {
  readonly bucket: string;
  readonly objectCount: number;
  readonly objectBytes: number;
  readonly multipartUploadCount: number;
  /** Buckets with versioning: noncurrent versions, their bytes and delete markers. */
  readonly noncurrentVersionCount: number;
  readonly noncurrentVersionBytes: number;
  readonly deleteMarkerCount: number;
}

export interface StatusReport {
  readonly metadata: {
    readonly leaderId: string | null;
    readonly leaderAddress: string | null;
    readonly term: number | null;
    readonly commitIndex: number | null;
    readonly nodes: readonly MetadataNodeView[];
  };
  readonly storage: {
    readonly nodes: readonly StorageNodeView[];
    /** zone -> state -> node count */
    readonly byZone: Readonly<Record<string, Readonly<Record<string, number>>>>;
    /** Sums over the nodes (nodes sharing a disk, as in `tessera start`, each count it). */
    readonly capacityBytes: number;
    readonly freeBytes: number;
    readonly usedBytes: number;
    readonly storedBytes: number;
  };
  /** Catalogue counters (current objects, their logical bytes); null when unreadable. */
  readonly objectCount: number | null;
  readonly objectBytes: number | null;
  readonly multipartUploadCount: number | null;
  /** Per bucket, by name; null when unreadable. */
  readonly buckets: readonly BucketStatsView[] | null;
  /** Stripes queued for repair (below full redundancy); null when the queue is unreadable. */
  readonly stripesBelowFullRedundancy: number | null;
}

/** Queue items read to count repair work; beyond it the count is shown as "N+". */
const repairQueueScanCountMax = 10_000;

export async function gatherStatus(addresses: readonly string[], callTimeoutMs: number, nowMs: number): Promise<StatusReport> {
  const client = new MetadataClient({ addresses, callTimeoutMs, attemptCountMax: Math.max(3, addresses.length * 2), backoffMsMax: 500 });
  try {
    const nodes = await Promise.all(addresses.map((address) => metadataNodeView(client, address)));
    const reachable = nodes.filter((n) => n.reachable);
    if (reachable.length === 0) {
      throw new CliError(`no metadata node answered at ${addresses.join(', ')} (${nodes[0]?.error ?? 'unreachable'}); is the cluster running? (--metadata)`);
    }
    const leader = reachable.find((n) => n.role === 'leader');
    const termMax = Math.max(...reachable.map((n) => n.term ?? 0));
    const leaderStatus = await client.getClusterStatus(reachable[0]?.address).catch(() => undefined);
    const listed = await listNodesFromLeader(client, addresses, leader?.address, callTimeoutMs);
    const storageNodes = listed.map((n): StorageNodeView => ({
      nodeId: n.nodeId, zone: n.az, address: n.address, state: n.state, capacityBytes: n.capacityBytes, freeBytes: n.freeBytes,
      usedBytes: Math.max(0, n.capacityBytes - n.freeBytes), storedBytes: n.storedBytes, lastHeartbeatAgeMs: Math.max(0, nowMs - n.lastHeartbeatAtMs),
    }));
    const queue = await client.listQueue(repairQueueScanCountMax).catch(() => undefined);
    const stats = await client.getCatalogueStats().catch(() => undefined);
    const byZone: Record<string, Record<string, number>> = {};
    for (const n of storageNodes) {
      const zone = (byZone[n.zone] ??= {});
      zone[n.state] = (zone[n.state] ?? 0) + 1;
    }
    return {
      metadata: {
        leaderId: leader?.nodeId ?? (leaderStatus?.leaderId || null),
        leaderAddress: leaderStatus?.leaderAddress || null,
        term: termMax,
        commitIndex: leader?.commitIndex ?? Math.max(...reachable.map((n) => n.commitIndex ?? 0)),
        nodes,
      },
      storage: {
        nodes: storageNodes.sort((a, b) => a.zone.localeCompare(b.zone) || a.nodeId.localeCompare(b.nodeId)),
        byZone,
        capacityBytes: storageNodes.reduce((sum, n) => sum + n.capacityBytes, 0),
        freeBytes: storageNodes.reduce((sum, n) => sum + n.freeBytes, 0),
        usedBytes: storageNodes.reduce((sum, n) => sum + n.usedBytes, 0),
        storedBytes: storageNodes.reduce((sum, n) => sum + n.storedBytes, 0),
      },
      objectCount: stats?.objectCount ?? null,
      objectBytes: stats?.objectBytes ?? null,
      multipartUploadCount: stats?.multipartUploadCount ?? null,
      buckets: stats === undefined ? null : stats.buckets
        .map((b): BucketStatsView => ({
          bucket: b.bucket, objectCount: b.objectCount, objectBytes: b.objectBytes, multipartUploadCount: b.multipartUploadCount,
          noncurrentVersionCount: b.noncurrentVersionCount, noncurrentVersionBytes: b.noncurrentVersionBytes, deleteMarkerCount: b.deleteMarkerCount,
        }))
        .sort((a, b) => a.bucket.localeCompare(b.bucket)),
      stripesBelowFullRedundancy: queue === undefined ? null : queue.filter((item) => item.kind === 'repairStripe').length,
    };
  } finally {
    client.close();
  }
}

async function metadataNodeView(client: MetadataClient, address: string): Promise<MetadataNodeView> {
  try {
    const s = await client.getClusterStatus(address);
    return { address, reachable: true, nodeId: s.nodeId, role: s.role, term: s.term, commitIndex: s.commitIndex, appliedIndex: s.appliedIndex, error: null };
  } catch (err) {
    return { address, reachable: false, nodeId: null, role: null, term: null, commitIndex: null, appliedIndex: null, error: (err as Error).message };
  }
}

const na = 'n/a';

export function renderStatus(report: StatusReport): string {
  const m = report.metadata;
  const out: string[] = [];
  out.push(`Metadata: leader ${m.leaderId ?? 'none'}${m.leaderAddress === null ? '' : ` (${m.leaderAddress})`}, term ${m.term ?? na}, commit index ${m.commitIndex ?? na}`);
  out.push(renderTable(
    ['NODE', 'ADDRESS', 'ROLE', 'TERM', 'COMMIT', 'APPLIED'],
    m.nodes.map((n) => [n.nodeId ?? '?', n.address, n.reachable ? (n.role ?? '?') : 'unreachable', String(n.term ?? '-'), String(n.commitIndex ?? '-'), String(n.appliedIndex ?? '-')]),
  ));
  out.push('');
  const zones = Object.keys(report.storage.byZone).sort();
  const zoneSummary = zones.map((z) => `${z}: ${Object.entries(report.storage.byZone[z] ?? {}).map(([state, count]) => `${count} ${state}`).join(', ')}`);
  out.push(`Storage: ${report.storage.nodes.length} nodes${zoneSummary.length > 0 ? ` (${zoneSummary.join('; ')})` : ' registered'}`);
  if (report.storage.nodes.length > 0) {
    out.push(renderTable(
      ['ZONE', 'NODE', 'STATE', 'ADDRESS', 'CAPACITY', 'FREE', 'SHARDS', 'HEARTBEAT'],
      report.storage.nodes.map((n) => [
        n.zone, n.nodeId, n.state, n.address, formatBytes(n.capacityBytes), formatBytes(n.freeBytes), formatBytes(n.storedBytes), `${formatDurationMs(n.lastHeartbeatAgeMs)} ago`,
      ]),
    ));
    // Capacity and free space are per node; nodes that share a disk (tessera start) each count it.
    out.push(`Shards stored ${formatBytes(report.storage.storedBytes)} (objects' data and parity); capacity ${formatBytes(report.storage.capacityBytes)}, free ${formatBytes(report.storage.freeBytes)}, summed over nodes`);
  }
  out.push('');
  out.push(`Objects: ${report.objectCount ?? na}, bytes: ${report.objectBytes === null ? na : formatBytes(report.objectBytes)}, multipart uploads in progress: ${report.multipartUploadCount ?? na}`);
  if (report.buckets !== null && report.buckets.length > 0) {
    // Version columns only once some bucket keeps versions: unversioned clusters see no change.
    const versions = report.buckets.some((b) => b.noncurrentVersionCount > 0 || b.deleteMarkerCount > 0);
    out.push(renderTable(
      ['BUCKET', 'OBJECTS', 'BYTES', 'UPLOADS', ...(versions ? ['NONCURRENT', 'NONCURRENT BYTES', 'DELETE MARKERS'] : [])],
      report.buckets.map((b) => [
        b.bucket, String(b.objectCount), formatBytes(b.objectBytes), String(b.multipartUploadCount),
        ...(versions ? [String(b.noncurrentVersionCount), formatBytes(b.noncurrentVersionBytes), String(b.deleteMarkerCount)] : []),
      ]),
    ));
  }
  const below = report.stripesBelowFullRedundancy;
  out.push(`Stripes below full redundancy (repair queue): ${below === null ? na : below >= repairQueueScanCountMax ? `${below}+` : below}`);
  return out.join('\n');
}

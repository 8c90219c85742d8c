import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** Operation names used as the `operation` label. */
export type ShardOperation = 'write' | 'read' | 'stat' | 'delete' | 'list' | 'verify' | 'node_info';
/** Outcome label: `ok` or the error class name's gRPC status (e.g. `NOT_FOUND`). */
export type ShardOperationResult = string;

export interface StorageNodeMetrics {
  readonly bytesWritten: Counter;
  readonly bytesRead: Counter;
  readonly operations: Counter<'operation' | 'result'>;
  readonly operationDuration: Histogram<'operation'>;
  readonly checksumFailures: Counter<'source'>;
  readonly openStreams: Gauge<'kind'>;
}

export interface DiskUsageSource {
  usage(): Promise<{ usedBytes: number; freeBytes: number; capacityBytes: number; shardCount: number; diskFreeBytes: number }>;
}

/** Every metric of the storage node, registered on `registry` (never the global default). */
export function createStorageNodeMetrics(registry: Registry, disk: DiskUsageSource): StorageNodeMetrics {
  const registers = [registry];
  const diskGauge = (name: string, help: string, pick: (u: Awaited<ReturnType<DiskUsageSource['usage']>>) => number): Gauge =>
    new Gauge({
      name,
      help,
      registers,
      async collect() {
        try {
          this.set(pick(await disk.usage()));
        } catch {
          // A failing statfs shows up as a stale gauge and in /health/ready, not as a scrape error.
        }
      },
    });
  diskGauge('storage_node_disk_used_bytes', 'Bytes used by committed shards and writes in progress', (u) => u.usedBytes);
  diskGauge('storage_node_disk_free_bytes', 'Bytes still writable (capacity limit and disk free space)', (u) => u.freeBytes);
  diskGauge('storage_node_capacity_bytes', 'Configured capacity (or the disk size)', (u) => u.capacityBytes);
  diskGauge('storage_node_filesystem_free_bytes', 'Free bytes of the data directory file system', (u) => u.diskFreeBytes);
  diskGauge('storage_node_shards', 'Number of shards stored', (u) => u.shardCount);
  return {
    bytesWritten: new Counter({ name: 'storage_node_shard_bytes_written_total', help: 'Shard data bytes committed to disk', registers }),
    bytesRead: new Counter({ name: 'storage_node_shard_bytes_read_total', help: 'Verified shard data bytes sent to readers', registers }),
    operations: new Counter({
      name: 'storage_node_shard_operations_total',
      help: 'Shard operations by kind and result (ok or gRPC status name)',
      labelNames: ['operation', 'result'] as const,
      registers,
    }),
    operationDuration: new Histogram({
      name: 'storage_node_shard_operation_duration_seconds',
      help: 'Duration of shard operations, whole stream for reads and writes',
      labelNames: ['operation'] as const,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    checksumFailures: new Counter({
      name: 'storage_node_checksum_failures_total',
      help: 'Blocks that failed their checksum, by source (upload or disk)',
      labelNames: ['source'] as const,
      registers,
    }),
    openStreams: new Gauge({ name: 'storage_node_open_streams', help: 'Read and write streams in progress', labelNames: ['kind'] as const, registers }),
  };
}

/**
 * @packageDocumentation
 * The storage node: keeps opaque, checksummed shards on its local disk and serves them over
 * gRPC (`proto/storage_node.proto`). It knows nothing about S3, Raft or erasure coding.
 * Run it as a process (`node packages/storage-node/dist/main.js --help`) or in-process:
 *
 * ```ts
 * import { startStorageNode } from '@tessera/storage-node';
 * import { StorageNodeClient } from '@tessera/rpc';
 *
 * const node = await startStorageNode({ nodeId: 'n1', zone: 'z1', dataDir: '/tmp/n1', listen: '127.0.0.1:0' });
 * const client = new StorageNodeClient({ address: node.grpcAddress });
 * const shardId = { objectVersionId: 'v1', shardIndex: 0 };
 * await client.writeShard({ shardId, blockSizeBytes: 65536, source: { kind: 'bytes', chunks: [Buffer.from('hello')] } });
 * const bytes = await client.readShardToBuffer(shardId);
 * client.close();
 * await node.stop();
 * ```
 */
export type { StorageNodeOptions } from './storage-node-server';
export { StorageNodeServer, startStorageNode, storageNodeDefaults, storageNodeVersion } from './storage-node-server';
export type { StorageNodeConfig } from './config';
export { ConfigError, parseSizeBytes, resolveStorageNodeConfig, storageNodeUsage } from './config';
export type { FsShardStoreOptions, ListedShard, ShardStat, ShardVerifyResult, StoreUsage } from './fs-shard-store';
export { defaultDiskReserveBytes, FsShardStore } from './fs-shard-store';
export type { ShardFileHeader } from './shard-file-format';
export {
  decodeShardFileHeader,
  encodeShardFileHeader,
  recordOffsetBytes,
  shardFileFormatVersion,
  shardFileHeaderSizeBytes,
  shardFileMagic,
  storedSizeBytesOf,
} from './shard-file-format';
export { parseShardFileName, shardFilePath, shardsDirName, tmpDirName } from './shard-paths';
export type { StorageNodeMetrics } from './metrics';
export { createStorageNodeMetrics } from './metrics';
export type { MetadataHeartbeatComponents, MetadataHeartbeatOptions } from './metadata-heartbeat';
export { MetadataHeartbeat } from './metadata-heartbeat';

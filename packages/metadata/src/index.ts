/**
 * @packageDocumentation
 * The metadata service: a Raft-replicated catalogue of buckets, objects, multipart uploads,
 * storage nodes and shard locations, in LevelDB, served over gRPC (proto/metadata.proto).
 *
 * Start a node in-process (a launcher, tests) or run `dist/main.js` with flags:
 *
 * ```ts
 * import { startMetadataNode, defaultMetadataNodeTiming, defaultCatalogueOptions } from '@tessera/metadata';
 * import { createJsonLogger, systemClock, systemRandom } from '@tessera/common';
 *
 * const peers = new Map([['meta-1', '127.0.0.1:7001'], ['meta-2', '127.0.0.1:7002'], ['meta-3', '127.0.0.1:7003']]);
 * const node = await startMetadataNode(
 *   { nodeId: 'meta-1', listenAddress: '127.0.0.1:7001', peers, dataDir: '/var/lib/tessera/meta-1',
 *     metricsListenAddress: '127.0.0.1:9101', ...defaultMetadataNodeTiming, catalogue: defaultCatalogueOptions },
 *   { clock: systemClock, random: systemRandom, logger },
 * );
 * // ... later: await node.shutdownGracefully(); // hands leadership over, then stops
 * ```
 *
 * Clients use `MetadataClient` from `@tessera/rpc`.
 */
export type { ApplyResult, CatalogueOptions, HealBacklog, ReplaceShardsResult } from './catalogue-state-machine';
export { CatalogueStateMachine, defaultCatalogueOptions, multipartEtag } from './catalogue-state-machine';
export type { CatalogueDb } from './catalogue-db';
export { openCatalogueDb } from './catalogue-db';
export type { LevelDbEngine } from './leveldb-engine';
export { leveldbCompactionFix, loadedLevelDbEngine } from './leveldb-engine';
export type { Command, CommandType, VersionFields } from './commands';
export { decodeCommand, encodeCommand, validateCommand } from './commands';
export type { ListObjectsPage, ListObjectsParams } from './list-objects';
export { listObjects, listKeysMax } from './list-objects';
export type { ListUploadsPage, ListUploadsParams } from './list-uploads';
export { listUploads } from './list-uploads';
export type {
  BucketRecord, ObjectLayout, ObjectVersionRecord, PartLayout, PartRecord, QueueItemRecord, StorageNodeRecord, StripeRecord,
  UploadRecord, VersioningStatus, WriteRecord, NodeShardRecord, ShardChange, StripeOwner,
} from './model';
export type { RaftSave } from './level-raft-storage';
export { LevelRaftStorage } from './level-raft-storage';
export type { RaftHostComponents, RaftHostOptions, RaftTransport } from './raft-host';
export { RaftHost } from './raft-host';
export type { MetadataNodeComponents, MetadataNodeOptions, RunningMetadataNode } from './metadata-node';
export { defaultMetadataNodeTiming, InvalidMetadataNodeOptionsError, startMetadataNode, validateMetadataNodeOptions } from './metadata-node';
export type { MetadataNodeConfig } from './config';
export { MetadataConfigError, metadataNodeUsage, resolveMetadataNodeConfig } from './config';
export type { MetadataMetrics } from './metrics';
export { createMetadataMetrics } from './metrics';
export type { LivenessOptions } from './storage-node-liveness';
export { objectKeyBytesMax, partNumberMax, userMetadataBytesMax, validateBucketName, validateObjectKey } from './validation';

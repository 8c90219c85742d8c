import * as path from 'node:path';
import { blockChecksum } from '@tessera/checksum';
import { type StorageShardId, validateShardId } from '@tessera/rpc';

/**
 * Where shards live under the data directory:
 *
 *   <dataDir>/tessera-node.json        identity (node id, layout version)
 *   <dataDir>/tmp/<random>.tmp         writes in progress (all removed at start)
 *   <dataDir>/shards/<aa>/<bb>/<objectVersionId>.<shardIndex>.shard
 *
 * `aa/bb` are the low 16 bits of xxh3-64(shard key) in hex: 65 536 leaf directories, so a
 * node with 100 M shards still has ~1 500 entries per directory. Hashing the key (rather than
 * using its prefix) spreads ids that share a prefix (ULIDs, timestamps). A leaf exists only
 * while it holds a shard (FsShardStore removes it with its last one).
 */
export const shardsDirName = 'shards';
export const tmpDirName = 'tmp';
export const shardFileSuffix = '.shard';

export function shardFileName(id: StorageShardId): string {
  return `${id.objectVersionId}.${id.shardIndex}${shardFileSuffix}`;
}

/** Fan-out directory of a shard relative to `<dataDir>/shards`, e.g. `3f/a2`. */
export function shardFanOutDir(id: StorageShardId): string {
  const hash = Number(blockChecksum(Buffer.from(shardFileName(id), 'ascii')) & 0xffffn);
  const hex = hash.toString(16).padStart(4, '0');
  return `${hex.slice(0, 2)}/${hex.slice(2, 4)}`;
}

export function shardFilePath(dataDir: string, id: StorageShardId): string {
  return path.join(dataDir, shardsDirName, shardFanOutDir(id), shardFileName(id));
}

const fileNamePattern = /^(.+)\.(\d{1,3})\.shard$/;

/** Parses a shard file name back into its id; undefined for anything else. */
export function parseShardFileName(fileName: string): StorageShardId | undefined {
  const match = fileNamePattern.exec(fileName);
  if (match === null) return undefined;
  try {
    return validateShardId({ objectVersionId: match[1], shardIndex: Number(match[2]) });
  } catch {
    return undefined;
  }
}

const fanOutDirPattern = /^[0-9a-f]{2}$/;

export function isFanOutDirName(name: string): boolean {
  return fanOutDirPattern.test(name);
}

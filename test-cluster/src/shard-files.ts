/**
 * Direct inspection of the storage nodes' data directories (format in
 * packages/storage-node/README.md): shard files are
 * `<data-dir>/shards/<aa>/<bb>/<stripeId>.<shardIndex>.shard`, a 256-byte header, then per block
 * `[xxh3-64 LE: 8][block data]`. Used to count stripes below full redundancy, to inject bitrot
 * into block data (not headers) and to check that a corrupted shard was repaired.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { blockChecksum } from '@tessera/checksum';
import type { Random } from '@tessera/common';

const headerSizeBytes = 256;
const blockChecksumSizeBytes = 8;

export interface ShardFile {
  readonly nodeName: string;
  readonly filePath: string;
  readonly stripeId: string;
  readonly shardIndex: number;
}

export function listShardFiles(nodeName: string, dataDir: string, fileCountMax = 1_000_000): ShardFile[] {
  const root = path.join(dataDir, 'shards');
  const found: ShardFile[] = [];
  for (const aa of entriesOf(root)) {
    for (const bb of entriesOf(path.join(root, aa))) {
      for (const name of entriesOf(path.join(root, aa, bb))) {
        const match = /^(.+)\.(\d+)\.shard$/.exec(name);
        if (match === null) continue;
        found.push({ nodeName, filePath: path.join(root, aa, bb, name), stripeId: match[1] ?? '', shardIndex: Number(match[2]) });
        if (found.length >= fileCountMax) return found;
      }
    }
  }
  return found;
}

/**
 * A directory's entries; none if it is gone. The node removes a fan-out directory when its last
 * shard is deleted, so one listed a moment ago may vanish before it is read (a running node).
 */
function entriesOf(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/** Files in `<data-dir>/tmp/` (writes in progress). */
export function listTempFiles(dataDir: string): string[] {
  const dir = path.join(dataDir, 'tmp');
  return fs.existsSync(dir) ? fs.readdirSync(dir) : [];
}

export interface RedundancyReport {
  readonly stripeCount: number;
  /** Stripes with fewer than `shardCount` distinct shard indexes on disk. */
  readonly belowFullStripeIds: readonly string[];
}

export function redundancyReport(files: readonly ShardFile[], shardCount: number): RedundancyReport {
  const indexesByStripe = new Map<string, Set<number>>();
  for (const f of files) {
    const set = indexesByStripe.get(f.stripeId) ?? new Set<number>();
    set.add(f.shardIndex);
    indexesByStripe.set(f.stripeId, set);
  }
  const belowFullStripeIds = [...indexesByStripe].filter(([, set]) => set.size < shardCount).map(([id]) => id);
  return { stripeCount: indexesByStripe.size, belowFullStripeIds };
}

export interface FlippedByte {
  readonly file: ShardFile;
  readonly offsetBytes: number;
  readonly blockIndex: number;
}

interface ShardGeometry {
  readonly blockSizeBytes: number;
  readonly shardSizeBytes: number;
}

/** Opens a shard file, or undefined when it is gone (deleted by GC or a rebuild since it was listed). */
function openIfPresent(filePath: string, flags: string): number | undefined {
  try {
    return fs.openSync(filePath, flags);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

function readGeometry(filePath: string): ShardGeometry | undefined {
  const fd = openIfPresent(filePath, 'r');
  if (fd === undefined) return undefined;
  try {
    const header = Buffer.alloc(headerSizeBytes);
    if (fs.readSync(fd, header, 0, headerSizeBytes, 0) < headerSizeBytes) return undefined;
    if (header.toString('ascii', 0, 8) !== 'TESSHARD') return undefined;
    return { blockSizeBytes: header.readUInt32LE(12), shardSizeBytes: Number(header.readBigUInt64LE(16)) };
  } finally {
    fs.closeSync(fd);
  }
}

function blockRange(geometry: ShardGeometry, blockIndex: number): { dataOffsetBytes: number; dataSizeBytes: number } {
  const recordOffsetBytes = headerSizeBytes + blockIndex * (blockChecksumSizeBytes + geometry.blockSizeBytes);
  const dataSizeBytes = Math.min(geometry.blockSizeBytes, geometry.shardSizeBytes - blockIndex * geometry.blockSizeBytes);
  return { dataOffsetBytes: recordOffsetBytes + blockChecksumSizeBytes, dataSizeBytes };
}

/**
 * Flips one random bit-pattern byte inside the data of a random block of `file`; undefined when
 * the file is empty or was removed since it was listed (the caller picks another).
 */
export function flipRandomDataByte(file: ShardFile, random: Random): FlippedByte | undefined {
  const geometry = readGeometry(file.filePath);
  if (geometry === undefined || geometry.shardSizeBytes === 0) return undefined;
  const blockCount = Math.ceil(geometry.shardSizeBytes / geometry.blockSizeBytes);
  const blockIndex = random.nextInt(blockCount);
  const { dataOffsetBytes, dataSizeBytes } = blockRange(geometry, blockIndex);
  const offsetBytes = dataOffsetBytes + random.nextInt(dataSizeBytes);
  const fd = openIfPresent(file.filePath, 'r+');
  if (fd === undefined) return undefined;
  try {
    const byte = Buffer.alloc(1);
    fs.readSync(fd, byte, 0, 1, offsetBytes);
    byte[0] = (byte[0] ?? 0) ^ (1 + random.nextInt(255));
    fs.writeSync(fd, byte, 0, 1, offsetBytes);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  return { file, offsetBytes, blockIndex };
}

/** 'repaired' when the block verifies again, 'removed' when the file is gone, else 'corrupt'. */
export function corruptedBlockState(flip: FlippedByte): 'repaired' | 'removed' | 'corrupt' {
  // The file may be replaced or removed (rebuild, GC) at any moment while this looks at it.
  const geometry = readGeometry(flip.file.filePath);
  if (geometry === undefined) return fs.existsSync(flip.file.filePath) ? 'corrupt' : 'removed';
  const { dataOffsetBytes, dataSizeBytes } = blockRange(geometry, flip.blockIndex);
  const fd = openIfPresent(flip.file.filePath, 'r');
  if (fd === undefined) return 'removed';
  try {
    const record = Buffer.alloc(blockChecksumSizeBytes + dataSizeBytes);
    fs.readSync(fd, record, 0, record.length, dataOffsetBytes - blockChecksumSizeBytes);
    const stored = record.readBigUInt64LE(0);
    return blockChecksum(record.subarray(blockChecksumSizeBytes)) === stored ? 'repaired' : 'corrupt';
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Stripes whose shards are not spread evenly over the zones (6+3 over 3 AZs: 3 per AZ), i.e.
 * some zone holds more than ceil(shardCount / zoneCount) of its shards.
 */
export function unevenSpreadStripeIds(files: readonly ShardFile[], zoneOfNode: ReadonlyMap<string, string>, shardCount: number): string[] {
  const zoneCount = new Set(zoneOfNode.values()).size;
  const perZoneMax = Math.ceil(shardCount / zoneCount);
  const counts = new Map<string, Map<string, number>>();
  for (const f of files) {
    const zone = zoneOfNode.get(f.nodeName) ?? '';
    const byZone = counts.get(f.stripeId) ?? new Map<string, number>();
    byZone.set(zone, (byZone.get(zone) ?? 0) + 1);
    counts.set(f.stripeId, byZone);
  }
  return [...counts].filter(([, byZone]) => [...byZone.values()].some((n) => n > perZoneMax)).map(([id]) => id);
}

/**
 * The shard store alone (no gRPC), to separate disk + format costs from transport costs, and
 * the measurement behind the interleaved on-disk layout: a random ranged read of one block
 * with checksums interleaved ([checksum][block] records: one positional read) against the
 * alternative of a checksum table after the header (one read for the checksum, one for the
 * block), on the same files with a warm page cache.
 *
 *   node packages/storage-node/dist/bench/shard-store.js
 */
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { blockChecksum } from '@tessera/checksum';
import { SeededRandom, silentLogger } from '@tessera/common';
import { FsShardStore } from '../fs-shard-store';
import { recordOffsetBytes } from '../shard-file-format';
import { shardFilePath } from '../shard-paths';

const blockSizeBytes = 256 * 1024;
const shardSizeBytes = 16 * 1024 * 1024;
const shardCount = 16;
const messageSizeBytes = 1024 * 1024;

function mbPerS(bytes: number, ms: number): string {
  return (bytes / 1e6 / (ms / 1e3)).toFixed(0);
}

async function main(): Promise<void> {
  const dataDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'tessera-bench-store-'));
  const store = new FsShardStore({ dataDir, nodeId: 'bench', capacityBytes: undefined, shardSizeBytesMax: 1 << 30, blockSizeBytesMax: 8 << 20, readSizeBytesTarget: 1 << 20, logger: silentLogger });
  await store.start();
  const data = Buffer.alloc(shardSizeBytes);
  new SeededRandom(1).fillBytes(data);
  const messages: [Buffer, Buffer][] = [];
  for (let offset = 0; offset < shardSizeBytes; offset += messageSizeBytes) {
    const piece = data.subarray(offset, offset + messageSizeBytes);
    const checksums = Buffer.alloc((messageSizeBytes / blockSizeBytes) * 8);
    for (let i = 0; i < messageSizeBytes / blockSizeBytes; i += 1) checksums.writeBigUInt64LE(blockChecksum(piece.subarray(i * blockSizeBytes, (i + 1) * blockSizeBytes)), i * 8);
    messages.push([piece, checksums]);
  }
  const ids = Array.from({ length: shardCount }, (_, i) => ({ objectVersionId: `store-${i}`, shardIndex: 0 }));
  try {
    let start = performance.now();
    for (const shardId of ids) {
      const writer = await store.beginWrite({ shardId, blockSizeBytes, checksumAlgorithm: 'xxh3-64', expectedShardSizeBytes: 0 });
      for (const [piece, checksums] of messages) await writer.appendBlocks(piece, checksums);
      await writer.commit({ shardSizeBytes, blockCount: shardSizeBytes / blockSizeBytes });
    }
    const writeMs = performance.now() - start;
    start = performance.now();
    for (const shardId of ids) {
      const reader = await store.openShard(shardId);
      for await (const chunk of reader.readRange(0, shardSizeBytes)) void chunk;
      await reader.close();
    }
    const readMs = performance.now() - start;

    // Random one-block ranged reads: interleaved (one pread) vs checksum table (two preads).
    const random = new SeededRandom(2);
    const readCount = 10_000;
    const handles = await Promise.all(ids.map((shardId) => fsp.open(shardFilePath(dataDir, shardId), 'r')));
    const record = Buffer.allocUnsafe(8 + blockSizeBytes);
    const header = { shardId: ids[0]!, blockSizeBytes, shardSizeBytes, blockCount: shardSizeBytes / blockSizeBytes };
    const timeReads = async (preadsPerRead: 1 | 2): Promise<number> => {
      const t0 = performance.now();
      for (let i = 0; i < readCount; i += 1) {
        const handle = handles[random.nextInt(handles.length)]!;
        const blockIndex = random.nextInt(header.blockCount);
        const offset = recordOffsetBytes(header, blockIndex);
        if (preadsPerRead === 1) {
          await handle.read(record, 0, record.byteLength, offset);
        } else {
          await handle.read(record, 0, 8, 256 + blockIndex * 8);
          await handle.read(record, 8, blockSizeBytes, offset + 8);
        }
        // Same verification work in both; only the real (interleaved) file holds true checksums.
        const matches = record.readBigUInt64LE(0) === blockChecksum(record.subarray(8));
        if (preadsPerRead === 1 && !matches) throw new Error('bad block in bench');
      }
      return performance.now() - t0;
    };
    // Warm both paths once, then alternate rounds (the machine is shared) and keep the best.
    await timeReads(1);
    await timeReads(2);
    let interleavedMs = Infinity;
    let tableMs = Infinity;
    for (let round = 0; round < 3; round += 1) {
      interleavedMs = Math.min(interleavedMs, await timeReads(1));
      tableMs = Math.min(tableMs, await timeReads(2));
    }
    await Promise.all(handles.map((h) => h.close()));

    console.log(`Shard store without gRPC (block ${blockSizeBytes / 1024} KiB, ${shardCount} shards of ${shardSizeBytes / 1024 / 1024} MiB, fsync on; load average ${os.loadavg()[0]!.toFixed(1)})\n`);
    console.log('| measurement | result |');
    console.log('|---|---|');
    console.log(`| write (verify + write + fdatasync + rename + dir fsync) | ${mbPerS(shardCount * shardSizeBytes, writeMs)} MB/s |`);
    console.log(`| sequential verified read (page cache warm) | ${mbPerS(shardCount * shardSizeBytes, readMs)} MB/s |`);
    console.log(`| random one-block read, interleaved records (1 pread) | ${(readCount / (interleavedMs / 1000)).toFixed(0)} reads/s |`);
    console.log(`| random one-block read, checksum table (2 preads) | ${(readCount / (tableMs / 1000)).toFixed(0)} reads/s |`);
  } finally {
    await store.stop();
    await fsp.rm(dataDir, { recursive: true, force: true });
  }
}


main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});

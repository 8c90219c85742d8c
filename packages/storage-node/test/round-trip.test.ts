// Goal: every byte written through the real client comes back identical, for sizes around
// the block boundaries and a 50 MiB shard, and ranged reads at block edges return exactly the
// requested bytes. Method: a real node on loopback, random shards from a seeded generator,
// both write sources (raw byte chunks, caller-checksummed blocks) and a Node Readable.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { blockChecksum } from '@tessera/checksum';
import { ShardNotFoundError, type StorageShardId } from '@tessera/rpc';
import { shardFilePath, storedSizeBytesOf } from '../src/index';
import { type NodeFixture, chunksOf, expectRejects, listFiles, makeTempDir, randomShardBytes, shardIdOf, shardIdsInOneLeaf, startNodeFixture } from './helpers';

const blockSizeBytes = 64 * 1024;
let fixture: NodeFixture;

beforeAll(async () => {
  fixture = await startNodeFixture();
});
afterAll(async () => {
  await fixture.close();
});

describe('WriteShard + ReadShard round trips', () => {
  const sizes: [string, number][] = [
    ['0 B', 0],
    ['1 B', 1],
    ['block size - 1', blockSizeBytes - 1],
    ['block size', blockSizeBytes],
    ['block size + 1', blockSizeBytes + 1],
    ['3.5 blocks', blockSizeBytes * 3.5],
  ];
  it.each(sizes)('round trip of %s, bytes source with unaligned chunks', async (_name, sizeBytes) => {
    const shardId = shardIdOf(`rt-${sizeBytes}`, 3);
    const bytes = randomShardBytes(sizeBytes, sizeBytes + 1);
    const info = await fixture.client.writeShard({ shardId, blockSizeBytes, source: { kind: 'bytes', chunks: chunksOf(bytes, 10_007) } });
    expect(info).toMatchObject({
      shardId,
      shardSizeBytes: sizeBytes,
      blockSizeBytes,
      blockCount: Math.ceil(sizeBytes / blockSizeBytes),
      checksumAlgorithm: 'xxh3-64',
      storedSizeBytes: storedSizeBytesOf(sizeBytes, blockSizeBytes),
    });
    const back = await fixture.client.readShardToBuffer(shardId);
    expect(back.equals(bytes)).toBe(true);
    const stat = await fixture.client.statShard(shardId);
    expect(stat).toMatchObject({ shardSizeBytes: sizeBytes, blockCount: info.blockCount, storedSizeBytes: info.storedSizeBytes });
  });

  it('round trip of a 50 MiB shard from a Node Readable, read back in order as verified chunks', async () => {
    const sizeBytes = 50 * 1024 * 1024;
    const bytes = randomShardBytes(sizeBytes, 50);
    const shardId = shardIdOf('rt-50mib', 0);
    const readable = Readable.from(chunksOf(bytes, 256 * 1024 + 3));
    const info = await fixture.client.writeShard({ shardId, blockSizeBytes: 256 * 1024, expectedShardSizeBytes: sizeBytes, source: { kind: 'bytes', chunks: readable } });
    expect(info.shardSizeBytes).toBe(sizeBytes);
    let expectedOffset = 0;
    let chunkCount = 0;
    for await (const chunk of fixture.client.readShard(shardId)) {
      expect(chunk.offsetBytes).toBe(expectedOffset);
      expect(chunk.data.equals(bytes.subarray(expectedOffset, expectedOffset + chunk.data.byteLength))).toBe(true);
      expectedOffset += chunk.data.byteLength;
      chunkCount += 1;
    }
    expect(expectedOffset).toBe(sizeBytes);
    expect(chunkCount).toBeGreaterThan(10);
    expect((await fixture.client.verifyShard(shardId)).ok).toBe(true);
    expect(await fixture.client.deleteShard(shardId)).toBe(true);
  });

  it('accepts caller-checksummed blocks (the gateway path) and keeps them byte for byte', async () => {
    const bytes = randomShardBytes(blockSizeBytes * 5 + 17, 7);
    const shardId = shardIdOf('rt-blocks', 1);
    async function* blocks() {
      for (let offset = 0; offset < bytes.byteLength; offset += blockSizeBytes) {
        const data = bytes.subarray(offset, offset + blockSizeBytes);
        yield { data, checksum: blockChecksum(data) };
      }
    }
    await fixture.client.writeShard({ shardId, blockSizeBytes, source: { kind: 'blocks', blocks: blocks() } });
    expect((await fixture.client.readShardToBuffer(shardId)).equals(bytes)).toBe(true);
  });

  it('overwriting a shard replaces it atomically and keeps the accounting exact', async () => {
    const shardId = shardIdOf('rt-overwrite', 0);
    const before = await fixture.client.getNodeInfo();
    await fixture.client.writeShard({ shardId, blockSizeBytes, source: { kind: 'bytes', chunks: chunksOf(randomShardBytes(1000, 1), 1000) } });
    const second = randomShardBytes(3000, 2);
    await fixture.client.writeShard({ shardId, blockSizeBytes, source: { kind: 'bytes', chunks: chunksOf(second, 1000) } });
    expect((await fixture.client.readShardToBuffer(shardId)).equals(second)).toBe(true);
    const after = await fixture.client.getNodeInfo();
    expect(after.shardCount).toBe(before.shardCount + 1);
    expect(after.usedBytes - before.usedBytes).toBe(storedSizeBytesOf(3000, blockSizeBytes));
  });
});

describe('ranged reads at block edges', () => {
  const sizeBytes = blockSizeBytes * 4 + 100;
  const bytes = randomShardBytes(sizeBytes, 99);
  const shardId = shardIdOf('ranged', 2);
  beforeAll(async () => {
    await fixture.client.writeShard({ shardId, blockSizeBytes, source: { kind: 'bytes', chunks: chunksOf(bytes, 65_536) } });
  });
  const B = blockSizeBytes;
  const ranges: [number, number][] = [
    [0, 1],
    [B - 1, 1],
    [B - 1, 2],
    [B, 1],
    [B, B],
    [B - 1, B + 2],
    [2 * B + 5, 3],
    [4 * B, 100],
    [4 * B + 99, 1],
    [sizeBytes - 1, 0],
    [sizeBytes, 0],
    [1, sizeBytes - 2],
    // From offset 0 with a length the node reads the first records with the header (prefetch).
    [0, B - 1],
    [0, B],
    [0, B + 1],
    [0, 2.5 * B],
    [0, sizeBytes],
    [0, 0],
  ];
  it.each(ranges)('offset %d length %d', async (offsetBytes, lengthBytes) => {
    const back = await fixture.client.readShardToBuffer(shardId, { offsetBytes, lengthBytes });
    const end = lengthBytes === 0 ? sizeBytes : offsetBytes + lengthBytes;
    expect(back.equals(bytes.subarray(offsetBytes, end))).toBe(true);
  });

  it('reads past the prefetched first span when the node reads two blocks at a time', async () => {
    // A node whose read span is two records: the header read prefetches the first span only.
    const smallSpans = await startNodeFixture({ readSizeBytesTarget: 2 * (B + 8) + 10 });
    try {
      await smallSpans.client.writeShard({ shardId, blockSizeBytes, source: { kind: 'bytes', chunks: chunksOf(bytes, 65_536) } });
      for (const [offsetBytes, lengthBytes] of [[0, 0], [0, 3 * B], [0, 1], [0, 2 * B + 1]] as const) {
        const back = await smallSpans.client.readShardToBuffer(shardId, { offsetBytes, lengthBytes });
        const end = lengthBytes === 0 ? sizeBytes : offsetBytes + lengthBytes;
        expect(back.equals(bytes.subarray(offsetBytes, end))).toBe(true);
      }
    } finally {
      await smallSpans.close();
    }
  });
});

describe('stat, list, delete, node info', () => {
  it('lists every shard exactly once across pages, with size and mtime', async () => {
    const written = new Set<string>();
    for (let i = 0; i < 25; i += 1) {
      const shardId = shardIdOf(`list-${i}`, i % 4);
      await fixture.client.writeShard({ shardId, blockSizeBytes, source: { kind: 'bytes', chunks: chunksOf(randomShardBytes(i * 10, i), 64) } });
      written.add(`${shardId.objectVersionId}.${shardId.shardIndex}`);
    }
    const seen: string[] = [];
    let pageToken = '';
    let pageCount = 0;
    do {
      const page = await fixture.client.listShards({ pageSize: 7, pageToken });
      expect(page.shards.length).toBeLessThanOrEqual(7);
      for (const s of page.shards) {
        seen.push(`${s.shardId.objectVersionId}.${s.shardId.shardIndex}`);
        expect(s.storedSizeBytes).toBeGreaterThan(0);
        expect(s.modifiedAtMs).toBeGreaterThan(Date.now() - 600_000);
      }
      pageToken = page.nextPageToken;
      pageCount += 1;
    } while (pageToken !== '');
    expect(pageCount).toBeGreaterThan(3);
    expect(new Set(seen).size).toBe(seen.length);
    for (const key of written) expect(seen).toContain(key);
    const all = [];
    for await (const s of fixture.client.listAllShards(1000)) all.push(s);
    expect(all.length).toBe(seen.length);
  });

  it('delete is durable and idempotent; the shard is then NOT_FOUND', async () => {
    const shardId = shardIdOf('to-delete', 0);
    await fixture.client.writeShard({ shardId, blockSizeBytes, source: { kind: 'bytes', chunks: chunksOf(randomShardBytes(10, 1), 10) } });
    expect(await fixture.client.deleteShard(shardId)).toBe(true);
    expect(await fixture.client.deleteShard(shardId)).toBe(false);
    const err = await expectRejects(fixture.client.statShard(shardId));
    expect(err).toBeInstanceOf(ShardNotFoundError);
    expect(await expectRejects(fixture.client.readShardToBuffer(shardId))).toBeInstanceOf(ShardNotFoundError);
  });

  it('recreates fan-out directories removed behind its back (both levels) on the next write there', async () => {
    const first = shardIdOf('fan-out-a', 0);
    await fixture.client.writeShard({ shardId: first, blockSizeBytes, source: { kind: 'bytes', chunks: chunksOf(randomShardBytes(100, 7), 100) } });
    // The node remembers shards/aa and shards/aa/bb exist; an operator removes shards/aa.
    const level1Dir = path.dirname(path.dirname(shardFilePath(fixture.dataDir, first)));
    await fs.rm(level1Dir, { recursive: true });
    const again = randomShardBytes(200, 8);
    await fixture.client.writeShard({ shardId: first, blockSizeBytes, source: { kind: 'bytes', chunks: chunksOf(again, 200) } });
    expect((await fixture.client.readShardToBuffer(first)).equals(again)).toBe(true);
    expect((await fs.stat(shardFilePath(fixture.dataDir, first))).isFile()).toBe(true);
  });

  it('removes a leaf fan-out directory with its last shard, and writes there again later', async () => {
    const [first, second] = shardIdsInOneLeaf('leaf-', 2) as [StorageShardId, StorageShardId];
    for (const [i, shardId] of [first, second].entries()) {
      await fixture.client.writeShard({ shardId, blockSizeBytes, source: { kind: 'bytes', chunks: chunksOf(randomShardBytes(500, 20 + i), 500) } });
    }
    const leafDir = path.dirname(shardFilePath(fixture.dataDir, first));
    expect(await fixture.client.deleteShard(first)).toBe(true);
    expect(await fs.readdir(leafDir)).toHaveLength(1);
    expect(await fixture.client.deleteShard(second)).toBe(true);
    await expect(fs.stat(leafDir)).rejects.toMatchObject({ code: 'ENOENT' });
    expect((await fs.stat(path.dirname(leafDir))).isDirectory()).toBe(true);
    // The node knew the leaf existed; it must not rely on that now.
    const again = randomShardBytes(300, 22);
    await fixture.client.writeShard({ shardId: second, blockSizeBytes, source: { kind: 'bytes', chunks: chunksOf(again, 300) } });
    expect((await fixture.client.readShardToBuffer(second)).equals(again)).toBe(true);
  });

  it('removes empty leaf directories at start (left by an older node version or a crash), keeping every shard', async () => {
    const dataDir = await makeTempDir();
    try {
      const shardId = shardIdOf('kept-at-start', 0);
      const bytes = randomShardBytes(1_000, 30);
      const first = await startNodeFixture({ dataDir });
      await first.client.writeShard({ shardId, blockSizeBytes, source: { kind: 'bytes', chunks: chunksOf(bytes, 1_000) } });
      await first.close();
      const keptLeaf = path.relative(path.join(dataDir, 'shards'), path.dirname(shardFilePath(dataDir, shardId)));
      const emptyLeaves = ['00/00', '00/01', 'ff/ff'].filter((leaf) => leaf !== keptLeaf);
      for (const leaf of emptyLeaves) await fs.mkdir(path.join(dataDir, 'shards', leaf), { recursive: true });
      const second = await startNodeFixture({ dataDir });
      try {
        for (const leaf of emptyLeaves) await expect(fs.stat(path.join(dataDir, 'shards', leaf))).rejects.toMatchObject({ code: 'ENOENT' });
        expect((await second.client.readShardToBuffer(shardId)).equals(bytes)).toBe(true);
        expect((await second.client.getNodeInfo()).shardCount).toBe(1);
      } finally {
        await second.close();
      }
    } finally {
      await fs.rm(dataDir, { recursive: true, force: true });
    }
  });

  it('node info reports identity, capacity and usage; nothing is left in tmp/', async () => {
    const info = await fixture.client.getNodeInfo();
    expect(info).toMatchObject({ nodeId: 'test-node', zone: 'test-zone', version: '0.1.0' });
    expect(info.shardCount).toBeGreaterThan(0);
    expect(info.usedBytes).toBeGreaterThan(0);
    expect(info.capacityBytes).toBeGreaterThan(info.usedBytes);
    expect(info.freeBytes).toBeGreaterThan(0);
    expect(info.diskTotalBytes).toBeGreaterThan(0);
    expect(await listFiles(`${fixture.dataDir}/tmp`)).toEqual([]);
  });
});

// Goal: bitrot on disk is detected and never served. Method: write real shards, then flip one
// byte inside a chosen block (or the header, or truncate the file) directly in the shard file;
// reads must fail with DATA_LOSS naming that block after delivering only verified earlier
// bytes, other ranges stay readable, and VerifyShard reports the bad block without sending data.
import * as fs from 'node:fs/promises';
import { ShardChecksumMismatchError } from '@tessera/rpc';
import { recordOffsetBytes, shardFileHeaderSizeBytes, shardFilePath } from '../src/index';
import { type NodeFixture, chunksOf, expectRejects, randomShardBytes, shardIdOf, startNodeFixture } from './helpers';

const blockSizeBytes = 4096;
let fixture: NodeFixture;

beforeAll(async () => {
  // Small read spans, so a read crosses several positional reads.
  fixture = await startNodeFixture({ readSizeBytesTarget: 3 * (blockSizeBytes + 8) });
});
afterAll(async () => {
  await fixture.close();
});

async function writeShard(name: string, sizeBytes: number): Promise<{ bytes: Buffer; filePath: string; shardId: ReturnType<typeof shardIdOf> }> {
  const shardId = shardIdOf(name, 1);
  const bytes = randomShardBytes(sizeBytes, sizeBytes ^ name.length);
  await fixture.client.writeShard({ shardId, blockSizeBytes, source: { kind: 'bytes', chunks: chunksOf(bytes, 5000) } });
  return { bytes, filePath: shardFilePath(fixture.dataDir, shardId), shardId };
}

async function flipByte(filePath: string, offsetBytes: number): Promise<void> {
  const handle = await fs.open(filePath, 'r+');
  const one = Buffer.alloc(1);
  await handle.read(one, 0, 1, offsetBytes);
  one[0] = one[0]! ^ 0x40;
  await handle.write(one, 0, 1, offsetBytes);
  await handle.close();
}

function dataOffset(blockIndex: number, withinBlockBytes: number): number {
  return recordOffsetBytes({ blockSizeBytes, shardSizeBytes: 0, blockCount: 0, shardId: shardIdOf('x') }, blockIndex) + 8 + withinBlockBytes;
}

describe('a byte flipped on disk', () => {
  it.each([0, 5, 9])('in block %d: DATA_LOSS names the block; only verified bytes before it are delivered', async (badBlock) => {
    const { bytes, filePath, shardId } = await writeShard(`flip-${badBlock}`, blockSizeBytes * 10 - 7);
    await flipByte(filePath, dataOffset(badBlock, 123 % (blockSizeBytes - 7)));
    const received: Buffer[] = [];
    let caught: unknown;
    try {
      for await (const chunk of fixture.client.readShard(shardId)) received.push(chunk.data);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ShardChecksumMismatchError);
    const err = caught as ShardChecksumMismatchError;
    expect(err.blockIndex).toBe(badBlock);
    expect(err.source).toBe('disk');
    expect(err.message).toContain(`block ${badBlock}`);
    const delivered = Buffer.concat(received);
    // Nothing from the bad block (or after it) was ever sent, and what was sent is correct.
    expect(delivered.byteLength).toBeLessThanOrEqual(badBlock * blockSizeBytes);
    expect(delivered.equals(bytes.subarray(0, delivered.byteLength))).toBe(true);

    // A range that avoids the bad block still reads fine.
    if (badBlock > 0) {
      const before = await fixture.client.readShardToBuffer(shardId, { offsetBytes: 0, lengthBytes: badBlock * blockSizeBytes });
      expect(before.equals(bytes.subarray(0, badBlock * blockSizeBytes))).toBe(true);
    }
    // A range touching one byte of the bad block fails.
    const oneByte = await expectRejects(fixture.client.readShardToBuffer(shardId, { offsetBytes: badBlock * blockSizeBytes + 1, lengthBytes: 1 }));
    expect((oneByte as ShardChecksumMismatchError).blockIndex).toBe(badBlock);

    const verification = await fixture.client.verifyShard(shardId);
    expect(verification).toMatchObject({ ok: false, headerCorrupt: false, blocksChecked: 10, corruptBlockIndexes: [badBlock] });
  });

  it('in a stored checksum: the block is reported bad as well', async () => {
    const { filePath, shardId } = await writeShard('flip-checksum', blockSizeBytes * 3);
    await flipByte(filePath, recordOffsetBytes({ blockSizeBytes, shardSizeBytes: 0, blockCount: 0, shardId }, 2) + 3);
    const err = await expectRejects(fixture.client.readShardToBuffer(shardId));
    expect((err as ShardChecksumMismatchError).blockIndex).toBe(2);
  });

  it('in the header: DATA_LOSS with block -1 on read, headerCorrupt on verify', async () => {
    const { filePath, shardId } = await writeShard('flip-header', 100);
    await flipByte(filePath, 13);
    const err = await expectRejects(fixture.client.readShardToBuffer(shardId));
    expect(err).toBeInstanceOf(ShardChecksumMismatchError);
    expect((err as ShardChecksumMismatchError).blockIndex).toBe(-1);
    expect(await expectRejects(fixture.client.statShard(shardId))).toBeInstanceOf(ShardChecksumMismatchError);
    const verification = await fixture.client.verifyShard(shardId);
    expect(verification).toMatchObject({ ok: false, headerCorrupt: true });
  });

  it('a truncated file: the missing block is reported bad', async () => {
    const { filePath, shardId } = await writeShard('truncated', blockSizeBytes * 4);
    await fs.truncate(filePath, shardFileHeaderSizeBytes + (blockSizeBytes + 8) * 2 + 100);
    const err = await expectRejects(fixture.client.readShardToBuffer(shardId));
    expect((err as ShardChecksumMismatchError).blockIndex).toBe(2);
    const verification = await fixture.client.verifyShard(shardId);
    expect(verification.corruptBlockIndexes).toEqual([2, 3]);
  });

  it('counts checksum failures in the metrics', async () => {
    const text = await fixture.node.registry.metrics();
    const match = /storage_node_checksum_failures_total\{source="disk"\} (\d+)/.exec(text);
    expect(Number(match?.[1])).toBeGreaterThanOrEqual(5);
  });
});

// Goal: the bitrot injector really corrupts block data (not only headers) in the storage node's
// on-disk format, the repair probe tells corrupt from intact, and redundancy/spread counting is
// right. Method: a real in-process storage node (FsShardStore in a temp dir, gRPC on port 0)
// stores shards through StorageNodeClient; after a flip the node itself must refuse the block
// with DATA_LOSS (ShardChecksumMismatchError), and a rewrite of the shard must read as repaired.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { SeededRandom } from '@tessera/common';
import { ShardChecksumMismatchError, StorageNodeClient } from '@tessera/rpc';
import { startStorageNode } from '@tessera/storage-node';
import type { StorageNodeServer } from '@tessera/storage-node';
import { corruptedBlockState, flipRandomDataByte, listShardFiles, redundancyReport, unevenSpreadStripeIds } from '../src/index';
import type { ShardFile } from '../src/index';

const blockSizeBytes = 64 * 1024;

describe('shard files on a real storage node', () => {
  let dataDir: string;
  let node: StorageNodeServer;
  let client: StorageNodeClient;

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-shard-files-'));
    node = await startStorageNode({ nodeId: 'n1', zone: 'z1', dataDir, listen: '127.0.0.1:0' });
    client = new StorageNodeClient({ address: node.grpcAddress });
  });

  afterAll(async () => {
    client?.close();
    await node?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  async function writeShard(stripeId: string, shardIndex: number, bytes: Buffer): Promise<void> {
    await client.writeShard({ shardId: { objectVersionId: stripeId, shardIndex }, blockSizeBytes, source: { kind: 'bytes', chunks: Readable.from([bytes]) } });
  }

  function readAll(stripeId: string, shardIndex: number): Promise<Buffer> {
    return client.readShardToBuffer({ objectVersionId: stripeId, shardIndex });
  }

  test('a flipped data byte is caught by the node (DATA_LOSS) and by the probe; a rewrite reads as repaired', async () => {
    const bytes = Buffer.alloc(3 * blockSizeBytes + 100, 7);
    await writeShard('stripe-a', 2, bytes);
    const files = listShardFiles('n1', dataDir);
    expect(files.map((f) => `${f.stripeId}.${f.shardIndex}`)).toEqual(['stripe-a.2']);
    const file = files[0] as ShardFile;
    expect(corruptedBlockState({ file, offsetBytes: 0, blockIndex: 3 })).toBe('repaired');
    const flip = flipRandomDataByte(file, new SeededRandom(42));
    expect(flip).toBeDefined();
    if (flip === undefined) return;
    expect(flip.offsetBytes).toBeGreaterThanOrEqual(256 + 8);
    expect(corruptedBlockState(flip)).toBe('corrupt');
    await expect(readAll('stripe-a', 2)).rejects.toBeInstanceOf(ShardChecksumMismatchError);
    await writeShard('stripe-a', 2, bytes);
    expect(corruptedBlockState(flip)).toBe('repaired');
    expect((await readAll('stripe-a', 2)).equals(bytes)).toBe(true);
    await client.deleteShard({ objectVersionId: 'stripe-a', shardIndex: 2 });
    expect(corruptedBlockState(flip)).toBe('removed');
  });

  test('redundancy and AZ spread counting', () => {
    const f = (nodeName: string, stripeId: string, shardIndex: number): ShardFile => ({ nodeName, filePath: '', stripeId, shardIndex });
    const files = [f('a1', 's1', 0), f('b1', 's1', 1), f('c1', 's1', 2), f('a1', 's2', 0), f('a2', 's2', 1), f('b1', 's2', 1)];
    expect(redundancyReport(files, 3)).toEqual({ stripeCount: 2, belowFullStripeIds: ['s2'] });
    const zones = new Map([['a1', 'az-a'], ['a2', 'az-a'], ['b1', 'az-b'], ['c1', 'az-c']]);
    expect(unevenSpreadStripeIds(files, zones, 3)).toEqual(['s2']);
  });
});

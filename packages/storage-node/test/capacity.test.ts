// Goal: a node that runs out of room refuses writes with RESOURCE_EXHAUSTED, keeps nothing of
// the refused write, keeps serving what it has, and accepts writes again once room is freed.
// Method: (1) a configured capacity limit on a normal temp dir; (2) a real 3 MiB tmpfs mounted
// for the test so the kernel returns ENOSPC (skipped, with a message, where mount is refused).
import * as fs from 'node:fs/promises';
import { StorageFullError } from '@tessera/rpc';
import { defaultDiskReserveBytes, storedSizeBytesOf } from '../src/index';
import { type NodeFixture, chunksOf, expectRejects, listFiles, randomShardBytes, shardIdOf, startNodeFixture, useTmpfs } from './helpers';

const blockSizeBytes = 64 * 1024;

async function write(fixture: NodeFixture, name: string, sizeBytes: number, expectedShardSizeBytes?: number) {
  return fixture.client.writeShard({
    shardId: shardIdOf(name),
    blockSizeBytes,
    ...(expectedShardSizeBytes === undefined ? {} : { expectedShardSizeBytes }),
    source: { kind: 'bytes', chunks: chunksOf(randomShardBytes(sizeBytes, sizeBytes), 100_000) },
  });
}

describe('configured capacity limit', () => {
  let fixture: NodeFixture;
  const capacityBytes = 1024 * 1024;
  beforeAll(async () => {
    fixture = await startNodeFixture({ capacityBytes });
  });
  afterAll(async () => {
    await fixture.close();
  });

  it('fills up, refuses the next write mid-stream and with a size hint, then recovers after a delete', async () => {
    await write(fixture, 'fill-a', 600 * 1024);
    const info = await fixture.client.getNodeInfo();
    expect(info.capacityBytes).toBe(capacityBytes);
    expect(info.usedBytes).toBe(storedSizeBytesOf(600 * 1024, blockSizeBytes));
    expect(info.freeBytes).toBe(capacityBytes - info.usedBytes);

    const midStream = await expectRejects(write(fixture, 'fill-b', 600 * 1024));
    expect(midStream).toBeInstanceOf(StorageFullError);
    const upFront = await expectRejects(write(fixture, 'fill-c', 600 * 1024, 600 * 1024));
    expect(upFront).toBeInstanceOf(StorageFullError);
    expect(await listFiles(`${fixture.dataDir}/tmp`)).toEqual([]);
    expect((await fixture.client.getNodeInfo()).usedBytes).toBe(info.usedBytes);

    // Still serving what it has.
    expect((await fixture.client.readShardToBuffer(shardIdOf('fill-a'))).byteLength).toBe(600 * 1024);
    expect(await fixture.client.deleteShard(shardIdOf('fill-a'))).toBe(true);
    await write(fixture, 'fill-b', 600 * 1024);
  });

  it('the usage survives a restart (recounted from disk)', async () => {
    const before = await fixture.client.getNodeInfo();
    const again = await startNodeFixture({ dataDir: fixture.dataDir, capacityBytes, nodeId: 'test-node' });
    try {
      const after = await again.client.getNodeInfo();
      expect(after.usedBytes).toBe(before.usedBytes);
      expect(after.shardCount).toBe(before.shardCount);
    } finally {
      again.client.close();
      await again.node.stop();
    }
  });
});

describe('a real full file system (tmpfs)', () => {
  const tmpfs = useTmpfs('3m', 'tessera-tmpfs-');

  it('ENOSPC becomes StorageFullError, the partial write is removed, and the node keeps working', async () => {
    const mountDir = tmpfs.dir();
    if (mountDir === undefined) {
      console.warn(`skipped: ${tmpfs.skipReason() ?? 'no mount dir'}`);
      return;
    }
    const fixture = await startNodeFixture({ dataDir: `${mountDir}/data` });
    try {
      await write(fixture, 'fits', 1024 * 1024);
      const err = await expectRejects(write(fixture, 'does-not-fit', 4 * 1024 * 1024));
      expect(err).toBeInstanceOf(StorageFullError);
      expect(await listFiles(`${mountDir}/data/tmp`)).toEqual([]);
      expect((await fixture.client.readShardToBuffer(shardIdOf('fits'))).byteLength).toBe(1024 * 1024);
      await write(fixture, 'small-after', 10 * 1024);
      const all = (await fixture.client.listShards()).shards.map((s) => s.shardId.objectVersionId).sort();
      expect(all).toEqual(['fits', 'small-after']);
    } finally {
      await fixture.close();
    }
  });
});

describe('the disk reserve (a real 8 MiB tmpfs shared with other data)', () => {
  const tmpfs = useTmpfs('8m', 'tessera-reserve-');

  it('the default is 5% of the disk, at most 2 GiB', () => {
    expect(defaultDiskReserveBytes(1024 ** 3)).toBe(Math.floor(0.05 * 1024 ** 3));
    expect(defaultDiskReserveBytes(40 * 1024 ** 3)).toBe(2 * 1024 ** 3);
    expect(defaultDiskReserveBytes(4 * 1024 ** 4)).toBe(2 * 1024 ** 3);
  });

  it('writes stop short of the reserve (with a size hint and mid-stream), which stays free for others', async () => {
    const mountDir = tmpfs.dir();
    if (mountDir === undefined) {
      console.warn(`skipped: ${tmpfs.skipReason() ?? 'no mount dir'}`);
      return;
    }
    const diskReserveBytes = 4 * 1024 * 1024;
    const fixture = await startNodeFixture({ dataDir: `${mountDir}/data`, diskReserveBytes });
    try {
      const diskFree = async (): Promise<number> => {
        const stats = await fs.statfs(mountDir);
        return stats.bavail * stats.bsize;
      };
      const before = await fixture.client.getNodeInfo();
      expect(before.freeBytes).toBe(Math.max(0, (await diskFree()) - diskReserveBytes));
      await write(fixture, 'fits', 2 * 1024 * 1024);
      // The kernel has room for 3 MiB more, the node does not: refused up front...
      expect(await diskFree()).toBeGreaterThan(diskReserveBytes + 1024 * 1024);
      expect(await expectRejects(write(fixture, 'into-reserve-hinted', 3 * 1024 * 1024, 3 * 1024 * 1024))).toBeInstanceOf(StorageFullError);
      // ...and without a size hint, once its blocks reach the reserve.
      const midStream = await expectRejects(write(fixture, 'into-reserve-streamed', 3 * 1024 * 1024));
      expect(midStream).toBeInstanceOf(StorageFullError);
      expect((midStream as Error).message).toContain('--disk-reserve-bytes');
      expect(await listFiles(`${mountDir}/data/tmp`)).toEqual([]);
      expect(await diskFree()).toBeGreaterThanOrEqual(diskReserveBytes);
      // Someone else (a metadata node's log) can still write into the reserve.
      await fs.writeFile(`${mountDir}/other-data`, Buffer.alloc(3 * 1024 * 1024, 1));
      expect((await fixture.client.readShardToBuffer(shardIdOf('fits'))).byteLength).toBe(2 * 1024 * 1024);
      expect((await fixture.client.getNodeInfo()).freeBytes).toBe(0);
    } finally {
      await fixture.close();
    }
  });
});

// Goal: a node that runs out of room refuses writes with RESOURCE_EXHAUSTED, keeps nothing of
// the refused write, keeps serving what it has, and accepts writes again once room is freed.
// Method: (1) a configured capacity limit on a normal temp dir; (2) a real 3 MiB tmpfs mounted
// for the test so the kernel returns ENOSPC (skipped, with a message, where mount is refused).
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs/promises';
import { StorageFullError } from '@tessera/rpc';
import { storedSizeBytesOf } from '../src/index';
import { type NodeFixture, chunksOf, expectRejects, listFiles, makeTempDir, randomShardBytes, shardIdOf, startNodeFixture } from './helpers';

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
  let mountDir: string | undefined;
  let skipReason: string | undefined;
  beforeAll(async () => {
    mountDir = await makeTempDir('tessera-tmpfs-');
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=3m', 'tmpfs', mountDir], { stdio: 'pipe' });
    } catch (err) {
      skipReason = `cannot mount a tmpfs here (${err instanceof Error ? err.message.split('\n')[0] : String(err)}); the ENOSPC test is skipped`;
      console.warn(skipReason);
    }
  });
  afterAll(async () => {
    if (mountDir === undefined) return;
    if (skipReason === undefined) execFileSync('umount', [mountDir]);
    await fs.rm(mountDir, { recursive: true, force: true });
  });

  it('ENOSPC becomes StorageFullError, the partial write is removed, and the node keeps working', async () => {
    if (skipReason !== undefined || mountDir === undefined) {
      console.warn(`skipped: ${skipReason ?? 'no mount dir'}`);
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

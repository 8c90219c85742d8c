// Goal: the node stays correct under many concurrent writers and readers, refuses streams
// beyond its limit, and a client that vanishes mid-write leaves nothing behind. Method: a real
// node; 24 writers and readers at once on shared and distinct shards; raw gRPC calls that are
// cancelled or go silent part-way through a write; then tmp/ must be empty and no shard visible.
import * as fs from 'node:fs/promises';
import * as http2 from 'node:http2';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { blockChecksum } from '@tessera/checksum';
import { loadProto } from '@tessera/proto';
import type { ProtoGrpcType } from '@tessera/proto/generated/storage_node';
import type { StorageNodeClient as RawClient } from '@tessera/proto/generated/tessera/storage/v1/StorageNode';
import { ShardNotFoundError, ShardStreamIdleError, StorageNodeBusyError, StorageNodeClient, fromGrpcError, storageNodeServiceDefinition } from '@tessera/rpc';
import { shardFilePath } from '../src/index';
import { type NodeFixture, chunksOf, expectRejects, listFiles, randomShardBytes, shardIdOf, shardIdsInOneLeaf, startNodeFixture, waitFor } from './helpers';

const blockSizeBytes = 32 * 1024;

function rawClient(address: string): RawClient {
  const proto = loadProto('storage_node.proto') as unknown as ProtoGrpcType;
  return new proto.tessera.storage.v1.StorageNode(address, grpc.credentials.createInsecure());
}

function blocksMessage(data: Buffer) {
  const count = Math.ceil(data.byteLength / blockSizeBytes);
  const checksums = Buffer.alloc(count * 8);
  for (let i = 0; i < count; i += 1) checksums.writeBigUInt64LE(blockChecksum(data.subarray(i * blockSizeBytes, (i + 1) * blockSizeBytes)), i * 8);
  return { blocks: { data, blockChecksums: checksums } };
}


describe('many concurrent writers and readers', () => {
  let fixture: NodeFixture;
  beforeAll(async () => {
    fixture = await startNodeFixture();
  });
  afterAll(async () => {
    await fixture.close();
  });

  it('24 writers then 24 readers at once (plus racing rewrites of one shard) all see exact bytes', async () => {
    const shards = Array.from({ length: 24 }, (_, i) => ({ shardId: shardIdOf(`conc-${i}`, i % 6), bytes: randomShardBytes(100_000 + i * 7919, i) }));
    await Promise.all(shards.map((s) => fixture.client.writeShard({ shardId: s.shardId, blockSizeBytes, source: { kind: 'bytes', chunks: chunksOf(s.bytes, 40_000) } })));
    // Concurrent rewrites of the same shard id: one complete version wins, never a mix.
    const same = [randomShardBytes(70_000, 1001), randomShardBytes(70_000, 1002), randomShardBytes(70_000, 1003)];
    const readsAndRewrites = [
      ...shards.map(async (s) => expect((await fixture.client.readShardToBuffer(s.shardId)).equals(s.bytes)).toBe(true)),
      ...same.map((bytes) => fixture.client.writeShard({ shardId: shardIdOf('same'), blockSizeBytes, source: { kind: 'bytes', chunks: chunksOf(bytes, 9000) } })),
    ];
    await Promise.all(readsAndRewrites);
    const winner = await fixture.client.readShardToBuffer(shardIdOf('same'));
    expect(same.some((b) => b.equals(winner))).toBe(true);
    const info = await fixture.client.getNodeInfo();
    expect(info.shardCount).toBe(25);
    expect(await listFiles(`${fixture.dataDir}/tmp`)).toEqual([]);
  });
});

describe('writes and deletes racing in one leaf fan-out directory', () => {
  let fixture: NodeFixture;
  beforeAll(async () => {
    fixture = await startNodeFixture();
  });
  afterAll(async () => {
    await fixture.close();
  });

  it('a delete that empties the leaf never fails a commit into it; the leaf goes with its last shard', async () => {
    // Each round writes half of six shards that share one leaf while deleting the other half,
    // so the leaf keeps emptying (and being removed) while renames into it are under way.
    const ids = shardIdsInOneLeaf('race-', 6);
    const leafDir = path.dirname(shardFilePath(fixture.dataDir, ids[0]!));
    const present = new Map<number, Buffer>();
    for (let round = 0; round < 16; round += 1) {
      const writes = ids.map((_, i) => i).filter((i) => (i + round) % 2 === 0);
      const deletes = [...present.keys()].filter((i) => !writes.includes(i));
      const bodies = new Map(writes.map((i) => [i, randomShardBytes(20_000 + round * 100 + i, round * 10 + i)]));
      await Promise.all([
        ...writes.map((i) => fixture.client.writeShard({ shardId: ids[i]!, blockSizeBytes, source: { kind: 'bytes', chunks: chunksOf(bodies.get(i)!, 7_000) } })),
        ...deletes.map(async (i) => expect(await fixture.client.deleteShard(ids[i]!)).toBe(true)),
      ]);
      for (const i of deletes) present.delete(i);
      for (const [i, bytes] of bodies) present.set(i, bytes);
      for (const [i, bytes] of present) expect((await fixture.client.readShardToBuffer(ids[i]!)).equals(bytes)).toBe(true);
    }
    for (const i of present.keys()) expect(await fixture.client.deleteShard(ids[i]!)).toBe(true);
    await expect(fs.stat(leafDir)).rejects.toMatchObject({ code: 'ENOENT' });
    expect((await fixture.client.getNodeInfo()).shardCount).toBe(0);
    expect(await listFiles(`${fixture.dataDir}/tmp`)).toEqual([]);
  });
});

describe('deletes emptying one leaf fan-out directory at once', () => {
  let fixture: NodeFixture;
  beforeAll(async () => {
    fixture = await startNodeFixture();
  });
  afterAll(async () => {
    await fixture.close();
  });

  it('every delete reports its shard deleted and the counts go to zero, whichever delete removes the leaf', async () => {
    // The last delete to unlink removes the leaf; another may still be about to fsync it.
    const ids = shardIdsInOneLeaf('empty-', 12);
    for (let round = 0; round < 12; round += 1) {
      await Promise.all(ids.map((id, i) => fixture.client.writeShard({ shardId: id, blockSizeBytes, source: { kind: 'bytes', chunks: [randomShardBytes(1_000 + i, round * 100 + i)] } })));
      const deleted = await Promise.all(ids.map((id) => fixture.client.deleteShard(id)));
      expect(deleted.filter((d) => !d)).toEqual([]);
      const info = await fixture.client.getNodeInfo();
      expect([info.shardCount, info.usedBytes]).toEqual([0, 0]);
    }
  });
});

describe('stream limits and vanishing clients', () => {
  let fixture: NodeFixture;
  let raw: RawClient;
  beforeAll(async () => {
    fixture = await startNodeFixture({ concurrentStreamCountMax: 2, writeIdleTimeoutMs: 300 });
    raw = rawClient(fixture.node.grpcAddress);
  });
  afterAll(async () => {
    raw.close();
    await fixture.close();
  });

  it('a third concurrent stream is refused with RESOURCE_EXHAUSTED (StorageNodeBusyError)', async () => {
    const open = [0, 1].map((i) => {
      const call = raw.writeShard({ deadline: Date.now() + 10_000 }, () => undefined);
      call.write({ header: { shardId: { objectVersionId: `busy-${i}`, shardIndex: 0 }, blockSizeBytes, checksumAlgorithm: 'xxh3-64' } });
      return call;
    });
    await waitFor(async () => (await fixture.node.registry.getSingleMetricAsString('storage_node_open_streams')).includes('kind="write"} 2'));
    const err = await expectRejects(fixture.client.readShardToBuffer(shardIdOf('anything')));
    expect(err).toBeInstanceOf(StorageNodeBusyError);
    for (const call of open) call.cancel();
    await waitFor(async () => (await listFiles(`${fixture.dataDir}/tmp`)).length === 0);
  });

  it('a client cancelled mid-stream leaves no temp file and no shard', async () => {
    const call = raw.writeShard({ deadline: Date.now() + 10_000 }, () => undefined);
    call.write({ header: { shardId: { objectVersionId: 'vanishing', shardIndex: 0 }, blockSizeBytes, checksumAlgorithm: 'xxh3-64' } });
    call.write(blocksMessage(randomShardBytes(blockSizeBytes * 8, 5)));
    await waitFor(async () => (await listFiles(`${fixture.dataDir}/tmp`)).length === 1);
    call.cancel();
    await waitFor(async () => (await listFiles(`${fixture.dataDir}/tmp`)).length === 0);
    expect(await expectRejects(fixture.client.statShard(shardIdOf('vanishing')))).toBeInstanceOf(ShardNotFoundError);
  });

  it('a whole client process connection dropping mid-stream (channel closed) leaves nothing', async () => {
    const other = rawClient(fixture.node.grpcAddress);
    const call = other.writeShard({ deadline: Date.now() + 10_000 }, () => undefined);
    call.write({ header: { shardId: { objectVersionId: 'dropped', shardIndex: 0 }, blockSizeBytes, checksumAlgorithm: 'xxh3-64' } });
    call.write(blocksMessage(randomShardBytes(blockSizeBytes * 4, 6)));
    await waitFor(async () => (await listFiles(`${fixture.dataDir}/tmp`)).length === 1);
    other.close();
    call.cancel();
    await waitFor(async () => (await listFiles(`${fixture.dataDir}/tmp`)).length === 0);
    expect(await expectRejects(fixture.client.statShard(shardIdOf('dropped')))).toBeInstanceOf(ShardNotFoundError);
  });

  it('a writer whose deadline passes mid-stream leaves nothing', async () => {
    const call = raw.writeShard({ deadline: Date.now() + 250 }, () => undefined);
    call.write({ header: { shardId: { objectVersionId: 'deadline', shardIndex: 0 }, blockSizeBytes, checksumAlgorithm: 'xxh3-64' } });
    call.write(blocksMessage(randomShardBytes(blockSizeBytes, 7)));
    await new Promise((r) => setTimeout(r, 400));
    await waitFor(async () => (await listFiles(`${fixture.dataDir}/tmp`)).length === 0);
    expect(await expectRejects(fixture.client.statShard(shardIdOf('deadline')))).toBeInstanceOf(ShardNotFoundError);
  });

  it('a writer that goes silent is dropped after the idle timeout (DEADLINE_EXCEEDED)', async () => {
    const err = await new Promise<Error>((resolve) => {
      const call = raw.writeShard({ deadline: Date.now() + 10_000 }, (e) => resolve(fromGrpcError(e)));
      call.write({ header: { shardId: { objectVersionId: 'silent', shardIndex: 0 }, blockSizeBytes, checksumAlgorithm: 'xxh3-64' } });
    });
    expect(err).toBeInstanceOf(ShardStreamIdleError);
    await waitFor(async () => (await listFiles(`${fixture.dataDir}/tmp`)).length === 0);
  });

  it('a reader that stops iterating early cancels the stream and frees its slot', async () => {
    const bytes = randomShardBytes(blockSizeBytes * 200, 8);
    await fixture.client.writeShard({ shardId: shardIdOf('early-stop'), blockSizeBytes, source: { kind: 'bytes', chunks: chunksOf(bytes, blockSizeBytes * 10) } });
    for await (const chunk of fixture.client.readShard(shardIdOf('early-stop'))) {
      expect(chunk.offsetBytes).toBe(0);
      break;
    }
    await waitFor(async () => !(await fixture.node.registry.getSingleMetricAsString('storage_node_open_streams')).includes('kind="read"} 1'));
    // Both slots are free again: two reads at once succeed.
    await Promise.all([0, 1].map(async () => expect((await fixture.client.readShardToBuffer(shardIdOf('early-stop'))).equals(bytes)).toBe(true)));
  });

  it('a reader that stops reading is dropped after the idle timeout and frees its slot', async () => {
    // grpc-js clients keep draining HTTP/2 into memory even when paused, so this reader is a
    // bare node:http2 gRPC client that really stops reading (its 64 KiB window stays full).
    const bytes = randomShardBytes(blockSizeBytes * 100, 12);
    await fixture.client.writeShard({ shardId: shardIdOf('stalled-reader'), blockSizeBytes, source: { kind: 'bytes', chunks: chunksOf(bytes, blockSizeBytes * 10) } });
    const readMethod = (storageNodeServiceDefinition() as unknown as Record<string, grpc.MethodDefinition<unknown, unknown>>)['ReadShard']!;
    const request = readMethod.requestSerialize({ shardId: { objectVersionId: 'stalled-reader', shardIndex: 0 } });
    const frame = Buffer.alloc(5 + request.byteLength);
    frame.writeUInt32BE(request.byteLength, 1);
    request.copy(frame, 5);
    const session = http2.connect(`http://${fixture.node.grpcAddress}`);
    const stream = session.request({ ':method': 'POST', ':path': readMethod.path, 'content-type': 'application/grpc', te: 'trailers' });
    const trailers = new Promise<http2.IncomingHttpHeaders>((resolve) => stream.on('trailers', resolve));
    stream.end(frame);
    stream.pause();
    await waitFor(async () => (await fixture.node.registry.getSingleMetricAsString('storage_node_open_streams')).includes('kind="read"} 1'));
    await waitFor(async () => (await fixture.node.registry.getSingleMetricAsString('storage_node_open_streams')).includes('kind="read"} 0'));
    stream.resume();
    const status = await trailers;
    expect(status['grpc-status']).toBe(String(grpc.status.DEADLINE_EXCEEDED));
    expect(status['tessera-error-name']).toBe('ShardStreamIdleError');
    session.close();
  });

  it('an aborted client-side write (AbortSignal) leaves nothing', async () => {
    const controller = new AbortController();
    async function* slow() {
      yield randomShardBytes(blockSizeBytes * 2, 10);
      controller.abort();
      await new Promise((r) => setTimeout(r, 100));
      yield randomShardBytes(blockSizeBytes, 11);
    }
    const client = new StorageNodeClient({ address: fixture.node.grpcAddress });
    await expectRejects(client.writeShard({ shardId: shardIdOf('aborted'), blockSizeBytes, source: { kind: 'bytes', chunks: slow() } }, { signal: controller.signal }));
    client.close();
    await waitFor(async () => (await listFiles(`${fixture.dataDir}/tmp`)).length === 0);
    expect(await expectRejects(fixture.client.statShard(shardIdOf('aborted')))).toBeInstanceOf(ShardNotFoundError);
  });
});

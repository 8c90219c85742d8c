// Goal: malformed requests are refused with the right typed error and leave nothing behind.
// Method: a real node; the typed client for well-formed calls with bad values, and the raw
// grpc-js client for protocol violations the typed client cannot produce (blocks before the
// header, a wrong checksum, no finish…). After each, no shard is visible and tmp/ is empty.
import * as grpc from '@grpc/grpc-js';
import { blockChecksum } from '@tessera/checksum';
import { loadProto } from '@tessera/proto';
import type { ProtoGrpcType } from '@tessera/proto/generated/storage_node';
import type { StorageNodeClient as RawClient } from '@tessera/proto/generated/tessera/storage/v1/StorageNode';
import type { WriteShardRequest } from '@tessera/proto/generated/tessera/storage/v1/WriteShardRequest';
import {
  InvalidShardRequestError,
  ShardChecksumMismatchError,
  ShardNotFoundError,
  fromGrpcError,
  validateShardId,
} from '@tessera/rpc';
import { type NodeFixture, chunksOf, expectRejects, listFiles, randomShardBytes, shardIdOf, startNodeFixture } from './helpers';

let fixture: NodeFixture;
let raw: RawClient;

beforeAll(async () => {
  fixture = await startNodeFixture({ shardSizeBytesMax: 1024 * 1024, blockSizeBytesMax: 256 * 1024 });
  const proto = loadProto('storage_node.proto') as unknown as ProtoGrpcType;
  raw = new proto.tessera.storage.v1.StorageNode(fixture.node.grpcAddress, grpc.credentials.createInsecure());
});
afterAll(async () => {
  raw.close();
  await fixture.close();
});

afterEach(async () => {
  expect(await listFiles(`${fixture.dataDir}/tmp`)).toEqual([]);
});

/** Sends raw messages on a WriteShard stream and returns the error the node answered with. */
function rawWrite(messages: WriteShardRequest[], end = true): Promise<Error | undefined> {
  return new Promise((resolve) => {
    const call = raw.writeShard({ deadline: Date.now() + 10_000 }, (err) => resolve(err === null ? undefined : fromGrpcError(err)));
    for (const m of messages) call.write(m);
    if (end) call.end();
  });
}

function blocksMessage(data: Buffer, blockSizeBytes: number, corruptIndex = -1): WriteShardRequest {
  const count = Math.ceil(data.byteLength / blockSizeBytes);
  const checksums = Buffer.alloc(count * 8);
  for (let i = 0; i < count; i += 1) {
    const sum = blockChecksum(data.subarray(i * blockSizeBytes, (i + 1) * blockSizeBytes));
    checksums.writeBigUInt64LE(i === corruptIndex ? sum ^ 1n : sum, i * 8);
  }
  return { blocks: { data, blockChecksums: checksums } };
}

const header = (objectVersionId: string, blockSizeBytes = 1024, extra: object = {}): WriteShardRequest => ({
  header: { shardId: { objectVersionId, shardIndex: 0 }, blockSizeBytes, checksumAlgorithm: 'xxh3-64', ...extra },
});

async function expectNoShard(objectVersionId: string): Promise<void> {
  expect(await expectRejects(fixture.client.statShard(shardIdOf(objectVersionId)))).toBeInstanceOf(ShardNotFoundError);
}

describe('shard ids', () => {
  it.each(['', '.', '..', '../etc', 'a/b', 'a\\b', '.hidden', 'a..b', 'x'.repeat(129), 'nul\u0000', 'sp ace', 'ünï'])(
    'refuses object version id %j',
    (objectVersionId) => {
      expect(() => validateShardId({ objectVersionId, shardIndex: 0 })).toThrow(InvalidShardRequestError);
    },
  );
  it.each([-1, 256, 1.5, Number.NaN])('refuses shard index %d', (shardIndex) => {
    expect(() => validateShardId({ objectVersionId: 'ok', shardIndex })).toThrow(InvalidShardRequestError);
  });
  it('the node itself refuses a path-traversal id (INVALID_ARGUMENT), not just the client', async () => {
    const err = await rawWrite([header('../../etc'), blocksMessage(Buffer.from('x'), 1024), { finish: { shardSizeBytes: 1, blockCount: 1 } }]);
    expect(err).toBeInstanceOf(InvalidShardRequestError);
    const readErr = await new Promise<Error>((resolve) => {
      const call = raw.readShard({ shardId: { objectVersionId: 'a/../../b', shardIndex: 0 } }, { deadline: Date.now() + 5000 });
      call.on('data', () => undefined);
      call.on('error', (e) => resolve(fromGrpcError(e)));
    });
    expect(readErr).toBeInstanceOf(InvalidShardRequestError);
    const statErr = await new Promise<Error>((resolve) => raw.statShard({ shardId: null }, (e) => resolve(fromGrpcError(e))));
    expect(statErr).toBeInstanceOf(InvalidShardRequestError);
  });
});

describe('write protocol', () => {
  it('a block whose checksum does not match: DATA_LOSS naming the block, nothing kept', async () => {
    const data = randomShardBytes(1024 * 5, 1);
    const err = await rawWrite([header('bad-sum'), blocksMessage(data.subarray(0, 2048), 1024), blocksMessage(data.subarray(2048), 1024, 1), { finish: { shardSizeBytes: 5120, blockCount: 5 } }]);
    expect(err).toBeInstanceOf(ShardChecksumMismatchError);
    expect((err as ShardChecksumMismatchError).blockIndex).toBe(3);
    expect((err as ShardChecksumMismatchError).source).toBe('upload');
    await expectNoShard('bad-sum');
  });

  it.each<[string, WriteShardRequest[]]>([
    ['blocks before the header', [blocksMessage(Buffer.alloc(10), 1024)]],
    ['two headers', [header('two-headers'), header('two-headers')]],
    ['an empty message', [header('empty-msg'), {}]],
    ['no finish', [header('no-finish'), blocksMessage(Buffer.alloc(10), 1024)]],
    ['a finish that disagrees', [header('finish-lies'), blocksMessage(Buffer.alloc(10), 1024), { finish: { shardSizeBytes: 11, blockCount: 1 } }]],
    ['data after the finish', [header('after-finish'), { finish: { shardSizeBytes: 0, blockCount: 0 } }, blocksMessage(Buffer.alloc(10), 1024)]],
    ['a short block in the middle', [header('short-mid'), blocksMessage(Buffer.alloc(10), 1024), blocksMessage(Buffer.alloc(10), 1024)]],
    ['checksums that do not match the block count', [header('count'), { blocks: { data: Buffer.alloc(2048), blockChecksums: Buffer.alloc(8) } }]],
    ['a ragged checksum field', [header('ragged'), { blocks: { data: Buffer.alloc(10), blockChecksums: Buffer.alloc(7) } }]],
    ['block size 0', [header('bs0', 0)]],
    ['block size above the limit', [header('bs-big', 512 * 1024)]],
    ['an unknown checksum algorithm', [{ header: { shardId: { objectVersionId: 'algo', shardIndex: 0 }, blockSizeBytes: 1024, checksumAlgorithm: 'crc32' } }]],
    ['an expected size above the limit', [header('too-big-hint', 1024, { expectedShardSizeBytes: 2 * 1024 * 1024 })]],
    ['no header at all', []],
  ])('refuses %s with INVALID_ARGUMENT and keeps nothing', async (_name, messages) => {
    const err = await rawWrite(messages);
    expect(err).toBeInstanceOf(InvalidShardRequestError);
  });

  it('a shard growing past the maximum shard size is refused mid-stream and dropped', async () => {
    const bytes = randomShardBytes(1024 * 1024 + 1, 3);
    const err = await expectRejects(
      fixture.client.writeShard({ shardId: shardIdOf('grows-too-big'), blockSizeBytes: 64 * 1024, source: { kind: 'bytes', chunks: chunksOf(bytes, 100_000) } }),
    );
    expect(err).toBeInstanceOf(InvalidShardRequestError);
    expect(err.message).toContain('maximum shard size');
    await expectNoShard('grows-too-big');
  });
});

describe('read ranges', () => {
  beforeAll(async () => {
    await fixture.client.writeShard({ shardId: shardIdOf('ranges'), blockSizeBytes: 1024, source: { kind: 'bytes', chunks: chunksOf(randomShardBytes(5000, 9), 5000) } });
  });
  it.each([
    [5001, 0],
    [0, 5001],
    [4999, 2],
    [2 ** 53, 1],
    [1, 2 ** 60],
  ])('offset %d length %d is INVALID_ARGUMENT', async (offsetBytes, lengthBytes) => {
    const err = await expectRejects(fixture.client.readShardToBuffer(shardIdOf('ranges'), { offsetBytes, lengthBytes }));
    expect(err).toBeInstanceOf(InvalidShardRequestError);
  });
  it('an unknown shard is NOT_FOUND', async () => {
    expect(await expectRejects(fixture.client.readShardToBuffer(shardIdOf('never-written')))).toBeInstanceOf(ShardNotFoundError);
    expect(await expectRejects(fixture.client.verifyShard(shardIdOf('never-written')))).toBeInstanceOf(ShardNotFoundError);
  });
  it('a malformed list page token or page size is INVALID_ARGUMENT', async () => {
    expect(await expectRejects(fixture.client.listShards({ pageToken: '../../x' }))).toBeInstanceOf(InvalidShardRequestError);
    expect(await expectRejects(fixture.client.listShards({ pageSize: 100_000 }))).toBeInstanceOf(InvalidShardRequestError);
  });
});

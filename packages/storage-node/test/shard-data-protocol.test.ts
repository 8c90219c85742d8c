// Goal: the shard data protocol (shard writes and reads on the gRPC port, see @tessera/rpc
// shard-data-protocol.ts) is as safe as the gRPC streams it replaces: bad input gets a typed
// error and nothing is kept, vanishing and silent clients leave nothing and free their slots,
// and both protocols share one port and one store. Method: a real node; the real client with
// each transport; raw TCP connections that speak the protocol badly or stop half-way.
import * as net from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { blockChecksum } from '@tessera/checksum';
import { silentLogger, systemClock } from '@tessera/common';
import {
  InvalidShardRequestError,
  ShardDataFrameDecoder,
  ShardDataFrameType,
  ShardNotFoundError,
  ShardStreamIdleError,
  StorageNodeClient,
  decodeJsonBody,
  decodeShardDataHello,
  encodeFrameHeader,
  encodeJsonFrame,
  encodeShardDataHello,
  encodeWriteBlocksHead,
  fromWireError,
  storageNodeServiceDefinition,
  type ShardDataFrame,
  type WireError,
} from '@tessera/rpc';
import { Registry } from 'prom-client';
import { FsShardStore, createStorageNodeMetrics } from '../src/index';
import { StorageNodeService } from '../src/storage-node-service';
import { type NodeFixture, chunksOf, expectRejects, listFiles, makeTempDir, randomShardBytes, shardIdOf, startNodeFixture, waitFor } from './helpers';

const blockSizeBytes = 32 * 1024;

/** A raw protocol connection: write bytes, await frames, see whether the node closed it. */
interface RawConnection {
  readonly socket: net.Socket;
  nextFrame(timeoutMs?: number): Promise<ShardDataFrame | 'closed'>;
  readonly closed: Promise<void>;
}

async function rawConnect(address: string, hello: Buffer = encodeShardDataHello()): Promise<RawConnection & { readonly nodeHello: Buffer }> {
  const [host, port] = [address.slice(0, address.lastIndexOf(':')), Number(address.slice(address.lastIndexOf(':') + 1))];
  const socket = net.connect({ host, port });
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  socket.write(hello);
  const decoder = new ShardDataFrameDecoder(64 << 20);
  const frames: ShardDataFrame[] = [];
  let pendingHello: Buffer | undefined = Buffer.alloc(0);
  let helloResolve: (hello: Buffer) => void = () => undefined;
  const nodeHello = new Promise<Buffer>((resolve) => (helloResolve = resolve));
  let wake: () => void = () => undefined;
  let isClosed = false;
  const closed = new Promise<void>((resolve) =>
    socket.once('close', () => {
      isClosed = true;
      wake();
      resolve();
    }),
  );
  socket.on('error', () => undefined);
  socket.on('data', (chunk: Buffer) => {
    let data = chunk;
    if (pendingHello !== undefined) {
      pendingHello = Buffer.concat([pendingHello, chunk]);
      if (pendingHello.byteLength < 8) return;
      helloResolve(pendingHello.subarray(0, 8));
      data = pendingHello.subarray(8);
      pendingHello = undefined;
    }
    frames.push(...decoder.push(data));
    wake();
  });
  const nextFrame = async (timeoutMs = 10_000): Promise<ShardDataFrame | 'closed'> => {
    const deadline = Date.now() + timeoutMs;
    while (frames.length === 0) {
      if (isClosed) return 'closed';
      if (Date.now() > deadline) throw new Error('no frame in time');
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, 50);
      });
    }
    return frames.shift()!;
  };
  return { socket, nextFrame, closed, nodeHello: await Promise.race([nodeHello, closed.then(() => Buffer.alloc(0))]) };
}

function errorOf(frame: ShardDataFrame | 'closed'): Error {
  if (frame === 'closed' || frame.type !== ShardDataFrameType.error) throw new Error(`expected an error frame, got ${frame === 'closed' ? 'a closed connection' : frame.type}`);
  return fromWireError(decodeJsonBody(frame) as WireError);
}

function checksumsOf(data: Buffer): Buffer {
  const count = Math.ceil(data.byteLength / blockSizeBytes);
  const checksums = Buffer.alloc(count * 8);
  for (let i = 0; i < count; i += 1) checksums.writeBigUInt64LE(blockChecksum(data.subarray(i * blockSizeBytes, (i + 1) * blockSizeBytes)), i * 8);
  return checksums;
}

function writeHeaderFrame(objectVersionId: string): Buffer {
  return encodeJsonFrame(ShardDataFrameType.writeHeader, { shardId: { objectVersionId, shardIndex: 0 }, blockSizeBytes, checksumAlgorithm: 'xxh3-64', expectedShardSizeBytes: 0 });
}

describe('one port, two protocols', () => {
  let fixture: NodeFixture;
  let grpcClient: StorageNodeClient;
  beforeAll(async () => {
    fixture = await startNodeFixture();
    grpcClient = new StorageNodeClient({ address: fixture.node.grpcAddress, shardTransport: 'grpc' });
  });
  afterAll(async () => {
    grpcClient.close();
    await fixture.close();
  });

  it('a shard written over either protocol reads back byte for byte over the other', async () => {
    const viaData = randomShardBytes(blockSizeBytes * 7 + 123, 1);
    const viaGrpc = randomShardBytes(blockSizeBytes * 5 + 9, 2);
    const a = await fixture.client.writeShard({ shardId: shardIdOf('via-data'), blockSizeBytes, source: { kind: 'bytes', chunks: chunksOf(viaData, 10_000) } });
    const b = await grpcClient.writeShard({ shardId: shardIdOf('via-grpc'), blockSizeBytes, source: { kind: 'bytes', chunks: chunksOf(viaGrpc, 10_000) } });
    expect(a).toMatchObject({ shardSizeBytes: viaData.byteLength, blockCount: 8, checksumAlgorithm: 'xxh3-64' });
    expect(b).toMatchObject({ shardSizeBytes: viaGrpc.byteLength, blockCount: 6 });
    expect((await grpcClient.readShardToBuffer(shardIdOf('via-data'))).equals(viaData)).toBe(true);
    expect((await fixture.client.readShardToBuffer(shardIdOf('via-grpc'))).equals(viaGrpc)).toBe(true);
    const ranged = await fixture.client.readShardToBuffer(shardIdOf('via-grpc'), { offsetBytes: blockSizeBytes - 5, lengthBytes: blockSizeBytes + 10 });
    expect(ranged.equals(viaGrpc.subarray(blockSizeBytes - 5, 2 * blockSizeBytes + 5))).toBe(true);
    // Unary calls still go over gRPC on the same port.
    expect((await fixture.client.statShard(shardIdOf('via-data'))).shardSizeBytes).toBe(viaData.byteLength);
  });

  it('a read error (unknown shard) is typed, and the same connection serves the next read', async () => {
    const bytes = randomShardBytes(blockSizeBytes * 2, 3);
    await fixture.client.writeShard({ shardId: shardIdOf('known'), blockSizeBytes, source: { kind: 'bytes', chunks: [bytes] } });
    const raw = await rawConnect(fixture.node.grpcAddress);
    raw.socket.write(encodeJsonFrame(ShardDataFrameType.read, { shardId: { objectVersionId: 'unknown', shardIndex: 0 }, offsetBytes: 0, lengthBytes: 0 }));
    expect(errorOf(await raw.nextFrame())).toBeInstanceOf(ShardNotFoundError);
    raw.socket.write(encodeJsonFrame(ShardDataFrameType.read, { shardId: { objectVersionId: 'known', shardIndex: 0 }, offsetBytes: 0, lengthBytes: 0 }));
    const parts: Buffer[] = [];
    for (let frame = await raw.nextFrame(); frame !== 'closed' && frame.type !== ShardDataFrameType.readEnd; frame = await raw.nextFrame()) {
      expect(frame.type).toBe(ShardDataFrameType.readData);
      parts.push(frame.body.subarray(8));
    }
    expect(Buffer.concat(parts).equals(bytes)).toBe(true);
    raw.socket.write(encodeFrameHeader(ShardDataFrameType.ping, 0));
    expect(await raw.nextFrame()).toMatchObject({ type: ShardDataFrameType.pong });
    raw.socket.destroy();
  });

  it('falls back to gRPC for a node that does not speak the shard data protocol (an older node)', async () => {
    // An older node: the same service over a plain grpc-js server, HTTP/2 only.
    const dataDir = await makeTempDir();
    const store = new FsShardStore({ dataDir, nodeId: 'old-node', capacityBytes: undefined, shardSizeBytesMax: 1 << 30, blockSizeBytesMax: 1 << 20, readSizeBytesTarget: 1 << 20, logger: silentLogger });
    await store.start();
    const service = new StorageNodeService(store, createStorageNodeMetrics(new Registry(), store), silentLogger, systemClock, {
      nodeId: 'old-node',
      zone: 'z',
      version: 'old',
      startedAtMs: 0,
      concurrentStreamCountMax: 8,
      writeIdleTimeoutMs: 5_000,
    });
    const server = new grpc.Server();
    server.addService(storageNodeServiceDefinition(), service.handlers());
    const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
    const client = new StorageNodeClient({ address: `127.0.0.1:${port}` });
    try {
      const bytes = randomShardBytes(blockSizeBytes * 3 + 1, 4);
      await client.writeShard({ shardId: shardIdOf('old'), blockSizeBytes, source: { kind: 'bytes', chunks: [bytes] } });
      expect((await client.readShardToBuffer(shardIdOf('old'))).equals(bytes)).toBe(true);
    } finally {
      client.close();
      server.forceShutdown();
      await store.stop();
    }
  });
});

describe('bad input and vanishing clients on the data protocol', () => {
  let fixture: NodeFixture;
  beforeAll(async () => {
    fixture = await startNodeFixture({ concurrentStreamCountMax: 2, writeIdleTimeoutMs: 300, blockSizeBytesMax: 1 << 20 });
  });
  afterAll(async () => {
    await fixture.close();
  });
  const openStreams = async (kind: string, count: number): Promise<boolean> =>
    (await fixture.node.registry.getSingleMetricAsString('storage_node_open_streams')).includes(`kind="${kind}"} ${count}`);

  it('a wrong hello gets the node hello and a closed connection; the node keeps serving', async () => {
    const raw = await rawConnect(fixture.node.grpcAddress, Buffer.from('TSHARD\x00\x09', 'latin1'));
    expect(decodeShardDataHello(raw.nodeHello)).toBe(1);
    await raw.closed;
    const garbage = await rawConnect(fixture.node.grpcAddress, Buffer.from('Tnonsense', 'latin1'));
    await garbage.closed;
    await fixture.client.writeShard({ shardId: shardIdOf('after-garbage'), blockSizeBytes, source: { kind: 'bytes', chunks: [randomShardBytes(100, 5)] } });
  });

  it('an unknown frame, an oversized frame and a malformed header are INVALID_ARGUMENT, then the connection closes', async () => {
    const unknown = await rawConnect(fixture.node.grpcAddress);
    unknown.socket.write(encodeFrameHeader(0x42 as never, 0));
    expect(errorOf(await unknown.nextFrame())).toBeInstanceOf(InvalidShardRequestError);
    expect(await unknown.nextFrame()).toBe('closed');

    const oversized = await rawConnect(fixture.node.grpcAddress);
    const header = Buffer.alloc(5);
    header.writeUInt32LE(0xffff_fff0, 0);
    header[4] = ShardDataFrameType.writeBlocks;
    oversized.socket.write(header);
    expect(errorOf(await oversized.nextFrame()).message).toMatch(/over the limit/);
    expect(await oversized.nextFrame()).toBe('closed');

    for (const body of ['{"shardId":{"objectVersionId":"../x","shardIndex":0},"blockSizeBytes":1024,"checksumAlgorithm":"xxh3-64"}', '{"shardId":{}}', '[1,2]', '{broken']) {
      const malformed = await rawConnect(fixture.node.grpcAddress);
      const frame = Buffer.concat([encodeFrameHeader(ShardDataFrameType.writeHeader, Buffer.byteLength(body)), Buffer.from(body)]);
      malformed.socket.write(frame);
      expect(errorOf(await malformed.nextFrame())).toBeInstanceOf(InvalidShardRequestError);
      expect(await malformed.nextFrame()).toBe('closed');
    }
    expect(await listFiles(`${fixture.dataDir}/tmp`)).toEqual([]);
  });

  it('a block with a bad checksum is refused (DATA_LOSS) and nothing is kept', async () => {
    const raw = await rawConnect(fixture.node.grpcAddress);
    const data = randomShardBytes(blockSizeBytes * 2, 6);
    const checksums = checksumsOf(data);
    checksums.writeUInt8(checksums.readUInt8(9) ^ 0xff, 9);
    raw.socket.write(writeHeaderFrame('bad-checksum'));
    raw.socket.write(Buffer.concat([encodeWriteBlocksHead(checksums, data.byteLength), data]));
    const err = errorOf(await raw.nextFrame());
    expect(err.name).toBe('ShardChecksumMismatchError');
    expect(await raw.nextFrame()).toBe('closed');
    await waitFor(async () => (await listFiles(`${fixture.dataDir}/tmp`)).length === 0);
    expect(await expectRejects(fixture.client.statShard(shardIdOf('bad-checksum')))).toBeInstanceOf(ShardNotFoundError);
  });

  it('a connection dropped mid-write leaves no temp file and no shard, and frees its slot', async () => {
    const raw = await rawConnect(fixture.node.grpcAddress);
    const data = randomShardBytes(blockSizeBytes * 4, 7);
    raw.socket.write(writeHeaderFrame('dropped'));
    raw.socket.write(Buffer.concat([encodeWriteBlocksHead(checksumsOf(data), data.byteLength), data]));
    await waitFor(async () => (await listFiles(`${fixture.dataDir}/tmp`)).length === 1);
    raw.socket.destroy();
    await waitFor(async () => (await listFiles(`${fixture.dataDir}/tmp`)).length === 0);
    await waitFor(() => openStreams('write', 0));
    expect(await expectRejects(fixture.client.statShard(shardIdOf('dropped')))).toBeInstanceOf(ShardNotFoundError);
  });

  it('a writer that goes silent is answered ShardStreamIdleError after the idle timeout; nothing kept', async () => {
    const raw = await rawConnect(fixture.node.grpcAddress);
    raw.socket.write(writeHeaderFrame('silent'));
    expect(errorOf(await raw.nextFrame())).toBeInstanceOf(ShardStreamIdleError);
    await waitFor(async () => (await listFiles(`${fixture.dataDir}/tmp`)).length === 0);
    await waitFor(() => openStreams('write', 0));
    raw.socket.destroy();
  });

  it('a reader that stops reading is dropped after the idle timeout and frees its slot', async () => {
    // Larger than the loopback socket buffers on both ends plus the node's own queue.
    const bytes = randomShardBytes(24 << 20, 8);
    await fixture.client.writeShard({ shardId: shardIdOf('stalled-reader'), blockSizeBytes: 1 << 20, source: { kind: 'bytes', chunks: [bytes] } });
    const raw = await rawConnect(fixture.node.grpcAddress);
    raw.socket.pause();
    raw.socket.write(encodeJsonFrame(ShardDataFrameType.read, { shardId: { objectVersionId: 'stalled-reader', shardIndex: 0 }, offsetBytes: 0, lengthBytes: 0 }));
    await waitFor(() => openStreams('read', 1));
    await waitFor(() => openStreams('read', 0));
    raw.socket.resume();
    await raw.closed;
    // The slot is free again: a whole read succeeds.
    expect((await fixture.client.readShardToBuffer(shardIdOf('stalled-reader'))).equals(bytes)).toBe(true);
  });

  it('a busy node refuses a write with StorageNodeBusyError through the client, which stays usable', async () => {
    const holders = await Promise.all([0, 1].map(() => rawConnect(fixture.node.grpcAddress)));
    holders.forEach((raw, i) => raw.socket.write(encodeJsonFrame(ShardDataFrameType.writeHeader, { shardId: { objectVersionId: `hold-${i}`, shardIndex: 0 }, blockSizeBytes, checksumAlgorithm: 'xxh3-64' })));
    await waitFor(() => openStreams('write', 2));
    const err = await expectRejects(fixture.client.writeShard({ shardId: shardIdOf('refused'), blockSizeBytes, source: { kind: 'bytes', chunks: [randomShardBytes(1000, 9)] } }));
    expect(err.name).toBe('StorageNodeBusyError');
    for (const raw of holders) raw.socket.destroy();
    await waitFor(() => openStreams('write', 0));
    const bytes = randomShardBytes(blockSizeBytes + 1, 10);
    await fixture.client.writeShard({ shardId: shardIdOf('accepted'), blockSizeBytes, source: { kind: 'bytes', chunks: [bytes] } });
    expect((await fixture.client.readShardToBuffer(shardIdOf('accepted'))).equals(bytes)).toBe(true);
  });
});

describe('memory', () => {
  let fixture: NodeFixture;
  beforeAll(async () => {
    fixture = await startNodeFixture();
  });
  afterAll(async () => {
    await fixture.close();
  });

  it('blocks written through a pooled connection become garbage once their writes are done', async () => {
    // A write used to race each block against a promise living as long as the connection,
    // which kept every block ever sent on it reachable: 5 GB of gateway RSS after a few minutes.
    const v8 = await import('node:v8');
    const vm = await import('node:vm');
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    const refs: WeakRef<Buffer>[] = [];
    for (let i = 0; i < 12; i += 1) {
      const blocks = [0, 1, 2].map((b) => {
        const data = randomShardBytes(blockSizeBytes, i * 10 + b);
        refs.push(new WeakRef(data));
        return { data, checksum: blockChecksum(data) };
      });
      await fixture.client.writeShard({ shardId: shardIdOf(`gc-${i}`), blockSizeBytes, source: { kind: 'blocks', blocks } });
    }
    for (let i = 0; i < 5 && refs.slice(0, -3).some((ref) => ref.deref() !== undefined); i += 1) {
      await new Promise((resolve) => setImmediate(resolve));
      gc();
    }
    // The socket may still hold its last write's buffers; nothing older may survive.
    const retained = refs.flatMap((ref, index) => (ref.deref() === undefined ? [] : [index]));
    expect(retained.filter((index) => index < refs.length - 3)).toEqual([]);
    // The connection was reused, not reopened per write, so this covered the pooled case.
    expect((await fixture.client.readShardToBuffer(shardIdOf('gc-11'))).byteLength).toBe(3 * blockSizeBytes);
  });
});

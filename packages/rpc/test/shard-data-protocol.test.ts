// Goal: the shard data protocol's framing survives any cutting of the byte stream and refuses
// what would break it. Method: encode real frames, feed the decoder the concatenation cut at
// every byte boundary and in random chunkings, and compare frames and bodies exactly.
import { SeededRandom } from '@tessera/common';
import {
  ShardDataFrameDecoder,
  ShardDataFrameType,
  ShardDataProtocolError,
  decodeJsonBody,
  decodeReadData,
  decodeShardDataHello,
  decodeWriteBlocks,
  encodeJsonFrame,
  encodeReadDataHead,
  encodeShardDataHello,
  encodeWriteBlocksHead,
  mayStartShardDataHello,
  shardDataProtocolVersion,
  type ShardDataFrame,
} from '../src/index';

function sampleStream(): { bytes: Buffer; expected: { type: number; body: Buffer }[] } {
  const data = Buffer.alloc(70_001);
  new SeededRandom(7).fillBytes(data);
  const checksums = Buffer.from('0102030405060708a1a2a3a4a5a6a7a8', 'hex');
  const header = encodeJsonFrame(ShardDataFrameType.writeHeader, { shardId: { objectVersionId: 'v1', shardIndex: 3 }, blockSizeBytes: 65536 });
  const blocksHead = encodeWriteBlocksHead(checksums, data.byteLength);
  const readHead = encodeReadDataHead(2 ** 33 + 5, 3);
  const pong = encodeJsonFrame(ShardDataFrameType.pong);
  const bytes = Buffer.concat([header, blocksHead, data, readHead, Buffer.from([9, 8, 7]), pong]);
  const blocksBody = Buffer.concat([blocksHead.subarray(5), data]);
  return {
    bytes,
    expected: [
      { type: ShardDataFrameType.writeHeader, body: header.subarray(5) },
      { type: ShardDataFrameType.writeBlocks, body: blocksBody },
      { type: ShardDataFrameType.readData, body: Buffer.concat([readHead.subarray(5), Buffer.from([9, 8, 7])]) },
      { type: ShardDataFrameType.pong, body: Buffer.alloc(0) },
    ],
  };
}

function decodeAll(chunks: Buffer[]): ShardDataFrame[] {
  const decoder = new ShardDataFrameDecoder(1 << 20);
  const frames = chunks.flatMap((chunk) => decoder.push(chunk));
  expect(decoder.pendingBytes).toBe(0);
  return frames;
}

describe('shard data framing', () => {
  it('decodes the same frames whatever the cut of the stream (every split point, random chunkings)', () => {
    const { bytes, expected } = sampleStream();
    const check = (frames: ShardDataFrame[]): void => {
      expect(frames.map((f) => f.type)).toEqual(expected.map((f) => f.type));
      frames.forEach((frame, i) => expect(frame.body.equals(expected[i]!.body)).toBe(true));
    };
    check(decodeAll([bytes]));
    for (let cut = 1; cut < 200; cut += 1) check(decodeAll([bytes.subarray(0, cut), bytes.subarray(cut)]));
    for (const cut of [70_000, 70_030, bytes.byteLength - 3]) check(decodeAll([bytes.subarray(0, cut), bytes.subarray(cut)]));
    const random = new SeededRandom(11);
    for (let round = 0; round < 50; round += 1) {
      const chunks: Buffer[] = [];
      for (let offset = 0; offset < bytes.byteLength; ) {
        const size = 1 + random.nextInt(9000);
        chunks.push(bytes.subarray(offset, offset + size));
        offset += size;
      }
      check(decodeAll(chunks));
    }
  });

  it('frame bodies decode to what was encoded (blocks, read data past 4 GiB, JSON)', () => {
    const { bytes } = sampleStream();
    const [header, blocks, readData] = decodeAll([bytes]);
    expect(decodeJsonBody(header!)).toEqual({ shardId: { objectVersionId: 'v1', shardIndex: 3 }, blockSizeBytes: 65536 });
    const decodedBlocks = decodeWriteBlocks(blocks!);
    expect(decodedBlocks.checksums.toString('hex')).toBe('0102030405060708a1a2a3a4a5a6a7a8');
    expect(decodedBlocks.data.byteLength).toBe(70_001);
    const decodedRead = decodeReadData(readData!);
    expect(decodedRead.offsetBytes).toBe(2 ** 33 + 5);
    expect([...decodedRead.data]).toEqual([9, 8, 7]);
  });

  it('refuses a frame over the size limit before buffering it, and malformed bodies', () => {
    const decoder = new ShardDataFrameDecoder(1024);
    const header = Buffer.alloc(5);
    header.writeUInt32LE(1025, 0);
    header[4] = ShardDataFrameType.writeBlocks;
    expect(() => decoder.push(header)).toThrow(ShardDataProtocolError);
    const notJson = { type: ShardDataFrameType.writeHeader, body: Buffer.from('{nope') };
    expect(() => decodeJsonBody(notJson)).toThrow(ShardDataProtocolError);
    const badBlocks = Buffer.alloc(8);
    badBlocks.writeUInt32LE(100, 0);
    expect(() => decodeWriteBlocks({ type: ShardDataFrameType.writeBlocks, body: badBlocks })).toThrow(/checksums run past/);
    expect(() => decodeReadData({ type: ShardDataFrameType.readData, body: Buffer.alloc(3) })).toThrow(/too short/);
  });

  it('the hello carries the version and cannot be confused with the HTTP/2 preface', () => {
    const hello = encodeShardDataHello();
    expect(hello.byteLength).toBe(8);
    expect(decodeShardDataHello(hello)).toBe(shardDataProtocolVersion);
    expect(decodeShardDataHello(encodeShardDataHello(7))).toBe(7);
    expect(decodeShardDataHello(Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'))).toBeUndefined();
    expect(decodeShardDataHello(hello.subarray(0, 5))).toBeUndefined();
    expect(mayStartShardDataHello(hello[0]!)).toBe(true);
    expect(mayStartShardDataHello('P'.charCodeAt(0))).toBe(false);
  });
});

// Goal: the hand-written encoders for the hot messages (@tessera/rpc storage-node-codec) emit
// exactly what the standard protobuf encoding means, so any gRPC client or server interoperates.
// Method: fast-check random pieces, offsets and checksums; decode the bytes with the generic
// protobufjs-based deserializer from the proto loader and compare field by field.
import fc from 'fast-check';
import type * as grpc from '@grpc/grpc-js';
import { encodeReadShardResponse, encodeWriteShardBlocks, storageNodeServiceDefinition } from '@tessera/rpc';

const definition = storageNodeServiceDefinition() as unknown as Record<string, grpc.MethodDefinition<unknown, unknown>>;
const writeMethod = definition['WriteShard']!;
const readMethod = definition['ReadShard']!;
const piecesArb = fc.array(fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)), { maxLength: 6 });

describe('storage node wire codec', () => {
  it('WriteShardRequest{blocks} decodes to the concatenated pieces and the checksums', () => {
    fc.assert(
      fc.property(piecesArb, fc.uint8Array({ maxLength: 64 }), (pieces, checksums) => {
        const encoded = writeMethod.requestSerialize(encodeWriteShardBlocks(pieces, Buffer.from(checksums)));
        const decoded = writeMethod.requestDeserialize(encoded) as { part: string; blocks: { data: Buffer; blockChecksums: Buffer } };
        expect(decoded.part).toBe('blocks');
        expect(decoded.blocks.data.equals(Buffer.concat(pieces))).toBe(true);
        expect(decoded.blocks.blockChecksums.equals(Buffer.from(checksums))).toBe(true);
      }),
    );
  });

  it('ReadShardResponse decodes to the offset (up to 2^53) and the concatenated pieces', () => {
    fc.assert(
      fc.property(piecesArb, fc.oneof(fc.integer({ min: 0, max: 300 }), fc.maxSafeNat()), (pieces, offsetBytes) => {
        const encoded = readMethod.responseSerialize(encodeReadShardResponse(offsetBytes, pieces));
        const decoded = readMethod.responseDeserialize(encoded) as { offsetBytes: number; data: Buffer };
        expect(decoded.offsetBytes).toBe(offsetBytes);
        expect(decoded.data.equals(Buffer.concat(pieces))).toBe(true);
      }),
    );
  });

  it('plain objects still go through the generic encoder', () => {
    const encoded = writeMethod.requestSerialize({ finish: { shardSizeBytes: 5, blockCount: 1 } });
    expect(writeMethod.requestDeserialize(encoded)).toMatchObject({ part: 'finish', finish: { shardSizeBytes: 5, blockCount: 1 } });
  });
});

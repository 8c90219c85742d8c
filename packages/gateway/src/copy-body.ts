/**
 * A server-side copy reads the source through the data path and writes it as a new body; this
 * wraps the source stream as a `VerifiedBody`, so backends see copies and uploads alike (MD5 and
 * checksums computed while streaming, length checked at the end).
 */
import { Readable } from 'node:stream';
import type { ObjectReader } from './backend';
import type { ChecksumAlgorithm } from './checksums';
import { createVerifiedBody } from './request-body';
import type { VerifiedBody } from './request-body';

async function* emptyStream(): AsyncIterable<Uint8Array> {
  // A zero-byte object has no byte range to read.
}

export function copyBody(
  reader: ObjectReader,
  range: { startByte: number; endByteInclusive: number } | undefined,
  checksumAlgorithms: readonly ChecksumAlgorithm[],
): VerifiedBody {
  const startByte = range?.startByte ?? 0;
  const endByteInclusive = range?.endByteInclusive ?? reader.info.sizeBytes - 1;
  const sizeBytes = endByteInclusive - startByte + 1;
  const source = sizeBytes === 0 ? emptyStream() : reader.read(startByte, endByteInclusive);
  return createVerifiedBody(
    Readable.from(source, { objectMode: false }),
    {
      payload: { kind: 'unsigned' },
      sizeBytes,
      contentMd5Hex: undefined,
      checksumsExpected: new Map(),
      checksumsComputed: checksumAlgorithms,
      declaredTrailers: [],
    },
    { sizeBytesMax: sizeBytes, chunkSizeBytesMax: 0 },
  );
}

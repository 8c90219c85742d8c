/**
 * Default limits, each S3's own unless noted. Validated together by `validateGatewayLimits`.
 */
import { assert } from '@tessera/common';
import type { GatewayLimits } from './handler-context';
import { partSizeBytesMax, partSizeBytesMin, putObjectSizeBytesMax } from './multipart';

export const defaultGatewayLimits: GatewayLimits = {
  putObjectSizeBytesMax,
  partSizeBytesMax,
  partSizeBytesMin,
  // Ours: signed chunks are buffered whole before their signature is checked; SDKs and the
  // CLI use 64 KiB chunks, so 16 MiB leaves ample room while bounding memory per upload.
  chunkSizeBytesMax: 16 * 1024 * 1024,
  copySizeBytesMax: putObjectSizeBytesMax,
  // Ours (S3 closes idle connections sooner, after about 20 s): a GET whose client stops
  // reading holds up to three read windows of the gateway-wide read budget until it is cut.
  responseStallMsMax: 60_000,
};

export function validateGatewayLimits(limits: GatewayLimits): void {
  assert(limits.partSizeBytesMin > 0, 'partSizeBytesMin > 0');
  // A multipart upload must be able to carry its minimum part.
  assert(limits.partSizeBytesMin <= limits.partSizeBytesMax, 'partSizeBytesMin <= partSizeBytesMax');
  // The signed-chunk minimum (8 KiB) must fit in a chunk.
  assert(limits.chunkSizeBytesMax >= 8192, 'chunkSizeBytesMax >= 8 KiB');
  assert(limits.putObjectSizeBytesMax > 0, 'putObjectSizeBytesMax > 0');
  assert(limits.copySizeBytesMax > 0, 'copySizeBytesMax > 0');
  assert(limits.responseStallMsMax > 0, 'responseStallMsMax > 0');
}

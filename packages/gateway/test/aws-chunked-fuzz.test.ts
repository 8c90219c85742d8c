/**
 * Goal: the aws-chunked decoder never passes on bytes the client did not sign. Method:
 * fast-check generates payloads, chunk sizes and arbitrary input splits; a correctly signed
 * body (built by the independent test signer) must decode to exactly the payload, and the same
 * body with any one byte changed must either be refused or still decode to exactly the payload
 * (a change that does not alter meaning, such as the case of a hex digit), never to other bytes.
 */
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { AwsChunkedDecoder } from '../src/auth/aws-chunked-decoder';
import { awsChunkedBody, signingKeyOf } from './support/sigv4-test-signer';
import type { SignedRequest } from './support/sigv4-test-signer';

const amzDate = '20240102T030405Z';
const scope = '20240102/us-east-1/s3/aws4_request';
const seedSignature = 'a'.repeat(64);
const signingKey = signingKeyOf('fuzz-secret', '20240102', 'us-east-1');
const signed: SignedRequest = { path: '/', headers: {}, signature: seedSignature, signingKey, scope, amzDate };

async function decode(encoded: Buffer, cuts: readonly number[], trailer: boolean, declared: readonly string[]): Promise<Buffer> {
  const points = [...new Set(cuts.map((cut) => cut % (encoded.length + 1)))].sort((a, b) => a - b);
  const pieces: Buffer[] = [];
  let start = 0;
  for (const point of [...points, encoded.length]) {
    pieces.push(encoded.subarray(start, point));
    start = point;
  }
  const decoder = new AwsChunkedDecoder({
    signing: { signingKey, scope: { date: '20240102', region: 'us-east-1', service: 's3' }, amzDate, seedSignature },
    trailer,
    declaredTrailers: declared,
    chunkSizeBytesMax: 1 << 20,
  });
  const out: Buffer[] = [];
  for await (const part of Readable.from(pieces.filter((p) => p.length > 0)).pipe(decoder)) out.push(part as Buffer);
  return Buffer.concat(out);
}

const payloadArbitrary = fc.uint8Array({ maxLength: 40_000 }).map((bytes) => Buffer.from(bytes));
const chunkSizeArbitrary = fc.integer({ min: 8192, max: 20_000 });
const cutsArbitrary = fc.array(fc.nat(), { maxLength: 8 });

test('signed bodies decode exactly, however the input is split', async () => {
  await fc.assert(
    fc.asyncProperty(payloadArbitrary, chunkSizeArbitrary, cutsArbitrary, fc.boolean(), async (payload, chunkSizeBytes, cuts, withTrailer) => {
      const trailers = withTrailer ? { 'x-amz-checksum-crc32': 'AAAAAA==' } : undefined;
      const encoded = awsChunkedBody(payload, signed, { chunkSizeBytes, signed: true, ...(trailers === undefined ? {} : { trailers }) });
      const decoded = await decode(encoded, cuts, withTrailer, withTrailer ? ['x-amz-checksum-crc32'] : []);
      expect(decoded.equals(payload)).toBe(true);
    }),
    { numRuns: 60 },
  );
});

test('one changed byte anywhere is refused or harmless, never different bytes', async () => {
  await fc.assert(
    fc.asyncProperty(payloadArbitrary, chunkSizeArbitrary, fc.nat(), fc.integer({ min: 1, max: 255 }), cutsArbitrary, async (payload, chunkSizeBytes, position, flip, cuts) => {
      const encoded = awsChunkedBody(payload, signed, { chunkSizeBytes, signed: true, trailers: { 'x-amz-checksum-crc32': 'AAAAAA==' } });
      const tampered = Buffer.from(encoded);
      const index = position % tampered.length;
      tampered[index] = (tampered[index] as number) ^ flip;
      let decoded: Buffer | undefined;
      try {
        decoded = await decode(tampered, cuts, true, ['x-amz-checksum-crc32']);
      } catch {
        return;
      }
      expect(decoded.equals(payload)).toBe(true);
    }),
    { numRuns: 200 },
  );
});

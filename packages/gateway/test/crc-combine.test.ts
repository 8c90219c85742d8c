/**
 * Goal: combined CRCs equal the CRC of the concatenation, for every CRC S3 combines.
 * Method: fast-check over random splits of random data, compared with computeChecksum.
 */
import fc from 'fast-check';
import { computeChecksum } from '../src/checksums';
import { combineCrc } from '../src/crc-combine';

test.each(['CRC32', 'CRC32C', 'CRC64NVME'] as const)('%s: combine(crc(A), crc(B), |B|) = crc(A ‖ B)', (algorithm) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 2000 }), fc.uint8Array({ maxLength: 2000 }), (a, b) => {
      const combined = combineCrc(algorithm, computeChecksum(algorithm, a), computeChecksum(algorithm, b), b.length);
      expect(combined).toBe(computeChecksum(algorithm, Buffer.concat([a, b])));
    }),
    { numRuns: 150 },
  );
});

test('folding over many parts gives the whole-object CRC', () => {
  const parts = [Buffer.alloc(5000, 1), Buffer.alloc(0), Buffer.alloc(123, 7), Buffer.from('tail')];
  let crc = computeChecksum('CRC64NVME', parts[0] ?? Buffer.alloc(0));
  for (const part of parts.slice(1)) crc = combineCrc('CRC64NVME', crc, computeChecksum('CRC64NVME', part), part.length);
  expect(crc).toBe(computeChecksum('CRC64NVME', Buffer.concat(parts)));
});

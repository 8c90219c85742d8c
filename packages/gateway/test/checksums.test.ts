/**
 * Goal: every flexible checksum and ETag is computed exactly as AWS computes it, incrementally.
 * Method: published check values ("123456789"), the AWS SDK's own checksum implementations
 * (@aws-sdk/checksums) as a reference on random inputs split at random points (fast-check),
 * and a naive bitwise CRC-64/NVME as a second reference for our slicing-by-8 table.
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { Crc32, Crc32c, Crc64Nvme as SdkCrc64Nvme } from '@aws-sdk/checksums/crc';
import {
  checksumAlgorithmOfHeader,
  compositeChecksum,
  computeChecksum,
  createChecksum,
  isWellFormedChecksum,
  multipartEtag,
  parseContentMd5,
} from '../src/checksums';
import type { ChecksumAlgorithm } from '../src/checksums';
import { Crc64Nvme, crc64NvmeBitwise } from '../src/crc64-nvme';

const check = Buffer.from('123456789');

async function sdkChecksum(algorithm: ChecksumAlgorithm, data: Uint8Array): Promise<string> {
  switch (algorithm) {
    case 'CRC32': {
      const c = new Crc32();
      c.update(data);
      return Buffer.from(await c.digest()).toString('base64');
    }
    case 'CRC32C': {
      const c = new Crc32c();
      c.update(data);
      return Buffer.from(await c.digest()).toString('base64');
    }
    case 'CRC64NVME': {
      const c = new SdkCrc64Nvme();
      c.update(data);
      return Buffer.from(await c.digest()).toString('base64');
    }
    case 'SHA1':
      return createHash('sha1').update(data).digest('base64');
    case 'SHA256':
      return createHash('sha256').update(data).digest('base64');
  }
}

describe('check values for "123456789"', () => {
  test.each([
    ['CRC32', 'cbf43926'],
    ['CRC32C', 'e3069283'],
    ['CRC64NVME', 'ae8b14860a799888'],
  ] as const)('%s = 0x%s', (algorithm, hex) => {
    expect(Buffer.from(computeChecksum(algorithm, check), 'base64').toString('hex')).toBe(hex);
  });

  test('CRC-64/NVME bitwise reference agrees', () => {
    expect(crc64NvmeBitwise(check)).toBe(0xae8b14860a799888n);
    expect(crc64NvmeBitwise(new Uint8Array())).toBe(0n);
  });
});

describe('incremental computation', () => {
  test.each(['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'] as const)('%s split at arbitrary points equals the AWS SDK on the whole input', async (algorithm) => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 3000 }), fc.array(fc.nat({ max: 3000 }), { maxLength: 6 }), async (data, cuts) => {
        const checksum = createChecksum(algorithm);
        const points = [...new Set(cuts.map((cut) => cut % (data.length + 1)))].sort((a, b) => a - b);
        let start = 0;
        for (const point of [...points, data.length]) {
          checksum.update(data.subarray(start, point));
          start = point;
        }
        expect(checksum.digestBase64()).toBe(await sdkChecksum(algorithm, data));
      }),
      { numRuns: 100 },
    );
  });

  test('slicing-by-8 CRC-64/NVME equals the bitwise reference for every length up to 64 and random data', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (data) => {
        const fast = new Crc64Nvme().update(data).digest().readBigUInt64BE(0);
        expect(fast).toBe(crc64NvmeBitwise(data));
      }),
      { numRuns: 300 },
    );
  });
});

describe('ETags and digests', () => {
  test('multipart ETag is MD5 of the concatenated binary part MD5s plus -N', () => {
    const parts = [Buffer.from('part one'), Buffer.from('part two'), Buffer.from('3')];
    const md5s = parts.map((p) => createHash('md5').update(p).digest());
    const expected = `${createHash('md5').update(Buffer.concat(md5s)).digest('hex')}-3`;
    expect(multipartEtag(md5s.map((m) => m.toString('hex')))).toBe(expected);
  });

  test('composite checksum is the checksum of the concatenated part checksums plus -N', () => {
    const parts = ['a', 'bb'].map((p) => computeChecksum('CRC32', Buffer.from(p)));
    const expected = `${computeChecksum('CRC32', Buffer.concat(parts.map((p) => Buffer.from(p, 'base64'))))}-2`;
    expect(compositeChecksum('CRC32', parts)).toBe(expected);
  });

  test('Content-MD5 must be base64 of 16 bytes', () => {
    const md5 = createHash('md5').update('x').digest();
    expect(parseContentMd5(md5.toString('base64'))).toBe(md5.toString('hex'));
    expect(() => parseContentMd5('abc')).toThrow(expect.objectContaining({ code: 'InvalidDigest' }));
    expect(() => parseContentMd5(Buffer.alloc(15).toString('base64'))).toThrow(expect.objectContaining({ code: 'InvalidDigest' }));
  });

  test('checksum values must have the digest length of their algorithm', () => {
    expect(isWellFormedChecksum('CRC32', computeChecksum('CRC32', check))).toBe(true);
    expect(isWellFormedChecksum('CRC64NVME', computeChecksum('CRC32', check))).toBe(false);
    expect(isWellFormedChecksum('SHA256', 'not base64!')).toBe(false);
    expect(checksumAlgorithmOfHeader('X-Amz-Checksum-CRC64NVME')).toBe('CRC64NVME');
    expect(checksumAlgorithmOfHeader('x-amz-checksum-md5')).toBeUndefined();
  });
});

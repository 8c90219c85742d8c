/**
 * Combining CRCs of concatenated data: crc(A ‖ B) from crc(A), crc(B) and |B|, for the reflected
 * CRCs S3 uses (CRC32, CRC32C, CRC64NVME; all with initial value and final XOR all ones). This is
 * how a multipart upload gets a FULL_OBJECT checksum without re-reading the object. The method is
 * zlib's crc32_combine (multiplication by x^(8·|B|) modulo the polynomial, by repeated squaring),
 * generalised to 64 bits with BigInt; it runs once per part, so speed does not matter.
 */
import type { ChecksumAlgorithm } from './checksums';

interface CrcParameters {
  readonly widthBits: bigint;
  /** The polynomial in reflected (LSB-first) form. */
  readonly polynomialReflected: bigint;
}

const parameters: Partial<Record<ChecksumAlgorithm, CrcParameters>> = {
  CRC32: { widthBits: 32n, polynomialReflected: 0xedb88320n },
  CRC32C: { widthBits: 32n, polynomialReflected: 0x82f63b78n },
  CRC64NVME: { widthBits: 64n, polynomialReflected: 0x9a6c9329ac4bc9b5n },
};

export function isCombinableCrc(algorithm: ChecksumAlgorithm): boolean {
  return parameters[algorithm] !== undefined;
}

/** a·b modulo the polynomial, both in reflected form. */
function multiplyModP(a: bigint, b: bigint, crc: CrcParameters): bigint {
  let m = 1n << (crc.widthBits - 1n);
  let product = 0n;
  let multiplicand = b;
  while (m !== 0n) {
    if ((a & m) !== 0n) product ^= multiplicand;
    m >>= 1n;
    multiplicand = (multiplicand & 1n) !== 0n ? (multiplicand >> 1n) ^ crc.polynomialReflected : multiplicand >> 1n;
  }
  return product;
}

/** x^(8·byteCount) modulo the polynomial, in reflected form. */
function xPowerOfBytes(byteCount: number, crc: CrcParameters): bigint {
  let result = 1n << (crc.widthBits - 1n); // x^0
  let square = 1n << (crc.widthBits - 2n); // x^1
  // x^(2^3) = x^8: one byte.
  for (let i = 0; i < 3; i += 1) square = multiplyModP(square, square, crc);
  let remaining = BigInt(byteCount);
  while (remaining > 0n) {
    if ((remaining & 1n) !== 0n) result = multiplyModP(square, result, crc);
    square = multiplyModP(square, square, crc);
    remaining >>= 1n;
  }
  return result;
}

function toBigInt(bytes: Buffer): bigint {
  return BigInt(`0x${bytes.toString('hex') || '0'}`);
}

function toBytes(value: bigint, widthBits: bigint): Buffer {
  return Buffer.from(value.toString(16).padStart(Number(widthBits / 4n), '0'), 'hex');
}

/** crc(A ‖ B) as base64, from base64 crc(A), base64 crc(B) and the length of B in bytes. */
export function combineCrc(algorithm: ChecksumAlgorithm, crcA: string, crcB: string, lengthBBytes: number): string {
  const crc = parameters[algorithm];
  if (crc === undefined) throw new Error(`${algorithm} is not a combinable CRC`);
  const a = toBigInt(Buffer.from(crcA, 'base64'));
  const b = toBigInt(Buffer.from(crcB, 'base64'));
  const combined = multiplyModP(xPowerOfBytes(lengthBBytes, crc), a, crc) ^ b;
  return toBytes(combined, crc.widthBits).toString('base64');
}

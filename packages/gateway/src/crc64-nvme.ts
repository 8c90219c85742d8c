/**
 * CRC-64/NVME (the "CRC64NVME" of S3 flexible checksums): reflected polynomial
 * 0xAD93D23594C93659 (0x9A6C9329AC4BC9B5 reflected), initial value and final XOR all ones.
 * Slicing-by-8 over 32-bit halves, because BigInt arithmetic per byte is far too slow for
 * object bodies. Check value for "123456789" is 0xAE8B14860A799888.
 */
const polynomialReflected = 0x9a6c9329ac4bc9b5n;
const tableCount = 8;

// Int32Array, not Uint32Array: values of 2^31 and above read from a Uint32Array are not small
// integers in V8 and force double arithmetic; signed 32-bit lanes keep the loop in int32.
function buildTables(): { lo: Int32Array; hi: Int32Array } {
  const lo = new Int32Array(256 * tableCount);
  const hi = new Int32Array(256 * tableCount);
  for (let n = 0; n < 256; n += 1) {
    let crc = BigInt(n);
    for (let bit = 0; bit < 8; bit += 1) crc = crc & 1n ? (crc >> 1n) ^ polynomialReflected : crc >> 1n;
    lo[n] = Number(BigInt.asIntN(32, crc & 0xffffffffn));
    hi[n] = Number(BigInt.asIntN(32, crc >> 32n));
  }
  for (let k = 1; k < tableCount; k += 1) {
    for (let n = 0; n < 256; n += 1) {
      const prevLo = lo[(k - 1) * 256 + n] as number;
      const prevHi = hi[(k - 1) * 256 + n] as number;
      const index = prevLo & 0xff;
      lo[k * 256 + n] = ((prevLo >>> 8) | (prevHi << 24)) ^ (lo[index] as number);
      hi[k * 256 + n] = (prevHi >>> 8) ^ (hi[index] as number);
    }
  }
  return { lo, hi };
}

const tables = buildTables();

/** Incremental CRC-64/NVME. */
export class Crc64Nvme {
  // The register, held inverted (initial value all ones) as two unsigned 32-bit halves.
  private crcLo = -1;
  private crcHi = -1;

  update(bytes: Uint8Array): this {
    const { lo: tLo, hi: tHi } = tables;
    let crcLo = this.crcLo;
    let crcHi = this.crcHi;
    let index = 0;
    const end8 = bytes.length - (bytes.length % 8);
    for (; index < end8; index += 8) {
      const a = crcLo ^ ((bytes[index] as number) | ((bytes[index + 1] as number) << 8) | ((bytes[index + 2] as number) << 16) | ((bytes[index + 3] as number) << 24));
      const b = crcHi ^ ((bytes[index + 4] as number) | ((bytes[index + 5] as number) << 8) | ((bytes[index + 6] as number) << 16) | ((bytes[index + 7] as number) << 24));
      const i7 = 7 * 256 + (a & 0xff);
      const i6 = 6 * 256 + ((a >>> 8) & 0xff);
      const i5 = 5 * 256 + ((a >>> 16) & 0xff);
      const i4 = 4 * 256 + (a >>> 24);
      const i3 = 3 * 256 + (b & 0xff);
      const i2 = 2 * 256 + ((b >>> 8) & 0xff);
      const i1 = 256 + ((b >>> 16) & 0xff);
      const i0 = b >>> 24;
      crcLo = (tLo[i7] as number) ^ (tLo[i6] as number) ^ (tLo[i5] as number) ^ (tLo[i4] as number) ^ (tLo[i3] as number) ^ (tLo[i2] as number) ^ (tLo[i1] as number) ^ (tLo[i0] as number);
      crcHi = (tHi[i7] as number) ^ (tHi[i6] as number) ^ (tHi[i5] as number) ^ (tHi[i4] as number) ^ (tHi[i3] as number) ^ (tHi[i2] as number) ^ (tHi[i1] as number) ^ (tHi[i0] as number);
    }
    for (; index < bytes.length; index += 1) {
      const tableIndex = (crcLo ^ (bytes[index] as number)) & 0xff;
      crcLo = ((crcLo >>> 8) | (crcHi << 24)) ^ (tLo[tableIndex] as number);
      crcHi = (crcHi >>> 8) ^ (tHi[tableIndex] as number);
    }
    this.crcLo = crcLo;
    this.crcHi = crcHi;
    return this;
  }

  /** The CRC as 8 big-endian bytes (the order S3 base64-encodes). */
  digest(): Buffer {
    const out = Buffer.alloc(8);
    out.writeUInt32BE((~this.crcHi) >>> 0, 0);
    out.writeUInt32BE((~this.crcLo) >>> 0, 4);
    return out;
  }
}

/** Naive bitwise reference, for tests only: one BigInt step per bit. */
export function crc64NvmeBitwise(bytes: Uint8Array): bigint {
  let crc = 0xffffffffffffffffn;
  for (const byte of bytes) {
    crc ^= BigInt(byte);
    for (let bit = 0; bit < 8; bit += 1) crc = crc & 1n ? (crc >> 1n) ^ polynomialReflected : crc >> 1n;
  }
  return crc ^ 0xffffffffffffffffn;
}

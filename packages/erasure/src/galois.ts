/**
 * Arithmetic in GF(2^8) with the field polynomial x^8 + x^4 + x^3 + x^2 + 1 (0x11d), the field of
 * the Rust `reed-solomon-erasure` crate and of klauspost/reedsolomon. Parity bytes are an on-disk
 * format, so the polynomial and the generator (2) must never change.
 */
import { assert } from '@tessera/common';

/** The field polynomial, including the x^8 term. */
export const gfPolynomial = 0x11d;

/** Number of elements in the field. */
export const gfFieldSize = 256;

// exp has 2*255 entries so that exp[log a + log b] needs no modulo reduction.
const expTable = new Uint8Array(2 * 255);
const logTable = new Uint8Array(256);
(() => {
  let value = 1;
  for (let power = 0; power < 255; power++) {
    expTable[power] = value;
    expTable[power + 255] = value;
    logTable[value] = power;
    value <<= 1;
    if (value & 0x100) value ^= gfPolynomial;
  }
})();

/**
 * Full 256 x 256 product table: `gfMulTable[a * 256 + b] === gfMul(a, b)`. 64 KiB, used by the
 * scalar kernel (one 256-byte row per coefficient) and to build the SIMD nibble tables.
 */
export const gfMulTable: Uint8Array = (() => {
  const table = new Uint8Array(256 * 256);
  for (let a = 1; a < 256; a++) {
    const logA = logTable[a]!;
    for (let b = 1; b < 256; b++) table[a * 256 + b] = expTable[logA + logTable[b]!]!;
  }
  return table;
})();

/** a * b in GF(2^8). */
export function gfMul(a: number, b: number): number {
  return gfMulTable[(a << 8) | b]!;
}

/** a / b in GF(2^8); b must not be 0. */
export function gfDiv(a: number, b: number): number {
  assert(b !== 0, 'division by zero in GF(2^8)');
  if (a === 0) return 0;
  return expTable[logTable[a]! + 255 - logTable[b]!]!;
}

/**
 * a raised to the n-th power, with a^0 = 1 for every a (including 0), exactly as the Rust crate's
 * `galois_8::exp`, which the Vandermonde matrix depends on.
 */
export function gfExp(a: number, n: number): number {
  assert(Number.isInteger(n) && n >= 0, 'exponent must be a non-negative integer');
  if (n === 0) return 1;
  if (a === 0) return 0;
  return expTable[(logTable[a]! * n) % 255]!;
}

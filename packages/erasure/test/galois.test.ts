// Goal: the table-driven GF(2^8) arithmetic is the field of the Rust crate (polynomial 0x11d).
// Method: compare gfMul with a slow shift-and-add ("Russian peasant") multiply for all 65,536
// pairs, and check division, powers and the field axioms against it.
import { gfDiv, gfExp, gfMul, gfPolynomial } from '@tessera/erasure';

/** Carry-less multiply reduced modulo the field polynomial, one bit at a time. */
function slowMul(a: number, b: number): number {
  let product = 0;
  let x = a;
  for (let bit = 0; bit < 8; bit++) {
    if ((b >> bit) & 1) product ^= x;
    x <<= 1;
    if (x & 0x100) x ^= gfPolynomial;
  }
  return product;
}

describe('GF(2^8)', () => {
  it('uses the polynomial x^8 + x^4 + x^3 + x^2 + 1', () => {
    expect(gfPolynomial).toBe(0x11d);
  });

  it('gfMul agrees with the bitwise reference for all 65,536 pairs', () => {
    let mismatches = 0;
    for (let a = 0; a < 256; a++) for (let b = 0; b < 256; b++) if (gfMul(a, b) !== slowMul(a, b)) mismatches++;
    expect(mismatches).toBe(0);
  });

  it('gfDiv inverts gfMul for every non-zero divisor', () => {
    for (let a = 0; a < 256; a++) for (let b = 1; b < 256; b++) expect(gfDiv(gfMul(a, b), b)).toBe(a);
  });

  it('gfExp is repeated multiplication, with x^0 = 1 even for x = 0', () => {
    for (let a = 0; a < 256; a++) {
      let power = 1;
      for (let n = 0; n < 20; n++) {
        expect(gfExp(a, n)).toBe(power);
        power = slowMul(power, a);
      }
    }
  });

  it('2 generates the multiplicative group (order 255)', () => {
    const seen = new Set<number>();
    for (let n = 0; n < 255; n++) seen.add(gfExp(2, n));
    expect(seen.size).toBe(255);
    expect(seen.has(0)).toBe(false);
  });
});

// Goal: the matrix layer produces the crate's systematic encoding matrix and correct inverses.
// Method: structural checks (identity on top, known first parity row) and A * A^-1 = I for
// every k x k choice of rows, which is the property reconstruct relies on.
import { buildEncodingMatrix, GfMatrix } from '../src/gf-matrix';

function isIdentity(matrix: GfMatrix): boolean {
  for (let r = 0; r < matrix.rowCount; r++) {
    for (let c = 0; c < matrix.columnCount; c++) if (matrix.get(r, c) !== (r === c ? 1 : 0)) return false;
  }
  return true;
}

function combinations(n: number, k: number): number[][] {
  if (k === 0) return [[]];
  if (n < k) return [];
  return [...combinations(n - 1, k - 1).map((c) => [...c, n - 1]), ...combinations(n - 1, k)];
}

describe('encoding matrix', () => {
  it('is systematic: the top k x k block is the identity', () => {
    for (const [k, m] of [[1, 1], [4, 2], [6, 3], [10, 4], [17, 15]] as const) {
      const matrix = buildEncodingMatrix(k, k + m);
      expect(isIdentity(matrix.selectRows(Array.from({ length: k }, (_, i) => i)))).toBe(true);
    }
  });

  it('has the crate\'s parity rows for 4+2 (from the reference library, see golden vectors)', () => {
    // With data shard j = unit vector e_j, parity p equals column j of parity row p. These rows
    // were read off the reference library's output for exactly that input.
    const matrix = buildEncodingMatrix(4, 6);
    expect(Array.from(matrix.data.subarray(16, 24))).toEqual([0x1b, 0x1c, 0x12, 0x14, 0x1c, 0x1b, 0x14, 0x12]);
  });

  it('every k-row sub-matrix of 6+3 and 8+4 is invertible, and A * A^-1 = I', () => {
    for (const [k, m] of [[6, 3], [8, 4]] as const) {
      const matrix = buildEncodingMatrix(k, k + m);
      for (const rows of combinations(k + m, k)) {
        const sub = matrix.selectRows(rows);
        expect(isIdentity(sub.multiply(sub.invert()))).toBe(true);
      }
    }
  });
});

/**
 * Dense matrices over GF(2^8), just what Reed-Solomon needs: Vandermonde, product, row selection
 * and Gauss-Jordan inversion. Sizes are at most 32 x 32, so clarity beats speed here; the hot
 * path never touches this file (its results are cached per erasure pattern).
 */
import { assert } from '@tessera/common';
import { gfDiv, gfExp, gfMul } from './galois';

export class GfMatrix {
  readonly data: Uint8Array;

  constructor(
    readonly rowCount: number,
    readonly columnCount: number,
    data?: Uint8Array,
  ) {
    assert(rowCount >= 1 && columnCount >= 1, 'matrix dimensions must be positive');
    this.data = data ?? new Uint8Array(rowCount * columnCount);
    assert(this.data.length === rowCount * columnCount, 'matrix data length must match its dimensions');
  }

  static identity(size: number): GfMatrix {
    const matrix = new GfMatrix(size, size);
    for (let i = 0; i < size; i++) matrix.set(i, i, 1);
    return matrix;
  }

  /** `vandermonde[r][c] = r^c`, the starting point of the crate's `build_matrix`. */
  static vandermonde(rowCount: number, columnCount: number): GfMatrix {
    const matrix = new GfMatrix(rowCount, columnCount);
    for (let r = 0; r < rowCount; r++) {
      for (let c = 0; c < columnCount; c++) matrix.set(r, c, gfExp(r, c));
    }
    return matrix;
  }

  get(rowIndex: number, columnIndex: number): number {
    return this.data[rowIndex * this.columnCount + columnIndex]!;
  }

  set(rowIndex: number, columnIndex: number, value: number): void {
    this.data[rowIndex * this.columnCount + columnIndex] = value;
  }

  /** A copy of the listed rows, in the order given. */
  selectRows(rowIndices: readonly number[]): GfMatrix {
    const result = new GfMatrix(rowIndices.length, this.columnCount);
    rowIndices.forEach((rowIndex, targetIndex) => {
      assert(rowIndex >= 0 && rowIndex < this.rowCount, 'selected row index out of range');
      const start = rowIndex * this.columnCount;
      result.data.set(this.data.subarray(start, start + this.columnCount), targetIndex * this.columnCount);
    });
    return result;
  }

  multiply(right: GfMatrix): GfMatrix {
    assert(this.columnCount === right.rowCount, 'matrix product needs matching inner dimensions');
    const result = new GfMatrix(this.rowCount, right.columnCount);
    for (let r = 0; r < this.rowCount; r++) {
      for (let c = 0; c < right.columnCount; c++) {
        let value = 0;
        for (let i = 0; i < this.columnCount; i++) value ^= gfMul(this.get(r, i), right.get(i, c));
        result.set(r, c, value);
      }
    }
    return result;
  }

  /**
   * The inverse by Gauss-Jordan elimination. Every square sub-matrix of the systematic
   * Vandermonde-derived matrix is invertible, so a singular matrix here is a bug (assert).
   */
  invert(): GfMatrix {
    assert(this.rowCount === this.columnCount, 'only square matrices can be inverted');
    const size = this.rowCount;
    const work = new GfMatrix(size, size, this.data.slice());
    const inverse = GfMatrix.identity(size);
    for (let pivot = 0; pivot < size; pivot++) {
      let pivotRow = pivot;
      while (pivotRow < size && work.get(pivotRow, pivot) === 0) pivotRow++;
      assert(pivotRow < size, 'matrix is singular');
      if (pivotRow !== pivot) {
        work.swapRows(pivot, pivotRow);
        inverse.swapRows(pivot, pivotRow);
      }
      const scale = work.get(pivot, pivot);
      if (scale !== 1) {
        work.scaleRow(pivot, gfDiv(1, scale));
        inverse.scaleRow(pivot, gfDiv(1, scale));
      }
      for (let r = 0; r < size; r++) {
        const factor = work.get(r, pivot);
        if (r === pivot || factor === 0) continue;
        work.addScaledRow(r, pivot, factor);
        inverse.addScaledRow(r, pivot, factor);
      }
    }
    return inverse;
  }

  private swapRows(a: number, b: number): void {
    const width = this.columnCount;
    const rowA = this.data.slice(a * width, (a + 1) * width);
    this.data.copyWithin(a * width, b * width, (b + 1) * width);
    this.data.set(rowA, b * width);
  }

  private scaleRow(rowIndex: number, factor: number): void {
    for (let c = 0; c < this.columnCount; c++) this.set(rowIndex, c, gfMul(this.get(rowIndex, c), factor));
  }

  /** row[target] += factor * row[source] (addition is XOR in GF(2^8)). */
  private addScaledRow(targetRowIndex: number, sourceRowIndex: number, factor: number): void {
    for (let c = 0; c < this.columnCount; c++) {
      this.set(targetRowIndex, c, this.get(targetRowIndex, c) ^ gfMul(factor, this.get(sourceRowIndex, c)));
    }
  }
}

/**
 * The systematic encoding matrix of the Rust `reed-solomon-erasure` crate (`build_matrix`):
 * a (k+m) x k Vandermonde matrix multiplied by the inverse of its top k x k square, so the top
 * k rows become the identity (data shards are stored as-is) and any k rows stay invertible.
 */
export function buildEncodingMatrix(dataShardCount: number, totalShardCount: number): GfMatrix {
  const vandermonde = GfMatrix.vandermonde(totalShardCount, dataShardCount);
  const top = vandermonde.selectRows(Array.from({ length: dataShardCount }, (_, i) => i));
  return vandermonde.multiply(top.invert());
}

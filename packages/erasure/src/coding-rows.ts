/**
 * A coefficient matrix prepared for the kernels: `outputs[r] = XOR_i coefficients[r][i] * inputs[i]`.
 * The encoder holds one (the parity rows of the encoding matrix) and the decoder caches one per
 * erasure pattern, so the nibble tables are built once, not per call.
 */
import { assert } from '@tessera/common';
import { gfMul } from './galois';
import type { GfMatrix } from './gf-matrix';

/** Rows the SIMD kernel computes per pass over the inputs (kernelRowsPerPassMax in the .wat). */
export const rowsPerPassMax = 4;
/** Bytes of nibble tables per (row, input) pair: 16 low-nibble products, then 16 high-nibble ones. */
export const nibbleTableBytes = 32;

export class CodingRows {
  private nibbleTablesCache: Uint8Array | undefined;

  constructor(
    readonly rowCount: number,
    readonly inputCount: number,
    /** Row-major, rowCount x inputCount. */
    readonly coefficients: Uint8Array,
  ) {
    assert(rowCount >= 1, 'coding rows need at least one output row');
    assert(inputCount >= 1, 'coding rows need at least one input');
    assert(coefficients.length === rowCount * inputCount, 'coefficient count must be rowCount * inputCount');
  }

  static fromMatrix(matrix: GfMatrix): CodingRows {
    return new CodingRows(matrix.rowCount, matrix.columnCount, matrix.data.slice());
  }

  coefficient(rowIndex: number, inputIndex: number): number {
    return this.coefficients[rowIndex * this.inputCount + inputIndex]!;
  }

  /**
   * The SIMD kernel's tables. Rows are grouped in passes of up to 4; within a pass the tables are
   * ordered input-major (input i: row 0, row 1, ...) so the kernel walks them with one pointer and
   * constant offsets. Pass p starts at byte p * 4 * inputCount * 32.
   */
  get nibbleTables(): Uint8Array {
    if (this.nibbleTablesCache === undefined) this.nibbleTablesCache = this.buildNibbleTables();
    return this.nibbleTablesCache;
  }

  private buildNibbleTables(): Uint8Array {
    const tables = new Uint8Array(this.rowCount * this.inputCount * nibbleTableBytes);
    for (let passStart = 0; passStart < this.rowCount; passStart += rowsPerPassMax) {
      const passRowCount = Math.min(rowsPerPassMax, this.rowCount - passStart);
      const passBase = passStart * this.inputCount * nibbleTableBytes;
      for (let i = 0; i < this.inputCount; i++) {
        for (let r = 0; r < passRowCount; r++) {
          const c = this.coefficient(passStart + r, i);
          const at = passBase + (i * passRowCount + r) * nibbleTableBytes;
          for (let n = 0; n < 16; n++) {
            tables[at + n] = gfMul(c, n);
            tables[at + 16 + n] = gfMul(c, n << 4);
          }
        }
      }
    }
    return tables;
  }
}

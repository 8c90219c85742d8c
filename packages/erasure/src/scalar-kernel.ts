/**
 * The portable kernel: one 256-byte product row per coefficient, a byte at a time. It gives the
 * same bytes as the SIMD kernel (property-tested) and is used where WebAssembly SIMD is missing.
 */
import { assert } from '@tessera/common';
import type { CodingRows } from './coding-rows';
import { gfMulTable } from './galois';
import type { GfKernel } from './gf-kernel';

export class ScalarGfKernel implements GfKernel {
  readonly kind = 'scalar' as const;

  multiply(rows: CodingRows, inputs: readonly Uint8Array[], outputs: readonly Uint8Array[]): void {
    assert(inputs.length === rows.inputCount, 'one input per coefficient column');
    assert(outputs.length === rows.rowCount, 'one output per coefficient row');
    for (let r = 0; r < rows.rowCount; r++) {
      const output = outputs[r]!;
      for (let i = 0; i < rows.inputCount; i++) {
        const input = inputs[i]!;
        assert(input.length === output.length, 'inputs and outputs must have equal lengths');
        multiplyInto(output, input, rows.coefficient(r, i), i === 0);
      }
    }
  }
}

/** output = c * input (overwrite) or output ^= c * input (accumulate). */
function multiplyInto(output: Uint8Array, input: Uint8Array, c: number, overwrite: boolean): void {
  // A local alias: compiled to CommonJS, a bare `gfMulTable` is a property load on the module
  // object inside the loop, which made this path 4x slower.
  const table = gfMulTable;
  const length = output.length;
  if (overwrite) {
    if (c === 0) output.fill(0);
    else if (c === 1) output.set(input);
    else {
      const base = c << 8;
      for (let p = 0; p < length; p++) output[p] = table[base | input[p]!]!;
    }
    return;
  }
  if (c === 0) return;
  if (c === 1) {
    for (let p = 0; p < length; p++) output[p]! ^= input[p]!;
    return;
  }
  const base = c << 8;
  for (let p = 0; p < length; p++) output[p]! ^= table[base | input[p]!]!;
}

/** The contract both kernels (WebAssembly SIMD and scalar TypeScript) implement. */
import type { CodingRows } from './coding-rows';

/**
 * Which implementation of the GF(2^8) multiply-accumulate runs: WebAssembly SIMD with
 * `i8x16.relaxed_swizzle` (relaxed SIMD, Node 22+), with baseline `i8x16.swizzle` (Node 20), or
 * scalar TypeScript. All three give identical bytes.
 */
export type KernelKind = 'relaxed-simd' | 'simd' | 'scalar';

export interface GfKernel {
  readonly kind: KernelKind;
  /**
   * `outputs[r][p] = XOR over i of rows.coefficient(r, i) * inputs[i][p]` for every byte position
   * p < outputs[0].length. Inputs and outputs must all have that length and must not overlap.
   * Outputs are overwritten, never read.
   */
  multiply(rows: CodingRows, inputs: readonly Uint8Array[], outputs: readonly Uint8Array[]): void;
}

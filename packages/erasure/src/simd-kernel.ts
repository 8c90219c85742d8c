/**
 * The hot path: GF(2^8) multiply-accumulate in WebAssembly SIMD (see src/wasm/gf-kernel.wat and
 * its relaxed-SIMD twin gf-kernel-relaxed.wat, chosen at runtime when supported).
 *
 * The caller's shards live in JavaScript memory, so the kernel works through a window of
 * `chunkBytes` per shard: copy that window of every input into the WebAssembly memory, compute up
 * to four output rows per pass over the inputs, copy the output windows out. The window is sized
 * so that all inputs and outputs of one chunk stay in the L2 cache; the copies then cost little
 * next to the one pass over main memory that any encoder needs. The memory grows once to the
 * largest shape seen and is reused afterwards.
 */
import { assert } from '@tessera/common';
import { decodeBase64 } from './base64';
import { gfKernelRelaxedWasmBase64, gfKernelWasmBase64, kernelRowsPerPassMax, kernelStepBytes } from './generated/gf-kernel-wasm';
import { type CodingRows, nibbleTableBytes, rowsPerPassMax } from './coding-rows';
import type { GfKernel } from './gf-kernel';

type MulRowsFunction = (
  tables: number, inputs: number, inputStride: number, inputCount: number,
  outputs: number, outputStride: number, lengthBytes: number,
) => void;

/** Bytes of all inputs plus outputs of one chunk; keeps a chunk inside a 1 MiB L2 with room to spare. */
const chunkWorkingSetBytes = 256 * 1024;
const chunkBytesMax = 64 * 1024;
const chunkBytesMin = 4 * 1024;
const wasmPageBytes = 64 * 1024;

/** Which build of the kernel: baseline `i8x16.swizzle` or `i8x16.relaxed_swizzle`. */
export type SimdVariant = 'simd' | 'relaxed-simd';

const compiledModules = new Map<SimdVariant, WebAssembly.Module>();

function kernelModule(variant: SimdVariant): WebAssembly.Module {
  // Compiling is synchronous and takes well under a millisecond for this ~2 KB module; a
  // compiled module is immutable, so sharing it across codec instances is safe.
  let compiled = compiledModules.get(variant);
  if (compiled === undefined) {
    compiled = new WebAssembly.Module(decodeBase64(variant === 'simd' ? gfKernelWasmBase64 : gfKernelRelaxedWasmBase64));
    compiledModules.set(variant, compiled);
  }
  return compiled;
}

export class SimdGfKernel implements GfKernel {
  private readonly memory: WebAssembly.Memory;
  private readonly mulRows: MulRowsFunction[];
  private heap: Uint8Array;
  private loadedTables: Uint8Array | undefined;

  constructor(readonly kind: SimdVariant) {
    assert(kernelRowsPerPassMax === rowsPerPassMax, 'generated kernel and table layout must agree on rows per pass');
    const instance = new WebAssembly.Instance(kernelModule(kind), {});
    this.memory = instance.exports['memory'] as WebAssembly.Memory;
    this.mulRows = [];
    for (let rowCount = 1; rowCount <= rowsPerPassMax; rowCount++) {
      this.mulRows.push(instance.exports[`mul_rows_${rowCount}`] as MulRowsFunction);
    }
    this.heap = new Uint8Array(this.memory.buffer);
  }

  multiply(rows: CodingRows, inputs: readonly Uint8Array[], outputs: readonly Uint8Array[]): void {
    assert(inputs.length === rows.inputCount, 'one input per coefficient column');
    assert(outputs.length === rows.rowCount, 'one output per coefficient row');
    const lengthBytes = outputs[0]!.length;
    for (const shard of inputs) assert(shard.length === lengthBytes, 'inputs and outputs must have equal lengths');
    for (const shard of outputs) assert(shard.length === lengthBytes, 'inputs and outputs must have equal lengths');
    if (lengthBytes === 0) return;

    const tables = rows.nibbleTables;
    const chunkBytes = chooseChunkBytes(inputs.length + outputs.length, lengthBytes);
    const tablesRegionBytes = roundUp(tables.length, 64);
    const inputsAt = tablesRegionBytes;
    const outputsAt = inputsAt + inputs.length * chunkBytes;
    this.ensureCapacity(outputsAt + outputs.length * chunkBytes);
    if (this.loadedTables !== tables) {
      this.heap.set(tables, 0);
      this.loadedTables = tables;
    }
    const heap = this.heap;
    for (let offset = 0; offset < lengthBytes; offset += chunkBytes) {
      const windowBytes = Math.min(chunkBytes, lengthBytes - offset);
      for (let i = 0; i < inputs.length; i++) {
        heap.set(inputs[i]!.subarray(offset, offset + windowBytes), inputsAt + i * chunkBytes);
      }
      this.runPasses(rows, inputsAt, outputsAt, chunkBytes, roundUp(windowBytes, kernelStepBytes));
      for (let r = 0; r < outputs.length; r++) {
        const from = outputsAt + r * chunkBytes;
        outputs[r]!.set(heap.subarray(from, from + windowBytes), offset);
      }
    }
  }

  /** One kernel call per group of up to four output rows, over inputs already in the heap. */
  private runPasses(rows: CodingRows, inputsAt: number, outputsAt: number, chunkBytes: number, kernelBytes: number): void {
    for (let passStart = 0; passStart < rows.rowCount; passStart += rowsPerPassMax) {
      const passRowCount = Math.min(rowsPerPassMax, rows.rowCount - passStart);
      const tablesAt = passStart * rows.inputCount * nibbleTableBytes;
      this.mulRows[passRowCount - 1]!(
        tablesAt, inputsAt, chunkBytes, rows.inputCount,
        outputsAt + passStart * chunkBytes, chunkBytes, kernelBytes,
      );
    }
  }

  private ensureCapacity(bytes: number): void {
    const current = this.memory.buffer.byteLength;
    if (bytes <= current) return;
    this.memory.grow(Math.ceil((bytes - current) / wasmPageBytes));
    this.heap = new Uint8Array(this.memory.buffer);
  }
}

/** A multiple of the kernel step, small enough that a whole chunk of all shards fits in L2. */
function chooseChunkBytes(shardCount: number, lengthBytes: number): number {
  const fitting = Math.floor(chunkWorkingSetBytes / shardCount / kernelStepBytes) * kernelStepBytes;
  const chunkBytes = Math.max(chunkBytesMin, Math.min(chunkBytesMax, fitting));
  return Math.min(chunkBytes, roundUp(lengthBytes, kernelStepBytes));
}

function roundUp(value: number, multiple: number): number {
  return Math.ceil(value / multiple) * multiple;
}


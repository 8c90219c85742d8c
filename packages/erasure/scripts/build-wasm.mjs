// Codegen for the GF(2^8) SIMD kernel (`npm run codegen -w @tessera/erasure`, run by the root
// `npm run build` before `tsc -b`). It writes the WebAssembly text to src/wasm/gf-kernel.wat and
// src/wasm/gf-kernel-relaxed.wat so a reviewer can read exactly what runs, compiles both with the
// npm `wabt` package, and embeds the bytes as base64 in src/generated/gf-kernel-wasm.ts, which
// the codec loads synchronously.
//
// The text is generated rather than hand-written because the kernel is one function per number
// of output rows (1..4), each fully unrolled over its rows; writing four copies by hand invites
// drift between them.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import initWabt from 'wabt';

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');
/** Output rows computed per pass over the inputs; 4 rows x 2 vectors = 8 accumulators fit the 16 xmm registers. */
const rowsPerPassMax = 4;
/** 16-byte vectors processed per loop step for each row (unrolling hides swizzle latency). */
const vectorsPerStep = 2;
const stepBytes = 16 * vectorsPerStep;

function kernelFunction(rowCount, swizzle) {
  const lines = [];
  const acc = (r, u) => `$acc${r}_${u}`;
  lines.push(`  ;; Computes ${rowCount} output row(s): out[r][p] = XOR over inputs i of coef[r][i] * in[i][p].`);
  lines.push(`  ;; $tables: per input i, per row r, 32 bytes (16 products of the low nibble, 16 of the high nibble).`);
  lines.push(`  ;; $length_bytes must be a multiple of ${stepBytes}; callers pad the buffers.`);
  lines.push(`  (func $mul_rows_${rowCount} (export "mul_rows_${rowCount}")`);
  lines.push(`    (param $tables i32) (param $inputs i32) (param $input_stride i32) (param $input_count i32)`);
  lines.push(`    (param $outputs i32) (param $output_stride i32) (param $length_bytes i32)`);
  lines.push(`    (local $position i32) (local $input i32) (local $table i32) (local $remaining i32)`);
  lines.push(`    (local $mask v128) (local $x v128) (local $lo0 v128) (local $hi0 v128) (local $lo1 v128) (local $hi1 v128)`);
  lines.push(`    (local $tlo v128) (local $thi v128)`);
  for (let r = 0; r < rowCount; r++) for (let u = 0; u < vectorsPerStep; u++) lines.push(`    (local ${acc(r, u)} v128)`);
  lines.push(`    (local.set $mask (v128.const i8x16 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15))`);
  lines.push(`    (block $done`);
  lines.push(`      (loop $positions`);
  lines.push(`        (br_if $done (i32.ge_u (local.get $position) (local.get $length_bytes)))`);
  for (let r = 0; r < rowCount; r++) for (let u = 0; u < vectorsPerStep; u++) lines.push(`        (local.set ${acc(r, u)} (v128.const i64x2 0 0))`);
  lines.push(`        (local.set $input (i32.add (local.get $inputs) (local.get $position)))`);
  lines.push(`        (local.set $table (local.get $tables))`);
  lines.push(`        (local.set $remaining (local.get $input_count))`);
  lines.push(`        (loop $inputs_loop`);
  for (let u = 0; u < vectorsPerStep; u++) {
    lines.push(`          (local.set $x (v128.load offset=${u * 16} align=1 (local.get $input)))`);
    lines.push(`          (local.set $lo${u} (v128.and (local.get $x) (local.get $mask)))`);
    lines.push(`          (local.set $hi${u} (v128.and (i16x8.shr_u (local.get $x) (i32.const 4)) (local.get $mask)))`);
  }
  for (let r = 0; r < rowCount; r++) {
    lines.push(`          (local.set $tlo (v128.load offset=${r * 32} (local.get $table)))`);
    lines.push(`          (local.set $thi (v128.load offset=${r * 32 + 16} (local.get $table)))`);
    for (let u = 0; u < vectorsPerStep; u++) {
      lines.push(`          (local.set ${acc(r, u)} (v128.xor (local.get ${acc(r, u)}) (v128.xor`);
      lines.push(`            (${swizzle} (local.get $tlo) (local.get $lo${u})) (${swizzle} (local.get $thi) (local.get $hi${u})))))`);
    }
  }
  lines.push(`          (local.set $input (i32.add (local.get $input) (local.get $input_stride)))`);
  lines.push(`          (local.set $table (i32.add (local.get $table) (i32.const ${rowCount * 32})))`);
  lines.push(`          (local.set $remaining (i32.sub (local.get $remaining) (i32.const 1)))`);
  lines.push(`          (br_if $inputs_loop (local.get $remaining)))`);
  for (let r = 0; r < rowCount; r++) {
    for (let u = 0; u < vectorsPerStep; u++) {
      lines.push(`        (v128.store offset=${u * 16} align=1`);
      lines.push(`          (i32.add (i32.add (local.get $outputs) (i32.mul (local.get $output_stride) (i32.const ${r}))) (local.get $position))`);
      lines.push(`          (local.get ${acc(r, u)}))`);
    }
  }
  lines.push(`        (local.set $position (i32.add (local.get $position) (i32.const ${stepBytes})))`);
  lines.push(`        (br $positions)))`);
  lines.push(`  )`);
  return lines.join('\n');
}

function kernelModule(swizzle) {
  const functions = [];
  for (let rowCount = 1; rowCount <= rowsPerPassMax; rowCount++) functions.push(kernelFunction(rowCount, swizzle));
  return [
    ';; GENERATED by packages/erasure/scripts/build-wasm.mjs; edit the generator, not this file.',
    `;; Variant using ${swizzle}.`,
    ';; GF(2^8) multiply-accumulate with split-nibble tables and i8x16.swizzle (the ISA-L/klauspost method):',
    ';; c * x = T_lo[x & 15] ^ T_hi[x >> 4], where T_lo[n] = c * n and T_hi[n] = c * (n << 4).',
    '(module',
    '  (memory (export "memory") 1)',
    functions.join('\n'),
    ')',
    '',
  ].join('\n');
}

// Two builds of the same kernel. `i8x16.swizzle` is baseline SIMD (Node 20); V8 lowers it to
// pshufb plus a saturating add that zeroes out-of-range indices. `i8x16.relaxed_swizzle`
// (relaxed SIMD: default from Node 22, behind --experimental-wasm-relaxed-simd in Node 20) is a
// bare pshufb. The two agree whenever every index is < 16, which the nibble masks guarantee, so
// the bytes are identical and the runtime picks the relaxed build when it validates.
const variants = [
  { name: 'gf-kernel', swizzle: 'i8x16.swizzle', exportName: 'gfKernelWasmBase64' },
  { name: 'gf-kernel-relaxed', swizzle: 'i8x16.relaxed_swizzle', exportName: 'gfKernelRelaxedWasmBase64' },
];
const wabt = await initWabt();
mkdirSync(join(packageDir, 'src', 'wasm'), { recursive: true });
mkdirSync(join(packageDir, 'src', 'generated'), { recursive: true });
const exportsTs = [];
for (const variant of variants) {
  const wat = kernelModule(variant.swizzle);
  const parsed = wabt.parseWat(`${variant.name}.wat`, wat, { simd: true, relaxed_simd: true });
  parsed.validate();
  const { buffer } = parsed.toBinary({ log: false, write_debug_names: false });
  parsed.destroy();
  writeFileSync(join(packageDir, 'src', 'wasm', `${variant.name}.wat`), wat);
  exportsTs.push(`/** src/wasm/${variant.name}.wat compiled (${variant.swizzle}), base64. */`);
  exportsTs.push(`export const ${variant.exportName} =\n  '${Buffer.from(buffer).toString('base64')}';`);
  console.log(`${variant.name}: ${buffer.length} bytes of WebAssembly`);
}
writeFileSync(
  join(packageDir, 'src', 'generated', 'gf-kernel-wasm.ts'),
  [
    '// GENERATED by packages/erasure/scripts/build-wasm.mjs from its kernel generator; do not edit.',
    `/** Output rows per kernel call (functions mul_rows_1 .. mul_rows_${rowsPerPassMax}). */`,
    `export const kernelRowsPerPassMax = ${rowsPerPassMax};`,
    '/** Every kernel length must be a multiple of this many bytes. */',
    `export const kernelStepBytes = ${stepBytes};`,
    ...exportsTs,
    '',
  ].join('\n'),
);

/** Detects WebAssembly SIMD (v128) and relaxed SIMD once, by validating modules that use them. */
import { gfKernelRelaxedWasmBase64 } from './generated/gf-kernel-wasm';
import { decodeBase64 } from './base64';

// (module (func (result v128) (v128.const i64x2 0 0))): a type section, one function whose body
// is a single v128.const. An engine without SIMD rejects the v128 value type at validation.
const simdProbeModule = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
  0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, // type section: () -> v128
  0x03, 0x02, 0x01, 0x00, // function section: one function of type 0
  0x0a, 0x16, 0x01, 0x14, 0x00, // code section: one body of 20 bytes, no locals
  0xfd, 0x0c, ...new Array<number>(16).fill(0), // v128.const with 16 zero bytes
  0x0b, // end
]);

let simdSupportedCache: boolean | undefined;

/** True when this runtime can compile and run the WebAssembly SIMD kernel. */
export function isWasmSimdSupported(): boolean {
  simdSupportedCache ??= typeof WebAssembly === 'object' && WebAssembly.validate(simdProbeModule);
  return simdSupportedCache;
}

let relaxedSimdSupportedCache: boolean | undefined;

/**
 * True when this runtime accepts the relaxed-SIMD build of the kernel (Node 22+, or Node 20 with
 * --experimental-wasm-relaxed-simd). Validating the kernel itself rather than a probe means a
 * true answer guarantees that exact module compiles.
 */
export function isWasmRelaxedSimdSupported(): boolean {
  relaxedSimdSupportedCache ??= isWasmSimdSupported() && WebAssembly.validate(decodeBase64(gfKernelRelaxedWasmBase64));
  return relaxedSimdSupportedCache;
}

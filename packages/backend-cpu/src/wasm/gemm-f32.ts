import { gemmF32ModuleBytes } from './gemm-f32-module.js';

type GemmExport = (aPtr: number, bPtr: number, cPtr: number, mPanels: number, nPanels: number, kc: number, ldcBytes: number) => void;

interface WasmGemm {
  readonly gemm: GemmExport;
  readonly memory: WebAssembly.Memory;
}

let instance: WasmGemm | null | undefined;

/**
 * The SIMD kernel, instantiated on first use; null where WebAssembly or its SIMD extension is
 * missing (the caller then uses the JavaScript kernel). The module is a few hundred bytes, well
 * under the size browsers allow to compile synchronously on the main thread.
 */
export function wasmGemm(): WasmGemm | null {
  if (instance !== undefined) return instance;
  instance = null;
  try {
    if (typeof WebAssembly === 'undefined') return null;
    const bytes = gemmF32ModuleBytes();
    if (!WebAssembly.validate(bytes)) return null;
    const exports = new WebAssembly.Instance(new WebAssembly.Module(bytes), {}).exports;
    instance = { gemm: exports.gemm as GemmExport, memory: exports.memory as WebAssembly.Memory };
  } catch {
    instance = null;
  }
  return instance;
}

/** A Float32Array over the wasm memory of at least `floats` elements, growing the memory if needed. */
export function wasmFloats(wasm: WasmGemm, floats: number): Float32Array {
  const bytes = floats * 4;
  const have = wasm.memory.buffer.byteLength;
  if (bytes > have) wasm.memory.grow(Math.ceil((bytes - have) / 65536));
  return new Float32Array(wasm.memory.buffer, 0, floats);
}

/** Forces the JavaScript kernel (for tests comparing the two paths). */
export function disableWasmGemm(disabled: boolean): void {
  instance = disabled ? null : undefined;
}

import { type GemmShape, gemmModuleBytes, tileWidth } from './gemm-module.js';

type GemmExport = (aPtr: number, bPtr: number, cPtr: number, mPanels: number, nPanels: number, kc: number, ldcBytes: number) => void;

/** An instantiated micro-kernel with its own memory. */
export interface WasmGemm {
  readonly gemm: GemmExport;
  readonly memory: WebAssembly.Memory;
  /** Tile rows (A panel height) and width (B panel width), in elements. */
  readonly rows: number;
  readonly width: number;
}

// Tile shapes measured best on x86-64 V8 (16 xmm registers): 4 x 8 floats for f32 (8
// accumulators), 4 x 4 doubles for f64.
const SHAPES: Record<'f32' | 'f64', GemmShape> = {
  f32: { element: 'f32', rows: 4, vectors: 2 },
  f64: { element: 'f64', rows: 4, vectors: 2 },
};

/** The tile shapes in use (the thread pool compiles its shared-memory kernels with them). */
export function gemmShapes(): Readonly<Record<'f32' | 'f64', GemmShape>> {
  return SHAPES;
}

const instances: Record<'f32' | 'f64', WasmGemm | null | undefined> = { f32: undefined, f64: undefined };
let disabled = false;
/** 32-bit wasm addresses reach 4 GiB; stay well below so pointers fit a signed i32. */
const MAX_WASM_BYTES = 2 ** 31 - 65536;

function instantiate(shape: GemmShape): WasmGemm | null {
  try {
    if (typeof WebAssembly === 'undefined') return null;
    const bytes = gemmModuleBytes(shape);
    if (!WebAssembly.validate(bytes)) return null;
    const exports = new WebAssembly.Instance(new WebAssembly.Module(bytes), {}).exports;
    return { gemm: exports.gemm as GemmExport, memory: exports.memory as WebAssembly.Memory, rows: shape.rows, width: tileWidth(shape) };
  } catch {
    return null;
  }
}

/**
 * The SIMD kernel for `element`, instantiated on first use; null where WebAssembly or its SIMD
 * extension is missing (callers then use the JavaScript kernel). Each module is well under the
 * size browsers allow to compile synchronously on the main thread.
 */
export function wasmGemm(element: 'f32' | 'f64'): WasmGemm | null {
  if (disabled) return null;
  let instance = instances[element];
  if (instance === undefined) {
    instance = instantiate(SHAPES[element]);
    instances[element] = instance;
  }
  return instance;
}

/** The wasm memory's buffer grown to at least `bytes`, or null when it cannot grow that far. */
export function wasmBuffer(wasm: WasmGemm, bytes: number): ArrayBuffer | null {
  const have = wasm.memory.buffer.byteLength;
  if (bytes > have) {
    if (bytes > MAX_WASM_BYTES) return null;
    try {
      wasm.memory.grow(Math.ceil((bytes - have) / 65536));
    } catch {
      return null;
    }
  }
  return wasm.memory.buffer;
}

/** Forces the JavaScript kernels (for tests comparing the two paths). */
export function disableWasmGemm(value: boolean): void {
  disabled = value;
}

/** @internal For benchmarks choosing tile shapes. */
export function setWasmGemmShape(element: 'f32' | 'f64', shape: GemmShape): void {
  SHAPES[element] = shape;
  instances[element] = undefined;
}

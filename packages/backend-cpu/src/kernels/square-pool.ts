import { poolModuleBytes } from '../wasm/pool-module.js';

// The usual max pool (2 x 2 windows of stride 2 over [H, W] planes, no padding) of float32 in
// WebAssembly SIMD (wasm/pool-module.ts), forward and backward. The planes stream through the
// module's own memory a chunk at a time, so that each chunk's copies stay in cache.

type PoolFunction = (
  x: number,
  second: number,
  third: number,
  planes: number,
  rowBytes: number,
  outRows: number,
  groups: number,
  planeBytes: number,
  outPlaneBytes: number,
  outRowBytes: number,
) => void;

interface PoolWasm {
  readonly forward: PoolFunction;
  readonly backward: PoolFunction;
  readonly memory: WebAssembly.Memory;
}

let instance: PoolWasm | null | undefined;

/** The module, instantiated on first use; null where WebAssembly SIMD is missing. */
function poolWasm(): PoolWasm | null {
  if (instance !== undefined) return instance;
  instance = null;
  try {
    const bytes = poolModuleBytes();
    if (typeof WebAssembly !== 'undefined' && WebAssembly.validate(bytes)) {
      const exports = new WebAssembly.Instance(new WebAssembly.Module(bytes), {}).exports;
      instance = {
        forward: exports.maxPool2x2 as PoolFunction,
        backward: exports.maxPool2x2Backward as PoolFunction,
        memory: exports.memory as WebAssembly.Memory,
      };
    }
  } catch {
    instance = null;
  }
  return instance;
}

/** Input bytes per chunk: with its output (a quarter) or its cotangent and gradient, well inside L2. */
const CHUNK_BYTES = 1 << 17;
/**
 * Larger planes are pooled in bands of rows (see inBands): a chunk holds at least one plane, and
 * the module's memory, which never shrinks, would keep two or three copies of the largest plane.
 */
const MAX_PLANE_BYTES = 1 << 22;
/** Bytes after each array that a last group of four windows may read or write past a row's end. */
const SLACK = 32;

const align = (bytes: number) => Math.ceil(bytes / 16) * 16;

/** The memory's buffer grown to at least `bytes`, or null where it cannot grow. */
function memoryOf(wasm: PoolWasm, bytes: number): ArrayBuffer | null {
  const have = wasm.memory.buffer.byteLength;
  if (bytes > have) {
    try {
      wasm.memory.grow(Math.ceil((bytes - have) / 65536));
    } catch {
      return null;
    }
  }
  return wasm.memory.buffer;
}

/**
 * Runs `kernel` over `planes` [height, width] planes a chunk at a time: `load(first, count, f32)`
 * copies a chunk's inputs into the memory (x at 0, the second array at `secondAt`), `store`
 * copies its result out. False (nothing written) where the module or its memory is unavailable.
 */
function overChunks(
  backward: boolean,
  planes: number,
  height: number,
  width: number,
  load: (first: number, count: number, memory: Float32Array, secondAt: number) => void,
  store: (first: number, count: number, memory: Float32Array, resultAt: number) => void,
): boolean {
  const outHeight = Math.floor(height / 2);
  const outWidth = Math.floor(width / 2);
  const planeBytes = height * width * 4;
  if (outHeight === 0 || outWidth === 0) return false;
  const wasm = poolWasm();
  if (wasm === null) return false;
  const outPlaneBytes = outHeight * outWidth * 4;
  const chunk = Math.max(1, Math.floor(CHUNK_BYTES / planeBytes));
  const secondAt = align(chunk * planeBytes + SLACK);
  const thirdAt = align(secondAt + chunk * outPlaneBytes + SLACK);
  const buffer = memoryOf(wasm, backward ? thirdAt + chunk * planeBytes + SLACK : thirdAt);
  if (buffer === null) return false;
  const memory = new Float32Array(buffer);
  const run = backward ? wasm.backward : wasm.forward;
  for (let first = 0; first < planes; first += chunk) {
    const count = Math.min(chunk, planes - first);
    load(first, count, memory, secondAt / 4);
    run(0, secondAt, thirdAt, count, width * 4, outHeight, Math.ceil(outWidth / 4), planeBytes, outPlaneBytes, outWidth * 4);
    store(first, count, memory, (backward ? thirdAt : secondAt) / 4);
  }
  runs++;
  return true;
}

/**
 * Runs `pool(at, rows, outAt)` over bands of an even number of rows of each plane, each band at
 * most MAX_PLANE_BYTES (at: the band's first element, outAt: its first output's): a band of 2r
 * rows is itself a plane whose r output rows are the plane's. False when a band failed, or when
 * two rows already exceed the bound (the caller's loop then pools the planes whole).
 */
function inBands(planes: number, height: number, width: number, pool: (at: number, rows: number, outAt: number) => boolean): boolean {
  const bandRows = Math.floor(MAX_PLANE_BYTES / (width * 4) / 2) * 2;
  if (bandRows < 2) return false;
  const outWidth = Math.floor(width / 2);
  const pooledRows = height - (height % 2);
  for (let p = 0; p < planes; p++) {
    for (let row = 0; row < pooledRows; row += bandRows) {
      const rows = Math.min(bandRows, pooledRows - row);
      if (!pool((p * height + row) * width, rows, (p * Math.floor(height / 2) + row / 2) * outWidth)) return false;
    }
  }
  return true;
}

/** Pools (forward or backward, a band counting as one) run by the module since the process started (tests check it ran). */
let runs = 0;

export function squarePoolRuns(): number {
  return runs;
}

/**
 * `result` = the 2 x 2, stride 2 max pool of `x`'s [height, width] planes (contiguous, floor
 * mode): each window's first maximum in row-major order, NaN if any tap is. False (the caller
 * then pools with its loop) where WebAssembly SIMD is unavailable, or two rows exceed 4 MiB.
 */
export function maxPool2x2(x: Float32Array, planes: number, height: number, width: number, result: Float32Array): boolean {
  const plane = height * width;
  const outPlane = Math.floor(height / 2) * Math.floor(width / 2);
  if (plane * 4 > MAX_PLANE_BYTES)
    return inBands(planes, height, width, (at, rows, outAt) => maxPool2x2(x.subarray(at), 1, rows, width, result.subarray(outAt)));
  return overChunks(
    false,
    planes,
    height,
    width,
    (first, count, memory) => memory.set(x.subarray(first * plane, (first + count) * plane)),
    (first, count, memory, at) => result.set(memory.subarray(at, at + count * outPlane), first * outPlane),
  );
}

/**
 * `dx` = x's cotangent under maxPool2x2 from the pool's cotangent `g`: each window's cotangent at
 * its first maximum (argmax's: a greater value or the first NaN replaces it), zero elsewhere,
 * including a last row or column no window covers. False (the caller then computes dx with its
 * loop) where WebAssembly SIMD is unavailable, or two rows exceed 4 MiB.
 */
export function maxPool2x2Backward(
  x: Float32Array,
  g: Float32Array,
  planes: number,
  height: number,
  width: number,
  dx: Float32Array,
): boolean {
  const plane = height * width;
  const outPlane = Math.floor(height / 2) * Math.floor(width / 2);
  if (plane * 4 > MAX_PLANE_BYTES) {
    const banded = inBands(planes, height, width, (at, rows, outAt) =>
      maxPool2x2Backward(x.subarray(at), g.subarray(outAt), 1, rows, width, dx.subarray(at)),
    );
    // An odd last row lies in no band, and no window covers it.
    if (banded && height % 2 === 1) for (let p = 0; p < planes; p++) dx.fill(0, (p + 1) * plane - width, (p + 1) * plane);
    return banded;
  }
  const done = overChunks(
    true,
    planes,
    height,
    width,
    (first, count, memory, secondAt) => {
      memory.set(x.subarray(first * plane, (first + count) * plane));
      memory.set(g.subarray(first * outPlane, (first + count) * outPlane), secondAt);
    },
    (first, count, memory, at) => dx.set(memory.subarray(at, at + count * plane), first * plane),
  );
  if (!done) return false;
  // A last group's extra lanes wrote into an odd last column and row; no window covers them.
  for (let p = 0; p < planes; p++) {
    if (width % 2 === 1) for (let r = 0; r < height; r++) dx[p * plane + r * width + width - 1] = 0;
    if (height % 2 === 1) dx.fill(0, p * plane + (height - 1) * width, (p + 1) * plane);
  }
  return true;
}

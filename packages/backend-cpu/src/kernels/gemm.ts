import type { TypedArray } from '@flint/api';
import { scratchFloat64 } from '../scratch.js';
import { type GemmPool, gemmPool, gemmThreadsReady, MAX_TASKS, setGemmThreads } from '../threads/gemm-pool.js';

export { gemmPoolBytes, threadedAGatherJobs, threadedJobs, threadedPatchJobs } from '../threads/gemm-pool.js';

import { gemmShapes, type WasmGemm, wasmBuffer, wasmGemm } from '../wasm/gemm-wasm.js';

/**
 * A matrix operand: element (i, j) is data[offset + i * rowStride + j * colStride], so transposed
 * and strided views are read in place by the packing routines, without a copy first.
 */
export interface MatrixView {
  readonly data: TypedArray;
  readonly offset: number;
  readonly rowStride: number;
  readonly colStride: number;
}

// Blocking: a k-block of KC keeps an A panel (4 x KC) and a B panel (KC x 8) in L1; MC rows of A
// (MC x KC) stay in L2 while every B panel passes over them.
export const KC = 256;
const MC = 64;

/**
 * Products of at least this many multiply-adds (m * n * k) are split across threads; below it
 * waking the workers costs more than they save.
 */
let threadedMinimum = 2 ** 20;
/** The smallest product (m * n * k, summed over a batch) that uses threads. */
export function threadedProductMinimum(): number {
  return threadedMinimum;
}

/** Columns of B up to which packing A is worth a gather job on the threads (see gemmThreaded). */
const NARROW_B = 64;

/** Tasks per thread: small enough that a thread slowed by the machine leaves its share to others. */
const TASKS_PER_THREAD = 8;

/**
 * Writes rows [p0, p0 + kc) x all n cols of B into `out` from `at` as panels of `width` cols,
 * [panel][kc][width], zero-filling cols past n. Lets a caller that computes B on the fly (conv's
 * im2col) write it straight into the layout the micro-kernel reads, skipping a matrix in between.
 */
export type PackB = (p0: number, kc: number, width: number, out: TypedArray, at: number) => void;

/**
 * B as a convolution's patches (its im2col matrix, never materialized): element (p, j) is
 * data[offset + columnBase[j] + rowDelta[p]]. The thread pool packs these in parallel; `PackB`
 * packs the same on one thread.
 */
export interface Patches {
  readonly data: TypedArray;
  readonly offset: number;
  readonly columnBase: Int32Array;
  readonly rowDelta: Int32Array;
}

/**
 * C[M, N] = A[M, K] x B[K, N]; C is row-major from `cOffset` with `ldc` elements per row (n when
 * contiguous) and is overwritten. Float32
 * runs the WebAssembly SIMD kernel where available, floats otherwise a register-blocked JavaScript
 * kernel; int32 wraps like C (Math.imul), uint8 modulo 256.
 */
export function gemm(
  m: number,
  n: number,
  k: number,
  a: MatrixView,
  b: MatrixView,
  c: TypedArray,
  cOffset: number,
  ldc: number,
  dtype: string,
): void {
  if (m === 0 || n === 0) return;
  if (k === 0) {
    for (let i = 0; i < m; i++) c.fill(0, cOffset + i * ldc, cOffset + i * ldc + n);
    return;
  }
  const floating = dtype === 'float32' || dtype === 'float64';
  if (floating && m * n * k >= 4096)
    gemmPackedB(m, n, k, a, (p0, kc, width, out, at) => packB(b, n, width, p0, kc, out, at), c, cOffset, ldc, dtype);
  else gemmSimple(m, n, k, a, b, c, cOffset, ldc, dtype === 'int32');
}

/**
 * The float gemm with B supplied by a packing function (see `PackB`); m, n, k > 0. Small products
 * skip WebAssembly, whose fixed cost (packing all of B, copying C out) would dominate.
 */
export function gemmPackedB(
  m: number,
  n: number,
  k: number,
  a: MatrixView,
  pack: PackB,
  c: TypedArray,
  cOffset: number,
  ldc: number,
  dtype: string,
  patches?: Patches,
): void {
  if (m * n * k >= 16384) {
    if (m * n * k >= threadedMinimum) {
      const pool = gemmPool(gemmShapes());
      if (pool !== null && gemmThreaded(pool, dtype === 'float32', m, n, k, a, { pack, patches }, c, cOffset, ldc)) return;
    }
    const wasm = wasmGemm(dtype === 'float32' ? 'f32' : 'f64');
    // The JavaScript kernel, which needs far less memory, takes over when wasm memory cannot grow.
    if (wasm !== null && gemmWasm(wasm, dtype === 'float32', m, n, k, a, pack, c, cOffset, ldc)) return;
  }
  gemmBlocked(m, n, k, a, pack, c, cOffset, ldc);
}

/** The straightforward triple loop, for small products and integers. */
function gemmSimple(
  m: number,
  n: number,
  k: number,
  a: MatrixView,
  b: MatrixView,
  c: TypedArray,
  cOffset: number,
  ldc: number,
  wrap32: boolean,
): void {
  const ad = a.data;
  const bd = b.data;
  const { rowStride: ar, colStride: ac } = a;
  const { rowStride: br, colStride: bc } = b;
  for (let i = 0; i < m; i++) {
    const cRow = cOffset + i * ldc;
    for (let j = 0; j < n; j++) {
      let s = 0;
      let p = a.offset + i * ar;
      let q = b.offset + j * bc;
      if (wrap32) for (let l = 0; l < k; l++, p += ac, q += br) s = (s + Math.imul(ad[p]!, bd[q]!)) | 0;
      else for (let l = 0; l < k; l++, p += ac, q += br) s += ad[p]! * bd[q]!;
      c[cRow + j] = s;
    }
  }
}

/**
 * Packs rows [i0, i0 + rows) x cols [p0, p0 + kc) of A into panels of `height` rows,
 * [panel][kc][height], zero-filling rows past m.
 */
function packA(
  a: MatrixView,
  m: number,
  height: number,
  i0: number,
  rows: number,
  p0: number,
  kc: number,
  out: Float32Array | Float64Array,
  at: number,
): void {
  const data = a.data;
  const { rowStride, colStride } = a;
  for (let panel = 0; panel < rows; panel += height) {
    for (let r = 0; r < height; r++) {
      const i = i0 + panel + r;
      let o = at + panel * kc + r;
      if (i >= m) {
        for (let p = 0; p < kc; p++, o += height) out[o] = 0;
        continue;
      }
      for (let p = 0, s = a.offset + i * rowStride + p0 * colStride; p < kc; p++, s += colStride, o += height) out[o] = data[s]!;
    }
  }
}

/**
 * Packs rows [p0, p0 + kc) x all n cols of B into panels of `width` cols, [panel][kc][width],
 * zero-filling cols past n.
 */
function packB(b: MatrixView, n: number, width: number, p0: number, kc: number, out: TypedArray, at: number): void {
  const data = b.data;
  const { rowStride, colStride } = b;
  if (Math.abs(colStride) <= Math.abs(rowStride)) {
    // Rows are contiguous (or nearly): copy a band of 16 rows across all panels at a time, so the
    // reads stay sequential and the band's pages stay in the TLB.
    for (let band = 0; band < kc; band += 16) {
      const bandEnd = Math.min(kc, band + 16);
      for (let j0 = 0; j0 < n; j0 += width) {
        const valid = Math.min(width, n - j0);
        let o = at + j0 * kc + band * width;
        for (let p = band, s = b.offset + (p0 + band) * rowStride + j0 * colStride; p < bandEnd; p++, s += rowStride) {
          let q = 0;
          for (let t = s; q < valid; q++, t += colStride) out[o++] = data[t]!;
          for (; q < width; q++) out[o++] = 0;
        }
      }
    }
    return;
  }
  for (let j0 = 0; j0 < n; j0 += width) {
    const base = at + j0 * kc;
    const valid = Math.min(width, n - j0);
    for (let q = 0; q < width; q++) {
      let o = base + q;
      if (q >= valid) {
        for (let p = 0; p < kc; p++, o += width) out[o] = 0;
        continue;
      }
      for (let p = 0, t = b.offset + p0 * rowStride + (j0 + q) * colStride; p < kc; p++, t += rowStride, o += width) out[o] = data[t]!;
    }
  }
}

/**
 * Floats through the WebAssembly SIMD kernel. Its memory holds all of B packed (for each k-block,
 * [n / width][kc][width]), one block of C rows padded to a multiple of the tile width, and one
 * packed A block; each C block is accumulated over the k-blocks, then copied out. Returns false
 * (having done nothing) when the wasm memory cannot grow to the size needed.
 */
function gemmWasm(
  wasm: WasmGemm,
  single: boolean,
  m: number,
  n: number,
  k: number,
  a: MatrixView,
  pack: PackB,
  c: TypedArray,
  cOffset: number,
  ldc: number,
): boolean {
  const { rows: height, width } = wasm;
  const paddedN = Math.ceil(n / width) * width;
  const blockRows = Math.min(Math.floor(MC / height) * height, Math.ceil(m / height) * height);
  const bElements = k * paddedN;
  const cElements = blockRows * paddedN;
  const aElements = blockRows * KC;
  const size = single ? 4 : 8;
  const buffer = wasmBuffer(wasm, (bElements + cElements + aElements) * size);
  if (buffer === null) return false;
  const memory = single ? new Float32Array(buffer) : new Float64Array(buffer);
  const bAt = 0;
  const cAt = bElements;
  const aAt = bElements + cElements;
  for (let p0 = 0; p0 < k; p0 += KC) {
    const kc = Math.min(KC, k - p0);
    pack(p0, kc, width, memory, bAt + p0 * paddedN);
  }
  for (let i0 = 0; i0 < m; i0 += blockRows) {
    const rows = Math.min(blockRows, Math.ceil((m - i0) / height) * height);
    memory.fill(0, cAt, cAt + rows * paddedN);
    for (let p0 = 0; p0 < k; p0 += KC) {
      const kc = Math.min(KC, k - p0);
      packA(a, m, height, i0, rows, p0, kc, memory, aAt);
      wasm.gemm(aAt * size, (bAt + p0 * paddedN) * size, cAt * size, rows / height, paddedN / width, kc, paddedN * size);
    }
    const valid = Math.min(rows, m - i0);
    for (let r = 0; r < valid; r++) {
      const from = cAt + r * paddedN;
      c.set(memory.subarray(from, from + n) as never, cOffset + (i0 + r) * ldc);
    }
  }
  return true;
}

/**
 * Floats on all threads (see threads/gemm-pool.ts). The pool's shared memory holds a raw copy of
 * A (one memory copy: threads pack their own A blocks from it, in parallel, into per-thread
 * scratch regions), or all of A packed when its layout is too sparse to copy whole; all of B
 * packed (as in gemmWasm; B may be computed on the fly, so only this thread can pack it); and all
 * of C (rows padded to the tile width). The work is split into blocks of C rows x panel columns
 * that the threads claim one at a time. Returns false (C untouched) when the memory cannot grow
 * that far, the product does not split, or the pool failed (it then retires, and one thread
 * computes).
 */
/**
 * A threaded product's tiling in the pool's memory: the kernel's tile (rows of an A panel,
 * columns of a B panel), bytes per element, m and n padded to whole tiles, the rows of A one
 * thread packs at a time, and `align`, which rounds a region up to 64-byte boundaries.
 */
export function poolTiling(pool: GemmPool, single: boolean, m: number, n: number) {
  const shape = pool.shapes[single ? 'f32' : 'f64'];
  const height = shape.rows;
  const width = shape.vectors * (single ? 4 : 2);
  const size = single ? 4 : 8;
  const paddedM = Math.ceil(m / height) * height;
  return {
    height,
    width,
    size,
    paddedM,
    paddedN: Math.ceil(n / width) * width,
    blockRows: Math.min(Math.floor(MC / height) * height, paddedM),
    align: (elements: number) => Math.ceil((elements * size) / 64) * (64 / size),
  };
}

/** The span [low, high) of storage that a rows x cols matrix at `offset` with these strides covers. */
export function matrixSpan(
  offset: number,
  rows: number,
  cols: number,
  rowStride: number,
  colStride: number,
): { low: number; high: number } {
  return {
    low: offset + Math.min(0, (rows - 1) * rowStride) + Math.min(0, (cols - 1) * colStride),
    high: offset + Math.max(0, (rows - 1) * rowStride) + Math.max(0, (cols - 1) * colStride) + 1,
  };
}

/** Whether a float product of m * n * k multiply-adds runs on the thread pool (started and ready). */
export function runsThreaded(m: number, n: number, k: number): boolean {
  return m * n * k >= threadedMinimum && gemmPool(gemmShapes()) !== null;
}

/** B of a threaded product: packed by `pack` on this thread, or from `patches` by all threads. */
interface ThreadedB {
  readonly pack: PackB;
  readonly patches: Patches | undefined;
}

/**
 * Where patches' source and tables go in the pool's memory, or null where the threads cannot
 * pack them (another element type, or a source span far larger than the patches read).
 */
function patchStaging(patches: Patches | undefined, single: boolean, n: number, k: number): { low: number; high: number } | null {
  if (patches === undefined || !(patches.data instanceof (single ? Float32Array : Float64Array))) return null;
  const [columnLeast, columnMost] = extent(patches.columnBase.subarray(0, n));
  const [rowLeast, rowMost] = extent(patches.rowDelta.subarray(0, k));
  const low = patches.offset + columnLeast + rowLeast;
  const high = patches.offset + columnMost + rowMost + 1;
  // A strided 1x1 convolution reads a quarter of its input; far sparser reads are packed here.
  return high - low <= 4 * n * k + 4096 ? { low, high } : null;
}

/** The least and greatest values of a non-empty table. */
function extent(table: Int32Array): [number, number] {
  let least = table[0]!;
  let most = least;
  for (const v of table) {
    if (v < least) least = v;
    else if (v > most) most = v;
  }
  return [least, most];
}

/**
 * Copies patches' source span and tables into the pool's memory (at `sourceAt` and `tablesAt`,
 * in elements) and packs them as B at `bAt` on all threads. False when the pool failed.
 */
function packPatches(
  pool: GemmPool,
  patches: Patches,
  span: { low: number; high: number },
  at: { element: 'f32' | 'f64'; bAt: number; paddedN: number; n: number; k: number; width: number; sourceAt: number; tablesAt: number },
): boolean {
  const buffer = pool.memory.buffer;
  const memory = at.element === 'f32' ? new Float32Array(buffer) : new Float64Array(buffer);
  memory.set(patches.data.subarray(span.low, span.high) as never, at.sourceAt);
  // The tables as byte addresses: the columns' in the copy, the rows' offsets from them.
  const size = memory.BYTES_PER_ELEMENT;
  const columnsAt = (at.tablesAt * size) / 4;
  const words = new Int32Array(buffer);
  const columnOrigin = at.sourceAt - span.low + patches.offset;
  for (let j = 0; j < at.n; j++) words[columnsAt + j] = (columnOrigin + patches.columnBase[j]!) * size;
  for (let p = 0; p < at.k; p++) words[columnsAt + at.n + p] = patches.rowDelta[p]! * size;
  return gatherOnThreads(pool, false, at.element, at.bAt, at.paddedN, at.n, at.k, at.width, columnsAt);
}

/**
 * Runs a gather job: panels of `width` from `at` (elements), [k-block][panel][kc][width], whose
 * element (p, q) is at byte address columns[q] + rows[p], the tables from word `columnsAt` (n
 * columns, then k rows). `intoA` packs A panels (n rows of A, padded to `padded`).
 */
function gatherOnThreads(
  pool: GemmPool,
  intoA: boolean,
  element: 'f32' | 'f64',
  at: number,
  padded: number,
  n: number,
  k: number,
  width: number,
  columnsAt: number,
): boolean {
  const panels = padded / width;
  const taskPanels = Math.ceil(panels / Math.min(panels, TASKS_PER_THREAD * (pool.readyWorkers + 1)));
  return pool.runPatches({
    element,
    intoA,
    bAt: at,
    paddedN: padded,
    n,
    k,
    kc: KC,
    width,
    columnsAt,
    rowsAt: columnsAt + n,
    taskPanels,
    total: Math.ceil(panels / taskPanels),
  });
}

/**
 * Packs A (its raw copy at `rawAt`, in elements, holding storage from `low`) as A panels at `aAt`
 * on all threads: A's rows are the gather's columns, its k offsets the rows. The tables go at
 * `tablesAt`. False when the pool failed.
 */
function gatherA(
  pool: GemmPool,
  a: MatrixView,
  at: {
    element: 'f32' | 'f64';
    aAt: number;
    paddedM: number;
    m: number;
    k: number;
    height: number;
    rawAt: number;
    low: number;
    tablesAt: number;
  },
): boolean {
  const size = at.element === 'f32' ? 4 : 8;
  const words = new Int32Array(pool.memory.buffer);
  const columnsAt = (at.tablesAt * size) / 4;
  const origin = at.rawAt - at.low + a.offset;
  for (let i = 0; i < at.m; i++) words[columnsAt + i] = (origin + i * a.rowStride) * size;
  for (let p = 0; p < at.k; p++) words[columnsAt + at.m + p] = p * a.colStride * size;
  return gatherOnThreads(pool, true, at.element, at.aAt, at.paddedM, at.m, at.k, at.height, columnsAt);
}

/** Threaded products whose threads packed A from a raw copy (tests check both ways of taking A). */
let rawACopies = 0;

export function threadedRawACopies(): number {
  return rawACopies;
}

function gemmThreaded(
  pool: GemmPool,
  single: boolean,
  m: number,
  n: number,
  k: number,
  a: MatrixView,
  b: ThreadedB,
  c: TypedArray,
  cOffset: number,
  ldc: number,
): boolean {
  const element = single ? 'f32' : 'f64';
  const { height, width, size, paddedM, paddedN, blockRows, align } = poolTiling(pool, single, m, n);
  const nPanels = paddedN / width;
  const rowBlocks = Math.ceil(paddedM / blockRows);
  const wanted = TASKS_PER_THREAD * (pool.readyWorkers + 1);
  const taskRows = Math.ceil(rowBlocks / Math.min(rowBlocks, wanted)) * blockRows;
  const rowTasks = Math.ceil(paddedM / taskRows);
  const chunkPanels = Math.ceil(nPanels / Math.min(nPanels, Math.max(1, Math.ceil(wanted / rowTasks))));
  const colTasks = Math.ceil(nPanels / chunkPanels);
  const total = rowTasks * colTasks;
  if (total < 2 || total > MAX_TASKS) return false;

  // The span of A's storage the view covers: copied whole when it is dense enough.
  const { rowStride, colStride } = a;
  const { low, high } = matrixSpan(a.offset, m, k, rowStride, colStride);
  // Each task packs the A blocks of its rows from the raw copy: with several column tasks per row
  // block, every block would be packed that many times, so A is packed once up front instead (a
  // deep product [64, 12544] x [12544, 288], a convolution's filter gradient, packed A twelve times).
  const raw = a.data instanceof (single ? Float32Array : Float64Array) && high - low <= 2 * m * k;
  const copyA = colTasks === 1 && raw;
  // Otherwise, for a narrow B, the threads gather A's panels from the raw copy first (in
  // WebAssembly): packA here, in JavaScript, costs about 2 ns per element of A against about
  // 0.1 ns * n for the product's, and cost 3 ms of a 7.7 ms filter gradient ([32, 50176] x
  // [50176, 9]). With wide products the job, the copy and the wait gained nothing measurable.
  const threadsPackA = !copyA && raw && n <= NARROW_B;
  // Regions start on 64-byte boundaries.
  const aAt = 0;
  const aElements = copyA ? pool.threads * blockRows * KC : k * paddedM;
  const rawAt = align(aElements);
  const copiedA = copyA || threadsPackA;
  const bAt = rawAt + (copiedA ? align(high - low) : 0);
  const cAt = bAt + align(k * paddedN);
  // Patches' source span, then their two int32 tables, after C.
  const span = patchStaging(b.patches, single, n, k);
  const sourceAt = cAt + align(paddedM * paddedN);
  const tablesAt = span === null ? sourceAt : sourceAt + align(span.high - span.low);
  const patchesEnd = span === null ? sourceAt : tablesAt + align(Math.ceil(((n + k) * 4) / size));
  // A's gather tables last.
  const aTablesAt = patchesEnd;
  const end = threadsPackA ? aTablesAt + align(Math.ceil(((m + k) * 4) / size)) : patchesEnd;
  const buffer = pool.buffer(end * size);
  if (buffer === null) return false;
  const memory = single ? new Float32Array(buffer) : new Float64Array(buffer);
  if (copiedA) memory.set(a.data.subarray(low, high) as never, rawAt);
  if (threadsPackA && !gatherA(pool, a, { element, aAt, paddedM, m, k, height, rawAt, low, tablesAt: aTablesAt })) return false;
  if (span !== null && !packPatches(pool, b.patches!, span, { element, bAt, paddedN, n, k, width, sourceAt, tablesAt })) return false;
  for (let p0 = 0; p0 < k; p0 += KC) {
    const kc = Math.min(KC, k - p0);
    if (span === null) b.pack(p0, kc, width, memory, bAt + p0 * paddedN);
    if (!copiedA) packA(a, m, height, 0, paddedM, p0, kc, memory, aAt + p0 * paddedM);
  }
  const job = {
    element,
    aAt,
    bAt,
    cAt,
    paddedM,
    paddedN,
    k,
    kc: KC,
    height,
    width,
    blockRows,
    taskRows,
    chunkPanels,
    colTasks,
    total,
    aRaw: copyA ? rawAt + a.offset - low : -1,
    aRowStride: rowStride,
    aColStride: colStride,
    m,
  } as const;
  if (!pool.run(job)) return false;
  if (copyA) rawACopies++;
  for (let r = 0; r < m; r++) {
    const from = cAt + r * paddedN;
    c.set(memory.subarray(from, from + n) as never, cOffset + r * ldc);
  }
  return true;
}

/**
 * Sets the threads float products use, the main thread included (1: none; undefined: back to
 * FLINT_CPU_THREADS or the core count) and, optionally, the smallest product (m * n * k) that
 * uses them. For tests and benchmarks.
 */
export function setGemmThreading(threads: number | undefined, minimum = 2 ** 20): void {
  setGemmThreads(threads);
  threadedMinimum = minimum;
}

/** Starts the thread pool now; resolves with the worker threads ready (0: single-threaded). */
export function gemmThreadsStarted(): Promise<number> {
  return gemmThreadsReady(gemmShapes());
}

/**
 * The JavaScript kernel: packed panels in Float64Arrays and 4 x 4 register tiles of local
 * variables, accumulated over k-blocks straight into C.
 */
function gemmBlocked(m: number, n: number, k: number, a: MatrixView, pack: PackB, c: TypedArray, cOffset: number, ldc: number): void {
  for (let i = 0; i < m; i++) c.fill(0, cOffset + i * ldc, cOffset + i * ldc + n);
  const paddedN = Math.ceil(n / 4) * 4;
  const blockRows = Math.min(MC, Math.ceil(m / 4) * 4);
  const bPack = scratchFloat64('gemm.b', KC * paddedN);
  const aPack = scratchFloat64('gemm.a', blockRows * KC);
  for (let p0 = 0; p0 < k; p0 += KC) {
    const kc = Math.min(KC, k - p0);
    pack(p0, kc, 4, bPack, 0);
    for (let i0 = 0; i0 < m; i0 += blockRows) {
      const rows = Math.min(blockRows, Math.ceil((m - i0) / 4) * 4);
      packA(a, m, 4, i0, rows, p0, kc, aPack, 0);
      for (let j0 = 0; j0 < n; j0 += 4) {
        const width = Math.min(4, n - j0);
        for (let panel = 0; panel < rows; panel += 4) {
          const height = Math.min(4, m - i0 - panel);
          if (height <= 0) break;
          let c00 = 0,
            c01 = 0,
            c02 = 0,
            c03 = 0;
          let c10 = 0,
            c11 = 0,
            c12 = 0,
            c13 = 0;
          let c20 = 0,
            c21 = 0,
            c22 = 0,
            c23 = 0;
          let c30 = 0,
            c31 = 0,
            c32 = 0,
            c33 = 0;
          let ai = panel * kc;
          let bi = j0 * kc;
          for (let p = 0; p < kc; p++, ai += 4, bi += 4) {
            const a0 = aPack[ai]!;
            const a1 = aPack[ai + 1]!;
            const a2 = aPack[ai + 2]!;
            const a3 = aPack[ai + 3]!;
            const b0 = bPack[bi]!;
            const b1 = bPack[bi + 1]!;
            const b2 = bPack[bi + 2]!;
            const b3 = bPack[bi + 3]!;
            c00 += a0 * b0;
            c01 += a0 * b1;
            c02 += a0 * b2;
            c03 += a0 * b3;
            c10 += a1 * b0;
            c11 += a1 * b1;
            c12 += a1 * b2;
            c13 += a1 * b3;
            c20 += a2 * b0;
            c21 += a2 * b1;
            c22 += a2 * b2;
            c23 += a2 * b3;
            c30 += a3 * b0;
            c31 += a3 * b1;
            c32 += a3 * b2;
            c33 += a3 * b3;
          }
          const row = cOffset + (i0 + panel) * ldc + j0;
          if (width === 4 && height === 4) {
            c[row] = c[row]! + c00;
            c[row + 1] = c[row + 1]! + c01;
            c[row + 2] = c[row + 2]! + c02;
            c[row + 3] = c[row + 3]! + c03;
            const r1 = row + ldc;
            c[r1] = c[r1]! + c10;
            c[r1 + 1] = c[r1 + 1]! + c11;
            c[r1 + 2] = c[r1 + 2]! + c12;
            c[r1 + 3] = c[r1 + 3]! + c13;
            const r2 = r1 + ldc;
            c[r2] = c[r2]! + c20;
            c[r2 + 1] = c[r2 + 1]! + c21;
            c[r2 + 2] = c[r2 + 2]! + c22;
            c[r2 + 3] = c[r2 + 3]! + c23;
            const r3 = r2 + ldc;
            c[r3] = c[r3]! + c30;
            c[r3 + 1] = c[r3 + 1]! + c31;
            c[r3 + 2] = c[r3 + 2]! + c32;
            c[r3 + 3] = c[r3 + 3]! + c33;
          } else {
            const tile = [c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33];
            for (let r = 0; r < height; r++) {
              for (let q = 0; q < width; q++) c[row + r * ldc + q] = c[row + r * ldc + q]! + tile[r * 4 + q]!;
            }
          }
        }
      }
    }
  }
}

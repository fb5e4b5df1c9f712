import type { TypedArray } from '@flint/api';
import { gemmPool, MAX_TASKS } from '../threads/gemm-pool.js';
import { gemmShapes } from '../wasm/gemm-wasm.js';
import { gemm, KC, matrixSpan, poolTiling, threadedProductMinimum } from './gemm.js';

// A batch of products of one shape (attention's heads, batched matmul) as one job on the thread
// pool, a product per task: the thread that claims it packs its own panels from raw copies of the
// operands and computes the whole product. Splitting each small product over the threads instead
// cost more than it saved (16 products [128, 64] x [64, 128]: 2.6 ms threaded one by one, 1.5 ms
// on one thread, 1.2 ms as one batched job), as every product woke the workers and packed B on the
// calling thread alone.

/** A batch of matrices: element (i, j) of matrix t is data[offsets[t] + i * rowStride + j * colStride]. */
export interface BatchedOperand {
  readonly data: TypedArray;
  readonly offsets: Float64Array;
  readonly rowStride: number;
  readonly colStride: number;
}

/**
 * Products from which splitting one product over the threads is about as good as a product per
 * thread (measured: 1.2x at 2^24 multiply-adds, 1.6x at 2^27), unless the batch fills every thread twice.
 */
const PER_PRODUCT_THREADING = 2 ** 24;

/**
 * C[t] = A[t] x B[t] for t < batch; C is row-major [batch, m, n] and overwritten. On the thread
 * pool, a product per task, when the batch is worth it; else product by product (each of which
 * may itself use the threads).
 */
export function gemmBatched(
  batch: number,
  m: number,
  n: number,
  k: number,
  a: BatchedOperand,
  b: BatchedOperand,
  c: TypedArray,
  dtype: string,
): void {
  const work = m * n * k;
  const byProduct =
    batch < 2 || k === 0 || work < 4096 || batch * work < threadedProductMinimum() || !(dtype === 'float32' || dtype === 'float64');
  if (byProduct || !gemmBatchedThreaded(batch, m, n, k, a, b, c, dtype === 'float32')) {
    for (let t = 0; t < batch; t++) {
      gemm(
        m,
        n,
        k,
        { data: a.data, offset: a.offsets[t]!, rowStride: a.rowStride, colStride: a.colStride },
        { data: b.data, offset: b.offsets[t]!, rowStride: b.rowStride, colStride: b.colStride },
        c,
        t * m * n,
        n,
        dtype,
      );
    }
  }
}

/** The span [low, high) of storage that a batch of rows x cols matrices covers. */
function span(x: BatchedOperand, rows: number, cols: number): { low: number; high: number } {
  let low = Number.POSITIVE_INFINITY;
  let high = Number.NEGATIVE_INFINITY;
  for (const offset of x.offsets) {
    const one = matrixSpan(offset, rows, cols, x.rowStride, x.colStride);
    low = Math.min(low, one.low);
    high = Math.max(high, one.high);
  }
  return { low, high };
}

/** The batch on the pool; false (C untouched) where the pool, the memory or the layout does not allow it. */
function gemmBatchedThreaded(
  batch: number,
  m: number,
  n: number,
  k: number,
  a: BatchedOperand,
  b: BatchedOperand,
  c: TypedArray,
  single: boolean,
): boolean {
  if (batch > MAX_TASKS) return false;
  const pool = gemmPool(gemmShapes());
  if (pool === null) return false;
  const threads = pool.readyWorkers + 1;
  if (m * n * k >= PER_PRODUCT_THREADING && batch < 2 * threads) return false;
  const Element = single ? Float32Array : Float64Array;
  if (!(a.data instanceof Element) || !(b.data instanceof Element)) return false;
  const aSpan = span(a, m, k);
  const bSpan = span(b, k, n);
  // Sparse views (a few rows of a wide array) would copy far more than they read.
  if (aSpan.high - aSpan.low > 2 * batch * m * k || bSpan.high - bSpan.low > 2 * batch * k * n) return false;
  const { height, width, size, paddedM, paddedN, blockRows, align } = poolTiling(pool, single, m, n);
  // Layout (elements, regions on 64-byte boundaries): the offset table (2 x batch int32 words),
  // the raw copies of A and B, every thread's scratch, then C.
  const rawA = align(Math.ceil((2 * batch * 4) / size));
  const rawB = rawA + align(aSpan.high - aSpan.low);
  const scratchAt = rawB + align(bSpan.high - bSpan.low);
  const cAt = scratchAt + align(pool.threads * (blockRows * KC + KC * paddedN));
  const end = cAt + batch * paddedM * paddedN;
  if (end * size >= 2 ** 31) return false;
  const buffer = pool.buffer(end * size);
  if (buffer === null) return false;
  const memory = single ? new Float32Array(buffer) : new Float64Array(buffer);
  memory.set(a.data.subarray(aSpan.low, aSpan.high) as never, rawA);
  memory.set(b.data.subarray(bSpan.low, bSpan.high) as never, rawB);
  const table = new Int32Array(buffer, 0, 2 * batch);
  for (let t = 0; t < batch; t++) {
    table[t] = rawA + (a.offsets[t] as number) - aSpan.low;
    table[batch + t] = rawB + (b.offsets[t] as number) - bSpan.low;
  }
  const job = {
    element: single ? 'f32' : 'f64',
    batch,
    m,
    n,
    k,
    kc: KC,
    paddedM,
    paddedN,
    height,
    width,
    blockRows,
    aRowStride: a.rowStride,
    aColStride: a.colStride,
    bRowStride: b.rowStride,
    bColStride: b.colStride,
    offsetsAt: 0,
    scratchAt,
    cAt,
  } as const;
  if (!pool.runBatched(job)) return false;
  for (let t = 0; t < batch; t++) {
    for (let r = 0; r < m; r++) {
      const from = cAt + (t * paddedM + r) * paddedN;
      c.set(memory.subarray(from, from + n) as never, (t * m + r) * n);
    }
  }
  return true;
}

import { type Aval, type ParamsOf, type Primitive, sizeOf, type TypedArray } from '@flint/api';
import { allocateUninitialized } from '../storage.js';
import { type CpuHandle, contiguousData, permutedView, wrap } from '../view.js';
import { gemm } from './gemm.js';

/**
 * The single stride that walks `axes` of a view as one merged dim (row-major over the axes), or
 * null when the axes do not merge (then the operand is copied into a packed layout first).
 */
function mergedStride(shape: readonly number[], strides: readonly number[], axes: readonly number[]): number | null {
  let stride = 0;
  let expected: number | null = null;
  for (let i = axes.length - 1; i >= 0; i--) {
    const dim = shape[axes[i]!]!;
    if (dim === 1) continue;
    const s = strides[axes[i]!]!;
    if (expected !== null && s !== expected) return null;
    if (expected === null) stride = s;
    expected = s * dim;
  }
  return stride;
}

interface BatchedMatrix {
  readonly data: TypedArray;
  readonly offset: number;
  readonly batchStride: number;
  readonly rowStride: number;
  readonly colStride: number;
}

/** The operand as [batch, rows, cols] strides over its own storage, or a packed copy when its layout needs one. */
function asBatchedMatrix(h: CpuHandle, batch: readonly number[], rows: readonly number[], cols: readonly number[]): BatchedMatrix {
  const b = mergedStride(h.shape, h.strides, batch);
  const r = mergedStride(h.shape, h.strides, rows);
  const c = mergedStride(h.shape, h.strides, cols);
  if (b !== null && r !== null && c !== null) return { data: h.storage.data, offset: h.offset, batchStride: b, rowStride: r, colStride: c };
  const data = contiguousData(permutedView(h, [...batch, ...rows, ...cols]));
  const rowCount = rows.reduce((p, a) => p * h.shape[a]!, 1);
  const colCount = cols.reduce((p, a) => p * h.shape[a]!, 1);
  return { data, offset: 0, batchStride: rowCount * colCount, rowStride: colCount, colStride: 1 };
}

/**
 * DotGeneral as a batch of matrix products [M, K] x [K, N]. Operands whose batch, free and
 * contracting axes each merge into one strided dim (plain, transposed or broadcast matrices) are
 * read in place by gemm's packing; others are packed into [batch, M, K] / [batch, K, N] first.
 */
export function dotGeneralKernel(inputs: readonly CpuHandle[], params: ParamsOf<Primitive.DotGeneral>, out: Aval): CpuHandle {
  const lhs = inputs[0]!;
  const rhs = inputs[1]!;
  const { lhsContracting, rhsContracting, lhsBatch, rhsBatch } = params;
  const lhsFree: number[] = [];
  for (let i = 0; i < lhs.shape.length; i++) if (!lhsContracting.includes(i) && !lhsBatch.includes(i)) lhsFree.push(i);
  const rhsFree: number[] = [];
  for (let i = 0; i < rhs.shape.length; i++) if (!rhsContracting.includes(i) && !rhsBatch.includes(i)) rhsFree.push(i);
  const product = (shape: readonly number[], axes: readonly number[]) => axes.reduce((p, a) => p * shape[a]!, 1);
  const batch = product(lhs.shape, lhsBatch);
  const m = product(lhs.shape, lhsFree);
  const k = product(lhs.shape, lhsContracting);
  const n = product(rhs.shape, rhsFree);
  const c = allocateUninitialized(out.dtype, sizeOf(out.shape));
  if (batch * m * n === 0) return wrap(c, out.shape, out.dtype);
  const a = asBatchedMatrix(lhs, lhsBatch, lhsFree, lhsContracting);
  const b = asBatchedMatrix(rhs, rhsBatch, rhsContracting, rhsFree);
  for (let i = 0; i < batch; i++) {
    gemm(
      m,
      n,
      k,
      { data: a.data, offset: a.offset + i * a.batchStride, rowStride: a.rowStride, colStride: a.colStride },
      { data: b.data, offset: b.offset + i * b.batchStride, rowStride: b.rowStride, colStride: b.colStride },
      c,
      i * m * n,
      n,
      out.dtype,
    );
  }
  return wrap(c, out.shape, out.dtype);
}

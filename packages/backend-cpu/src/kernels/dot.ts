import { type Aval, type ParamsOf, type Primitive, sizeOf } from '@flint/api';
import { allocateUninitialized } from '../storage.js';
import { type CpuHandle, contiguousData, permutedView, wrap } from '../view.js';
import { type BatchedOperand, gemmBatched } from './batched-gemm.js';

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

/** The offset of every batch element of a view, batch axes row-major (any strides, broadcasts included). */
function batchOffsets(h: CpuHandle, batch: readonly number[], count: number): Float64Array {
  const offsets = new Float64Array(count);
  let filled = 1;
  offsets[0] = h.offset;
  // Built axis by axis from the first, each a new innermost coordinate: offset j of the axes so
  // far becomes offsets j * size + i. In place, from the last j down: its targets lie at or past
  // j * size, where no offset still to be read is.
  for (const axis of batch) {
    const size = h.shape[axis]!;
    const stride = h.strides[axis]!;
    for (let j = filled - 1; j >= 0; j--) {
      const base = offsets[j]!;
      for (let i = size - 1; i >= 0; i--) offsets[j * size + i] = base + i * stride;
    }
    filled *= size;
  }
  return offsets;
}

/**
 * The operand as [batch, rows, cols] over its own storage (the batch axes need not merge: each
 * batch element has its offset), or a packed copy when its rows or cols do not merge.
 */
function asBatchedOperand(
  h: CpuHandle,
  batch: readonly number[],
  rows: readonly number[],
  cols: readonly number[],
  count: number,
): BatchedOperand {
  const r = mergedStride(h.shape, h.strides, rows);
  const c = mergedStride(h.shape, h.strides, cols);
  if (r !== null && c !== null) return { data: h.storage.data, offsets: batchOffsets(h, batch, count), rowStride: r, colStride: c };
  const data = contiguousData(permutedView(h, [...batch, ...rows, ...cols]));
  const rowCount = rows.reduce((p, a) => p * h.shape[a]!, 1);
  const colCount = cols.reduce((p, a) => p * h.shape[a]!, 1);
  const offsets = new Float64Array(count);
  for (let i = 0; i < count; i++) offsets[i] = i * rowCount * colCount;
  return { data, offsets, rowStride: colCount, colStride: 1 };
}

/**
 * DotGeneral as a batch of matrix products [M, K] x [K, N]. Operands whose free and contracting
 * axes each merge into one strided dim (plain, transposed or broadcast matrices, at any batch
 * strides, as the heads of attention split from [B, T, H * D]) are read in place by gemm's
 * packing; others are packed into [batch, M, K] / [batch, K, N] first.
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
  const a = asBatchedOperand(lhs, lhsBatch, lhsFree, lhsContracting, batch);
  const b = asBatchedOperand(rhs, rhsBatch, rhsContracting, rhsFree, batch);
  gemmBatched(batch, m, n, k, a, b, c, out.dtype);
  return wrap(c, out.shape, out.dtype);
}

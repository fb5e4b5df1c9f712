import { type Aval, type ParamsOf, Primitive, sizeOf, type TypedArray } from '@flint/api';
import { layout, type MklHandle, wrap } from '../handle.js';
import type { MklMemory } from '../memory.js';
import type { Addon } from '../native/addon.js';
import { DTYPE_CODES, MatmulMode } from '../native/codes.js';
import { isFloat, type KernelContext } from './context.js';

/**
 * The single stride that walks `axes` of a view as one merged dim (row-major over the axes), or
 * null when they do not merge. Size-1 axes take any stride.
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

/** FLINT_MKL_MATMUL=blas|onednn pins every float32 product to one engine (default: the faster per shape). */
const ENGINE: MatmulMode =
  process.env.FLINT_MKL_MATMUL === 'blas'
    ? MatmulMode.blas
    : process.env.FLINT_MKL_MATMUL === 'onednn'
      ? MatmulMode.onednn
      : MatmulMode.auto;

const product = (shape: readonly number[], axes: readonly number[]) => axes.reduce((p, a) => p * shape[a]!, 1);

export interface Rank3 {
  readonly data: TypedArray;
  readonly layout: Int32Array;
  /** Whether `data` is a temporary packed copy, returned to the pool after the call. */
  readonly packed: boolean;
}

/**
 * The operand as a rank-3 view [batch, rows, cols] of its own storage when each group of axes
 * merges into one strided dim (plain, transposed, broadcast and sliced matrices), else a packed
 * copy made by the addon. The addon passes in-place views to BLAS or packs them itself.
 */
export function asRank3(
  memory: MklMemory,
  addon: Addon,
  h: MklHandle,
  batch: readonly number[],
  rows: readonly number[],
  cols: readonly number[],
): Rank3 {
  const shape = [product(h.shape, batch), product(h.shape, rows), product(h.shape, cols)];
  const b = mergedStride(h.shape, h.strides, batch);
  const r = mergedStride(h.shape, h.strides, rows);
  const c = mergedStride(h.shape, h.strides, cols);
  if (b !== null && r !== null && c !== null) return { data: h.storage.data, layout: layout(h.offset, shape, [b, r, c]), packed: false };
  const perm = [...batch, ...rows, ...cols];
  const permuted = layout(
    h.offset,
    perm.map((p) => h.shape[p]!),
    perm.map((p) => h.strides[p]!),
  );
  const packed = memory.allocateUninitialized(h.dtype, sizeOf(shape));
  addon.copy(DTYPE_CODES[h.dtype], h.storage.data, permuted, packed);
  return { data: packed, layout: layout(0, shape, [shape[1]! * shape[2]!, shape[2]!, 1]), packed: true };
}

/**
 * DotGeneral as a batch of [M, K] x [K, N] products in the addon (CBLAS or oneDNN, whichever it
 * measured faster for the shape) for float32/float64, and oneDNN's bfloat16 matmul (float32
 * accumulation, one rounding of each result) where the CPU computes bfloat16 natively; integer
 * and float16 dtypes take the portable kernel.
 */
export function dotGeneralKernel(context: KernelContext) {
  const fallback = context.fallback[Primitive.DotGeneral];
  return (inputs: readonly MklHandle[], params: ParamsOf<Primitive.DotGeneral>, out: Aval): MklHandle => {
    const lhs = inputs[0]!;
    const rhs = inputs[1]!;
    const bfloat16 = lhs.dtype === 'bfloat16' && context.bfloat16;
    if (!isFloat(lhs.dtype) && !bfloat16) return fallback(inputs, params, out);
    const { lhsContracting, rhsContracting, lhsBatch, rhsBatch } = params;
    const lhsFree: number[] = [];
    for (let i = 0; i < lhs.shape.length; i++) if (!lhsContracting.includes(i) && !lhsBatch.includes(i)) lhsFree.push(i);
    const rhsFree: number[] = [];
    for (let i = 0; i < rhs.shape.length; i++) if (!rhsContracting.includes(i) && !rhsBatch.includes(i)) rhsFree.push(i);
    const a = asRank3(context.memory, context.addon, lhs, lhsBatch, lhsFree, lhsContracting);
    const b = asRank3(context.memory, context.addon, rhs, rhsBatch, rhsContracting, rhsFree);
    const data = context.memory.allocateUninitialized(out.dtype, sizeOf(out.shape));
    const engine = context.addon.matmul(
      DTYPE_CODES[lhs.dtype],
      a.data,
      a.layout,
      b.data,
      b.layout,
      data,
      lhs.dtype === 'float32' ? ENGINE : MatmulMode.auto,
    );
    if (a.packed) context.memory.recycle(a.data);
    if (b.packed) context.memory.recycle(b.data);
    if (engine === 0) {
      // A bfloat16 layout oneDNN refused: the portable kernel widens to float32.
      context.memory.recycle(data);
      return fallback(inputs, params, out);
    }
    context.recordNative(Primitive.DotGeneral);
    return wrap(data, out.shape, out.dtype);
  };
}

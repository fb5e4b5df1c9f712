import { type Aval, BackendError, type ParamsOf, type Primitive, sizeOf } from '@flint/api';
import type { WebGpuContext } from '../context.js';
import type { Storage, WebGpuHandle } from '../handle.js';
import { wgslType } from '../layout.js';
import { fillKernel } from './copy.js';
import { TILE, tiledProductSource } from './tiled.js';

/**
 * The single stride that walks `axes` of a view as one merged dim (row-major over the axes), or
 * null when they do not merge.
 */
function mergedStride(shape: readonly number[], strides: readonly number[], axes: readonly number[]): number | null {
  let stride = 0;
  let expected: number | null = null;
  for (let i = axes.length - 1; i >= 0; i--) {
    const axis = axes[i] as number;
    const dim = shape[axis] as number;
    if (dim === 1) continue;
    const s = strides[axis] as number;
    if (expected !== null && s !== expected) return null;
    if (expected === null) stride = s;
    expected = s * dim;
  }
  return stride;
}

export interface Operand {
  readonly storage: Storage;
  readonly offset: number;
  readonly strides: readonly [number, number, number];
  readonly temporary: boolean;
}

/** The operand as [batch, rows, cols] strides over its own buffer, or a packed copy when its axes do not merge. */
function asBatchedMatrix(
  context: WebGpuContext,
  h: WebGpuHandle,
  batch: readonly number[],
  rows: readonly number[],
  cols: readonly number[],
): Operand {
  const b = mergedStride(h.shape, h.strides, batch);
  const r = mergedStride(h.shape, h.strides, rows);
  const c = mergedStride(h.shape, h.strides, cols);
  if (b !== null && r !== null && c !== null) return { storage: h.storage, offset: h.offset, strides: [b, r, c], temporary: false };
  const order = [...batch, ...rows, ...cols];
  const permuted: WebGpuHandle = {
    ...h,
    shape: order.map((a) => h.shape[a] as number),
    strides: order.map((a) => h.strides[a] as number),
  };
  const rowCount = rows.reduce((p, a) => p * (h.shape[a] as number), 1);
  const colCount = cols.reduce((p, a) => p * (h.shape[a] as number), 1);
  return { storage: context.copyContiguous(permuted), offset: 0, strides: [rowCount * colCount, colCount, 1], temporary: true };
}

const DOT_FUNCTIONS = (type: string, finish: string): string => `
// params: batch, M, N, K, aOffset, aBatch, aRow, aCol, bOffset, bBatch, bRow, bCol
fn loadA(batch: i32, m: i32, k: i32) -> ${type} { return input0[params[4] + batch * params[5] + m * params[6] + k * params[7]]; }
fn loadB(batch: i32, k: i32, n: i32) -> ${type} { return input1[params[8] + batch * params[9] + k * params[10] + n * params[11]]; }
fn store(batch: i32, m: i32, n: i32, value: ${type}) { result[(batch * params[1] + m) * params[2] + n] = ${finish}; }
`;

/** A DotGeneral as one launch of the tiled kernel: its operands as batched matrices and its sizes. */
export interface DotPlan {
  readonly batch: number;
  readonly m: number;
  readonly n: number;
  readonly k: number;
  readonly a: Operand;
  readonly b: Operand;
  /** The parameters DOT_FUNCTIONS reads (12 words). */
  readonly params: readonly number[];
  readonly workgroups: readonly [number, number, number];
}

/** The sizes of a DotGeneral as a batch of [M, K] x [K, N] products. */
export function dotSizes(lhs: WebGpuHandle, rhs: WebGpuHandle, params: ParamsOf<Primitive.DotGeneral>) {
  const { lhsContracting, rhsContracting, lhsBatch, rhsBatch } = params;
  const lhsFree = lhs.shape.map((_, i) => i).filter((i) => !lhsContracting.includes(i) && !lhsBatch.includes(i));
  const rhsFree = rhs.shape.map((_, i) => i).filter((i) => !rhsContracting.includes(i) && !rhsBatch.includes(i));
  const product = (shape: readonly number[], axes: readonly number[]) => axes.reduce((p, a) => p * (shape[a] as number), 1);
  return {
    lhsFree,
    rhsFree,
    batch: product(lhs.shape, lhsBatch),
    m: product(lhs.shape, lhsFree),
    k: product(lhs.shape, lhsContracting),
    n: product(rhs.shape, rhsFree),
  };
}

/**
 * Prepares the tiled launch of a DotGeneral (packing operands whose axes do not merge). The
 * caller releases `a` and `b` when `temporary` after recording the launch.
 */
export function planDot(context: WebGpuContext, lhs: WebGpuHandle, rhs: WebGpuHandle, params: ParamsOf<Primitive.DotGeneral>): DotPlan {
  const { lhsFree, rhsFree, batch, m, k, n } = dotSizes(lhs, rhs, params);
  if (batch > 65535 || Math.ceil(m / TILE) > 65535 || Math.ceil(n / TILE) > 65535) {
    throw new BackendError(
      `webgpu: dotGeneral of ${batch} x [${m}, ${k}] x [${k}, ${n}] exceeds the dispatch limits (65535 batches, ${65535 * TILE} rows or columns)`,
    );
  }
  const a = asBatchedMatrix(context, lhs, params.lhsBatch, lhsFree, params.lhsContracting);
  const b = asBatchedMatrix(context, rhs, params.rhsBatch, params.rhsContracting, rhsFree);
  return {
    batch,
    m,
    n,
    k,
    a,
    b,
    params: [batch, m, n, k, a.offset, ...a.strides, b.offset, ...b.strides],
    workgroups: [Math.ceil(n / TILE), Math.ceil(m / TILE), batch],
  };
}

/** The loaders of DOT_FUNCTIONS, without its store (fused kernels write their own). */
export function dotLoaders(type: string): string {
  return `
fn loadA(batch: i32, m: i32, k: i32) -> ${type} { return input0[params[4] + batch * params[5] + m * params[6] + k * params[7]]; }
fn loadB(batch: i32, k: i32, n: i32) -> ${type} { return input1[params[8] + batch * params[9] + k * params[10] + n * params[11]]; }
`;
}

/**
 * DotGeneral as a batch of [M, K] x [K, N] products on the tiled kernel. Operands whose batch,
 * free and contracting axes each merge into one strided dim (plain, transposed, broadcast or
 * sliced matrices) are read in place; others are packed first.
 */
export function dotGeneralKernel(
  context: WebGpuContext,
  inputs: readonly WebGpuHandle[],
  params: ParamsOf<Primitive.DotGeneral>,
  out: Aval,
): WebGpuHandle {
  const lhs = inputs[0] as WebGpuHandle;
  const rhs = inputs[1] as WebGpuHandle;
  const total = sizeOf(out.shape);
  const output = context.allocate(total);
  const label = `dotGeneral (${out.dtype})`;
  if (total === 0) return context.handle(output, out.shape, out.dtype);
  if (dotSizes(lhs, rhs, params).k === 0) {
    fillKernel(context, label, output, total, 0);
    return context.handle(output, out.shape, out.dtype);
  }
  let plan: DotPlan;
  try {
    plan = planDot(context, lhs, rhs, params);
  } catch (error) {
    context.release(output);
    throw error;
  }
  const { a, b } = plan;
  const type = wgslType(out.dtype);
  const finish = out.dtype === 'uint8' ? 'value & 255u' : 'value';
  context.launch(
    {
      name: label,
      key: `dotGeneral:${out.dtype}`,
      source: () => tiledProductSource(type, [type, type], DOT_FUNCTIONS(type, finish)),
      params: plan.params,
      workgroups: plan.workgroups,
    },
    output,
    [a.storage, b.storage],
  );
  if (a.temporary) context.release(a.storage);
  if (b.temporary) context.release(b.storage);
  return context.handle(output, out.shape, out.dtype);
}

import { AxisError, DTypeError, IndexError, ShapeError, ValueError } from '../core/errors.js';
import { checkShape, formatShape, sizeOf } from '../core/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { allToFront, batchToFront, frontBatch } from './batching.js';
import { arity, aval, checkAxis, checkAxisList, checkLength, input, requireDType } from './checks.js';
import {
  add,
  broadcast,
  concat,
  flip,
  gather,
  inversePermutation,
  iota,
  moveAxis,
  mul,
  pad,
  reshape,
  scalarLike,
  scatterAdd,
  slice,
  sliceTranspose,
  sumToShape,
  transpose,
  zerosLike,
} from './lax.js';
import { type ParamsOf, Primitive } from './primitive.js';
import { type PrimitiveRule, READS_NOTHING } from './rule.js';

export const reshapeRule: PrimitiveRule<Primitive.Reshape> = {
  name: 'reshape',
  abstractEval(inputs, params) {
    arity('reshape', inputs, 1);
    const x = input(inputs, 0);
    const shape = checkShape('reshape', params.shape);
    if (sizeOf(shape) !== sizeOf(x.shape)) {
      throw new ShapeError(
        `reshape: cannot reshape ${formatShape(x.shape)} (${sizeOf(x.shape)} elements) to ${formatShape(shape)} (${sizeOf(shape)} elements)`,
      );
    }
    return aval(shape, x.dtype);
  },
  jvp: ([t], _primals, _out, { shape }) => (t ? reshape(t, shape) : null),
  vjp: (g, [x]) => [reshape(g, (x as Tensor).shape)],
  vjpReads: READS_NOTHING,
  batch: frontBatch(Primitive.Reshape, ({ shape }, x) => ({ shape: [x.shape[0] as number, ...shape] })),
};

export const transposeRule: PrimitiveRule<Primitive.Transpose> = {
  name: 'transpose',
  abstractEval(inputs, params) {
    arity('transpose', inputs, 1);
    const x = input(inputs, 0);
    const { perm } = params;
    checkLength('transpose', 'perm', perm, x.shape.length);
    checkAxisList(
      'transpose',
      [...perm].sort((a, b) => a - b),
      x.shape.length,
      'perm',
    );
    return aval(
      perm.map((p) => x.shape[p] as number),
      x.dtype,
    );
  },
  jvp: ([t], _primals, _out, { perm }) => (t ? transpose(t, perm) : null),
  vjp: (g, _primals, _out, { perm }) => [transpose(g, inversePermutation(perm))],
  vjpReads: READS_NOTHING,
  batch: frontBatch(Primitive.Transpose, ({ perm }) => ({ perm: [0, ...perm.map((p) => p + 1)] })),
};

export const broadcastRule: PrimitiveRule<Primitive.Broadcast> = {
  name: 'broadcastTo',
  abstractEval(inputs, params) {
    arity('broadcastTo', inputs, 1);
    const x = input(inputs, 0);
    const shape = checkShape('broadcastTo', params.shape);
    const offset = shape.length - x.shape.length;
    const ok = offset >= 0 && x.shape.every((d, i) => d === 1 || d === shape[offset + i]);
    if (!ok) throw new ShapeError(`broadcastTo: cannot broadcast ${formatShape(x.shape)} to ${formatShape(shape)}`);
    return aval(shape, x.dtype);
  },
  jvp: ([t], _primals, _out, { shape }) => (t ? broadcast(t, shape) : null),
  vjp: (g, [x]) => [sumToShape(g, (x as Tensor).shape)],
  vjpReads: READS_NOTHING,
  batch: (values, dims, { shape }, axisSize) => {
    const x = batchToFront(values[0] as Tensor, dims[0] ?? null, axisSize);
    const ones = new Array<number>(shape.length - (x.shape.length - 1)).fill(1);
    const aligned = reshape(x, [axisSize, ...ones, ...x.shape.slice(1)]);
    return [broadcast(aligned, [axisSize, ...shape]), 0];
  },
};

export const sliceRule: PrimitiveRule<Primitive.Slice> = {
  name: 'slice',
  abstractEval(inputs, params) {
    arity('slice', inputs, 1);
    const x = input(inputs, 0);
    const rank = x.shape.length;
    const { starts, stops, steps } = params;
    checkLength('slice', 'starts', starts, rank);
    checkLength('slice', 'stops', stops, rank);
    checkLength('slice', 'steps', steps, rank);
    const shape = x.shape.map((dim, i) => {
      const start = starts[i] as number;
      const stop = stops[i] as number;
      const step = steps[i] as number;
      if (!Number.isInteger(step) || step < 1) throw new ValueError(`slice: steps must be positive integers, got ${JSON.stringify(steps)}`);
      if (!Number.isInteger(start) || !Number.isInteger(stop) || start < 0 || stop > dim || start > stop) {
        throw new IndexError(`slice: range ${start}:${stop} is invalid for dimension ${i} of size ${dim}`);
      }
      return Math.ceil((stop - start) / step);
    });
    return aval(shape, x.dtype);
  },
  jvp: ([t], _primals, _out, { starts, stops, steps }) => (t ? slice(t, starts, stops, steps) : null),
  vjp: (g, [x], _out, { starts, steps }) => [sliceTranspose(g, (x as Tensor).shape, starts, steps)],
  batch: frontBatch(Primitive.Slice, ({ starts, stops, steps }, x) => ({
    starts: [0, ...starts],
    stops: [x.shape[0] as number, ...stops],
    steps: [1, ...steps],
  })),
};

export const padRule: PrimitiveRule<Primitive.Pad> = {
  name: 'pad',
  abstractEval(inputs, params) {
    arity('pad', inputs, 1);
    const x = input(inputs, 0);
    checkLength('pad', 'widths', params.widths, x.shape.length);
    const shape = x.shape.map((dim, i) => {
      const [lo, hi] = params.widths[i] as readonly [number, number];
      if (!Number.isInteger(lo) || !Number.isInteger(hi) || lo < 0 || hi < 0) {
        throw new ValueError(`pad: widths must be non-negative integers, got ${JSON.stringify(params.widths)}`);
      }
      return dim + lo + hi;
    });
    return aval(checkShape('pad', shape, 'padded shape'), x.dtype);
  },
  jvp: ([t], _primals, _out, { widths }) => (t ? pad(t, widths, 0) : null),
  vjp: (g, [x], _out, { widths }) => {
    const starts = widths.map(([lo]) => lo);
    return [
      slice(
        g,
        starts,
        (x as Tensor).shape.map((d, i) => d + (starts[i] as number)),
      ),
    ];
  },
  batch: frontBatch(Primitive.Pad, ({ widths, value }) => ({ widths: [[0, 0], ...widths], value })),
};

export const concatRule: PrimitiveRule<Primitive.Concat> = {
  name: 'concat',
  abstractEval(inputs, params) {
    if (inputs.length === 0) throw new ValueError('concat: expected at least one tensor');
    const first = input(inputs, 0);
    const rank = first.shape.length;
    if (rank === 0) throw new ShapeError('concat: cannot concatenate scalars (rank 0); stack them instead');
    checkAxis('concat', params.axis, rank);
    let total = 0;
    for (const t of inputs) {
      if (t.dtype !== first.dtype) throw new DTypeError(`concat: all tensors must share a dtype, got ${first.dtype} and ${t.dtype}`);
      const compatible = t.shape.length === rank && t.shape.every((d, i) => i === params.axis || d === first.shape[i]);
      if (!compatible) {
        throw new ShapeError(`concat: shapes ${inputs.map((u) => formatShape(u.shape)).join(', ')} differ outside axis ${params.axis}`);
      }
      total += t.shape[params.axis] as number;
    }
    const shape = [...first.shape];
    shape[params.axis] = total;
    return aval(checkShape('concat', shape, 'result shape'), first.dtype);
  },
  jvp: (tangents, primals, _out, { axis }) => {
    if (tangents.every((t) => !t)) return null;
    return concat(
      primals.map((x, i) => tangents[i] ?? zerosLike(x)),
      axis,
    );
  },
  vjp: (g, primals, _out, { axis }, wants) => {
    let offset = 0;
    return primals.map((x, i) => {
      const start = offset;
      offset += x.shape[axis] as number;
      if (!wants[i]) return null;
      return slice(
        g,
        g.shape.map((_, d) => (d === axis ? start : 0)),
        g.shape.map((n, d) => (d === axis ? offset : n)),
      );
    });
  },
  batch: (values, dims, { axis }, axisSize) => [concat(allToFront(values, dims, axisSize), axis + 1), 0],
};

export const flipRule: PrimitiveRule<Primitive.Flip> = {
  name: 'flip',
  abstractEval(inputs, params) {
    arity('flip', inputs, 1);
    const x = input(inputs, 0);
    checkAxisList('flip', params.axes, x.shape.length);
    return x;
  },
  jvp: ([t], _primals, _out, { axes }) => (t ? flip(t, axes) : null),
  vjp: (g, _primals, _out, { axes }) => [flip(g, axes)],
  batch: frontBatch(Primitive.Flip, ({ axes }) => ({ axes: axes.map((a) => a + 1) })),
};

export const gatherRule: PrimitiveRule<Primitive.Gather> = {
  name: 'gather',
  abstractEval(inputs, params) {
    arity('gather', inputs, 2);
    const x = input(inputs, 0);
    const indices = input(inputs, 1);
    requireDType('gather', indices, 'int32', 'indices');
    if (x.shape.length === 0) throw new AxisError('gather: cannot index a scalar');
    checkAxis('gather', params.axis, x.shape.length);
    const shape = [...x.shape.slice(0, params.axis), ...indices.shape, ...x.shape.slice(params.axis + 1)];
    return aval(checkShape('gather', shape, 'result shape'), x.dtype);
  },
  jvp: ([t], [, indices], _out, { axis }) => (t ? gather(t, indices as Tensor, axis) : null),
  vjp: (g, [x, indices], _out, { axis }) => [scatterAdd(zerosLike(x as Tensor), indices as Tensor, g, axis), null],
  batch: gatherBatch,
};

export const scatterAddRule: PrimitiveRule<Primitive.ScatterAdd> = {
  name: 'scatterAdd',
  abstractEval(inputs, params) {
    arity('scatterAdd', inputs, 3);
    const target = input(inputs, 0);
    const indices = input(inputs, 1);
    const updates = input(inputs, 2);
    requireDType('scatterAdd', indices, 'int32', 'indices');
    if (target.shape.length === 0) throw new AxisError('scatterAdd: cannot scatter into a scalar');
    checkAxis('scatterAdd', params.axis, target.shape.length);
    if (updates.dtype !== target.dtype)
      throw new DTypeError(`scatterAdd: updates (${updates.dtype}) must match the target's dtype (${target.dtype})`);
    if (target.dtype === 'bool') throw new DTypeError('scatterAdd: cannot add into a bool tensor');
    const expected = [...target.shape.slice(0, params.axis), ...indices.shape, ...target.shape.slice(params.axis + 1)];
    if (expected.length !== updates.shape.length || expected.some((d, i) => d !== updates.shape[i])) {
      throw new ShapeError(
        `scatterAdd: updates have shape ${formatShape(updates.shape)}, expected ${formatShape(expected)} for target ${formatShape(target.shape)} and indices ${formatShape(indices.shape)} along axis ${params.axis}`,
      );
    }
    return target;
  },
  jvp: ([tTarget, , tUpdates], [target, indices], _out, { axis }) => {
    if (!tUpdates) return tTarget ?? null;
    return scatterAdd(tTarget ?? zerosLike(target as Tensor), indices as Tensor, tUpdates, axis);
  },
  vjp: (g, [, indices], _out, { axis }, wants) => [wants[0] ? g : null, null, wants[2] ? gather(g, indices as Tensor, axis) : null],
  batch: scatterAddBatch,
};

/**
 * Batched indices [B, ...] into a batched operand: the batch is merged into the indexed axis
 * (operand [..., B * n, ...]) and each example's indices are offset by b * n.
 */
function offsetIndices(indices: Tensor, n: number): Tensor {
  const offsets = iota(indices.shape, 'int32', 0, indices);
  return add(indices, n === 1 ? offsets : mul(offsets, scalarLike(offsets, n)));
}

/** The operand with its batch (on axis 0) merged into `axis`: [..., B * n, ...]. */
function mergeBatchInto(x: Tensor, axis: number): Tensor {
  const moved = moveAxis(x, 0, axis);
  const shape = moved.shape;
  return reshape(moved, [...shape.slice(0, axis), (shape[axis] as number) * (shape[axis + 1] as number), ...shape.slice(axis + 2)]);
}

function gatherBatch(
  values: readonly Tensor[],
  dims: readonly (number | null)[],
  { axis }: ParamsOf<Primitive.Gather>,
): readonly [Tensor, number | null] {
  const [x, indices] = values as [Tensor, Tensor];
  const [xDim, indicesDim] = [dims[0] ?? null, dims[1] ?? null];
  if (indicesDim === null) return [gather(moveAxis(x, xDim as number, 0), indices, axis + 1), 0];
  const batchedIndices = moveAxis(indices, indicesDim, 0);
  if (xDim === null) return [gather(x, batchedIndices, axis), axis];
  const batchedX = moveAxis(x, xDim, 0);
  const n = batchedX.shape[axis + 1] as number;
  return [gather(mergeBatchInto(batchedX, axis), offsetIndices(batchedIndices, n), axis), axis];
}

function scatterAddBatch(
  values: readonly Tensor[],
  dims: readonly (number | null)[],
  { axis }: ParamsOf<Primitive.ScatterAdd>,
  axisSize: number,
): readonly [Tensor, number | null] {
  const [target, indices, updates] = values as [Tensor, Tensor, Tensor];
  const indicesDim = dims[1] ?? null;
  const batchedTarget = batchToFront(target, dims[0] ?? null, axisSize);
  const batchedUpdates = batchToFront(updates, dims[2] ?? null, axisSize);
  if (indicesDim === null) return [scatterAdd(batchedTarget, indices, batchedUpdates, axis + 1), 0];
  const n = batchedTarget.shape[axis + 1] as number;
  const merged = mergeBatchInto(batchedTarget, axis);
  const flatIndices = offsetIndices(moveAxis(indices, indicesDim, 0), n);
  const out = scatterAdd(merged, flatIndices, moveAxis(batchedUpdates, 0, axis), axis);
  const shape = batchedTarget.shape;
  return [reshape(out, [...shape.slice(1, axis + 1), axisSize, n, ...shape.slice(axis + 2)]), axis];
}

import { checkShape, formatShape, sizeOf } from '../core/shape.js';
import { AxisError, DTypeError, IndexError, ShapeError, ValueError } from '../core/errors.js';
import { arity, aval, checkAxis, checkAxisList, checkLength, input, requireDType } from './checks.js';
import { Primitive } from './primitive.js';
import type { PrimitiveRule } from './rule.js';

export const reshapeRule: PrimitiveRule<Primitive.Reshape> = {
  name: 'reshape',
  abstractEval(inputs, params) {
    arity('reshape', inputs, 1);
    const x = input(inputs, 0);
    const shape = checkShape('reshape', params.shape);
    if (sizeOf(shape) !== sizeOf(x.shape)) {
      throw new ShapeError(`reshape: cannot reshape ${formatShape(x.shape)} (${sizeOf(x.shape)} elements) to ${formatShape(shape)} (${sizeOf(shape)} elements)`);
    }
    return aval(shape, x.dtype);
  },
};

export const transposeRule: PrimitiveRule<Primitive.Transpose> = {
  name: 'transpose',
  abstractEval(inputs, params) {
    arity('transpose', inputs, 1);
    const x = input(inputs, 0);
    const { perm } = params;
    checkLength('transpose', 'perm', perm, x.shape.length);
    checkAxisList('transpose', [...perm].sort((a, b) => a - b), x.shape.length, 'perm');
    return aval(
      perm.map((p) => x.shape[p] as number),
      x.dtype,
    );
  },
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
};

export const flipRule: PrimitiveRule<Primitive.Flip> = {
  name: 'flip',
  abstractEval(inputs, params) {
    arity('flip', inputs, 1);
    const x = input(inputs, 0);
    checkAxisList('flip', params.axes, x.shape.length);
    return x;
  },
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
    if (updates.dtype !== target.dtype) throw new DTypeError(`scatterAdd: updates (${updates.dtype}) must match the target's dtype (${target.dtype})`);
    if (target.dtype === 'bool') throw new DTypeError('scatterAdd: cannot add into a bool tensor');
    const expected = [...target.shape.slice(0, params.axis), ...indices.shape, ...target.shape.slice(params.axis + 1)];
    if (expected.length !== updates.shape.length || expected.some((d, i) => d !== updates.shape[i])) {
      throw new ShapeError(`scatterAdd: updates have shape ${formatShape(updates.shape)}, expected ${formatShape(expected)} for target ${formatShape(target.shape)} and indices ${formatShape(indices.shape)} along axis ${params.axis}`);
    }
    return target;
  },
};

import { type Aval, type ParamsOf, Primitive, reshapeStrides, sizeOf } from '@flint/api';
import { layoutOf, type MklHandle, wrap } from '../handle.js';
import { DTYPE_CODES } from '../native/codes.js';
import { elementwiseThreshold, isHalfDType, type KernelContext, NATIVE_MIN } from './context.js';

// Selection, conversion and indexing in the addon (where, casts and reshaping copies for every
// dtype, float16 and bfloat16 included; argmax, gather and scatter-add for all but those). These ran on the portable
// path in the backward passes of max pooling and ReLU (argmax, casts of masks, gathers and
// scatter-adds over whole activations), where a JavaScript loop per element dominated the step.

export function whereKernel(context: KernelContext) {
  const { addon, memory, recordNative } = context;
  const fallback = context.fallback[Primitive.Where];
  return (inputs: readonly MklHandle[], params: ParamsOf<Primitive.Where>, out: Aval): MklHandle => {
    const [c, a, b] = inputs as [MklHandle, MklHandle, MklHandle];
    if (sizeOf(out.shape) < elementwiseThreshold(false, out.dtype)) return fallback(inputs, params, out);
    const data = memory.allocateUninitialized(out.dtype, sizeOf(out.shape));
    addon.where(
      DTYPE_CODES[out.dtype],
      c.storage.data as Uint8Array,
      layoutOf(c),
      a.storage.data,
      layoutOf(a),
      b.storage.data,
      layoutOf(b),
      data,
    );
    recordNative(Primitive.Where);
    return wrap(data, out.shape, out.dtype);
  };
}

export function castKernel(context: KernelContext) {
  const { addon, memory, recordNative } = context;
  const fallback = context.fallback[Primitive.Cast];
  return (inputs: readonly MklHandle[], params: ParamsOf<Primitive.Cast>, out: Aval): MklHandle => {
    const x = inputs[0]!;
    if (sizeOf(out.shape) < elementwiseThreshold(false, x.dtype, out.dtype)) return fallback(inputs, params, out);
    const data = memory.allocateUninitialized(out.dtype, sizeOf(out.shape));
    addon.cast(DTYPE_CODES[x.dtype], x.storage.data, layoutOf(x), DTYPE_CODES[out.dtype], data);
    recordNative(Primitive.Cast);
    return wrap(data, out.shape, out.dtype);
  };
}

export function argReduceKernel(op: Primitive.Argmax | Primitive.Argmin, context: KernelContext) {
  const { addon, memory, recordNative } = context;
  const code = op === Primitive.Argmax ? 1 : 0;
  const fallback = context.fallback[op];
  return (inputs: readonly MklHandle[], params: ParamsOf<Primitive.Argmax>, out: Aval): MklHandle => {
    const x = inputs[0]!;
    if (isHalfDType(x.dtype) || sizeOf(x.shape) < NATIVE_MIN.reduction) return fallback(inputs, params, out);
    const data = memory.allocateUninitialized('int32', sizeOf(out.shape)) as Int32Array;
    addon.argReduce(code, DTYPE_CODES[x.dtype], x.storage.data, layoutOf(x), params.axis, data);
    recordNative(op);
    return wrap(data, out.shape, out.dtype);
  };
}

export function gatherKernel(context: KernelContext) {
  const { addon, memory, recordNative } = context;
  const fallback = context.fallback[Primitive.Gather];
  return (inputs: readonly MklHandle[], params: ParamsOf<Primitive.Gather>, out: Aval): MklHandle => {
    const [x, indices] = inputs as [MklHandle, MklHandle];
    if (isHalfDType(x.dtype)) return fallback(inputs, params, out);
    const data = memory.allocateUninitialized(out.dtype, sizeOf(out.shape));
    const done = addon.gather(
      DTYPE_CODES[x.dtype],
      x.storage.data,
      layoutOf(x),
      indices.storage.data as Int32Array,
      layoutOf(indices),
      params.axis,
      data,
    );
    if (!done) {
      memory.recycle(data);
      return fallback(inputs, params, out);
    }
    recordNative(Primitive.Gather);
    return wrap(data, out.shape, out.dtype);
  };
}

export function scatterAddKernel(context: KernelContext) {
  const { addon, memory, recordNative } = context;
  const fallback = context.fallback[Primitive.ScatterAdd];
  return (inputs: readonly MklHandle[], params: ParamsOf<Primitive.ScatterAdd>, out: Aval): MklHandle => {
    const [target, indices, updates] = inputs as [MklHandle, MklHandle, MklHandle];
    if (target.dtype === 'bool' || isHalfDType(target.dtype)) return fallback(inputs, params, out);
    const data = memory.allocateUninitialized(out.dtype, sizeOf(out.shape));
    const done = addon.scatterAdd(
      DTYPE_CODES[target.dtype],
      target.storage.data,
      layoutOf(target),
      indices.storage.data as Int32Array,
      layoutOf(indices),
      updates.storage.data,
      layoutOf(updates),
      params.axis,
      data,
    );
    if (!done) {
      memory.recycle(data);
      return fallback(inputs, params, out);
    }
    recordNative(Primitive.ScatterAdd);
    return wrap(data, out.shape, out.dtype);
  };
}

/** Reshape stays a view where the strides allow (the portable kernel); a copy runs in the addon. */
export function reshapeKernel(context: KernelContext) {
  const { addon, memory, recordNative } = context;
  const fallback = context.fallback[Primitive.Reshape];
  return (inputs: readonly MklHandle[], params: ParamsOf<Primitive.Reshape>, out: Aval): MklHandle => {
    const x = inputs[0]!;
    if (reshapeStrides(x.shape, x.strides, out.shape) !== null) return fallback(inputs, params, out);
    const data = memory.allocateUninitialized(out.dtype, sizeOf(out.shape));
    addon.copy(DTYPE_CODES[x.dtype], x.storage.data, layoutOf(x), data);
    recordNative(Primitive.Reshape);
    return wrap(data, out.shape, out.dtype);
  };
}

/** A full tensor from the backend's pool of freed arrays, filled. */
export function fullKernel(context: KernelContext) {
  const { memory } = context;
  const fallback = context.fallback[Primitive.Full];
  return (inputs: readonly MklHandle[], params: ParamsOf<Primitive.Full>, out: Aval): MklHandle => {
    if (isHalfDType(out.dtype)) return fallback(inputs, params, out);
    const data = memory.allocateUninitialized(out.dtype, sizeOf(out.shape));
    // A store converts like a cast (truncation for integers); bool needs `!= 0` explicitly.
    data.fill(out.dtype === 'bool' ? (params.value !== 0 ? 1 : 0) : params.value);
    return wrap(data, out.shape, out.dtype);
  };
}

import { type Aval, type ParamsOf, Primitive, sizeOf, type TypedArray } from '@flint/api';
import {
  asDataGradient,
  asFilterGradient,
  type BackwardConvolution,
  filterPassOutput,
  filterPassShape,
  int32ArgumentOf,
  isContiguous,
  operandOf,
} from '@flint/api/strided-backend';
import { layoutOf, type MklHandle, wrap } from '../handle.js';
import { DTYPE_CODES } from '../native/codes.js';
import type { KernelContext } from './context.js';

/**
 * float32 convolutions run through oneDNN (cached per shape), and bfloat16 ones where the CPU
 * computes bfloat16 natively (float32 accumulation, one rounding per result). Autodiff's input
 * gradients (a convolution of dy with the filter flipped and its channels swapped, with input
 * dilation for a strided forward: the api's strided-backend/conv-gradients.ts) and transposed
 * convolutions, in float32, run as oneDNN's backward-data pass; grouped filter gradients as its
 * backward-weights pass (the addon's weight-gradient path recognises one group's itself). Other
 * input dilation, negative padding, float64 and anything oneDNN refuses take the portable kernel.
 */
export function convKernel(context: KernelContext) {
  const fallback = context.fallback[Primitive.Conv];
  const { addon, memory, recordNative } = context;
  return (inputs: readonly MklHandle[], params: ParamsOf<Primitive.Conv>, out: Aval): MklHandle => {
    const x = inputs[0]!;
    const w = inputs[1]!;
    const gradient =
      x.dtype === 'float32' ? (inputGradient(context, x, w, params, out) ?? groupedFilterGradient(context, x, w, params, out)) : null;
    if (gradient !== null) return gradient;
    const dtype = x.dtype === 'bfloat16' && context.bfloat16 ? 'bfloat16' : x.dtype;
    if ((dtype !== 'float32' && dtype !== 'bfloat16') || params.lhsDilation.some((d) => d !== 1)) return fallback(inputs, params, out);
    const convParams = convParamsOf(params);
    const data = memory.allocateUninitialized(out.dtype, sizeOf(out.shape));
    if (addon.conv(DTYPE_CODES[dtype], x.storage.data, layoutOf(x), w.storage.data, layoutOf(w), data, convParams)) {
      recordNative(Primitive.Conv);
      return wrap(data, out.shape, out.dtype);
    }
    memory.recycle(data);
    return fallback(inputs, params, out);
  };
}

/** The addon's encoding of conv params: [groups, ...strides, ...padLow, ...padHigh, ...kernelDilation]. */
export function convParamsOf(params: ParamsOf<Primitive.Conv>): Int32Array {
  return Int32Array.from([
    params.groups,
    ...params.strides,
    ...params.padding.map((p) => p[0]),
    ...params.padding.map((p) => p[1]),
    ...params.rhsDilation,
  ]);
}

/**
 * A backward pass's first operand as oneDNN reads it: in place, or packed (a copy) when autodiff's
 * reshapes copied it with its groups apart; `release` frees the copy.
 */
function firstOperand(context: KernelContext, storage: MklHandle, pass: BackwardConvolution) {
  const { memory, addon } = context;
  const first = pass.first;
  if (isContiguous(first.shape, first.strides)) return { data: storage.storage.data, layout: layoutOf(operandOf(pass)), release: () => {} };
  const packed = memory.allocateUninitialized('float32', sizeOf(first.shape));
  addon.copy(DTYPE_CODES.float32, storage.storage.data, layoutOf(first), packed);
  return { data: packed, layout: layoutOf(operandOf(pass, { ...first, offset: 0 })), release: () => memory.recycle(packed) };
}

/**
 * Runs a backward pass through the addon's `entry` (oneDNN's backward-data or backward-weights
 * pass) into a fresh buffer of `out`'s size, its first operand read from `first` (packed when it
 * must be) and dy from `dy`: the buffer, or null (nothing kept) when oneDNN declines.
 */
function runPass(
  context: KernelContext,
  pass: BackwardConvolution,
  first: MklHandle,
  dy: MklHandle,
  out: Aval,
  entry: 'convBackwardData' | 'convBackwardWeights',
): TypedArray | null {
  const { memory, addon } = context;
  const operand = firstOperand(context, first, pass);
  const data = memory.allocateUninitialized(out.dtype, sizeOf(out.shape));
  let done = false;
  try {
    done = addon[entry](
      DTYPE_CODES.float32,
      operand.data,
      operand.layout,
      dy.storage.data,
      layoutOf(pass.dy),
      data,
      int32ArgumentOf(pass.geometry),
    );
  } finally {
    operand.release();
    if (!done) memory.recycle(data);
  }
  if (!done) return null;
  context.recordNative(Primitive.Conv);
  return data;
}

/** The convolution through oneDNN's backward-data pass when it is an input gradient (null otherwise, or when oneDNN declines). */
function inputGradient(context: KernelContext, x: MklHandle, w: MklHandle, params: ParamsOf<Primitive.Conv>, out: Aval): MklHandle | null {
  const pass = asDataGradient(x, w, params, out);
  const data = pass === null ? null : runPass(context, pass, w, x, out, 'convBackwardData');
  return data === null ? null : wrap(data, out.shape, out.dtype);
}

/**
 * A grouped convolution's filter gradient through oneDNN's backward-weights pass (null otherwise,
 * or when oneDNN declines): autodiff copied x with its groups apart, which is packed back; one
 * group's the addon's conv recognises itself (weightGradConv), reading x in place.
 */
function groupedFilterGradient(
  context: KernelContext,
  x: MklHandle,
  w: MklHandle,
  params: ParamsOf<Primitive.Conv>,
  out: Aval,
): MklHandle | null {
  const pass = params.groups === 1 ? null : asFilterGradient(x, w, params, out);
  const data = pass === null ? null : runPass(context, pass, x, w, out, 'convBackwardWeights');
  if (data === null) return null;
  return filterPassOutput(wrap(data, filterPassShape(out), out.dtype));
}

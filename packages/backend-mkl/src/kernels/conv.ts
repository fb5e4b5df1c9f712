import { type Aval, type ParamsOf, Primitive, sizeOf } from '@flint/api';
import { asDataGradient, filterOf, isContiguous } from '@flint/api/strided-backend';
import { layoutOf, type MklHandle, wrap } from '../handle.js';
import { DTYPE_CODES } from '../native/codes.js';
import type { KernelContext } from './context.js';

/**
 * float32 convolutions run through oneDNN (cached per shape), and bfloat16 ones where the CPU
 * computes bfloat16 natively (float32 accumulation, one rounding per result). Autodiff's input
 * gradients (a convolution of dy with the filter flipped and its channels swapped, with input
 * dilation for a strided forward: the api's strided-backend/conv-gradients.ts) and transposed
 * convolutions, in float32, run as oneDNN's backward-data pass (the addon's weight-gradient path
 * recognises filter gradients itself). Other input dilation, negative padding, float64 and
 * anything oneDNN refuses take the portable kernel.
 */
export function convKernel(context: KernelContext) {
  const fallback = context.fallback[Primitive.Conv];
  const { addon, memory, recordNative } = context;
  return (inputs: readonly MklHandle[], params: ParamsOf<Primitive.Conv>, out: Aval): MklHandle => {
    const x = inputs[0]!;
    const w = inputs[1]!;
    const gradient = x.dtype === 'float32' ? inputGradient(context, x, w, params, out) : null;
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

/** The convolution through oneDNN's backward-data pass when it is an input gradient (null otherwise, or when oneDNN declines). */
function inputGradient(context: KernelContext, x: MklHandle, w: MklHandle, params: ParamsOf<Primitive.Conv>, out: Aval): MklHandle | null {
  const pass = asDataGradient(x, w, params, out);
  if (pass === null) return null;
  const { memory, addon } = context;
  // A filter autodiff's reshape copied with its channels regrouped (a grouped convolution) is
  // packed back into the forward filter first: a copy of the filter, which is small.
  const packed = isContiguous(pass.first.shape, pass.first.strides)
    ? null
    : memory.allocateUninitialized('float32', sizeOf(pass.first.shape));
  if (packed !== null) addon.copy(DTYPE_CODES.float32, w.storage.data, layoutOf(pass.first), packed);
  const filter = filterOf(packed === null ? pass.first : { ...pass.first, offset: 0 });
  const data = memory.allocateUninitialized(out.dtype, sizeOf(out.shape));
  let done = false;
  try {
    done = addon.convBackwardData(
      DTYPE_CODES.float32,
      packed ?? w.storage.data,
      layoutOf(filter),
      x.storage.data,
      layoutOf(pass.dy),
      data,
      Int32Array.from(pass.geometry),
    );
  } finally {
    if (packed !== null) memory.recycle(packed);
    if (!done) memory.recycle(data);
  }
  if (!done) return null;
  context.recordNative(Primitive.Conv);
  return wrap(data, out.shape, out.dtype);
}

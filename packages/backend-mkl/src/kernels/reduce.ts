import { type Aval, type Kernel, type ReducePrimitive, sizeOf } from '@flint/api';
import { int32ArgumentOf } from '@flint/api/strided-backend';
import { layoutOf, type MklHandle, wrap } from '../handle.js';
import { DTYPE_CODES, REDUCE_CODES } from '../native/codes.js';
import { isNativeFloat, type KernelContext, NATIVE_MIN } from './context.js';

/**
 * Float reductions run in the addon (double accumulators, in memory order, multithreaded; float16
 * and bfloat16 results rounded to float32, then to the half dtype, as the portable kernels store
 * them); integer ones take the portable kernel.
 */
export function reduceKernel<P extends ReducePrimitive>(op: P, context: KernelContext): Kernel<P, MklHandle> {
  const fallback = context.fallback[op] as Kernel<P, MklHandle>;
  const code = REDUCE_CODES.get(op)!;
  const { addon, memory, recordNative } = context;
  return (inputs, params, out: Aval) => {
    const x = inputs[0]!;
    if (!isNativeFloat(x.dtype) || sizeOf(x.shape) < NATIVE_MIN.reduction) return fallback(inputs, params, out);
    const data = memory.allocateUninitialized(out.dtype, sizeOf(out.shape));
    addon.reduce(code, DTYPE_CODES[x.dtype], x.storage.data, layoutOf(x), int32ArgumentOf(params.axes), data);
    recordNative(op);
    return wrap(data, out.shape, out.dtype);
  };
}

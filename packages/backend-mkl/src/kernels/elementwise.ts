import { type Aval, type BinaryPrimitive, type Kernel, sizeOf, type UnaryPrimitive } from '@flint/api';
import { layoutOf, type MklHandle, wrap } from '../handle.js';
import { BINARY_CODES, DTYPE_CODES, UNARY_CODES } from '../native/codes.js';
import { isFloat, type KernelContext } from './context.js';

/**
 * Unary float32/float64 ops run in the addon (vectorized, multithreaded loops); integer and bool
 * inputs, and ops the addon lacks, take the portable kernel.
 */
export function unaryKernel<P extends UnaryPrimitive>(op: P, context: KernelContext): Kernel<P, MklHandle> {
  const fallback = context.fallback[op] as Kernel<P, MklHandle>;
  const code = UNARY_CODES.get(op);
  if (code === undefined) return fallback;
  const { addon, memory, recordNative } = context;
  return (inputs, params, out: Aval) => {
    const x = inputs[0]!;
    if (!isFloat(x.dtype)) return fallback(inputs, params, out);
    const data = memory.allocateUninitialized(out.dtype, sizeOf(out.shape));
    addon.unary(code, DTYPE_CODES[x.dtype], x.storage.data, layoutOf(x), data);
    recordNative(op);
    return wrap(data, out.shape, out.dtype);
  };
}

/** Binary float32/float64 ops (arithmetic and comparisons) run in the addon; the rest take the portable kernel. */
export function binaryKernel<P extends BinaryPrimitive>(op: P, context: KernelContext): Kernel<P, MklHandle> {
  const fallback = context.fallback[op] as Kernel<P, MklHandle>;
  const code = BINARY_CODES.get(op);
  if (code === undefined) return fallback;
  const { addon, memory, recordNative } = context;
  return (inputs, params, out: Aval) => {
    const a = inputs[0]!;
    const b = inputs[1]!;
    if (!isFloat(a.dtype)) return fallback(inputs, params, out);
    const data = memory.allocateUninitialized(out.dtype, sizeOf(out.shape));
    addon.binary(code, DTYPE_CODES[a.dtype], a.storage.data, layoutOf(a), b.storage.data, layoutOf(b), data);
    recordNative(op);
    return wrap(data, out.shape, out.dtype);
  };
}

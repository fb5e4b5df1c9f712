import { type Aval, type BinaryPrimitive, type Kernel, Primitive, sizeOf, type UnaryPrimitive } from '@flint/api';
import { layoutOf, type MklHandle, wrap } from '../handle.js';
import { BINARY_CODES, DTYPE_CODES, INTEGER_BINARY_CODES, UNARY_CODES } from '../native/codes.js';
import { elementwiseThreshold, isInteger, isNativeFloat, type KernelContext } from './context.js';

/** Ops whose portable loop calls a transcendental function per element (NATIVE_MIN.costly in context.ts). */
const COSTLY: ReadonlySet<Primitive> = new Set([
  Primitive.Exp,
  Primitive.Log,
  Primitive.Log1p,
  Primitive.Expm1,
  Primitive.Sin,
  Primitive.Cos,
  Primitive.Tan,
  Primitive.Asin,
  Primitive.Acos,
  Primitive.Atan,
  Primitive.Tanh,
  Primitive.Logistic,
  Primitive.Erf,
  Primitive.Pow,
  Primitive.Atan2,
]);

/**
 * Unary float32/float64 ops run in the addon (vectorized, multithreaded loops), and float16/bfloat16
 * ones through their float32 ops (each element decoded, computed, rounded once on store, as the
 * portable kernels compute them); integer and bool inputs, and ops the addon lacks, take the
 * portable kernel.
 */
export function unaryKernel<P extends UnaryPrimitive>(op: P, context: KernelContext): Kernel<P, MklHandle> {
  const fallback = context.fallback[op] as Kernel<P, MklHandle>;
  const code = UNARY_CODES.get(op);
  if (code === undefined) return fallback;
  const { addon, memory, recordNative } = context;
  const costly = COSTLY.has(op);
  return (inputs, params, out: Aval) => {
    const x = inputs[0]!;
    const size = sizeOf(out.shape);
    if (!isNativeFloat(x.dtype) || size < elementwiseThreshold(costly, x.dtype)) return fallback(inputs, params, out);
    const data = memory.allocateUninitialized(out.dtype, size);
    addon.unary(code, DTYPE_CODES[x.dtype], x.storage.data, layoutOf(x), data);
    recordNative(op);
    return wrap(data, out.shape, out.dtype);
  };
}

/**
 * Binary ops run in the addon: float32/float64/float16/bfloat16 arithmetic and comparisons (the
 * half dtypes computed as unaryKernel says), and int32/uint8/bool
 * wrapping arithmetic, max/min, comparisons and bitwise and/or. Integer division, modulo and
 * powers, and arithmetic on bool, take the portable kernel.
 */
export function binaryKernel<P extends BinaryPrimitive>(op: P, context: KernelContext): Kernel<P, MklHandle> {
  const fallback = context.fallback[op] as Kernel<P, MklHandle>;
  const code = BINARY_CODES.get(op);
  const integerCode = INTEGER_BINARY_CODES.get(op);
  if (code === undefined && integerCode === undefined) return fallback;
  const { addon, memory, recordNative } = context;
  const costly = COSTLY.has(op);
  return (inputs, params, out: Aval) => {
    const a = inputs[0]!;
    const b = inputs[1]!;
    const size = sizeOf(out.shape);
    if (size < elementwiseThreshold(costly, a.dtype)) return fallback(inputs, params, out);
    if (code !== undefined && isNativeFloat(a.dtype)) {
      const data = memory.allocateUninitialized(out.dtype, size);
      addon.binary(code, DTYPE_CODES[a.dtype], a.storage.data, layoutOf(a), b.storage.data, layoutOf(b), data);
      recordNative(op);
      return wrap(data, out.shape, out.dtype);
    }
    if (integerCode === undefined || !isInteger(a.dtype)) return fallback(inputs, params, out);
    const data = memory.allocateUninitialized(out.dtype, size);
    if (!addon.integerBinary(integerCode, DTYPE_CODES[a.dtype], a.storage.data, layoutOf(a), b.storage.data, layoutOf(b), data)) {
      memory.recycle(data);
      return fallback(inputs, params, out);
    }
    recordNative(op);
    return wrap(data, out.shape, out.dtype);
  };
}

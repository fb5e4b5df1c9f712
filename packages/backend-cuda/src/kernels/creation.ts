import {
  type Aval,
  type DType,
  encodeHalf,
  isHalf,
  type ParamsOf,
  type Primitive,
  sizeOf,
  type TypedArray,
  typedArrayConstructor,
} from '@flint/api';
import { argumentData, int32ArgumentOf } from '@flint/api/strided-backend';
import type { CudaContext } from '../context.js';
import type { CudaHandle } from '../handle.js';
import { DTYPE_CODES } from '../native/codes.js';

/**
 * `value` converted to `dtype` as a one-element typed array: a typed-array store converts as the
 * CPU backend's fill does (floats round, integers truncate and wrap, NaN gives 0), and bool is
 * `value != 0` (NaN is true, as in Python); float16 and bfloat16 are their bit patterns. It is a
 * native-call argument (see native-arguments.ts in @flint/api), which the addon reads in place.
 */
export function fillValue(value: number, dtype: DType): TypedArray {
  // The half dtypes travel as bit patterns, rounded as core/half.ts rounds.
  if (isHalf(dtype)) return argumentData(encodeHalf(dtype, [value]));
  const array = new (typedArrayConstructor(dtype))(1);
  array[0] = dtype === 'bool' ? (value !== 0 ? 1 : 0) : value;
  return argumentData(array);
}

export function fullKernel(context: CudaContext, params: ParamsOf<Primitive.Full>, out: Aval): CudaHandle {
  const id = context.addon.full(DTYPE_CODES[out.dtype], sizeOf(out.shape), fillValue(params.value, out.dtype));
  return context.adopt(id, out.shape, out.dtype);
}

export function iotaKernel(context: CudaContext, params: ParamsOf<Primitive.Iota>, out: Aval): CudaHandle {
  if (out.shape.length === 0)
    return context.adopt(context.addon.full(DTYPE_CODES[out.dtype], 1, fillValue(0, out.dtype)), out.shape, out.dtype);
  const id = context.addon.iota(DTYPE_CODES[out.dtype], int32ArgumentOf(out.shape), params.axis);
  return context.adopt(id, out.shape, out.dtype);
}

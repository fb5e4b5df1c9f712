import { type Aval, contiguousStrides, type ParamsOf, type Primitive, sizeOf } from '@flint/api';
import type { CudaContext } from '../context.js';
import { type CudaHandle, layout, layoutOf } from '../handle.js';
import { DTYPE_CODES } from '../native/codes.js';
import { fillValue } from './creation.js';

// The movement views live in @flint/api/strided-backend. Pad fills a fresh buffer and copies the
// input into its interior; Concat copies each input into its slab of a fresh buffer.

export function padKernel(context: CudaContext, inputs: readonly CudaHandle[], params: ParamsOf<Primitive.Pad>, out: Aval): CudaHandle {
  const x = inputs[0] as CudaHandle;
  const code = DTYPE_CODES[out.dtype];
  const result = context.adopt(context.addon.full(code, sizeOf(out.shape), fillValue(params.value, out.dtype)), out.shape, out.dtype);
  if (sizeOf(x.shape) > 0) {
    const strides = contiguousStrides(out.shape);
    const offset = params.widths.reduce((sum, [low], d) => sum + low * (strides[d] as number), 0);
    try {
      context.addon.copyInto(code, result.storage.id, layout(offset, x.shape, strides), x.storage.id, layoutOf(x));
    } catch (error) {
      context.release(result.storage);
      throw error;
    }
  }
  return result;
}

export function concatKernel(
  context: CudaContext,
  inputs: readonly CudaHandle[],
  params: ParamsOf<Primitive.Concat>,
  out: Aval,
): CudaHandle {
  const code = DTYPE_CODES[out.dtype];
  const result = context.adopt(context.addon.empty(code, sizeOf(out.shape)), out.shape, out.dtype);
  const strides = contiguousStrides(out.shape);
  let offset = 0;
  try {
    for (const x of inputs) {
      if (sizeOf(x.shape) > 0) context.addon.copyInto(code, result.storage.id, layout(offset, x.shape, strides), x.storage.id, layoutOf(x));
      offset += (x.shape[params.axis] as number) * (strides[params.axis] as number);
    }
  } catch (error) {
    context.release(result.storage);
    throw error;
  }
  return result;
}

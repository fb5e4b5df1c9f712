import {
  type Aval,
  broadcastLayout,
  contiguousStrides,
  flipLayout,
  type ParamsOf,
  type Primitive,
  reshapeStrides,
  type StridedLayout,
  sizeOf,
  sliceLayout,
  transposeLayout,
} from '@flint/api';
import type { CudaContext } from '../context.js';
import { type CudaHandle, layout, layoutOf, view } from '../handle.js';
import { DTYPE_CODES } from '../native/codes.js';
import { fillValue } from './creation.js';

// Reshape (when the strides allow), Transpose, Broadcast, Slice and Flip are views: they launch
// nothing. Pad fills a fresh buffer and copies the input into its interior; Concat copies each
// input into its slab of a fresh buffer.

export function reshapeKernel(context: CudaContext, inputs: readonly CudaHandle[], out: Aval): CudaHandle {
  const x = inputs[0] as CudaHandle;
  const strides = reshapeStrides(x.shape, x.strides, out.shape);
  if (strides !== null) return view(x, out.shape, strides, x.offset);
  const packed = context.copyContiguous(x);
  const reshaped = view(packed, out.shape, contiguousStrides(out.shape), 0);
  context.release(packed.storage);
  return reshaped;
}

/** A view of `x`'s storage with another layout. */
function viewAs(x: CudaHandle, layout: StridedLayout): CudaHandle {
  return view(x, layout.shape, layout.strides, layout.offset);
}

export function transposeKernel(inputs: readonly CudaHandle[], params: ParamsOf<Primitive.Transpose>): CudaHandle {
  return viewAs(inputs[0] as CudaHandle, transposeLayout(inputs[0] as CudaHandle, params.perm));
}

export function broadcastKernel(inputs: readonly CudaHandle[], params: ParamsOf<Primitive.Broadcast>): CudaHandle {
  return viewAs(inputs[0] as CudaHandle, broadcastLayout(inputs[0] as CudaHandle, params.shape));
}

export function sliceKernel(inputs: readonly CudaHandle[], params: ParamsOf<Primitive.Slice>, out: Aval): CudaHandle {
  return viewAs(inputs[0] as CudaHandle, sliceLayout(inputs[0] as CudaHandle, params.starts, params.steps, out.shape));
}

export function flipKernel(inputs: readonly CudaHandle[], params: ParamsOf<Primitive.Flip>): CudaHandle {
  return viewAs(inputs[0] as CudaHandle, flipLayout(inputs[0] as CudaHandle, params.axes));
}

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

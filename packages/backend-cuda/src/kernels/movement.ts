import { type Aval, contiguousStrides, type ParamsOf, type Primitive, sizeOf } from '@flint/api';
import type { CudaContext } from '../context.js';
import { type CudaHandle, layout, layoutOf, reshapeStrides, view } from '../handle.js';
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

export function transposeKernel(inputs: readonly CudaHandle[], params: ParamsOf<Primitive.Transpose>): CudaHandle {
  const x = inputs[0] as CudaHandle;
  return view(
    x,
    params.perm.map((p) => x.shape[p] as number),
    params.perm.map((p) => x.strides[p] as number),
    x.offset,
  );
}

export function broadcastKernel(inputs: readonly CudaHandle[], params: ParamsOf<Primitive.Broadcast>): CudaHandle {
  const x = inputs[0] as CudaHandle;
  const lead = params.shape.length - x.shape.length;
  const strides = new Array<number>(params.shape.length).fill(0);
  for (let i = 0; i < x.shape.length; i++) strides[lead + i] = x.shape[i] === params.shape[lead + i] ? (x.strides[i] as number) : 0;
  return view(x, params.shape, strides, x.offset);
}

export function sliceKernel(inputs: readonly CudaHandle[], params: ParamsOf<Primitive.Slice>, out: Aval): CudaHandle {
  const x = inputs[0] as CudaHandle;
  let offset = x.offset;
  const strides = x.strides.map((stride, i) => {
    offset += (params.starts[i] as number) * stride;
    return stride * (params.steps[i] as number);
  });
  // A slice with an empty dim may start past the end; its offset is never read.
  return view(x, out.shape, strides, sizeOf(out.shape) === 0 ? x.offset : offset);
}

export function flipKernel(inputs: readonly CudaHandle[], params: ParamsOf<Primitive.Flip>): CudaHandle {
  const x = inputs[0] as CudaHandle;
  let offset = x.offset;
  const strides = [...x.strides];
  for (const axis of params.axes) {
    const dim = x.shape[axis] as number;
    if (dim === 0) continue;
    offset += (dim - 1) * (strides[axis] as number);
    strides[axis] = -(strides[axis] as number);
  }
  return view(x, x.shape, strides, offset);
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

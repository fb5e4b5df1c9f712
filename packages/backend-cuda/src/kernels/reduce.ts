import type { Aval, ParamsOf, Primitive, ReducePrimitive } from '@flint/api';
import { int32ArgumentOf } from '@flint/api/strided-backend';
import type { CudaContext } from '../context.js';
import { type CudaHandle, layoutOf } from '../handle.js';
import { ARG_REDUCE_CODES, DTYPE_CODES, REDUCE_CODES, SCAN_CODES } from '../native/codes.js';

export function reduceKernel(op: ReducePrimitive) {
  const code = REDUCE_CODES[op];
  return (context: CudaContext, inputs: readonly CudaHandle[], params: ParamsOf<ReducePrimitive>, out: Aval): CudaHandle => {
    const x = inputs[0] as CudaHandle;
    const id = context.addon.reduce(code, DTYPE_CODES[x.dtype], x.storage.id, layoutOf(x), int32ArgumentOf(params.axes));
    return context.adopt(id, out.shape, out.dtype);
  };
}

export function argReduceKernel(op: Primitive.Argmax | Primitive.Argmin) {
  const code = ARG_REDUCE_CODES[op];
  return (context: CudaContext, inputs: readonly CudaHandle[], params: ParamsOf<Primitive.Argmax>, out: Aval): CudaHandle => {
    const x = inputs[0] as CudaHandle;
    const id = context.addon.argReduce(code, DTYPE_CODES[x.dtype], x.storage.id, layoutOf(x), params.axis);
    return context.adopt(id, out.shape, out.dtype);
  };
}

export function cumulativeKernel(
  context: CudaContext,
  inputs: readonly CudaHandle[],
  params: ParamsOf<Primitive.Cumulative>,
  out: Aval,
): CudaHandle {
  const x = inputs[0] as CudaHandle;
  const id = context.addon.cumulative(SCAN_CODES[params.op], params.reverse, DTYPE_CODES[x.dtype], x.storage.id, layoutOf(x), params.axis);
  return context.adopt(id, out.shape, out.dtype);
}

export function argsortKernel(
  context: CudaContext,
  inputs: readonly CudaHandle[],
  params: ParamsOf<Primitive.Argsort>,
  out: Aval,
): CudaHandle {
  const x = inputs[0] as CudaHandle;
  const id = context.addon.argsort(params.descending, DTYPE_CODES[x.dtype], x.storage.id, layoutOf(x), params.axis);
  return context.adopt(id, out.shape, out.dtype);
}

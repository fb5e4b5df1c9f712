import type { Aval, ParamsOf, Primitive } from '@flint/api';
import type { CudaContext } from '../context.js';
import { type CudaHandle, layoutOf } from '../handle.js';
import { DTYPE_CODES, WINDOW_CODES } from '../native/codes.js';

/** Pooling and window sums: one thread per output element over its (dilated, strided, padded) window. */
export function reduceWindowKernel(
  context: CudaContext,
  inputs: readonly CudaHandle[],
  params: ParamsOf<Primitive.ReduceWindow>,
  out: Aval,
): CudaHandle {
  const x = inputs[0] as CudaHandle;
  const window = Int32Array.from([
    ...params.window,
    ...params.strides,
    ...params.padding.map((p) => p[0]),
    ...params.padding.map((p) => p[1]),
    ...params.dilation,
  ]);
  const id = context.addon.reduceWindow(WINDOW_CODES[params.op], DTYPE_CODES[x.dtype], x.storage.id, layoutOf(x), window);
  return context.adopt(id, out.shape, out.dtype);
}

import type { Aval, ParamsOf, Primitive } from '@flint/api';
import type { CudaContext } from '../context.js';
import { type CudaHandle, layoutOf } from '../handle.js';
import { DTYPE_CODES, type Engine } from '../native/codes.js';
import { cudnnTakes } from './cudnn-dtypes.js';

/**
 * N-d convolution: cuDNN for the float types with 2 or 3 spatial dims, symmetric padding and no
 * input dilation when it is present (operands packed to contiguous for it), else the addon's
 * direct kernel, which takes any view and every configuration of the primitive.
 */
export function convKernel(engine: () => Engine, cudnnPresent: () => boolean) {
  return (context: CudaContext, inputs: readonly CudaHandle[], params: ParamsOf<Primitive.Conv>, out: Aval): CudaHandle => {
    let [x, w] = inputs as [CudaHandle, CudaHandle];
    const temporaries: CudaHandle[] = [];
    if (cudnnPresent() && cudnnTakes(x.dtype)) {
      const px = context.packed(x);
      const pw = context.packed(w);
      if (px.temporary) temporaries.push(px.handle);
      if (pw.temporary) temporaries.push(pw.handle);
      x = px.handle;
      w = pw.handle;
    }
    const conv = Int32Array.from([
      params.groups,
      ...params.strides,
      ...params.padding.map((p) => p[0]),
      ...params.padding.map((p) => p[1]),
      ...params.lhsDilation,
      ...params.rhsDilation,
    ]);
    try {
      const id = context.addon.conv(DTYPE_CODES[x.dtype], x.storage.id, layoutOf(x), w.storage.id, layoutOf(w), conv, engine());
      return context.adopt(id, out.shape, out.dtype);
    } finally {
      for (const t of temporaries) context.release(t.storage);
    }
  };
}

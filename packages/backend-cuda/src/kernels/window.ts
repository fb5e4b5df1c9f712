import { type Aval, type ParamsOf, type Primitive, packWindowGeometry } from '@flint/api';
import { int32ArgumentOf } from '@flint/api/strided-backend';
import type { CudaContext } from '../context.js';
import { type CudaHandle, layoutOf } from '../handle.js';
import { DTYPE_CODES, type Engine, WINDOW_CODES } from '../native/codes.js';
import { cudnnTakes } from './cudnn-dtypes.js';

/**
 * Pooling and window sums. Max pooling of the float types [N, C, ...] over 1 to 3 spatial dims
 * with symmetric padding below the window and no dilation runs through cuDNN when it is present
 * (the input packed to contiguous for it); everything else, window sums included, runs the
 * addon's kernel: one thread per output element over its (dilated, strided, padded) window.
 */
export function reduceWindowKernel(engine: () => Engine, cudnnPresent: () => boolean) {
  return (context: CudaContext, inputs: readonly CudaHandle[], params: ParamsOf<Primitive.ReduceWindow>, out: Aval): CudaHandle => {
    let x = inputs[0] as CudaHandle;
    let temporary: CudaHandle | null = null;
    if (params.op === 'max' && cudnnPresent() && cudnnTakes(x.dtype)) {
      const packed = context.packed(x);
      if (packed.temporary) temporary = packed.handle;
      x = packed.handle;
    }
    try {
      const id = context.addon.reduceWindow(
        WINDOW_CODES[params.op],
        DTYPE_CODES[x.dtype],
        x.storage.id,
        layoutOf(x),
        int32ArgumentOf(packWindowGeometry(params)),
        engine(),
      );
      return context.adopt(id, out.shape, out.dtype);
    } finally {
      if (temporary !== null) context.release(temporary.storage);
    }
  };
}

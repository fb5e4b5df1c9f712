import { type Aval, type ParamsOf, Primitive, packWindowGeometry, sizeOf } from '@flint/api';
import { int32ArgumentOf } from '@flint/api/strided-backend';
import { layoutOf, type MklHandle, wrap } from '../handle.js';
import { DTYPE_CODES } from '../native/codes.js';
import type { KernelContext } from './context.js';

/**
 * float32 pooling (windows over the spatial dims of [N, C, ...spatial]) runs in the addon's loops,
 * which compute what the portable kernel computes (NaN propagation, -Inf for windows wholly in
 * padding, sums in double); other windows and dtypes take the portable kernel.
 */
export function reduceWindowKernel(context: KernelContext) {
  const fallback = context.fallback[Primitive.ReduceWindow];
  const { addon, memory, recordNative } = context;
  return (inputs: readonly MklHandle[], params: ParamsOf<Primitive.ReduceWindow>, out: Aval): MklHandle => {
    const x = inputs[0]!;
    const rank = x.shape.length;
    if (x.dtype !== 'float32' || rank < 3 || rank > 5) return fallback(inputs, params, out);
    const data = memory.allocateUninitialized(out.dtype, sizeOf(out.shape));
    if (
      addon.pool(
        params.op === 'max' ? 1 : 0,
        DTYPE_CODES.float32,
        x.storage.data,
        layoutOf(x),
        data,
        int32ArgumentOf(packWindowGeometry(params)),
      )
    ) {
      recordNative(Primitive.ReduceWindow);
      return wrap(data, out.shape, out.dtype);
    }
    memory.recycle(data);
    return fallback(inputs, params, out);
  };
}

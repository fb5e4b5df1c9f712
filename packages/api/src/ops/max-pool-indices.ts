import { lowestValue } from '../core/dtype.js';
import { sizeOf } from '../core/shape.js';
import { windowArgmaxOffset } from '../primitives/linalg-derivatives.js';
import { type ParamsOf, Primitive } from '../primitives/primitive.js';
import { bind } from '../tensor/dispatch.js';
import type { Tensor } from '../tensor/tensor.js';
import { backendOf } from '../transforms/core.js';
import { tensor } from './convert.js';
import { add, equal, where } from './elementwise.js';

// The indices max pooling returns with `returnIndices` (torch's max_pool*d(return_indices=True)):
// for each window, the flat position of its maximum within its input plane (the spatial axes of
// one example and channel), as int32. The window's maximum is found as the values' gradient finds
// it (windowArgmaxOffset: the first maximum in the window's row-major order), so that the index
// and the gradient always name the same element; its offset inside the window then becomes a
// plane position through two small host tables, one per window offset and one per output position.

/** The int32 tensor of `data` shaped `shape`, on `like`'s backend. */
function int32Table(data: Int32Array, shape: readonly number[], like: Tensor): Tensor {
  const backend = backendOf(like)?.name;
  return tensor(data, { shape: [...shape], dtype: 'int32', ...(backend === undefined ? {} : { backend }) });
}

/** Row-major strides of a shape. */
function stridesOf(shape: readonly number[]): number[] {
  return shape.map((_, i) => sizeOf(shape.slice(i + 1)));
}

/** Calls `visit` with every multi-index of `shape` in row-major order and its flat position. */
function forEachIndex(shape: readonly number[], visit: (index: readonly number[], flat: number) => void): void {
  const total = sizeOf(shape);
  const index = shape.map(() => 0);
  for (let flat = 0; flat < total; flat++) {
    visit(index, flat);
    for (let axis = shape.length - 1; axis >= 0; axis--) {
      index[axis] = (index[axis] as number) + 1;
      if ((index[axis] as number) < (shape[axis] as number)) break;
      index[axis] = 0;
    }
  }
}

/**
 * The plane positions max pooling reports (int32, the shape of `values`): `x` is the batched input
 * [N, C, ...spatial], `values` the pooled [N, C, ...out], `params` the ReduceWindow geometry that
 * pooled it (window 1 on N and C). A window whose maximum is the dtype's lowest value (all its
 * taps in the input are -Infinity, or padding) reports its first tap inside the input, as
 * PyTorch's kernels start from it and move only for a strictly larger value.
 */
export function maxPoolIndices(x: Tensor, values: Tensor, params: ParamsOf<Primitive.ReduceWindow>): Tensor {
  const sizes = x.shape.slice(2);
  const out = values.shape.slice(2);
  const kernel = params.window.slice(2);
  const stride = params.strides.slice(2);
  const dilation = params.dilation.slice(2);
  const padLow = params.padding.slice(2).map(([low]) => low);
  const plane = stridesOf(sizes);
  // The plane offset of each window offset, in the row-major order windowArgmaxOffset counts.
  const offsets = new Int32Array(sizeOf(kernel));
  forEachIndex(kernel, (tap, k) => {
    offsets[k] = tap.reduce((sum, t, i) => sum + t * (dilation[i] as number) * (plane[i] as number), 0);
  });
  // Each window's first tap (which may lie in the padding) and its first tap inside the input.
  const firstTap = new Int32Array(sizeOf(out));
  const firstInside = new Int32Array(sizeOf(out));
  forEachIndex(out, (position, o) => {
    let tap = 0;
    let inside = 0;
    position.forEach((p, i) => {
      const start = p * (stride[i] as number) - (padLow[i] as number);
      const d = dilation[i] as number;
      tap += start * (plane[i] as number);
      inside += (start >= 0 ? start : start + d * Math.ceil(-start / d)) * (plane[i] as number);
    });
    firstTap[o] = tap;
    firstInside[o] = inside;
  });
  const chosen = windowArgmaxOffset(x, values.shape, params, lowestValue(x.dtype));
  const found = add(bind(Primitive.Gather, [int32Table(offsets, [offsets.length], x), chosen], { axis: 0 }), int32Table(firstTap, out, x));
  return where(equal(values, lowestValue(values.dtype)), int32Table(firstInside, out, x), found);
}

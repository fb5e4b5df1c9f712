import type { Aval } from '../../core/aval.js';
import {
  broadcastLayout,
  flipLayout,
  reshapeStrides,
  type StridedLayout,
  sliceLayout,
  transposeLayout,
} from '../../core/strided-layout.js';
import type { ParamsOf, Primitive } from '../../primitives/primitive.js';
import { type SharedStorage, type StridedHandle, view, wrapStorage } from './handle.js';

// Transpose, Broadcast, Slice, Flip and (when the strides allow) Reshape are views: they launch
// nothing, only take another reference to the input's storage.

/** A view of `x`'s storage with another layout. */
function viewAs<S extends SharedStorage>(x: StridedHandle<S>, layout: StridedLayout): StridedHandle<S> {
  return view(x, layout.shape, layout.strides, layout.offset);
}

/**
 * Reshape as a view when the input's strides allow one, else through a contiguous copy:
 * `packContiguous` returns a fresh storage (one reference, owned by the caller) holding the
 * input's elements in row-major order.
 */
export function reshapeKernel<C, S extends SharedStorage>(packContiguous: (context: C, x: StridedHandle<S>) => S) {
  return (context: C, inputs: readonly StridedHandle<S>[], out: Aval): StridedHandle<S> => {
    const x = inputs[0] as StridedHandle<S>;
    const strides = reshapeStrides(x.shape, x.strides, out.shape);
    if (strides !== null) return view(x, out.shape, strides, x.offset);
    return wrapStorage(packContiguous(context, x), out.shape, out.dtype);
  };
}

export function transposeKernel<S extends SharedStorage>(
  inputs: readonly StridedHandle<S>[],
  params: ParamsOf<Primitive.Transpose>,
): StridedHandle<S> {
  return viewAs(inputs[0] as StridedHandle<S>, transposeLayout(inputs[0] as StridedHandle<S>, params.perm));
}

export function broadcastKernel<S extends SharedStorage>(
  inputs: readonly StridedHandle<S>[],
  params: ParamsOf<Primitive.Broadcast>,
): StridedHandle<S> {
  return viewAs(inputs[0] as StridedHandle<S>, broadcastLayout(inputs[0] as StridedHandle<S>, params.shape));
}

export function sliceKernel<S extends SharedStorage>(
  inputs: readonly StridedHandle<S>[],
  params: ParamsOf<Primitive.Slice>,
  out: Aval,
): StridedHandle<S> {
  return viewAs(inputs[0] as StridedHandle<S>, sliceLayout(inputs[0] as StridedHandle<S>, params.starts, params.steps, out.shape));
}

export function flipKernel<S extends SharedStorage>(
  inputs: readonly StridedHandle<S>[],
  params: ParamsOf<Primitive.Flip>,
): StridedHandle<S> {
  return viewAs(inputs[0] as StridedHandle<S>, flipLayout(inputs[0] as StridedHandle<S>, params.axes));
}

import type { DType } from '../core/dtype.js';
import { broadcastShapes, type Shape, shapesEqual } from '../core/shape.js';
import { Primitive } from '../primitives/primitive.js';
import { bind } from '../tensor/dispatch.js';
import type { Tensor } from '../tensor/tensor.js';

/** `x` broadcast to `shape` (a view on backends that support it); `x` itself when already there. */
export function broadcastTo(x: Tensor, shape: Shape): Tensor {
  if (shapesEqual(x.shape, shape)) return x;
  return bind(Primitive.Broadcast, [x], { shape: [...shape] });
}

/** `x` cast to `dtype`; `x` itself when it already has it. */
export function cast(x: Tensor, dtype: DType): Tensor {
  if (x.dtype === dtype) return x;
  return bind(Primitive.Cast, [x], { dtype });
}

/** Broadcasts tensors to their common shape (NumPy rules); the error names `op`. */
export function broadcastAll(op: string, tensors: readonly Tensor[]): Tensor[] {
  const first = tensors[0] as Tensor;
  let same = true;
  for (let i = 1; i < tensors.length; i++) if (!shapesEqual((tensors[i] as Tensor).shape, first.shape)) same = false;
  if (same) return [...tensors];
  const shape = broadcastShapes(op, ...tensors.map((t) => t.shape));
  return tensors.map((t) => broadcastTo(t, shape));
}

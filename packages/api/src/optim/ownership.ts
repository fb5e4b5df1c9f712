import { Primitive } from '../primitives/primitive.js';
import { bind } from '../tensor/dispatch.js';
import type { Tensor } from '../tensor/tensor.js';

/**
 * A new tensor with `t`'s contents and its own handle, so that the holder can dispose it
 * independently of `t` (a view on backends that share storage: no copy of the data).
 */
export function cloneTensor(t: Tensor): Tensor {
  return bind(Primitive.Reshape, [t], { shape: [...t.shape] });
}

import { Primitive } from '../primitives/primitive.js';
import { bind } from '../tensor/dispatch.js';
import type { Tensor } from '../tensor/tensor.js';
import { type TensorLike, toTensor } from './convert.js';

/**
 * A copy of `x` in new memory, with its shape, dtype and backend (torch.clone). Tensors are
 * immutable, so a copy is never needed to keep a value from changing; `clone` gives a tensor
 * whose memory is its own, to dispose independently of `x` or to hand to code that takes
 * ownership (a donated argument). Its gradient is the identity.
 *
 * @example
 * const y = clone(x);
 * x.dispose(); // y still holds the values
 */
export function clone(x: TensorLike): Tensor {
  const t = toTensor('clone', x);
  // A cast to the same dtype: a kernel every backend has that writes a fresh, contiguous buffer.
  return bind(Primitive.Cast, [t], { dtype: t.dtype });
}

import type { Tensor } from '../tensor/tensor.js';

/**
 * What an optimizer needs of a parameter: a mutable cell holding an immutable tensor (`value`)
 * and the gradient the last `backward()` left in it (`grad`, null when there is none). Flint's
 * `Parameter` satisfies it; so does any object of this shape.
 */
export interface ParameterLike {
  value: Tensor;
  grad: Tensor | null;
  /** Frees and clears the gradient; optimizers fall back to `grad.dispose(); grad = null`. */
  zeroGrad?(): void;
}

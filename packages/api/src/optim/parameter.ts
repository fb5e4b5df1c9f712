import { isTensor } from '../tensor/memory.js';
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

/** Whether `value` is a ParameterLike: an object with a tensor `value`. */
export function isParameterLike(value: unknown): value is ParameterLike {
  return typeof value === 'object' && value !== null && 'value' in value && isTensor((value as { value: unknown }).value);
}

/** Frees and clears a parameter's gradient (its own `zeroGrad` where it has one). */
export function clearGradient(p: ParameterLike): void {
  if (typeof p.zeroGrad === 'function') p.zeroGrad();
  else if (p.grad) {
    p.grad.dispose();
    p.grad = null;
  }
}

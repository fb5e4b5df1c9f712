import { isFloating } from '../core/dtype.js';
import { ValueError } from '../core/errors.js';
import { cast } from '../ops/broadcast.js';
import { scalar } from '../ops/convert.js';
import { abs, add, clamp, div, minimum, mul, pow, sqrt } from '../ops/elementwise.js';
import { stack } from '../ops/movement.js';
import { max, sum } from '../ops/reduce.js';
import { keep, tidy } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';

// Gradient clipping over the `.grad` of parameters, as torch.nn.utils.clip_grad_norm_ and
// clip_grad_value_. Gradients are immutable tensors: each clipped one replaces the old (disposed).

/** Anything with a gradient slot: a Parameter, or a cell of the same shape. */
export interface GradientHolder {
  grad: Tensor | null | undefined;
}

function holders(op: string, parameters: Iterable<GradientHolder> | GradientHolder): GradientHolder[] {
  if (typeof parameters !== 'object' || parameters === null)
    throw new ValueError(`${op}: expected parameters (or one parameter), got ${parameters === null ? 'null' : typeof parameters}`);
  const list = Symbol.iterator in parameters ? [...(parameters as Iterable<GradientHolder>)] : [parameters as GradientHolder];
  return list.filter((p) => p.grad !== null && p.grad !== undefined);
}

function replaceGradient(holder: GradientHolder, next: Tensor): void {
  const old = holder.grad as Tensor;
  holder.grad = keep(next);
  if (old !== next) old.dispose();
}

/** Options of clipGradNorm. */
export interface ClipGradNormOptions {
  /** The p of the p-norm (default 2); `Infinity` for the largest absolute value. */
  readonly normType?: number;
  /** Raise a ValueError when the total norm is NaN or infinite (reads it synchronously). Default false. */
  readonly errorIfNonfinite?: boolean;
}

/**
 * Rescales the gradients so that their total norm (the norm of all of them as one vector) is at
 * most `maxNorm`: each is multiplied by `min(1, maxNorm / (total + 1e-6))`. Returns the total norm
 * before clipping, as a tensor (no read happens unless `errorIfNonfinite`).
 *
 * @example
 * loss.backward();
 * nn.clipGradNorm(model.parameters(), 1.0);
 * optimizer.step();
 */
export function clipGradNorm(
  parameters: Iterable<GradientHolder> | GradientHolder,
  maxNorm: number,
  options: ClipGradNormOptions = {},
): Tensor {
  const op = 'clipGradNorm';
  if (typeof maxNorm !== 'number' || Number.isNaN(maxNorm) || maxNorm < 0)
    throw new ValueError(`${op}: maxNorm must be a non-negative number, got ${String(maxNorm)}`);
  const normType = options.normType ?? 2;
  if (typeof normType !== 'number' || Number.isNaN(normType) || normType <= 0)
    throw new ValueError(`${op}: normType must be positive (or Infinity), got ${String(normType)}`);
  const list = holders(op, parameters);
  // As torch's torch.tensor(0.0): a norm is a float, even when there is nothing to measure.
  if (list.length === 0) return scalar(0, { dtype: 'float32' });
  const total = tidy(() => {
    const grads = list.map((p) => p.grad as Tensor);
    // Per-gradient partial results meet in the widest dtype among them.
    const dtype = grads.some((g) => g.dtype === 'float64') ? 'float64' : 'float32';
    const partial = (f: (g: Tensor) => Tensor): Tensor => stack(grads.map((g) => cast(f(g), dtype)));
    if (normType === Number.POSITIVE_INFINITY) return max(partial((g) => max(abs(g))));
    if (normType === 2) return sqrt(sum(partial((g) => sum(mul(g, g)))));
    return pow(sum(partial((g) => sum(pow(abs(g), normType)))), 1 / normType);
  });
  if (options.errorIfNonfinite === true) {
    const value = total.item() as number;
    if (!Number.isFinite(value)) {
      throw new ValueError(
        `${op}: the total norm of order ${normType} of the gradients is ${value}, so they cannot be clipped; pass errorIfNonfinite: false to clip anyway`,
      );
    }
  }
  const coefficient = tidy(() => minimum(div(maxNorm, add(total, 1e-6)), 1));
  for (const holder of list) {
    const g = holder.grad as Tensor;
    replaceGradient(
      holder,
      tidy(() => mul(g, isFloating(g.dtype) ? cast(coefficient, g.dtype) : coefficient)),
    );
  }
  coefficient.dispose();
  return total;
}

/**
 * Clamps every gradient element to [-clipValue, clipValue].
 *
 * @example
 * nn.clipGradValue(model.parameters(), 0.5);
 */
export function clipGradValue(parameters: Iterable<GradientHolder> | GradientHolder, clipValue: number): void {
  const op = 'clipGradValue';
  if (typeof clipValue !== 'number' || Number.isNaN(clipValue) || clipValue < 0)
    throw new ValueError(`${op}: clipValue must be a non-negative number, got ${String(clipValue)}`);
  for (const holder of holders(op, parameters)) {
    const g = holder.grad as Tensor;
    replaceGradient(holder, clamp(g, -clipValue, clipValue));
  }
}

import { runInFloat32 } from '../../amp/autocast.js';
import { ShapeError, ValueError } from '../../core/errors.js';
import { broadcastShapes, formatShape } from '../../core/shape.js';
import { cast } from '../../ops/broadcast.js';
import type { TensorLike } from '../../ops/convert.js';
import { add, clamp, div, exp, less, lessEqual, log, mul, sub, where } from '../../ops/elementwise.js';
import { unsqueeze } from '../../ops/movement.js';
import { optionsSignature, withCheckedOptions } from '../../ops/options-argument.js';
import { any } from '../../ops/reduce.js';
import { tidy } from '../../tensor/memory.js';
import type { Tensor } from '../../tensor/tensor.js';
import { checkNumber, checkReduction, floatTensor, type Reduction, reduceLoss, stopGradient } from './common.js';

// Negative log-likelihood losses of a Poisson and of a Gaussian target, as PyTorch's
// poisson_nll_loss and gaussian_nll_loss.

const POISSON_NLL_SIGNATURE = optionsSignature<PoissonNllOptions>(3, { logInput: true, full: true, eps: true, reduction: true }, [
  'logInput',
  'full',
  'sizeAverage',
  'eps',
  'reduce',
  'reduction',
]);
const GAUSSIAN_NLL_SIGNATURE = optionsSignature<GaussianNllOptions>(4, { full: true, eps: true, reduction: true }, [
  'full',
  'eps',
  'reduction',
]);

function checkBoolean(op: string, what: string, value: unknown, fallback: boolean): boolean {
  const v = value ?? fallback;
  if (typeof v !== 'boolean') throw new ValueError(`${op}: ${what} must be a boolean, got ${JSON.stringify(value)}`);
  return v;
}

/** Options of poissonNllLoss. */
export interface PoissonNllOptions {
  /** Whether the input is the log of the rate (default true): `exp(input) - target input`. */
  readonly logInput?: boolean;
  /** Add Stirling's approximation of `log(target!)` where target > 1 (default false). */
  readonly full?: boolean;
  /** Added to the rate inside the log when `logInput` is false (default 1e-8). */
  readonly eps?: number;
  readonly reduction?: Reduction;
}

/**
 * Negative log-likelihood of `target` under a Poisson distribution with rate `input`
 * (torch.nn.functional.poisson_nll_loss): `exp(input) - target input` with `logInput` (the
 * default), else `input - target log(input + eps)`; `full` adds
 * `target log(target) - target + log(2 pi target) / 2` where target > 1. Input and target
 * broadcast.
 *
 * @example
 * nn.functional.poissonNllLoss(logRates, counts);
 */
export const poissonNllLoss = withCheckedOptions(
  'poissonNllLoss',
  POISSON_NLL_SIGNATURE,
  (input: TensorLike, target: TensorLike, options: PoissonNllOptions = {}): Tensor => {
    return tidy(() => {
      const op = 'poissonNllLoss';
      return runInFloat32(op, [input, target], (input, target) => {
        const reduction = checkReduction(op, options.reduction);
        const logInput = checkBoolean(op, 'logInput', options.logInput, true);
        const full = checkBoolean(op, 'full', options.full, false);
        const eps = checkNumber(op, 'eps', options.eps ?? 1e-8);
        const x = floatTensor(op, input, 'input');
        const y = cast(floatTensor(op, target, 'target', x), x.dtype);
        broadcastShapes(op, x.shape, y.shape);
        let loss = logInput ? sub(exp(x), mul(y, x)) : sub(x, mul(y, log(add(x, eps))));
        if (full) {
          // Constant in the input; masked where target <= 1, where PyTorch's masked_fill puts 0
          // (and where log(target) would be -Infinity or NaN).
          const small = lessEqual(y, 1);
          const safe = where(small, 2, y);
          const stirling = add(sub(mul(safe, log(safe)), safe), mul(0.5, log(mul(2 * Math.PI, safe))));
          loss = add(loss, where(small, 0, stirling));
        }
        return reduceLoss(loss, reduction);
      });
    });
  },
);

/** Options of gaussianNllLoss. */
export interface GaussianNllOptions {
  /** Add the constant `log(2 pi) / 2` (default false). */
  readonly full?: boolean;
  /** Variances below eps are raised to it, with the gradient passing unchanged (default 1e-6). */
  readonly eps?: number;
  readonly reduction?: Reduction;
}

/**
 * Negative log-likelihood of `target` under Gaussians of mean `input` and variance `variance`
 * (torch.nn.functional.gaussian_nll_loss): `(log(max(var, eps)) + (input - target)^2 / max(var,
 * eps)) / 2`, plus `log(2 pi) / 2` with `full`. `variance` has the input's shape, or that shape
 * with the last axis 1 or dropped (one variance per sample), or is a number; entries must be
 * non-negative. As PyTorch (which clamps under no_grad), the clamp to eps passes the gradient.
 *
 * @example
 * nn.functional.gaussianNllLoss(means, targets, variances);
 */
export const gaussianNllLoss = withCheckedOptions(
  'gaussianNllLoss',
  GAUSSIAN_NLL_SIGNATURE,
  (input: TensorLike, target: TensorLike, variance: TensorLike, options: GaussianNllOptions = {}): Tensor => {
    return tidy(() => {
      const op = 'gaussianNllLoss';
      return runInFloat32(op, [input, target, variance], (input, target, variance) => {
        const reduction = checkReduction(op, options.reduction);
        const full = checkBoolean(op, 'full', options.full, false);
        const eps = checkNumber(op, 'eps', options.eps ?? 1e-6, { min: 0 });
        const x = floatTensor(op, input, 'input');
        const y = cast(floatTensor(op, target, 'target', x), x.dtype);
        let v = cast(floatTensor(op, variance, 'variance', x), x.dtype);
        broadcastShapes(op, x.shape, y.shape);
        const sameShape = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);
        if (v.ndim !== 0 && !sameShape(v.shape, x.shape)) {
          const leading = x.shape.slice(0, -1);
          if (x.ndim > 0 && sameShape(v.shape, leading)) {
            v = unsqueeze(v, -1);
          } else if (!(x.ndim > 0 && v.ndim === x.ndim && sameShape(v.shape.slice(0, -1), leading) && v.shape[v.ndim - 1] === 1)) {
            throw new ShapeError(
              `${op}: variance of shape ${formatShape(v.shape)} does not fit input ${formatShape(x.shape)}; give the input's shape, or it with the last axis 1 or dropped`,
            );
          }
        }
        const backend = v._backend;
        if (backend !== null && backend.readSync !== undefined && v.size <= 1 << 20 && any(less(v, 0)).item() === true) {
          throw new ValueError(`${op}: variance has negative entries`);
        }
        // clamp under no_grad in PyTorch: the value is clamped, the derivative is the identity's.
        const clamped = add(v, stopGradient(sub(clamp(v, eps), v)));
        let loss = mul(0.5, add(log(clamped), div(mul(sub(x, y), sub(x, y)), clamped)));
        if (full) loss = add(loss, 0.5 * Math.log(2 * Math.PI));
        return reduceLoss(loss, reduction);
      });
    });
  },
);

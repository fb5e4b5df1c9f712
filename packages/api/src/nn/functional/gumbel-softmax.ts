import { isFloating } from '../../core/dtype.js';
import { ValueError } from '../../core/errors.js';
import { cast } from '../../ops/broadcast.js';
import type { TensorLike } from '../../ops/convert.js';
import { add, clamp, div, log, neg, sub } from '../../ops/elementwise.js';
import { oneHot } from '../../ops/indexing.js';
import { moveaxis } from '../../ops/movement.js';
import { optionsSignature, withCheckedOptions } from '../../ops/options-argument.js';
import { argmax } from '../../ops/reduce.js';
import { uniform } from '../../random/distributions.js';
import { rand } from '../../random/generator.js';
import { tidy } from '../../tensor/memory.js';
import type { Tensor } from '../../tensor/tensor.js';
import { backendOf } from '../../transforms/core.js';
import { softmax } from './activations.js';
import { axisOf, checkNumber, floatTensor, stopGradient } from './common.js';

/** Options of gumbelSoftmax. */
export interface GumbelSoftmaxOptions {
  /** The temperature (default 1): lower is closer to one-hot. */
  readonly tau?: number;
  /** Return one-hot samples whose gradient is the soft sample's (straight-through; default false). */
  readonly hard?: boolean;
  /** The class axis (default -1). */
  readonly axis?: number;
  /**
   * A random key (from `random.key` / `random.split`) for the Gumbel noise. Without one, the
   * global generator (`manualSeed`) draws it, as in PyTorch.
   */
  readonly key?: Tensor;
}

// PyTorch: gumbel_softmax(logits, tau=1, hard=False, eps=1e-10, dim=-1); eps is deprecated there.
const GUMBEL_SOFTMAX_SIGNATURE = optionsSignature<GumbelSoftmaxOptions>(2, { tau: true, hard: true, axis: true, key: true }, [
  'tau',
  'hard',
  'eps',
  'axis',
]);

/**
 * Samples from the Gumbel-softmax (concrete) distribution, `softmax((logits + g) / tau)` with
 * `g = -log(-log(u))` Gumbel noise (torch.nn.functional.gumbel_softmax). With `hard`, the result
 * is the one-hot of each sample's argmax (the first on ties), and its gradient is the soft
 * sample's: `yHard - stopGradient(ySoft) + ySoft`, PyTorch's straight-through estimator.
 *
 * @example
 * nn.functional.gumbelSoftmax(logits, { tau: 0.5, hard: true, key: random.key(0) });
 */
export const gumbelSoftmax = withCheckedOptions(
  'gumbelSoftmax',
  GUMBEL_SOFTMAX_SIGNATURE,
  (logits: TensorLike, options: GumbelSoftmaxOptions = {}): Tensor => {
    return tidy(() => {
      const op = 'gumbelSoftmax';
      const tau = checkNumber(op, 'tau', options.tau ?? 1, { min: 0, minExclusive: true });
      const hard = options.hard ?? false;
      if (typeof hard !== 'boolean') throw new ValueError(`${op}: hard must be a boolean, got ${JSON.stringify(hard)}`);
      const x = floatTensor(op, logits, 'logits');
      if (x.ndim === 0) throw new ValueError(`${op}: logits must have a class axis, got a scalar`);
      const axis = axisOf(op, options.axis ?? -1, x.ndim);
      const dtype = isFloating(x.dtype) ? x.dtype : 'float32';
      let u: Tensor;
      if (options.key !== undefined) {
        u = cast(uniform(options.key, x.shape, { dtype: dtype === 'float64' ? 'float64' : 'float32' }), dtype);
      } else {
        const backend = backendOf(x)?.name;
        u = rand(x.shape, { dtype, ...(backend === undefined ? {} : { backend }) });
      }
      // u = 0 would give an infinite exponential sample: keep it at the smallest normal float32.
      const exponential = neg(log(clamp(u, 1.1754943508222875e-38)));
      const gumbels = neg(log(exponential));
      const soft = softmax(div(add(x, gumbels), tau), axis);
      if (!hard) return soft;
      const classes = x.shape[axis] as number;
      const index = argmax(soft, axis);
      const oneHotLast = cast(oneHot(index, classes), soft.dtype);
      const yHard = axis === x.ndim - 1 ? oneHotLast : moveaxis(oneHotLast, -1, axis);
      return add(sub(yHard, stopGradient(soft)), soft);
    });
  },
);

import { ValueError } from '../../core/errors.js';
import type { TensorLike } from '../../ops/convert.js';
import { add, greater, less, logicalOr, mul, sub, tanh, where } from '../../ops/elementwise.js';
import { optionsSignature, withCheckedOptions } from '../../ops/options-argument.js';
import { uniform } from '../../random/distributions.js';
import { rand } from '../../random/generator.js';
import { tidy } from '../../tensor/memory.js';
import type { Tensor } from '../../tensor/tensor.js';
import { backendOf } from '../../transforms/core.js';
import { checkNumber, floatTensor } from './common.js';
import type { DropoutOptions } from './dropout.js';

// The shrinkage activations (hardshrink, softshrink, tanhshrink) and the randomized leaky ReLU.

/**
 * `x` where `|x| > lambd`, else 0 (torch.nn.functional.hardshrink; default lambd 0.5). The
 * derivative is 1 outside [-lambd, lambd] and 0 inside, as PyTorch's hardshrink_backward.
 *
 * @example
 * nn.functional.hardshrink(tensor([-1, 0.2, 0.7])); // [-1, 0, 0.7]
 */
export function hardshrink(x: TensorLike, lambd = 0.5): Tensor {
  return tidy(() => {
    const op = 'hardshrink';
    checkNumber(op, 'lambd', lambd);
    const t = floatTensor(op, x);
    return where(logicalOr(greater(t, lambd), less(t, -lambd)), t, 0);
  });
}

/**
 * `x - lambd` above `lambd`, `x + lambd` below `-lambd`, else 0 (torch.nn.functional.softshrink;
 * default lambd 0.5, which must be non-negative).
 *
 * @example
 * nn.functional.softshrink(tensor([-1, 0.2, 0.7])); // [-0.5, 0, 0.2]
 */
export function softshrink(x: TensorLike, lambd = 0.5): Tensor {
  return tidy(() => {
    const op = 'softshrink';
    checkNumber(op, 'lambd', lambd, { min: 0 });
    const t = floatTensor(op, x);
    return where(greater(t, lambd), sub(t, lambd), where(less(t, -lambd), add(t, lambd), 0));
  });
}

/**
 * `x - tanh(x)` (torch.nn.functional.tanhshrink).
 *
 * @example
 * nn.functional.tanhshrink(tensor([1])); // [0.2384]
 */
export function tanhshrink(x: TensorLike): Tensor {
  return tidy(() => {
    const t = floatTensor('tanhshrink', x);
    return sub(t, tanh(t));
  });
}

/** Options of rrelu: when it draws its slopes, and from which key. */
export type RReluOptions = DropoutOptions;

// PyTorch: rrelu(input, lower, upper, training, inplace).
const RRELU_SIGNATURE = optionsSignature<RReluOptions>(4, { training: true, key: true }, ['training', 'inplace']);

/**
 * Randomized leaky ReLU (torch.nn.functional.rrelu): `x` where non-negative, `a * x` elsewhere,
 * with a slope `a` drawn uniformly from [lower, upper] per element while training (from `key`, or
 * the global generator), and the fixed `(lower + upper) / 2` otherwise. As PyTorch's functional
 * form, it is not training unless `training: true` is given; `nn.RReLU` passes its mode. The
 * gradient is the slope used.
 *
 * @example
 * nn.functional.rrelu(x);                                   // slope 11/48 for negatives
 * nn.functional.rrelu(x, 0.1, 0.3, { training: true, key });
 */
export const rrelu = withCheckedOptions(
  'rrelu',
  RRELU_SIGNATURE,
  (input: TensorLike, lower: number = 1 / 8, upper: number = 1 / 3, options: RReluOptions = {}): Tensor => {
    return tidy(() => {
      const op = 'rrelu';
      checkNumber(op, 'lower', lower);
      checkNumber(op, 'upper', upper);
      if (lower > upper) throw new ValueError(`${op}: lower (${lower}) must not exceed upper (${upper})`);
      const x = floatTensor(op, input);
      let slope: Tensor | number = (lower + upper) / 2;
      if (options.training === true) {
        const unit =
          options.key === undefined
            ? rand(x.shape, { dtype: x.dtype, ...backendOption(x) })
            : uniform(options.key, x.shape, { dtype: x.dtype });
        slope = add(mul(unit, upper - lower), lower);
      }
      // As PyTorch (leaky_relu's backward in eval, rrelu_with_noise's in training), 0 takes the slope.
      return where(greater(x, 0), x, mul(x, slope));
    });
  },
);

/** The `backend` option that puts a draw on `x`'s backend (none for a traced `x`). */
function backendOption(x: Tensor): { backend?: string } {
  const backend = backendOf(x)?.name;
  return backend === undefined ? {} : { backend };
}

import { runInFloat32 } from '../../amp/autocast.js';
import { ValueError } from '../../core/errors.js';
import { broadcastShapes } from '../../core/shape.js';
import type { TensorLike } from '../../ops/convert.js';
import { abs, less, lessEqual, mul, square, sub, where } from '../../ops/elementwise.js';
import { optionsSignature, withCheckedOptions } from '../../ops/options-argument.js';
import { tidy } from '../../tensor/memory.js';
import type { Tensor } from '../../tensor/tensor.js';
import { checkNumber, checkReduction, floatTensor, type Reduction, reduceLoss } from './common.js';

// Where PyTorch's positional arguments go (see options-argument.ts). Its losses take the
// deprecated size_average and reduce before reduction.
const LOSS_SIGNATURE = optionsSignature<LossOptions>(3, { reduction: true }, ['sizeAverage', 'reduce', 'reduction']);
const SMOOTH_L1_SIGNATURE = optionsSignature<SmoothL1Options>(3, { reduction: true, beta: true }, [
  'sizeAverage',
  'reduce',
  'reduction',
  'beta',
]);
const HUBER_SIGNATURE = optionsSignature<HuberOptions>(3, { reduction: true, delta: true }, ['reduction', 'delta']);

// Pointwise regression losses. Input and target broadcast against each other (PyTorch warns
// and broadcasts; Flint broadcasts), then the reduction applies.

/** Options of the pointwise losses. */
export interface LossOptions {
  /** 'mean' (default), 'sum' or 'none'. */
  readonly reduction?: Reduction;
}

// Under autocast each loss runs whole in float32 (PyTorch's float32 list): a half difference
// squared overflows past 256.
function operands(op: string, input: TensorLike, target: TensorLike): [Tensor, Tensor] {
  const x = floatTensor(op, input, 'input');
  const y = floatTensor(op, target, 'target', x);
  broadcastShapes(op, x.shape, y.shape);
  return [x, y];
}

/**
 * Mean squared error `(input - target)²`, reduced.
 *
 * @example
 * nn.functional.mseLoss(tensor([1, 2]), tensor([1, 4])); // 2
 */
export const mseLoss = withCheckedOptions(
  'mseLoss',
  LOSS_SIGNATURE,
  (input: TensorLike, target: TensorLike, options: LossOptions = {}): Tensor => {
    return tidy(() => {
      const op = 'mseLoss';
      const reduction = checkReduction(op, options.reduction);
      return runInFloat32(op, [input, target], (input, target) => {
        const [x, y] = operands(op, input, target);
        return reduceLoss(square(sub(x, y)), reduction);
      });
    });
  },
);

/**
 * Mean absolute error `|input - target|`, reduced.
 *
 * @example
 * nn.functional.l1Loss(tensor([1, 2]), tensor([0, 4])); // 1.5
 */
export const l1Loss = withCheckedOptions(
  'l1Loss',
  LOSS_SIGNATURE,
  (input: TensorLike, target: TensorLike, options: LossOptions = {}): Tensor => {
    return tidy(() => {
      const op = 'l1Loss';
      const reduction = checkReduction(op, options.reduction);
      return runInFloat32(op, [input, target], (input, target) => {
        const [x, y] = operands(op, input, target);
        return reduceLoss(abs(sub(x, y)), reduction);
      });
    });
  },
);

/** Options of smoothL1Loss. */
export interface SmoothL1Options extends LossOptions {
  /** Where the loss turns from quadratic to linear (default 1); 0 gives the L1 loss. */
  readonly beta?: number;
}

/**
 * `0.5 d² / beta` where `|d| < beta`, else `|d| - 0.5 beta`, with `d = input - target`
 * (torch.nn.functional.smooth_l1_loss).
 *
 * @example
 * nn.functional.smoothL1Loss(tensor([0, 3]), tensor([0.5, 0]), { reduction: 'none' }); // [0.125, 2.5]
 */
export const smoothL1Loss = withCheckedOptions(
  'smoothL1Loss',
  SMOOTH_L1_SIGNATURE,
  (input: TensorLike, target: TensorLike, options: SmoothL1Options = {}): Tensor => {
    return tidy(() => {
      const op = 'smoothL1Loss';
      const reduction = checkReduction(op, options.reduction);
      const beta = checkNumber(op, 'beta', options.beta ?? 1, { min: 0 });
      return runInFloat32(op, [input, target], (input, target) => {
        const [x, y] = operands(op, input, target);
        const distance = abs(sub(x, y));
        if (beta === 0) return reduceLoss(distance, reduction);
        const quadratic = mul(square(sub(x, y)), 0.5 / beta);
        return reduceLoss(where(less(distance, beta), quadratic, sub(distance, 0.5 * beta)), reduction);
      });
    });
  },
);

/** Options of huberLoss. */
export interface HuberOptions extends LossOptions {
  /** Where the loss turns from quadratic to linear (default 1); must be positive. */
  readonly delta?: number;
}

/**
 * `0.5 d²` where `|d| <= delta`, else `delta (|d| - 0.5 delta)` (torch.nn.functional.huber_loss);
 * equal to `delta * smoothL1Loss` with `beta = delta`.
 *
 * @example
 * nn.functional.huberLoss(tensor([0, 3]), tensor([0.5, 0]), { delta: 2, reduction: 'none' }); // [0.125, 4]
 */
export const huberLoss = withCheckedOptions(
  'huberLoss',
  HUBER_SIGNATURE,
  (input: TensorLike, target: TensorLike, options: HuberOptions = {}): Tensor => {
    return tidy(() => {
      const op = 'huberLoss';
      const reduction = checkReduction(op, options.reduction);
      const delta = checkNumber(op, 'delta', options.delta ?? 1);
      if (delta <= 0) throw new ValueError(`${op}: delta must be positive, got ${delta}`);
      return runInFloat32(op, [input, target], (input, target) => {
        const [x, y] = operands(op, input, target);
        const difference = sub(x, y);
        const distance = abs(difference);
        const quadratic = mul(square(difference), 0.5);
        const linear = mul(sub(distance, 0.5 * delta), delta);
        return reduceLoss(where(lessEqual(distance, delta), quadratic, linear), reduction);
      });
    });
  },
);

import { runInFloat32 } from '../../amp/autocast.js';
import { ShapeError } from '../../core/errors.js';
import { broadcastShapes, formatShape } from '../../core/shape.js';
import { cast } from '../../ops/broadcast.js';
import { type TensorLike, toTensor } from '../../ops/convert.js';
import { add, greater, log, maximum, mul, neg, sub, where } from '../../ops/elementwise.js';
import { optionsSignature, withCheckedOptions } from '../../ops/options-argument.js';
import { tidy } from '../../tensor/memory.js';
import type { Tensor } from '../../tensor/tensor.js';
import { logSigmoid } from './activations.js';
import { checkReduction, floatTensor, type Reduction, reduceLoss } from './common.js';

// Where PyTorch's positional arguments go (see options-argument.ts).
const BINARY_CROSS_ENTROPY_SIGNATURE = optionsSignature<BinaryCrossEntropyOptions>(3, { weight: true, reduction: true }, [
  'weight',
  'sizeAverage',
  'reduce',
  'reduction',
]);
const BINARY_CROSS_ENTROPY_WITH_LOGITS_SIGNATURE = optionsSignature<BinaryCrossEntropyWithLogitsOptions>(
  3,
  { weight: true, reduction: true, posWeight: true },
  ['weight', 'sizeAverage', 'reduce', 'reduction', 'posWeight'],
);

// Binary cross-entropy on probabilities and on logits.

/** Options of binaryCrossEntropy. */
export interface BinaryCrossEntropyOptions {
  /** Rescales each element's loss; broadcasts against the input. */
  readonly weight?: Tensor | null;
  /** 'mean' (default), 'sum' or 'none'. */
  readonly reduction?: Reduction;
}

/** Options of binaryCrossEntropyWithLogits. */
export interface BinaryCrossEntropyWithLogitsOptions extends BinaryCrossEntropyOptions {
  /** Weight of the positive term per class (broadcast along the last axis), to trade recall for precision. */
  readonly posWeight?: Tensor | null;
}

function sameShapeTarget(op: string, x: Tensor, target: TensorLike): Tensor {
  const y = floatTensor(op, target, 'target', x);
  if (y.shape.length !== x.shape.length || y.shape.some((d, i) => d !== x.shape[i])) {
    throw new ShapeError(`${op}: target ${formatShape(y.shape)} must have the input's shape ${formatShape(x.shape)}`);
  }
  return cast(y, x.dtype);
}

function elementWeight(op: string, what: string, weight: Tensor | null | undefined, x: Tensor): Tensor | null {
  if (weight === undefined || weight === null) return null;
  const w = toTensor(op, weight, undefined, x);
  const shape = broadcastShapes(op, w.shape, x.shape);
  if (shape.length !== x.shape.length || shape.some((d, i) => d !== x.shape[i])) {
    throw new ShapeError(`${op}: ${what} ${formatShape(w.shape)} must broadcast to the input's shape ${formatShape(x.shape)}`);
  }
  return cast(w, x.dtype);
}

/** `log(p)` clamped below at -100, as PyTorch does so that p = 0 gives a finite loss; its derivative at p = 0 is 0 rather than NaN. */
function clampedLog(p: Tensor): Tensor {
  const positive = greater(p, 0);
  return maximum(where(positive, log(where(positive, p, 1)), -100), -100);
}

/**
 * Binary cross-entropy between probabilities and targets in [0, 1]:
 * `-w (y log x + (1 - y) log(1 - x))`, with the logarithms clamped at -100 as in PyTorch.
 * Prefer `binaryCrossEntropyWithLogits` on logits: it is stable where this saturates.
 *
 * @example
 * nn.functional.binaryCrossEntropy(tensor([0.9, 0.2]), tensor([1, 0])); // 0.1643
 */
export const binaryCrossEntropy = withCheckedOptions(
  'binaryCrossEntropy',
  BINARY_CROSS_ENTROPY_SIGNATURE,
  (input: TensorLike, target: TensorLike, options: BinaryCrossEntropyOptions = {}): Tensor => {
    return tidy(() => {
      const op = 'binaryCrossEntropy';
      return runInFloat32(op, [input, target], (input, target) => {
        const reduction = checkReduction(op, options.reduction);
        const x = floatTensor(op, input, 'input');
        const y = sameShapeTarget(op, x, target);
        const weight = elementWeight(op, 'weight', options.weight, x);
        const terms = add(mul(y, clampedLog(x)), mul(sub(1, y), clampedLog(sub(1, x))));
        const loss = neg(weight === null ? terms : mul(terms, weight));
        return reduceLoss(loss, reduction);
      });
    });
  },
);

/**
 * Binary cross-entropy on logits, `-w (p y log σ(x) + (1 - y) log(1 - σ(x)))`, computed stably as
 * `w ((1 - y) x - (1 + (p - 1) y) log σ(x))`. `posWeight` (p) broadcasts along the last axis (one per
 * class), as in PyTorch.
 *
 * @example
 * nn.functional.binaryCrossEntropyWithLogits(tensor([2, -1]), tensor([1, 0]));
 * nn.functional.binaryCrossEntropyWithLogits(logits, labels, { posWeight: tensor([3]) });
 */
export const binaryCrossEntropyWithLogits = withCheckedOptions(
  'binaryCrossEntropyWithLogits',
  BINARY_CROSS_ENTROPY_WITH_LOGITS_SIGNATURE,
  (input: TensorLike, target: TensorLike, options: BinaryCrossEntropyWithLogitsOptions = {}): Tensor => {
    return tidy(() => {
      const op = 'binaryCrossEntropyWithLogits';
      return runInFloat32(op, [input, target], (input, target) => {
        const reduction = checkReduction(op, options.reduction);
        const x = floatTensor(op, input, 'input');
        const y = sameShapeTarget(op, x, target);
        const weight = elementWeight(op, 'weight', options.weight, x);
        const posWeight = elementWeight(op, 'posWeight', options.posWeight, x);
        // log(1 - σ(x)) = log σ(x) - x, so the negative term is (1 - y)(x - log σ(x)).
        const logistic = logSigmoid(x);
        const positiveScale = posWeight === null ? null : add(mul(sub(posWeight, 1), y), 1);
        const loss0 = sub(mul(sub(1, y), x), positiveScale === null ? logistic : mul(positiveScale, logistic));
        const loss = weight === null ? loss0 : mul(loss0, weight);
        return reduceLoss(loss, reduction);
      });
    });
  },
);
